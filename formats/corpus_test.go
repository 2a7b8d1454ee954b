package formats

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/xuri/excelize/v2"
)

// corpusPassword opens the corpus's encrypted workbooks (producers/make.sh).
const corpusPassword = "corpus-Λ-2024"

// corpusCells reads every sheet of a corpus workbook with our reader: cell
// reference → text, "#UNUSABLE" for an Unusable cell.
func corpusCells(t *testing.T, path, sheet string) map[string]string {
	t.Helper()
	r, err := Open(path, Options{Sheet: sheet, Password: corpusPassword})
	if errors.Is(err, ErrNoHeader) || errors.Is(err, ErrSheetNotFound) && strings.Contains(err.Error(), "is not a worksheet") {
		return map[string]string{} // a chart sheet, or a worksheet that holds only a chart
	}
	if err != nil {
		t.Fatalf("%s: %v", sheet, err)
	}
	defer r.Close()
	cells := map[string]string{}
	for i, h := range r.Header() {
		cells[table.CellName(i, 1)] = h
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return cells
		}
		if err != nil {
			t.Fatalf("%s: %v", sheet, err)
		}
		for i, f := range rec.Fields {
			if rec.Kinds[i] == Unusable {
				f = "#UNUSABLE"
			}
			if f != "" {
				cells[table.CellName(i, rec.Row)] = f
			}
		}
	}
}

// excelizeCells reads a sheet with excelize as a person sees it: the cached
// values through their number formats.
func excelizeCells(t *testing.T, f *excelize.File, sheet string) map[string]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]string{}
	for r, row := range rows {
		for c, v := range row {
			if v != "" {
				cells[table.CellName(c, r+1)] = v
			}
		}
	}
	return cells
}

