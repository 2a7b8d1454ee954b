package formats

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats/internal/sniff"
	"github.com/crmbatch/crmbatch/formats/xlsx"
)

// TestCSVAsExcelReadsIt reads CSV text as Excel opens it: the sep= hint,
// every line end, quotes inside cells, ="..." cells, and the encoding
// decided by the first character that is not ASCII wherever it is.
func TestCSVAsExcelReadsIt(t *testing.T) {
	t.Parallel()
	ascii := strings.Repeat("E-1,OPERATOR1\n", 70<<10/14)
	for _, tc := range []struct {
		name   string
		in     string
		header []string
		recs   []wantRecord // compared for their first and last record only when long
		err    *wantErr
	}{
		{name: "sep= line sets the delimiter and is hidden", in: "sep=;\r\nesn;group_name\r\nESN-1;OPERATOR1\r\nESN-2;A,B\r\n",
			header: []string{"esn", "group_name"}, recs: []wantRecord{rec(2, "ESN-1", "OPERATOR1"), rec(3, "ESN-2", "A,B")}},
		{name: "sep= after a byte order mark, a pipe, no line end at the end", in: "\ufeffsep=|\nesn|note\nE-1|a;b,c",
			header: []string{"esn", "note"}, recs: []wantRecord{rec(2, "E-1", "a;b,c")}},
		{name: "sep= with CR line ends", in: "SEP=;\resn;note\rE-1;x\r",
			header: []string{"esn", "note"}, recs: []wantRecord{rec(2, "E-1", "x")}},
		{name: "a sep= that is no hint is a header", in: "sep=;;x\n1\n", header: []string{"sep=", "", "x"}, recs: []wantRecord{rec(2, "1", "", "")}},
		{name: "CR line ends (Excel for Mac)", in: "esn,group_name\rESN-G-1,OPERATOR1\rESN-G-2,OPERATOR1\r",
			header: []string{"esn", "group_name"}, recs: []wantRecord{rec(2, "ESN-G-1", "OPERATOR1"), rec(3, "ESN-G-2", "OPERATOR1")}},
		{name: "CR line ends, blank lines and a break in a cell", in: "esn,note\r\rE-1,\"two\rlines\"\rE-2,x",
			header: []string{"esn", "note"}, recs: []wantRecord{rec(3, "E-1", "two\nlines"), rec(4, "E-2", "x")}},
		{name: "CRLF line ends", in: "esn,note\r\nE-1,x\r\n\r\nE-2,y\r\n",
			header: []string{"esn", "note"}, recs: []wantRecord{rec(2, "E-1", "x"), rec(4, "E-2", "y")}},
		{name: "LF line ends, a CR inside a cell kept", in: "esn,note\nE-1,a\rb\n",
			header: []string{"esn", "note"}, recs: []wantRecord{rec(2, "E-1", "a\rb")}},
		{name: "a quote inside an unquoted cell is a character", in: "esn,comment\nE-1,24\" monitor\nE-2,say \"hi\"\n",
			header: []string{"esn", "comment"}, recs: []wantRecord{rec(2, "E-1", `24" monitor`), rec(3, "E-2", `say "hi"`)}},
		{name: `="..." is the text inside, in any column`, in: "esn,group_name,n\n=\"00012345678901234567\",=\"OPERATOR1\",=\"a\"\"b\"\n",
			header: []string{"esn", "group_name", "n"}, recs: []wantRecord{rec(2, "00012345678901234567", "OPERATOR1", `a"b`)}},
		{name: `="..." quoted as a whole, and forms that are not it`, in: "a,b,c,d\n\"=\"\"0042\"\"\",=\"x\"y,=x,'=\"x\"\n",
			header: []string{"a", "b", "c", "d"}, recs: []wantRecord{rec(2, "0042", `="x"y`, "=x", `="x"`)}},
		{name: "a stray quote in a quoted cell on one line", in: "esn,comment\nE-1,\"24\" big\",x\n",
			header: []string{"esn", "comment"}, err: &wantErr{is: ErrRowTooWide, row: 2}},
		{name: "csv-spectrum's bare quotes (location_coordinates)", in: "Contact Phone Number,Location Coordinates\n2095257564,37°36'37.8\"N 121°2'17.9\"W\n",
			header: []string{"Contact Phone Number", "Location Coordinates"}, recs: []wantRecord{rec(2, "2095257564", `37°36'37.8"N 121°2'17.9"W`)}},
		{name: "a quote never closed", in: "esn,note\nE-1,x\nE-2,\"abc\nE-3,y\n",
			header: []string{"esn", "note"}, recs: []wantRecord{rec(2, "E-1", "x")},
			err: &wantErr{is: ErrMalformed, row: 3, column: "note", text: "the quote that opens a cell on line 3 is never closed"}},
		{name: "a stray quote that would swallow the rows after it", in: "esn,note\nE-1,\"24\" monitor\nE-2,x\nE-3,\"y\"\n",
			header: []string{"esn", "note"},
			err:    &wantErr{is: ErrMalformed, row: 2, column: "note", text: "a quote inside a quoted cell (line 2) is neither doubled nor at the cell's end"}},
		{name: "a header that swallowed the file", in: "\"esn,group_name\nESN-1,OPERATOR1\n",
			err: &wantErr{is: ErrMalformed, row: 1, column: "A", text: "never closed"}},
		{name: "a header cell with a line break", in: "\"es\nn\",group_name\nESN-1,OPERATOR1\n",
			err: &wantErr{is: ErrMalformed, row: 1, column: "A", text: "the header cell A holds a line break"}},
		{name: "a quote that would swallow rows, past many lines without one", in: "esn,group_name\n" + ascii + "E-2,\"24\" monitor\nE-3,x\n",
			header: []string{"esn", "group_name"},
			err:    &wantErr{is: ErrMalformed, row: ascii2rows(ascii) + 2, column: "group_name", text: fmt.Sprintf("(line %d)", ascii2rows(ascii)+2)}},
		{name: "a quote never closed, past many lines without one", in: "esn,group_name\n" + ascii + "E-2,x,\"open\nE-3,x\n",
			header: []string{"esn", "group_name"},
			err:    &wantErr{is: ErrMalformed, row: ascii2rows(ascii) + 2, column: "C", text: fmt.Sprintf("on line %d is never closed", ascii2rows(ascii)+2)}},
		{name: "ASCII for 64 KiB, then Windows-1252", in: "esn,group_name\n" + ascii + "E-2,Soci\xe9t\xe9 \x80\n",
			header: []string{"esn", "group_name"}, recs: []wantRecord{rec(2, "E-1", "OPERATOR1"), rec(ascii2rows(ascii)+2, "E-2", "Société €")}},
		{name: "ASCII for 64 KiB, then UTF-8", in: "esn,group_name\n" + ascii + "E-2,Société €\n",
			header: []string{"esn", "group_name"}, recs: []wantRecord{rec(2, "E-1", "OPERATOR1"), rec(ascii2rows(ascii)+2, "E-2", "Société €")}},
		{name: "ASCII for 64 KiB, then UTF-8, then Windows-1252", in: "esn,group_name\n" + ascii + "E-2,é\nE-3,\xe9\n",
			header: []string{"esn", "group_name"}, err: &wantErr{is: ErrEncoding, row: ascii2rows(ascii) + 3, column: "group_name", text: "the file mixes encodings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewCSVReader(strings.NewReader(tc.in), "in.csv", Options{})
			var header []string
			var recs []Record
			if err == nil {
				header = r.Header()
				for {
					var rec Record
					rec, err = r.Next()
					if err != nil {
						break
					}
					recs = append(recs, rec)
				}
				if err == io.EOF {
					err = nil
				}
			}
			checkErr(t, err, tc.err)
			if !reflect.DeepEqual(header, tc.header) {
				t.Errorf("header %q, want %q", header, tc.header)
			}
			if len(recs) > 10 {
				recs = []Record{recs[0], recs[len(recs)-1]}
			}
			if tc.recs != nil && !reflect.DeepEqual(recs, records(tc.recs)) {
				t.Errorf("records\n got %+v\nwant %+v", recs, tc.recs)
			}
		})
	}
}

