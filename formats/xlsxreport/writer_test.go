package xlsxreport

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/crmbatch/crmbatch/formats/xlsx"
	"github.com/xuri/excelize/v2"
)

// report is a workbook written to a file, as formats writes an XLSX report.
type report struct {
	*Writer
	f *os.File
}

// create starts a workbook at path with the header.
func create(t testing.TB, path string, header []string, opts Options) *report {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	w, err := New(f, header, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &report{Writer: w, f: f}
}

// commit finishes the workbook and closes its file.
func (r *report) commit() error {
	if err := r.Close(); err != nil {
		return err
	}
	return r.f.Close()
}

// readAll reads the results sheet back with our reader.
func readAll(t *testing.T, path string, opts table.Options) ([]string, []table.Record, error) {
	t.Helper()
	r, err := xlsx.Open(path, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []table.Record
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

// TestXLSXReportText writes texts that need escaping and reads them back,
// with our reader and with excelize.
func TestXLSXReportText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxCellChars+100)
	wide := strings.Repeat("😀", maxCellChars/2+10)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"markup", `<a href="x">&amp;</a> ]]> '`, `<a href="x">&amp;</a> ]]> '`},
		{"spaces kept", "  two spaces  ", "  two spaces  "},
		{"tab and line feed", "\tTab\nline", "\tTab\nline"},
		{"carriage returns", "a\rb\r\nc", "a\rb\r\nc"},
		{"control characters", "nul\x00 bell\x07 esc\x1b", "nul\x00 bell\x07 esc\x1b"},
		{"noncharacters", "x\uFFFEy\uFFFF", "x\uFFFEy\uFFFF"},
		{"literal escape", "_x000D_ and _x005F_ and _x41", "_x000D_ and _x005F_ and _x41"},
		{"invalid utf-8", "caf\xe9", "caf\uFFFD"},
		{"unicode", "Λεμεσός 😀", "Λεμεσός 😀"},
		{"cut at excel's limit, with a mark", long, long[:2*(maxCellChars-len(cutMark))] + " [cut at 32,767 characters]"},
		{"cut by utf-16 units", wide, wide[:4*((maxCellChars-len(cutMark))/2)] + cutMark},
		{"plain ascii cut too", strings.Repeat("a", 40000), strings.Repeat("a", maxCellChars-len(cutMark)) + cutMark},
		{"ascii cut before markup", strings.Repeat("a", 39999) + "&", strings.Repeat("a", maxCellChars-len(cutMark)) + cutMark},
		{"exactly the limit, no mark", strings.Repeat("a", maxCellChars-1) + "&", strings.Repeat("a", maxCellChars-1) + "&"},
		{"markup beyond the cut", strings.Repeat("a", maxCellChars-len(cutMark)-1) + "&<" + strings.Repeat("b", 100), strings.Repeat("a", maxCellChars-len(cutMark)-1) + "&" + cutMark},
		{"greek within the limit", strings.Repeat("Λ", 20000), strings.Repeat("Λ", 20000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "out.xlsx")
			w := create(t, path, []string{"id", "text"}, Options{})
			if err := w.WriteRow([]string{"1", tc.in}, nil, true); err != nil {
				t.Fatal(err)
			}
			if err := w.AddSheet("R&D <1>", [][]string{{"text"}, {tc.in}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := w.commit(); err != nil {
				t.Fatal(err)
			}
			_, recs, err := readAll(t, path, table.Options{MaxCellChars: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Fields[1] != tc.want {
				t.Fatalf("read back %+v, want %q", recs, tc.want)
			}
			f, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"Results", "R&D <1>"}) {
				t.Errorf("sheets %q", got)
			}
			if v, err := f.GetCellValue("Results", "A2"); err != nil || v != "1" {
				t.Errorf("A2 = %q, %v", v, err)
			}
		})
	}
}

func TestAppendCellText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                          "plain",
		"a&b<c>d":                        "a&amp;b&lt;c&gt;d",
		"x\ry":                           "x_x000D_y",
		"\x00\x1f":                       "_x0000__x001F_",
		"_x000D_":                        "_x005F_x000D_",
		"_x00_ _xZZZZ_":                  "_x00_ _xZZZZ_",
		"\uFFFF":                         "_xFFFF_",
		"\xff":                           "\uFFFD",
		strings.Repeat("a", 39999) + "&": strings.Repeat("a", maxCellChars-len(cutMark)) + cutMark,
	} {
		if got := string(appendCellText(nil, in)); got != want {
			t.Errorf("appendCellText(%q) = %q, want %q", in, got, want)
		}
	}
}

