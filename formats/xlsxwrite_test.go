package formats

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

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
			w, err := CreateReport(path, XLSX, []string{"id", "text"})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			if err := w.WriteRow([]string{"1", tc.in}, Tinted); err != nil {
				t.Fatal(err)
			}
			if err := w.AddSheet("R&D <1>", [][]string{{"text"}, {tc.in}}); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			_, recs, err := readAll(t, path, Options{MaxCellChars: 1 << 20})
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
		var kinds []CellKind
		if typed {
			kinds = []CellKind{Text, Number, Date}
		}
		rows := [][]string{{a, b, a}, {b, a, b}}
		path := filepath.Join(t.TempDir(), "fuzz.xlsx")
		w, err := CreateTypedReport(path, XLSX, header, kinds)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		for i, row := range rows {
			if err := w.WriteRow(row, RowStyle(i%2)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.AddSheet("Summary", [][]string{{"x"}, {a}, {b}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenFile(path, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		check := func(sheet string, col, row int, in string, numeric bool) {
			t.Helper()
			ref := columnLetters(col) + strconv.Itoa(row)
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
					w := &xlsxReport{kinds: kinds}
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
			w, err := CreateReportWith(path, XLSX, header, ReportOptions{Wrap: []bool{false, true}})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			note := strings.Repeat("n", 30)
			for i := range rows {
				msg := "The specified charge cannot be acknowledged"
				if i == 1 {
					msg = strings.Repeat("a long message that wraps ", 10)
				}
				fields := []string{"0123", msg, "2026-03-01T10:20:30", note}
				kinds := []CellKind{Number, Text, Date, Text}
				if err := w.WriteCells(fields, kinds, RowStyle(i%2)); err != nil {
					t.Fatal(err)
				}
			}
			err = w.AddTypedSheet("Summary", [][]string{{"what", "value", "about"}, {"rows", "197"}, {"amount ok EUR", "305.60", "40 rows"}, {"run_id", "0123"}},
				[][]CellKind{nil, {Text, Number}, {Text, Number, Text}, {Text, Text}})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
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