// TestProducerCorpus reads every workbook of the producer corpus with our
// reader and with excelize, and compares them cell by cell: they must agree
// but for the differences explained in corpusDiffs.
func TestProducerCorpus(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("testdata", "producers", "*.xlsx"))
	if len(files) == 0 {
		t.Fatal("no corpus: run formats/testdata/producers/make.sh")
	}
	used := map[string]bool{}
	var diffs []string
	for _, path := range files {
		name := filepath.Base(path)
		f, err := excelize.OpenFile(path, excelize.Options{Password: corpusPassword})
		if err != nil {
			t.Fatalf("%s: excelize: %v", name, err)
		}
		for _, sheet := range f.GetSheetList() {
			ours, theirs := corpusCells(t, path, sheet), excelizeCells(t, f, sheet)
			refs := map[string]bool{}
			for ref := range ours {
				refs[ref] = true
			}
			for ref := range theirs {
				refs[ref] = true
			}
			for ref := range refs {
				if ours[ref] == theirs[ref] {
					continue
				}
				label := ours["A"+strings.TrimLeft(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")]
				key, why := corpusDiff(name, sheet, ref, label)
				if why == "" {
					diffs = append(diffs, name+" "+strconv.Quote(sheet)+" "+ref+" "+strconv.Quote(label)+": ours "+strconv.Quote(ours[ref])+", excelize "+strconv.Quote(theirs[ref]))
					continue
				}
				used[key] = true
			}
		}
		f.Close()
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Errorf("unexplained difference: %s", d)
	}
	for key := range corpusDiffs {
		if !used[key] {
			t.Errorf("corpusDiffs[%q] explains no difference any more", key)
		}
	}
}

// corpusSources are the corpus files that are copies of others
// (encrypted, or written another way): they differ as their source does.
var corpusSources = map[string]string{
	"excelize-encrypted.xlsx":             "xlsxwriter.xlsx",
	"excelize-encrypted-libreoffice.xlsx": "libreoffice.xlsx",
	"xlsxwriter-constant-memory.xlsx":     "xlsxwriter.xlsx",
}

// corpusDiff finds the explanation of a difference: by file and cell, by
// file and row label, or on a Formats sheet by the row's label in any file.
func corpusDiff(file, sheet, ref, label string) (string, string) {
	if src, ok := corpusSources[file]; ok {
		file = src
	}
	for _, key := range []string{file + "!" + sheet + "!" + ref, file + "!" + sheet + "!" + label, sheet + "!" + label} {
		if why, ok := corpusDiffs[key]; ok {
			return key, why
		}
	}
	return "", ""
}

// Why our reading differs from excelize's, which shows cells through their
// number formats and reads formula cells' stored values as they are.
const (
	whyEmptyResult = "openpyxl writes formulas with an empty cached value (and fullCalcOnLoad): the cell is Unusable, not blank"
	whyPlaceholder = "XlsxWriter stores 0 for a formula it cannot calculate and sets fullCalcOnLoad: the cell is Unusable, not 0"
	whyCalcOnLoad  = "a value given to XlsxWriter for its formula, with fullCalcOnLoad: Excel recalculates when it opens the file, so the stored value is no calculated result; Unusable"
	whyErrorValue  = "an error value (#N/A, #DIV/0!) is Unusable; excelize reads its text"
	whyISODate     = "dates read as ISO YYYY-MM-DD, with THH:MM:SS when the serial has a time of day; excelize shows the format (01-15-24, 15-Jan-24, 1/15/2024)"
	whyISOTime     = "times of day read as HH:MM:SS, seconds included; excelize shows the format (13:45, 1:45 PM, 45:30)"
	whyLocaleDate  = "the East Asian built-in formats 27-36 and 50-58 are dates (times under one day); excelize leaves them serial numbers"
	whyLOLocale    = "LibreOffice does not know the East Asian built-ins and saves them as m/d/yyyy: the time-only value became a date of day 0 (Excel shows 1/0/1900), read as such"
	whyAmount      = "formats that only group, round or add a currency symbol or parentheses leave the stored number, the value the user typed; excelize shows 1,234.50, €1,234.50, (5.00)"
	whyPercent     = "a percent format leaves the stored number (0.125); excelize shows 12.5%"
	whyPadPercent  = "00.0% pads the number and shows it as a percent, which crmbatch does not render: Unusable rather than 0.5 in silence"
	whySameFmtID   = "openxlsx gives the padded format and its date format the same numFmtId (ycphs/openxlsx#330): Excel, like crmbatch, takes the later one and shows a date (10/18/1933); excelize takes the first"
)

// corpusDiffs are the differences between our reading and excelize's, each
// with why ours is what a job should get from what a person sees.
var corpusDiffs = map[string]string{
	"openpyxl.xlsx!Devices !B2":               whyEmptyResult,
	"openpyxl.xlsx!Devices !A5":               whyEmptyResult,
	"openpyxl.xlsx!Devices !D6":               whyEmptyResult,
	"openpyxl-write-only.xlsx!Devices!B3":     whyEmptyResult,
	"xlsxwriter.xlsx!Devices !A3":             whyPlaceholder,
	"xlsxwriter.xlsx!Devices !A4":             whyCalcOnLoad,
	"xlsxwriter.xlsx!Devices !D5":             whyCalcOnLoad,
	"libreoffice.xlsx!Devices !D6":            whyErrorValue,
	"libreoffice-xlsxwriter.xlsx!Devices !D5": whyErrorValue,
	"gnumeric.xlsx!Devices !D6":               whyErrorValue,

	"Formats!builtin 14":      whyISODate,
	"Formats!builtin 14 date": whyISODate,
	"Formats!builtin 15":      whyISODate,
	"Formats!builtin 16":      whyISODate,
	"Formats!builtin 17":      whyISODate,
	"Formats!builtin 22":      whyISODate,
	"Formats!datetime":        whyISODate,

	"Formats!hh:mm":                 whyISOTime,
	"Formats!builtin 18":            whyISOTime,
	"Formats!builtin 19":            whyISOTime,
	"Formats!builtin 20":            whyISOTime,
	"Formats!builtin 45":            whyISOTime,
	"Formats!builtin 47":            whyISOTime,
	"Formats!builtin 18, time only": whyISOTime,
	"Formats!builtin 20, time only": whyISOTime,
	"Formats!builtin 45, time only": whyISOTime,
	"Formats!builtin 47, time only": whyISOTime,
	"Formats!builtin 18 h:mm AM/PM": whyISOTime,
	"Formats!builtin 20 h:mm":       whyISOTime,
	"Formats!builtin 21 h:mm:ss":    whyISOTime,

	"xlsxwriter.xlsx!Formats!builtin 27, time only":             whyLocaleDate,
	"xlsxwriter.xlsx!Formats!builtin 32, time only":             whyLocaleDate,
	"xlsxwriter.xlsx!Formats!builtin 50, time only":             whyLocaleDate,
	"xlsxwriter.xlsx!Formats!builtin 55, time only":             whyLocaleDate,
	"libreoffice-xlsxwriter.xlsx!Formats!builtin 27, time only": whyLOLocale,
	"libreoffice-xlsxwriter.xlsx!Formats!builtin 50, time only": whyLOLocale,
	"libreoffice-xlsxwriter.xlsx!Formats!builtin 55, time only": whyLOLocale,

	"r-openxlsx.xlsx!Devices!A5": whySameFmtID,
	"Charges!I00001":             whyAmount, // ExcelJS, SheetJS, xlsx-populate, write-excel-file: #,##0.00
	"Charges!I00002":             whyAmount,
	"Charges!I00021":             whyAmount, // openxlsx
	"Charges!I00022":             whyAmount,
	"Charges!I00011":             whyISODate, // pandas: yyyy-mm-dd hh:mm:ss
	"Charges!I00012":             whyISODate,

	"Formats!grouped amount":      whyAmount,
	"Formats!currency":            whyAmount,
	"Formats!accounting negative": whyAmount,
	"Formats!percent":             whyPercent,
	"Formats!percent padded":      whyPadPercent,
}

func init() {
	// Every locale built-in: dates in XlsxWriter's file (excelize: a serial),
	// and in LibreOffice's, which saved them as m/d/yyyy (excelize:
	// 1/15/2024), but for 32-35, which it saved as h:mm:ss, as we read them.
	for _, id := range []int{27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58} {
		corpusDiffs["xlsxwriter.xlsx!Formats!builtin "+strconv.Itoa(id)] = whyLocaleDate
		if id < 32 || id > 35 {
			corpusDiffs["libreoffice-xlsxwriter.xlsx!Formats!builtin "+strconv.Itoa(id)] = whyISODate
		}
	}
}

// TestProducerCases checks each case of the corpus where crmbatch must read
// what a person sees, cell by cell, in files the programs themselves wrote.
func TestProducerCases(t *testing.T) {
	t.Parallel()
	greek := strings.Repeat("Λεμεσός ", 2500)
	for _, tc := range []struct {
		name, file string
		opts       Options
		cell       string
		want       string
		kind       CellKind
		problem    string // a substring of the cell's problem
	}{
		{name: "openpyxl empty cached result", file: "openpyxl.xlsx", opts: Options{Sheet: "Devices "}, cell: "B2", kind: Unusable,
			problem: "cell B2 has a formula whose result was never calculated (the program that wrote the file does not calculate): open and save the file in Excel (or LibreOffice) so it calculates"},
		{name: "openpyxl formula in esn", file: "openpyxl.xlsx", opts: Options{Sheet: "Devices "}, cell: "A5", kind: Unusable, problem: "never calculated"},
		{name: "20,000 greek letters", file: "openpyxl.xlsx", opts: Options{Sheet: "Devices "}, cell: "D2", want: greek, kind: Text},
		{name: "padded with zeros", file: "openpyxl.xlsx", opts: Options{Sheet: "Devices "}, cell: "A3", want: "000000000123", kind: Number},
		{name: "literal text", file: "openpyxl.xlsx", opts: Options{Sheet: "Devices "}, cell: "A4", want: "pci004", kind: Number},
		{name: "sheet with a trailing space, trimmed", file: "openpyxl.xlsx", opts: Options{Sheet: "devices"}, cell: "A4", want: "pci004", kind: Number},
		{name: "openpyxl hh:mm", file: "openpyxl.xlsx", opts: Options{Sheet: "Formats"}, cell: "B2", want: "13:45:00", kind: Date},
		{name: "openpyxl builtin 46", file: "openpyxl.xlsx", opts: Options{Sheet: "Formats"}, cell: "B6", want: "42:00:00", kind: Date},
		{name: "write-only formula", file: "openpyxl-write-only.xlsx", cell: "B3", kind: Unusable, problem: "never calculated"},
		{name: "xlsxwriter placeholder 0", file: "xlsxwriter.xlsx", cell: "A3", kind: Unusable, problem: "never calculated"},
		{name: "xlsxwriter #N/A is not calculated either", file: "xlsxwriter.xlsx", cell: "D5", kind: Unusable, problem: "never calculated"},
		{name: "#N/A calculated", file: "libreoffice-xlsxwriter.xlsx", cell: "D5", want: "#N/A", kind: Unusable, problem: "cell D5 shows the error #N/A"},
		{name: "xlsxwriter padded", file: "xlsxwriter.xlsx", cell: "A6", want: "000000000123", kind: Number},
		{name: "constant_memory placeholder 0", file: "xlsxwriter-constant-memory.xlsx", cell: "A3", kind: Unusable, problem: "never calculated"},
		{name: "builtin 27", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B11", want: "2024-01-15T13:45:30", kind: Date},
		{name: "builtin 57", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B31", want: "2024-01-15T13:45:30", kind: Date},
		{name: "builtin 32 under a day", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B39", want: "13:45:30", kind: Date},
		{name: "builtin 21", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B9", want: "13:45:30", kind: Date},
		{name: "0000-0000", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B44", want: "1234-5678", kind: Number},
		{name: "units", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B45", want: "1,234.50 kg", kind: Number},
		{name: "percent padded", file: "xlsxwriter.xlsx", opts: Options{Sheet: "Formats"}, cell: "B48", want: "0.5", kind: Unusable, problem: `number format "00.0%"`},
		{name: "libreoffice calculates", file: "libreoffice.xlsx", cell: "B2", want: "register", kind: Text},
		{name: "libreoffice #DIV/0!", file: "libreoffice.xlsx", cell: "D6", want: "#DIV/0!", kind: Unusable, problem: "shows the error #DIV/0!"},
		{name: "libreoffice recalculates xlsxwriter", file: "libreoffice-xlsxwriter.xlsx", cell: "A3", want: "E-3002", kind: Text},
		{name: "gnumeric result as a shared string", file: "gnumeric.xlsx", cell: "B2", want: "register", kind: Text},
		{name: "excelize-encrypted", file: "excelize-encrypted.xlsx", opts: Options{Password: corpusPassword}, cell: "A6", want: "000000000123", kind: Number},
		{name: "excelize-encrypted libreoffice", file: "excelize-encrypted-libreoffice.xlsx", opts: Options{Password: corpusPassword}, cell: "B2", want: "register", kind: Text},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			col, row := cellRef(tc.cell)
			_, recs, err := readAll(t, filepath.Join("testdata", "producers", tc.file), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Row != row {
					continue
				}
				if r.Fields[col] != tc.want || r.Kinds[col] != tc.kind {
					t.Errorf("%s: %.40q (%v), want %.40q (%v)", tc.cell, r.Fields[col], r.Kinds[col], tc.want, tc.kind)
				}
				problem := ""
				for _, p := range r.Problems {
					if p.Column == col {
						problem = p.String()
					}
				}
				if tc.problem == "" && problem != "" || !strings.Contains(problem, tc.problem) {
					t.Errorf("%s: problem %q, want %q", tc.cell, problem, tc.problem)
				}
				return
			}
			t.Errorf("no record of row %d", row)
		})
	}
	for _, tc := range []struct {
		name, file string
		opts       Options
		err        *wantErr
	}{
		{name: "gnumeric unicode text", file: "gnumeric-unicode.txt",
			err: &wantErr{is: ErrEncoding, text: "this is UTF-16 (little-endian) text without a byte order mark"}},
		{name: "encrypted without the password", file: "excelize-encrypted.xlsx",
			err: &wantErr{is: ErrEncrypted, text: "password-protected\nhint: set CRMBATCH_XLSX_PASSWORD"}},
		{name: "encrypted with a wrong password", file: "excelize-encrypted-libreoffice.xlsx", opts: Options{Password: "corpus"},
			err: &wantErr{is: ErrEncrypted, text: "the password does not open the workbook"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readAll(t, filepath.Join("testdata", "producers", tc.file), tc.opts)
			checkErr(t, err, tc.err)
		})
	}
}

// TestProducerWant reads every file of the producer corpus that has a .want
// beside it (what Excel shows, cell by cell, typed by hand) and compares it
// cell by cell: every cell of every sheet listed, nothing more or less, and
// the sheet read when none is named.
func TestProducerWant(t *testing.T) {
	t.Parallel()
	wants, _ := filepath.Glob(filepath.Join("testdata", "producers", "*.want"))
	if len(wants) < 20 {
		t.Fatalf("%d .want files in the producer corpus, want 20 or more", len(wants))
	}
	for _, want := range wants {
		path := strings.TrimSuffix(want, ".want")
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			first, sheets := readWant(t, want)
			if first != "" {
				r, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := r.HeaderAt(); got != first {
					t.Errorf("first sheet %q, want %q", got, first)
				}
				r.Close()
			}
			for _, s := range sheets {
				got := corpusCells(t, path, s.name)
				for ref, v := range s.cells {
					if got[ref] != v {
						t.Errorf("%s %s: %.80q, want %.80q", s.name, ref, got[ref], v)
					}
				}
				for ref, v := range got {
					if _, ok := s.cells[ref]; !ok {
						t.Errorf("%s %s: %.80q, want no value", s.name, ref, v)
					}
				}
			}
		})
	}
}

// wantSheet is a sheet of a .want file: cell reference → text.
type wantSheet struct {
	name  string
	cells map[string]string
}

// readWant parses a .want file: "# comments", "first sheet: NAME", "[SHEET]"
// and `A1 "text"` lines, the text as a Go string literal.
func readWant(t *testing.T, path string) (string, []wantSheet) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first := ""
	var sheets []wantSheet
	for n, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "first sheet: "):
			first = strings.TrimPrefix(line, "first sheet: ")
		case strings.HasPrefix(line, "["):
			sheets = append(sheets, wantSheet{name: strings.Trim(line, "[]"), cells: map[string]string{}})
		default:
			ref, lit, ok := strings.Cut(line, " ")
			v, err := strconv.Unquote(lit)
			if !ok || err != nil {
				t.Fatalf("%s:%d: %q is no `A1 \"text\"` line", path, n+1, line)
			}
			if len(sheets) == 0 {
				sheets = append(sheets, wantSheet{cells: map[string]string{}})
			}
			sheets[len(sheets)-1].cells[ref] = v
		}
	}
	return first, sheets
}

// cellRef splits an A1 name into its 0-based column and its row.
func cellRef(name string) (col, row int) {
	i := strings.IndexAny(name, "0123456789")
	for _, c := range name[:i] {
		col = col*26 + int(c-'A'+1)
	}
	row, _ = strconv.Atoi(name[i:])
	return col - 1, row
}
