package formats

import (
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/fault"
)

// wantRecord is an expected record, built by rec and its methods.
type wantRecord Record

// rec builds an expected record; kinds default to Text, or Empty for "".
func rec(row int, fields ...string) wantRecord {
	r := wantRecord{Row: row, Fields: fields, Kinds: make([]CellKind, len(fields))}
	for i, f := range fields {
		if f == "" {
			r.Kinds[i] = Empty
		}
	}
	return r
}

func (r wantRecord) kinds(k ...CellKind) wantRecord { r.Kinds = k; return r }
func (r wantRecord) in(sheet string) wantRecord     { r.Sheet = sheet; return r }
func (r wantRecord) problems(p ...CellProblem) wantRecord {
	r.Problems = p
	return r
}

// What the XLSX reader says of an Unusable cell, and what to do.
const (
	reasonUncalculated = "has a formula whose result was never calculated (the program that wrote the file does not calculate)"
	hintCalculate      = "open and save the file in Excel (or LibreOffice) so it calculates"
	hintCellError      = "correct the formula or type the value in, in Excel (or LibreOffice), and save the file"
)

// problem builds an expected CellProblem.
func problem(column int, cell, reason, hint string) CellProblem {
	return CellProblem{Column: column, Cell: cell, Reason: reason, Hint: hint}
}

// wantErr is an expected error: its sentinel and location.
type wantErr struct {
	is     error
	row    int
	column string
	text   string // a substring of the message, when it matters
}

// readAll reads every record, stopping at the first error.
func readAll(t *testing.T, path string, opts Options) ([]string, []Record, error) {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs, nil
		}
		if err != nil {
			return r.Header(), recs, err
		}
		if len(rec.Fields) != len(r.Header()) || len(rec.Kinds) != len(rec.Fields) {
			t.Fatalf("row %d: %d fields, %d kinds for %d header columns", rec.Row, len(rec.Fields), len(rec.Kinds), len(r.Header()))
		}
		recs = append(recs, rec)
	}
}

func checkErr(t *testing.T, err error, want *wantErr) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v", want.is)
	}
	if !errors.Is(err, want.is) {
		t.Fatalf("error %q is not %v", err, want.is)
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %q is not an *InputError", err)
	}
	if ie.Row != want.row || ie.Column != want.column {
		t.Errorf("error at row %d column %q, want row %d column %q: %v", ie.Row, ie.Column, want.row, want.column, err)
	}
	if got := fault.Describe(err); !strings.Contains(got, want.text) {
		t.Errorf("error %q does not contain %q", got, want.text)
	}
}

func TestReaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		file   string
		opts   Options
		header []string
		recs   []wantRecord
		err    *wantErr // from Open, or from Next after recs
	}{
		{name: "csv bom", file: "bom.csv", header: []string{"esn", "action"}, recs: []wantRecord{rec(2, "1001", "register")}},
		{name: "csv semicolons", file: "semicolon.csv", header: []string{"number", "billing_system_customer_identifier"},
			recs: []wantRecord{rec(2, "12,5", "C1"), rec(3, "13", "C2")}},
		{name: "csv tab", file: "tab.tsv", header: []string{"esn", "group_name"},
			recs: []wantRecord{rec(2, "1001", "Sales, Cyprus"), rec(3, "1002", "Ops")}},
		{name: "csv crlf", file: "crlf.csv", header: []string{"esn", "action"},
			recs: []wantRecord{rec(2, "1001", "register"), rec(3, "1002", "unregister")}},
		{name: "csv quoted newlines count one row each", file: "quoted-newlines.csv", header: []string{"name", "note"},
			recs: []wantRecord{rec(2, "Ann", "line one\nline two"), rec(4, "Bob", "a \"quoted\"\nword"), rec(5, "Cy", "x")}},
		{name: "csv windows-1252", file: "cp1252.csv", header: []string{"name", "city"},
			recs: []wantRecord{rec(2, "José", "Limassol"), rec(3, "Zoë", "€uro")}},
		{name: "csv mixed encodings", file: "mixed-encoding.csv", header: []string{"name", "city"},
			recs: []wantRecord{rec(2, "José", "Limassol")}, err: &wantErr{is: ErrEncoding, row: 3, column: "name", text: "CSV UTF-8"}},
		{name: "csv utf-16", file: "utf16.txt", header: []string{"esn", "city"}, recs: []wantRecord{rec(2, "1", "é")}},
		{name: "csv utf-16 without a bom, quoted (gnumeric)", file: "utf16-nobom.txt",
			err: &wantErr{is: ErrEncoding, text: "UTF-16 (little-endian) text without a byte order mark"}},
		{name: "csv utf-16 big-endian without a bom", file: "utf16be-nobom.txt",
			err: &wantErr{is: ErrEncoding, text: "UTF-16 (big-endian) text without a byte order mark"}},
		{name: "csv nul bytes that are no utf-16", file: "nul.csv", header: []string{"esn", "city"},
			err: &wantErr{is: ErrEncoding, row: 2, column: "city", text: "NUL byte: this is not CSV text, or it is UTF-16 without a byte order mark"}},
		{name: "csv empty", file: "empty.csv", err: &wantErr{is: ErrEmptyFile}},
		{name: "csv blank lines only", file: "blank.csv", err: &wantErr{is: ErrEmptyFile}},
		{name: "csv header only", file: "header-only.csv", header: []string{"esn", "action", "group_name"}},
		{name: "csv missing column is the caller's business", file: "missing-column.csv", header: []string{"action"},
			recs: []wantRecord{rec(2, "register")}},
		{name: "csv duplicate header", file: "duplicate-header.csv", err: &wantErr{is: ErrDuplicateHeader, row: 1, column: "ACTION", text: "columns B and C"}},
		{name: "csv extra columns", file: "extra-columns.csv", header: []string{"esn", "action"},
			recs: []wantRecord{rec(2, "1", "register"), rec(3, "2", "register")}, err: &wantErr{is: ErrRowTooWide, row: 4, text: "column C (3)"}},
		{name: "csv blank lines keep numbering", file: "blank-lines.csv", header: []string{"esn", "action"},
			recs: []wantRecord{rec(3, "1001", "register"), rec(6, "1002", "unregister")}},
		{name: "csv bad quote", file: "bad-quote.csv", header: []string{"esn", "action"},
			recs: []wantRecord{rec(2, "1001", "register")}, err: &wantErr{is: ErrMalformed, row: 3, column: "action", text: "line 3"}},
		{name: "csv value under unnamed column", file: "unnamed-column.csv", header: []string{"esn", "", "action"},
			recs: []wantRecord{rec(2, "1", "", "register")}, err: &wantErr{is: ErrUnnamedColumn, row: 3, text: "column B"}},
		{name: "csv neutralised cells read back", file: "neutralised.csv", header: []string{"name", "phone"},
			recs: []wantRecord{rec(2, "=cmd", "+35799123456"), rec(3, "'abc", "'=x")}},
		{name: "csv header trimmed", file: "trailing-header.csv", header: []string{"esn", "Action"}, recs: []wantRecord{rec(2, "1", "a")}},
		{name: "csv cell too long is the cell's problem", file: "bom.csv", opts: Options{MaxCellChars: 6}, header: []string{"esn", "action"},
			recs: []wantRecord{rec(2, "1001", "register").problems(problem(1, "B2", "is longer than 6 characters", "shorten it (Excel keeps at most 6 characters in a cell)"))}},
		{name: "csv too many columns", file: "header-only.csv", opts: Options{MaxColumns: 2}, err: &wantErr{is: ErrRowTooWide, row: 1}},

		{name: "xlsx ids and text", file: "ids.xlsx", header: []string{"esn", "code", "amount", "flag"}, recs: []wantRecord{
			rec(2, "12345678901234567000", "007", "0.1", "TRUE").kinds(Number, Text, Number, Bool).in("Devices"),
			rec(3, "350000000000000", "00123", "-0.0025", "FALSE").kinds(Number, Text, Number, Bool).in("Devices"),
			rec(4, "12345678901234567890", "Limassol", "1000000000000000000000", "").kinds(Number, Text, Number, Empty).in("Devices"),
			rec(5, "  spaced  ", "a\rb", "", "=1+1").kinds(Text, Text, Empty, Text).in("Devices"),
		}},
		{name: "xlsx dates 1900", file: "dates1900.xlsx", header: []string{"label", "value"}, recs: []wantRecord{
			rec(2, "day", "2024-01-15").kinds(Text, Date).in("Dates"),
			rec(3, "datetime", "2024-01-15T12:00:00").kinds(Text, Date).in("Dates"),
			rec(4, "locale", "1900-01-01").kinds(Text, Date).in("Dates"),
			rec(5, "lotus", "1900-02-29").kinds(Text, Date).in("Dates"),
			rec(6, "days", "45,306 days").kinds(Text, Number).in("Dates"),
			rec(7, "elapsed", "42:00:00").kinds(Text, Date).in("Dates"),
			rec(8, "red", "12.5").kinds(Text, Number).in("Dates"),
			rec(9, "seconds", "2024-01-15T00:00:01").kinds(Text, Date).in("Dates"),
			rec(10, "iso", "2024-01-15T08:30:00").kinds(Text, Date).in("Dates"),
		}},
		{name: "xlsx number formats as excel shows them", file: "numfmt.xlsx", header: []string{"label", "value"}, recs: []wantRecord{
			rec(2, "padded", "000000000123").kinds(Text, Number).in("Formats"),
			rec(3, "literal", "pci004").kinds(Text, Number).in("Formats"),
			rec(4, "hh:mm", "13:45:00").kinds(Text, Date).in("Formats"),
			rec(5, "builtin 18", "18:00:00").kinds(Text, Date).in("Formats"),
			rec(6, "builtin 21", "12:00:00").kinds(Text, Date).in("Formats"),
			rec(7, "builtin 46", "42:00:00").kinds(Text, Date).in("Formats"),
			rec(8, "builtin 27", "2024-01-15").kinds(Text, Date).in("Formats"),
			rec(9, "builtin 31", "2024-01-15T12:00:00").kinds(Text, Date).in("Formats"),
			rec(10, "builtin 57", "06:00:00").kinds(Text, Date).in("Formats"),
			rec(11, "percent padded", "0.5").kinds(Text, Unusable).in("Formats").problems(problem(1, "B11",
				`shows 0.5 through the number format "00.0%", which crmbatch does not apply (its "%")`,
				"format the column as Text in Excel (or LibreOffice) and type the values as they should be read")),
			rec(12, "grouped", "1234.5").kinds(Text, Number).in("Formats"),
		}},
		{name: "xlsx dates 1904", file: "dates1904.xlsx", header: []string{"label", "value"}, recs: []wantRecord{
			rec(2, "day", "2024-01-15").kinds(Text, Date).in("Dates"),
			rec(3, "zero", "1904-01-01T06:00:00").kinds(Text, Date).in("Dates"),
		}},
		{name: "xlsx formulas give cached values", file: "formulas.xlsx", header: []string{"esn", "amount"}, recs: []wantRecord{
			rec(2, "A1", "0.3333333333333333").kinds(Text, Number).in("Sheet1"),
			rec(3, "TRUE", "1").kinds(Bool, Number).in("Sheet1"),
		}},
		{name: "xlsx error cell is the cell's problem", file: "error-cell.xlsx", header: []string{"esn", "amount"}, recs: []wantRecord{
			rec(2, "1", "5").kinds(Text, Number).in("Sheet1"),
			rec(3, "2", "#N/A").kinds(Text, Unusable).in("Sheet1").problems(problem(1, "B3", "shows the error #N/A", hintCellError)),
		}},
		{name: "xlsx formula never calculated", file: "uncached.xlsx", header: []string{"esn", "amount"}, recs: []wantRecord{
			rec(2, "1", "").kinds(Text, Unusable).in("Sheet1").problems(problem(1, "B2", reasonUncalculated, hintCalculate)),
		}},
		{name: "xlsx empty cached result (openpyxl)", file: "empty-cached.xlsx", header: []string{"esn", "amount", "note"}, recs: []wantRecord{
			rec(2, "", "2", "").kinds(Unusable, Number, Empty).in("Sheet1").problems(problem(0, "A2", reasonUncalculated, hintCalculate)),
			rec(3, "", "", "").kinds(Unusable, Empty, Empty).in("Sheet1").problems(problem(0, "A3", reasonUncalculated, hintCalculate)),
		}},
		{name: "xlsx calculated on load (xlsxwriter's 0)", file: "fullcalc.xlsx", header: []string{"esn", "amount"}, recs: []wantRecord{
			rec(2, "", "5").kinds(Unusable, Number).in("Sheet1").problems(problem(0, "A2", reasonUncalculated, hintCalculate)),
			rec(3, "E-3", "").kinds(Text, Unusable).in("Sheet1").problems(problem(1, "B3", reasonUncalculated, hintCalculate)),
		}},
		{name: "xlsx error in the header", file: "error-header.xlsx",
			err: &wantErr{is: ErrCellError, row: 1, column: "B", text: "header cell B1 shows the error #DIV/0!\nhint: correct the formula"}},
		{name: "xlsx sparse rows keep sheet numbering", file: "sparse.xlsx", header: []string{"", "esn", "action"}, recs: []wantRecord{
			rec(3, "", "1", "").in("Sheet1"), rec(7, "", "", "add").in("Sheet1"), rec(9, "", "9", "remove").in("Sheet1"),
		}},
		{name: "xlsx extra column", file: "wide.xlsx", header: []string{"esn", "amount"},
			recs: []wantRecord{rec(2, "1", "2").in("Sheet1")}, err: &wantErr{is: ErrRowTooWide, row: 3, text: "column D (4)"}},
		{name: "xlsx duplicate header", file: "duplicate.xlsx", err: &wantErr{is: ErrDuplicateHeader, row: 1, column: "esn"}},
		{name: "xlsx empty sheet", file: "empty-sheet.xlsx", err: &wantErr{is: ErrNoHeader}},
		{name: "xlsx first visible sheet", file: "sheets.xlsx", header: []string{"esn"}, recs: []wantRecord{rec(2, "d1").in("Devices")}},
		{name: "xlsx sheet by name", file: "sheets.xlsx", opts: Options{Sheet: "charges"}, header: []string{"number"},
			recs: []wantRecord{rec(2, "c1").in("Charges")}},
		{name: "xlsx hidden sheet by name", file: "sheets.xlsx", opts: Options{Sheet: "Notes"}, header: []string{"note"}},
		{name: "xlsx sheet not found", file: "sheets.xlsx", opts: Options{Sheet: "Nope"},
			err: &wantErr{is: ErrSheetNotFound, text: `sheet "Nope" not found; the workbook has "Notes", "Devices", "Charges"`}},
		{name: "xlsx sheet name with a trailing space, exactly", file: "sheet-spaces.xlsx", opts: Options{Sheet: "Charges "}, header: []string{"number"},
			recs: []wantRecord{rec(2, "c1").in("Charges ")}},
		{name: "xlsx sheet name with a trailing space, trimmed", file: "sheet-spaces.xlsx", opts: Options{Sheet: "charges"}, header: []string{"number"},
			recs: []wantRecord{rec(2, "c1").in("Charges ")}},
		{name: "xlsx exact name before the trimmed one", file: "sheet-spaces.xlsx", opts: Options{Sheet: "Devices"}, header: []string{"esn"},
			recs: []wantRecord{rec(2, "d1").in("Devices")}},
		{name: "xlsx exact name with its space", file: "sheet-spaces.xlsx", opts: Options{Sheet: "Devices "}, header: []string{"esn"},
			recs: []wantRecord{rec(2, "d2").in("Devices ")}},
		{name: "xlsx trimmed name that fits two sheets", file: "sheet-spaces.xlsx", opts: Options{Sheet: " Devices"},
			err: &wantErr{is: ErrSheetNotFound, text: `sheet " Devices" fits several sheets once spaces are trimmed: "Devices", "Devices "`}},
		{name: "xlsx truncated zip", file: "truncated.xlsx", err: &wantErr{is: ErrTruncated}},
		{name: "xlsx sheet without its end", file: "truncated-sheet.xlsx", header: []string{"esn", "amount"},
			recs: []wantRecord{rec(2, "1", "").in("Sheet1")}, err: &wantErr{is: ErrTruncated, text: "ends after row 2"}},
		{name: "xlsx sheet cut inside a tag", file: "cut-tag.xlsx", header: []string{"esn", "amount"}, err: &wantErr{is: ErrTruncated, row: 1}},
		{name: "xlsx zip bomb", file: "bomb.xlsx", opts: Options{MaxXLSXBytes: 1 << 20}, err: &wantErr{is: ErrTooLarge, text: "over the limit of 1048576"}},
		{name: "xlsx bomb within a generous limit", file: "bomb.xlsx", opts: Options{MaxCellChars: 4 << 20}, header: []string{"esn", "amount"},
			recs: []wantRecord{rec(2, "1", strings.Repeat(" ", 2<<20)).in("Sheet1")}},
		{name: "xlsx cell too long", file: "bomb.xlsx", header: []string{"esn", "amount"},
			err: &wantErr{is: ErrTooLarge, row: 2, column: "amount", text: "cell longer than 32767 characters"}},
		{name: "xlsx ole file that is no encrypted workbook", file: "encrypted.xlsx", err: &wantErr{is: ErrEncrypted, text: "this is a legacy .xls workbook (or another OLE file), not .xlsx\nhint: open it in Excel and save it as .xlsx"}},
		{name: "xlsx not a zip", file: "not-zip.xlsx", err: &wantErr{is: ErrTruncated}},
		{name: "xlsx written by excelize", file: "excelize.xlsx", header: []string{"esn", "amount", "when", "ok"}, recs: []wantRecord{
			rec(2, "000123", "1234567.25", "2024-03-09", "TRUE").kinds(Text, Number, Date, Bool).in("Sheet1"),
			rec(3, "350000000000000", "-7", "45306.75", "FALSE").kinds(Number, Number, Number, Bool).in("Sheet1"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			header, recs, err := readAll(t, filepath.Join("testdata", tc.file), tc.opts)
			checkErr(t, err, tc.err)
			if !reflect.DeepEqual(header, tc.header) {
				t.Errorf("header %q, want %q", header, tc.header)
			}
			if len(recs) != len(tc.recs) {
				t.Errorf("%d records, want %d", len(recs), len(tc.recs))
			}
			for i := range min(len(recs), len(tc.recs)) {
				if !reflect.DeepEqual(recs[i], Record(tc.recs[i])) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, recs[i], tc.recs[i])
				}
			}
		})
	}
}

// records converts expected records to what a reader returns.
func records(want []wantRecord) []Record {
	if want == nil {
		return nil
	}
	out := make([]Record, len(want))
	for i, w := range want {
		out[i] = Record(w)
	}
	return out
}
