package formats

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var reportHeader = []string{"esn", "amount", "note"}
var reportRows = [][]string{
	{"12345678901234567890", "=SUM(A1:A9)", "-5"},
	{"007", "+35799123456", "@user"},
	{"'=quoted", "\tTab", "plain, with comma"},
}

// writeReport writes the standard rows, the second tinted, and a Summary sheet.
func writeReport(t *testing.T, path string, f Format) {
	t.Helper()
	w, err := CreateReport(path, f, reportHeader)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i, row := range reportRows {
		style := Plain
		if i == 1 {
			style = Tinted
		}
		if err := w.WriteRow(row, style); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddSheet("Summary", [][]string{{"status", "rows"}, {"ok", "2"}, {"failed", "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); !errors.Is(err, ErrReportClosed) {
		t.Errorf("second Commit: %v, want ErrReportClosed", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
}

// onlyFile checks that dir holds exactly the named file, with the mode the
// umask gives a new file.
func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	onlyFileMode(t, dir, name, 0)
}

// onlyFileMode is onlyFile with the file's mode: perm, or (0) the one the
// umask gives a new file.
func onlyFileMode(t *testing.T, dir, name string, perm os.FileMode) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("folder holds %q, want only %q", names, name)
	}
	st, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	// The mode the umask gives a new file, as for any file a program creates.
	probe := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(probe, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	pst, err := os.Stat(probe)
	if err != nil {
		t.Fatal(err)
	}
	if perm != 0 {
		if st.Mode().Perm() != perm {
			t.Errorf("mode %v, want %v", st.Mode().Perm(), perm)
		}
		return
	}
	if st.Mode().Perm() != pst.Mode().Perm() {
		t.Errorf("mode %v, want %v (what the umask gives)", st.Mode().Perm(), pst.Mode().Perm())
	}
}

// readBack reads a report with the package's own reader.
func readBack(t *testing.T, path string) ([]string, []Record) {
	t.Helper()
	header, recs, err := readAll(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return header, recs
}

func TestCSVReportRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobs.results.csv")
	writeReport(t, path, CSV)
	onlyFile(t, dir, "jobs.results.csv")

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "esn,amount,note\n" +
		"12345678901234567890,'=SUM(A1:A9),'-5\n" +
		"007,'+35799123456,'@user\n" +
		"''=quoted,'\tTab,\"plain, with comma\"\n"
	if string(raw) != want {
		t.Errorf("file is\n%q\nwant\n%q", raw, want)
	}
	header, recs := readBack(t, path)
	if !reflect.DeepEqual(header, reportHeader) {
		t.Errorf("header %q", header)
	}
	for i, r := range recs {
		if !reflect.DeepEqual(r.Fields, reportRows[i]) {
			t.Errorf("row %d read back as %q, want %q", r.Row, r.Fields, reportRows[i])
		}
	}
}

// TestCSVReportKeepsLongCells: a CSV report cell is written whole, however
// long (a CSV cell has no limit), and reads back as written.
func TestCSVReportKeepsLongCells(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"ascii", strings.Repeat("a", 40000), strings.Repeat("a", 40000)},
		{"greek", strings.Repeat("Λ", 20000), strings.Repeat("Λ", 20000)},
		{"neutralised", "=" + strings.Repeat("a", 40000), "=" + strings.Repeat("a", 40000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.csv")
			w, err := CreateReport(path, CSV, []string{"esn", "error_message"})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			if err := w.WriteRow([]string{"1", tc.in}, Plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			_, recs := readBack(t, path)
			if len(recs) != 1 || recs[0].Fields[1] != tc.want {
				t.Fatalf("read back %.60q, want %.60q", recs[0].Fields[1], tc.want)
			}
		})
	}
}

func TestXLSXReportRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobs.results.xlsx")
	writeReport(t, path, XLSX)
	onlyFile(t, dir, "jobs.results.xlsx")

	header, recs := readBack(t, path)
	if !reflect.DeepEqual(header, reportHeader) {
		t.Errorf("header %q", header)
	}
	for i, r := range recs {
		if !reflect.DeepEqual(r.Fields, reportRows[i]) {
			t.Errorf("row %d read back as %q, want %q", r.Row, r.Fields, reportRows[i])
		}
		for j, k := range r.Kinds {
			if k != Text {
				t.Errorf("row %d column %d is %v, want text", r.Row, j, k)
			}
		}
	}

	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"Results", "Summary"}) {
		t.Errorf("sheets %q", got)
	}
	for _, ref := range []string{"A1", "A2", "B2", "C2", "B3"} {
		typ, err := f.GetCellType("Results", ref)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("cell %s has type %v, want a string", ref, typ)
		}
		if formula, _ := f.GetCellFormula("Results", ref); formula != "" {
			t.Errorf("cell %s has formula %q", ref, formula)
		}
	}
	if v, _ := f.GetCellValue("Results", "B2"); v != "=SUM(A1:A9)" {
		t.Errorf("B2 = %q", v)
	}
	panes, err := f.GetPanes("Results")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, %v: want the first row frozen", panes, err)
	}
	names := f.GetDefinedName()
	if len(names) != 2 || names[0].Name != "_xlnm._FilterDatabase" || names[0].RefersTo != "'Results'!$A$1:$C$1" ||
		names[1].Name != "_xlnm.Print_Titles" || names[1].RefersTo != "'Results'!$1:$1" {
		t.Errorf("defined names %+v, want the autofilter on A1:C1 and the header row printed on every page", names)
	}
	boldID, _ := f.GetCellStyle("Results", "A1")
	bold, _ := f.GetStyle(boldID)
	if bold == nil || bold.Font == nil || !bold.Font.Bold {
		t.Errorf("header style %+v is not bold", bold)
	}
	tintID, _ := f.GetCellStyle("Results", "A3")
	tint, _ := f.GetStyle(tintID)
	if tint == nil || len(tint.Fill.Color) != 1 || tint.Fill.Color[0] != "FFC7CE" {
		t.Errorf("tinted row style %+v has no red fill", tint)
	}
	plainID, _ := f.GetCellStyle("Results", "A2")
	if plainID == tintID {
		t.Error("plain and tinted rows share a style")
	}
	rows, err := f.GetRows("Summary")
	if err != nil || !reflect.DeepEqual(rows, [][]string{{"status", "rows"}, {"ok", "2"}, {"failed", "1"}}) {
		t.Errorf("summary %q, %v", rows, err)
	}
	sumID, _ := f.GetCellStyle("Summary", "B1")
	if s, _ := f.GetStyle(sumID); s == nil || s.Font == nil || !s.Font.Bold {
		t.Error("summary's first row is not bold")
	}
}

func TestReportAbort(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w, err := CreateReport(filepath.Join(dir, "out."+string(f)), f, reportHeader)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteRow(reportRows[0], Plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("folder holds %d files after Abort", len(entries))
			}
			if err := w.WriteRow(reportRows[0], Plain); !errors.Is(err, ErrReportClosed) {
				t.Errorf("WriteRow after Abort: %v", err)
			}
		})
	}
}

func TestReportAddSheetNames(t *testing.T) {
	t.Parallel()
	w, err := CreateReport(filepath.Join(t.TempDir(), "out.xlsx"), XLSX, reportHeader)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.AddSheet("Summary", nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "summary", "results", "a/b", "[x]", "a name longer than thirty-one chars"} {
		if err := w.AddSheet(name, nil); err == nil {
			t.Errorf("AddSheet(%q) accepted", name)
		}
	}
}

func TestCreateReportBadFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := CreateReport(filepath.Join(dir, "x.ods"), Format("ods"), nil); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("err %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("folder holds %d files", len(entries))
	}
}