// wantWritten is what a report cell holds once written: cut at Excel's
// limit, every byte that is not UTF-8 replaced by U+FFFD.
func wantWritten(s string) string {
	s = cutCell(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// FuzzXLSXReport writes rows of random text, in text and typed columns, and
// reads the file back with excelize: every cell must hold what was written
// (cut at 32,767 characters), text cells must be strings, and nothing panics.
//
// The long cells are made from a short input: a is head followed by unit n
// times (at most 256 KiB). Given whole, a 40,000-character seed made every
// input the fuzzer kept as long, and Go minimizes each kept input by
// removing each span of its bytes, a search quadratic in its length of
// ~10 ms writes and reads, which reports no exec until it ends: make fuzz
// stood at "0 execs/sec" for its whole 30 s.
func FuzzXLSXReport(f *testing.F) {
	f.Add("350000000000000", "", uint16(0), "12.50", false)
	f.Add("", "a&", uint16(20000), "2024-01-15T08:30:00", true)
	f.Add("", "Λ", uint16(20000), "=1+1", true)
	f.Add("caf\xe9 ", "😀", uint16(16400), "a\rb\x00c\uFFFF_x000D_", false)
	f.Add("", "", uint16(0), " ", true)
	f.Fuzz(func(t *testing.T, head, unit string, n uint16, b string, typed bool) {
		if len(unit) > 0 && len(unit)*int(n) > 256<<10 {
			n = uint16((256 << 10) / len(unit))
		}
		a := head + strings.Repeat(unit, int(n))
		header := []string{"text", "number", "date"}
		var kinds []table.CellKind
		if typed {
			kinds = []table.CellKind{table.Text, table.Number, table.Date}
		}
		rows := [][]string{{a, b, a}, {b, a, b}}
		path := filepath.Join(t.TempDir(), "fuzz.xlsx")
		w := create(t, path, header, Options{Kinds: kinds})
		for i, row := range rows {
			if err := w.WriteRow(row, nil, i%2 == 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.AddSheet("Summary", [][]string{{"x"}, {a}, {b}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.commit(); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenFile(path, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		check := func(sheet string, col, row int, in string, numeric bool) {
			t.Helper()
			ref := table.ColumnLetters(col) + strconv.Itoa(row)
			got, err := x.GetCellValue(sheet, ref)
			if err != nil {
				t.Fatalf("%s!%s: %v", sheet, ref, err)
			}
			typ, err := x.GetCellType(sheet, ref)
			if err != nil {
				t.Fatalf("%s!%s: %v", sheet, ref, err)
			}
			switch {
			case in == "":
				if got != "" || typ != excelize.CellTypeUnset {
					t.Errorf("%s!%s: empty cell reads %q (type %v)", sheet, ref, got, typ)
				}
			case numeric:
				if _, err := strconv.ParseFloat(got, 64); err != nil || typ != excelize.CellTypeUnset {
					t.Errorf("%s!%s: typed cell %q reads %q (type %v)", sheet, ref, in, got, typ)
				}
			default:
				if want := wantWritten(in); got != want {
					t.Errorf("%s!%s: reads %d bytes %.40q, want %d bytes %.40q", sheet, ref, len(got), got, len(want), want)
				}
				if typ != excelize.CellTypeInlineString {
					t.Errorf("%s!%s: type %v, want an inline string", sheet, ref, typ)
				}
			}
		}
		for i, row := range rows {
			for col, in := range row {
				numeric := false
				if typed && col > 0 {
					w := &Writer{kinds: kinds}
					_, _, numeric = w.typed(col, in, i+2, nil)
				}
				check("Results", col, i+2, in, numeric)
			}
		}
		check("Summary", 0, 2, a, false)
		check("Summary", 0, 3, b, false)
	})
}

// TestXLSXReportLayout checks what makes a report readable in a spreadsheet:
// columns as wide as their texts, a wrapped error column, date cells of the
// job file kept as dates, landscape print set-up one page wide, and number
// cells on an added sheet.
func TestXLSXReportLayout(t *testing.T) {
	t.Parallel()
	for _, rows := range []int{1, measuredRows - 1, measuredRows, measuredRows + 1, 2*measuredRows + 1} {
		t.Run(strconv.Itoa(rows)+" rows", func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "out.xlsx")
			header := []string{"number", "error_message", "received_on", "note"}
			w := create(t, path, header, Options{Wrap: []bool{false, true}})
			note := strings.Repeat("n", 30)
			for i := range rows {
				msg := "The specified charge cannot be acknowledged"
				if i == 1 {
					msg = strings.Repeat("a long message that wraps ", 10)
				}
				fields := []string{"0123", msg, "2026-03-01T10:20:30", note}
				kinds := []table.CellKind{table.Number, table.Text, table.Date, table.Text}
				if err := w.WriteRow(fields, kinds, i%2 == 1); err != nil {
					t.Fatal(err)
				}
			}
			err := w.AddSheet("Summary", [][]string{{"what", "value", "about"}, {"rows", "197"}, {"amount ok EUR", "305.60", "40 rows"}, {"run_id", "0123"}},
				[][]table.CellKind{nil, {table.Text, table.Number}, {table.Text, table.Number, table.Text}, {table.Text, table.Text}})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.commit(); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for col, want := range map[string]float64{"A": 12, "B": map[bool]float64{true: 45, false: wrapColumnWidth}[rows == 1], "C": dateColumnWidth, "D": 32} {
				if got, err := f.GetColWidth("Results", col); err != nil || got != want {
					t.Errorf("column %s is %v wide (%v), want %v", col, got, err, want)
				}
			}
			if v, _ := f.GetCellValue("Results", "A2"); v != "0123" {
				t.Errorf("A2 = %q: a number cell of the job file stays text", v)
			}
			if typ, _ := f.GetCellType("Results", "C2"); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
				t.Errorf("C2 is a text cell: the job file's date is no date")
			}
			if v, _ := f.GetCellValue("Results", "C2"); v != "2026-03-01 10:20:30" {
				t.Errorf("C2 shows %q", v)
			}
			id, _ := f.GetCellStyle("Results", "B2")
			if st, _ := f.GetStyle(id); st == nil || st.Alignment == nil || !st.Alignment.WrapText {
				t.Errorf("B2's style %+v does not wrap", st)
			}
			layout, err := f.GetPageLayout("Results")
			if err != nil || layout.Orientation == nil || *layout.Orientation != "landscape" ||
				layout.FitToWidth == nil || *layout.FitToWidth != 1 || layout.FitToHeight == nil || *layout.FitToHeight != 0 {
				t.Errorf("page layout %+v, %v: want landscape, one page wide", layout, err)
			}
			if opts, err := f.GetSheetProps("Results"); err != nil || opts.FitToPage == nil || !*opts.FitToPage {
				t.Errorf("sheet props %+v, %v: want fit to page", opts, err)
			}
			for cell, numeric := range map[string]bool{"B2": true, "B3": true, "C3": false, "B4": false} {
				typ, _ := f.GetCellType("Summary", cell)
				text := typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString
				if text == numeric {
					t.Errorf("Summary!%s: number %v, want %v", cell, !text, numeric)
				}
			}
			if v, _ := f.GetCellValue("Summary", "B3"); v != "305.60" {
				t.Errorf("Summary!B3 shows %q", v)
			}
			if v, _ := f.GetCellValue("Summary", "B4"); v != "0123" {
				t.Errorf("Summary!B4 shows %q", v)
			}
			got, err := f.GetRows("Results")
			if err != nil || len(got) != rows+1 {
				t.Errorf("%d rows read back (%v), want %d", len(got), err, rows+1)
			}
		})
	}
}

// TestReportPrinting: with PageOne, the results sheet prints its first
// columns at 9 points or more (scale >= 82%), breaks after them, repeats the
// key columns and the header, and a row whose wrapped error is long is as
// tall as its lines; without it, one page wide as before.
func TestReportPrinting(t *testing.T) {
	header := []string{"number", "billing_system_customer_identifier", "row", "status", "error_code", "error_message", "attempts", "amount", "currency", "note"}
	long := strings.Repeat("the charge was not issued for the customer ", 5)
	for _, tc := range []struct {
		name      string
		pageOne   int
		wantScale bool
	}{
		{"key columns first", 7, true},
		{"one page wide", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.xlsx")
			wrap := make([]bool, len(header))
			wrap[5] = true
			w := create(t, path, header, Options{Wrap: wrap, PageOne: tc.pageOne, Titles: 2})
			kinds := []table.CellKind{table.Text, table.Text, table.Integer, table.Text, table.Text, table.Text, table.Integer, table.AmountKind(0), table.Text, table.Text}
			for i, msg := range []string{"", long} {
				row := []string{"I0001", "pci001", strconv.Itoa(i + 2), "ok", "", msg, "1", "1234", "JPY", "x"}
				if err := w.WriteRow(row, kinds, false); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.commit(); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			layout, err := f.GetPageLayout("Results")
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantScale {
				if layout.AdjustTo == nil || *layout.AdjustTo < 82 || *layout.AdjustTo > 100 {
					t.Errorf("scale %v, want 82..100", layout.AdjustTo)
				}
				if layout.FitToWidth != nil && *layout.FitToWidth == 1 {
					t.Error("fitted to one page wide")
				}
				names := f.GetDefinedName()
				if len(names) != 2 || names[1].RefersTo != "'Results'!$A:$B,'Results'!$1:$1" {
					t.Errorf("print titles %+v", names)
				}
				if h, _ := f.GetRowHeight("Results", 3); h < 3*15 {
					t.Errorf("the row of a %d-character error is %.0f points tall", len(long), h)
				}
			} else if layout.FitToWidth == nil || *layout.FitToWidth != 1 {
				t.Errorf("fit to width %v, want 1", layout.FitToWidth)
			}
			for _, c := range []struct {
				ref  string
				want excelize.CellType
			}{{"C2", excelize.CellTypeUnset}, {"G3", excelize.CellTypeUnset}, {"H2", excelize.CellTypeUnset}, {"A2", excelize.CellTypeInlineString}} {
				if k, _ := f.GetCellType("Results", c.ref); k != c.want {
					t.Errorf("%s type %v, want %v", c.ref, k, c.want)
				}
			}
			if v, _ := f.GetCellValue("Results", "H2"); v != "1,234" {
				t.Errorf("H2 (1234 JPY) shows %q, want 1,234", v)
			}
		})
	}
}
