package formats

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// parseBoth reads text with encoding/csv and with csvParser, record by record,
// and fails on the first difference: fields, the lines a record starts and ends
// on, or the error.
func parseBoth(t *testing.T, text string, comma byte) {
	t.Helper()
	want := csv.NewReader(strings.NewReader(text))
	want.Comma = rune(comma)
	want.FieldsPerRecord = -1
	want.ReuseRecord = true
	got := newCSVParser(bufio.NewReaderSize(strings.NewReader(text), 16), comma)
	for n := 1; ; n++ {
		wrec, werr := want.Read()
		grec, _, gerr := got.read(false)
		var wpe, gpe *csv.ParseError
		switch {
		case errors.As(werr, &wpe) != errors.As(gerr, &gpe):
			t.Fatalf("record %d of %q: encoding/csv says %v, csvParser %v", n, text, werr, gerr)
		case wpe != nil:
			if *wpe != *gpe {
				t.Fatalf("record %d of %q: encoding/csv says %#v, csvParser %#v", n, text, *wpe, *gpe)
			}
			return
		case werr != gerr:
			t.Fatalf("record %d of %q: encoding/csv says %v, csvParser %v", n, text, werr, gerr)
		case werr == io.EOF:
			return
		}
		if !slices.Equal(wrec, grec) {
			t.Fatalf("record %d of %q: encoding/csv reads %q, csvParser %q", n, text, wrec, grec)
		}
		start, _ := want.FieldPos(0)
		last, _ := want.FieldPos(len(wrec) - 1)
		end := last + strings.Count(wrec[len(wrec)-1], "\n")
		if start != got.startLine || end != got.numLine {
			t.Fatalf("record %d of %q: lines %d-%d, csvParser says %d-%d", n, text, start, end, got.startLine, got.numLine)
		}
	}
}

func TestCSVParserAsEncodingCSV(t *testing.T) {
	for _, text := range []string{
		"", "\n", "a", "a\n", "a,b,c\n1,2,3\n", "a,b\r\n1,2\r\n", "a,b\r\n1,2\r",
		"a\n\n\nb\n", "a,,\n,,\n", `"a","b"` + "\n", `"a""b",c` + "\n", `"a` + "\n" + `b",c` + "\n",
		`"a` + "\r\n" + `b",c` + "\r\n", `a"b,c` + "\n", `"a"b,c` + "\n", `"a` + "\n", `"a`, `a,"b`,
		`"",""` + "\n", `x,"y"` + "\n" + `"z` + "\n\n" + `w"` + "\n", "a\rb,c\n", "\"a\"\r", "é,ü\n\"ö\",x\n",
		`a,b"` + "\n", `"a" ,b` + "\n", "a;b;c\n", "a\tb\n",
	} {
		for _, comma := range []byte{',', ';', '\t'} {
			parseBoth(t, text, comma)
		}
	}
}

// FuzzCSVParser holds csvParser to encoding/csv's records, lines and errors.
func FuzzCSVParser(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", `"a""b",c` + "\n", `"a` + "\r\n" + `b"`, `a"b`, "x;y\r\n\r\n;\n"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, text string, c uint8) {
		parseBoth(t, text, []byte{',', ';', '\t'}[int(c)%3])
	})
}
