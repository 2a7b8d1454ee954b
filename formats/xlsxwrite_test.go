package formats

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
		{"cut at excel's limit", long, long[:2*maxCellChars]},
		{"cut by utf-16 units", wide, wide[:4*(maxCellChars/2)]},
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
		"plain":         "plain",
		"a&b<c>d":       "a&amp;b&lt;c&gt;d",
		"x\ry":          "x_x000D_y",
		"\x00\x1f":      "_x0000__x001F_",
		"_x000D_":       "_x005F_x000D_",
		"_x00_ _xZZZZ_": "_x00_ _xZZZZ_",
		"\uFFFF":        "_xFFFF_",
		"\xff":          "\uFFFD",
	} {
		if got := string(appendCellText(nil, in)); got != want {
			t.Errorf("appendCellText(%q) = %q, want %q", in, got, want)
		}
	}
}
