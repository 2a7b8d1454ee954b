package formats

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestFormatOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want Format
		err  bool
	}{
		{"a.csv", CSV, false}, {"A.CSV", CSV, false}, {"x/y.txt", CSV, false}, {"y.tsv", CSV, false},
		{"b.xlsx", XLSX, false}, {"b.XLSM", XLSX, false}, {"c.xls", "", true}, {"d.json", "", true}, {"noext", "", true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			got, err := FormatOf(tc.path)
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("FormatOf(%q) = %q, %v", tc.path, got, err)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedFormat) {
				t.Errorf("error %v is not ErrUnsupportedFormat", err)
			}
		})
	}
}

func TestNormalizeHeader(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ESN": "esn", "  Group_Name\t": "group_name", "\ufeffesn": "esn", "\ufeff \ufeffEsn ": "esn", "": "",
		"Customer_Address.Street_Name": "customer_address.street_name",
	} {
		if got := NormalizeHeader(in); got != want {
			t.Errorf("NormalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNeutraliseFormula(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+357": "'+357", "-5": "'-5", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "abc": "abc", "'abc": "'abc", "'=x": "''=x", "'": "'", "a=b": "a=b", " =x": " =x",
	} {
		got := NeutraliseFormula(in)
		if got != want {
			t.Errorf("NeutraliseFormula(%q) = %q, want %q", in, got, want)
		}
		if back := unneutralise(got); back != in {
			t.Errorf("unneutralise(%q) = %q, want %q", got, back, in)
		}
	}
}

func TestInputErrorMessage(t *testing.T) {
	t.Parallel()
	cause := because(ErrTooLarge, "cell longer than 32767 characters")
	for _, tc := range []struct {
		name string
		err  *InputError
		want string
	}{
		{"everything", &InputError{File: "jobs.xlsx", Sheet: "Charges", Row: 14, Column: "esn", Err: cause},
			`jobs.xlsx: sheet "Charges": row 14, column "esn": cell longer than 32767 characters`},
		{"csv", &InputError{File: "a.csv", Row: 3, Err: cause}, `a.csv: row 3: cell longer than 32767 characters`},
		{"column only", &InputError{File: "a.csv", Column: "esn", Err: cause}, `a.csv: column "esn": cell longer than 32767 characters`},
		{"file only", &InputError{File: "a.csv", Err: ErrEmptyFile}, `a.csv: file is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !errors.Is(tc.err, tc.err.Err) {
				t.Error("errors.Is fails on the cause")
			}
		})
	}
}

func TestSniffDelimiter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]byte{
		"a,b,c\n": ',', "a;b;c\n": ';', "a\tb\tc\n": '\t', "a\n": ',', "a;b,c\n": ',', "\"x;y;z\",b\n": ',',
		"a,b\nc;d;e;f\n": ',', "\"a\nb;c;d\",e\n": ',', "a;b\tc;d\n": ';', "a\tb;c\td\n": '\t',
	} {
		if got := sniffDelimiter([]byte(in)); got != want {
			t.Errorf("sniffDelimiter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLooksWindows1252(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		cut  bool
		want bool
	}{
		{"plain ascii", false, false},
		{"caf\xe9", false, true},
		{"café", false, false},
		{"café caf\xe9", false, true == false},
		{"abc\xc3", true, false}, // a UTF-8 sequence cut by the sniff limit
		{"abc\xc3", false, true},
	} {
		if got := looksWindows1252([]byte(tc.in), tc.cut); got != tc.want {
			t.Errorf("looksWindows1252(%q, %v) = %v", tc.in, tc.cut, got)
		}
	}
}

// TestCSVStream covers NewCSVReader on readers that are not files.
func TestCSVStream(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		in       string
		opts     Options
		err      *wantErr // from NewCSVReader or the first Next
		problems []string // the records' problems, each a prefix
	}{
		{name: "unclosed quote is bounded", in: "a,b\n1,\"" + strings.Repeat("x", 1<<20), opts: Options{MaxCellChars: 1024, MaxColumns: 4},
			err: &wantErr{is: ErrTooLarge, row: 2, column: "b", text: "record longer than 4096 bytes"}},
		{name: "unclosed quote at the end", in: "a,b\n1,\"x", err: &wantErr{is: ErrMalformed, row: 2, column: "b"}},
		{name: "windows-1252 undefined byte", in: "a,b\n1,\xe9\n2,\x81\n", err: &wantErr{is: ErrEncoding, row: 3, column: "b"}},
		{name: "bom then bad utf-8", in: "\ufeffa,b\n1,\xe9\n", err: &wantErr{is: ErrEncoding, row: 2, column: "b"}},
		{name: "bad utf-8 past the sniffed start", in: "a,b\n" + strings.Repeat("é,x\n", 20000) + "\xe9,y\n", err: &wantErr{is: ErrEncoding, row: 20002, column: "a"}},
		{name: "bad utf-8 in the header", in: "a,\xe9é\n", err: &wantErr{is: ErrEncoding, row: 1, column: "B"}},
		{name: "header only blank row", in: ",,\n", err: &wantErr{is: ErrNoHeader}},
		{name: "20,000 greek letters are within excel's limit", in: "a,b\n1," + strings.Repeat("Λ", 20000) + "\n"},
		{name: "32,767 characters are within the limit", in: "a,b\n1," + strings.Repeat("é", DefaultMaxCellChars) + "\n"},
		{name: "32,768 characters are the cell's problem, not the file's", in: "a,b\n1," + strings.Repeat("é", DefaultMaxCellChars+1) + "\n",
			problems: []string{"cell B2 is longer than 32767 characters: shorten it (Excel keeps at most 32767 characters in a cell)"}},
		{name: "an emoji counts two, as in excel", in: "a,b\n1," + strings.Repeat("😀", DefaultMaxCellChars/2+1) + "\n",
			problems: []string{"cell B2 is longer than 32767 characters"}},
		{name: "a long cell is given whole", in: "a,b,c\n" + strings.Repeat("x", 40000) + ",2,\n3,4," + strings.Repeat("y", 40000) + "\n",
			problems: []string{"cell A2 is longer", "cell C3 is longer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewCSVReader(strings.NewReader(tc.in), "in.csv", tc.opts)
			var problems []string
			if err == nil {
				for err == nil {
					var rec Record
					rec, err = r.Next()
					for _, p := range rec.Problems {
						problems = append(problems, p.String())
						if n := len([]rune(rec.Fields[p.Column])); n < 32768 && !strings.ContainsRune(rec.Fields[p.Column], '😀') {
							t.Errorf("%s: the cell holds %d characters, not all of them", p.Cell, n)
						}
					}
				}
				if len(problems) != len(tc.problems) {
					t.Errorf("problems %q, want %q", problems, tc.problems)
				}
				for i := range min(len(problems), len(tc.problems)) {
					if !strings.HasPrefix(problems[i], tc.problems[i]) {
						t.Errorf("problem %q, want %q", problems[i], tc.problems[i])
					}
				}
				if _, again := r.Next(); again != err {
					t.Errorf("error not sticky: %v then %v", err, again)
				}
				if err == io.EOF {
					err = nil
				}
			}
			checkErr(t, err, tc.err)
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// zeros reads as an endless run of NUL bytes, as a sparse file does.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestNULStopsTheRead: a NUL byte (a sparse file, a binary one) is refused
// where it comes, naming its row and column, having read little past it.
func TestNULStopsTheRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, head, column string }{
		{"after a cell", "esn,group_name\nE-1,OPERATOR1", "group_name"},
		{"inside quotes", "esn,group_name\n\"E-1,OPERATOR1\n", "esn"},
		{"windows-1252 first", "esn,group_name\nE-1,Soci\xe9t\xe9", "group_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := &countingReader{r: io.MultiReader(strings.NewReader(tc.head), zeros{})}
			_, _, err := readStream(t, src)
			checkErr(t, err, &wantErr{is: ErrEncoding, row: 2, column: tc.column, text: "NUL byte: this is not CSV text"})
			if src.n > 1<<20 {
				t.Errorf("read %d bytes before the NUL was refused", src.n)
			}
		})
	}
}

// readStream reads every record of a CSV stream, stopping at the first error.
func readStream(t *testing.T, src io.Reader) ([]string, []Record, error) {
	t.Helper()
	r, err := NewCSVReader(src, "in.csv", Options{})
	if err != nil {
		return nil, nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs, nil
		}
		if err != nil {
			return r.Header(), recs, err
		}
		recs = append(recs, rec)
	}
}