func ascii2rows(s string) int { return strings.Count(s, "\n") }

// TestWhatTheFileIs names a file of another kind under a .csv or .xlsx name
// from its first bytes.
func TestWhatTheFileIs(t *testing.T) {
	t.Parallel()
	zipOf := func(names ...string) string {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, n := range names {
			w, _ := zw.Create(n)
			w.Write([]byte("<x/>"))
		}
		zw.Close()
		return b.String()
	}
	for _, tc := range []struct {
		name, data string
		csv, xlsx  string // a part of the message each reader gives; "" for none
	}{
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "this is a PNG image, not CSV text", "this is a PNG image, not an .xlsx workbook"},
		{"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "this is a PDF document, not CSV text", "this is a PDF document, not an .xlsx workbook"},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "this is a JPEG image", "this is a JPEG image"},
		{"workbook", zipOf("[Content_Types].xml", "xl/workbook.xml"), "this is an XLSX workbook (a zip file), not CSV text\nhint: rename it to .xlsx", ""},
		{"word document", zipOf("[Content_Types].xml", "word/document.xml"), "this is a Word document (.docx), not CSV text", "this is a Word document (.docx), not an .xlsx workbook"},
		{"zip of other files", zipOf("a.txt"), "this is a zip archive (no workbook inside), not CSV text", "this is a zip archive (no workbook inside), not an .xlsx workbook"},
		{"ole (.xls)", sniff.OLEMagic + strings.Repeat("\x00", 504), "this is an Excel .xls or password-protected workbook (an OLE file), not CSV text", ""},
		{"utf-16le, no bom, comma", utf16le("esn,group_name\r\nE-1,Λεμεσός\r\n"), "this is UTF-16 (little-endian) text without a byte order mark", "this is UTF-16 text (CSV or tab-separated?), not an .xlsx workbook"},
		{"utf-16le, no bom, semicolon, quoted (gnumeric)", utf16le("\"esn\";\"group_name\"\r\n\"E-1\";\"Λεμεσός Λεμεσός Λεμεσός Λεμεσός\"\r\n"), "this is UTF-16 (little-endian) text without a byte order mark", "this is UTF-16 text"},
		{"utf-16le, no bom, tab, greek", utf16le("esn\tομάδα\nE-1\tΛεμεσός Πάφος Λάρνακα Λευκωσία Αμμόχωστος\n"), "this is UTF-16 (little-endian) text without a byte order mark", "this is UTF-16 text"},
		{"utf-16be, no bom", utf16be("esn;group_name\nE-1;X\n"), "this is UTF-16 (big-endian) text without a byte order mark", "this is UTF-16 text"},
		{"utf-16 with a bom, semicolon", "\xff\xfe" + utf16le("esn;group_name\nE-1;X\n"), "", "this is UTF-16 text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewCSVReader(strings.NewReader(tc.data), "in.csv", Options{})
			if got := errText(err); tc.csv == "" && err != nil || !strings.Contains(got, tc.csv) {
				t.Errorf("as CSV: %q, want %q", got, tc.csv)
			}
			_, err = xlsx.OpenAt(strings.NewReader(tc.data), int64(len(tc.data)), "in.xlsx", Options{})
			if got := errText(err); tc.xlsx != "" && !strings.Contains(got, tc.xlsx) {
				t.Errorf("as XLSX: %q, want %q", got, tc.xlsx)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return fault.Describe(err)
}
