package jobfile

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/formats"
)

// TestReadAhead reads a file through readAhead, up to a limit or stopping
// early, and checks the records come in order, whole, and that close ends the
// reading goroutine however far it had read.
func TestReadAhead(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("esn,group_name\n")
	const rows = 3*readAheadRows + 17
	for i := range rows {
		fmt.Fprintf(&b, "E%d,G%d\n", i, i%7)
	}
	for _, tc := range []struct {
		name       string
		limit      int // 0 = all
		stopAfter  int // stop reading after this many records; 0 = to the end
		wantRecord int
	}{
		{"all", 0, 0, rows},
		{"a limit inside a batch", readAheadRows + 5, 0, readAheadRows + 5},
		{"a limit at a batch's end", readAheadRows, 0, readAheadRows},
		{"stopped early", 0, 3, 3},
		{"stopped in the second batch", 0, readAheadRows + 1, readAheadRows + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := formats.NewCSVReader(strings.NewReader(b.String()), "devices.csv", formats.Options{ReuseRecord: true})
			if err != nil {
				t.Fatal(err)
			}
			a := startReadAhead(rd, tc.limit)
			n := 0
			for tc.stopAfter == 0 || n < tc.stopAfter {
				rec, err := a.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				want := []string{fmt.Sprintf("E%d", n), fmt.Sprintf("G%d", n%7)}
				if rec.Row != n+2 || strings.Join(rec.Fields, ",") != strings.Join(want, ",") || len(rec.Kinds) != 2 {
					t.Fatalf("record %d: row %d, fields %q, want row %d, %q", n, rec.Row, rec.Fields, n+2, want)
				}
				n++
			}
			a.close() // returns only once the reading goroutine ended
			if n != tc.wantRecord {
				t.Errorf("%d records, want %d", n, tc.wantRecord)
			}
		})
	}
	t.Run("a broken record after a batch", func(t *testing.T) {
		text := "esn,group_name\n" + strings.Repeat("E,G\n", readAheadRows+3) + "\"E\"x,G\n" + "E,G\n"
		rd, err := formats.NewCSVReader(strings.NewReader(text), "devices.csv", formats.Options{ReuseRecord: true})
		if err != nil {
			t.Fatal(err)
		}
		a := startReadAhead(rd, 0)
		defer a.close()
		n := 0
		for {
			_, err := a.next()
			if err != nil {
				var ie *formats.InputError
				if !errors.As(err, &ie) || ie.Row != readAheadRows+5 {
					t.Fatalf("after %d records: %v, want the input error of row %d", n, err, readAheadRows+5)
				}
				break
			}
			n++
		}
		if n != readAheadRows+3 {
			t.Errorf("%d records before the error, want %d", n, readAheadRows+3)
		}
	})
}
