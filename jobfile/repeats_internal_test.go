package jobfile

import (
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/kind"
)

// TestRepeatsFoundOnLaterReads reads files with repeated values spread
// through them: the first read reports none and says whether it suspects some;
// every later read marks exactly the rows a naive count says are repeats, with
// the row of the first.
func TestRepeatsFoundOnLaterReads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		esns []string
	}{
		{"no repeat", seqESNs(500, nil)},
		{"repeats early and late", seqESNs(500, map[int]int{3: 1, 250: 2, 499: 10, 498: 497})},
		{"a value three times", seqESNs(300, map[int]int{100: 5, 200: 5, 299: 5})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "devices.csv")
			body := "esn,group_name\n" + strings.Join(tc.esns, ",OPERATOR1\n") + ",OPERATOR1\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			var want []string
			first := map[string]int{}
			for i, e := range tc.esns {
				if f, ok := first[e]; ok {
					want = append(want, fmt.Sprintf("column esn: %q is also on row %d", e, f))
					continue
				}
				first[e] = i + 2
				want = append(want, "ok")
			}
			j, err := Open(path, "devices", formats.Options{}, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for read := 1; read <= 3; read++ {
				var got []string
				if err := j.Scan(0, func(r *Row) error {
					s := "ok"
					if r.Err != nil {
						s = r.Err.Error()
					}
					got = append(got, s)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if read == 1 {
					if j.Suspected != (len(first) < len(tc.esns)) {
						t.Fatalf("first read: suspected %v with %d repeats", j.Suspected, len(tc.esns)-len(first))
					}
					continue
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("read %d:\n%v\nwant\n%v", read, got, want)
				}
			}
		})
	}
}

// seqESNs makes n ESNs, row i repeating row rep[i]'s.
func seqESNs(n int, rep map[int]int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("R%06d", i)
		if j, ok := rep[i]; ok {
			out[i] = out[j]
		}
	}
	return out
}

// TestRepeatsFirstRead feeds a first read more values than it keeps and
// fewer: the values given twice are always suspects; kept exactly, nothing
// else is; past maxKeys (the Bloom filter), few others are.
func TestRepeatsFirstRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		values   int
		maxFalse int // suspects that were not repeated
	}{
		{"kept exactly", 100_000, 0},
		{"past maxKeys", maxKeys + 50_000, (maxKeys + 50_000) / 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepeats(maphash.MakeSeed(), nil)
			repeated := map[string]bool{}
			for i := range tc.values {
				v := fmt.Sprintf("E%d", i)
				if i%9973 == 0 {
					repeated[v] = true
				}
				r.add([]kind.Unique{{Column: "esn", Value: v}}, i+2)
			}
			for v := range repeated {
				r.add([]kind.Unique{{Column: "esn", Value: v}}, tc.values+2)
			}
			suspects := r.done()
			for v := range repeated {
				if !suspects[r.hash(kind.Unique{Column: "esn", Value: v})] {
					t.Fatalf("%s was given twice and is no suspect", v)
				}
			}
			if others := len(suspects) - len(repeated); others > tc.maxFalse {
				t.Errorf("%d suspects were not repeated, want at most %d", others, tc.maxFalse)
			}
		})
	}
}
