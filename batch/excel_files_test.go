package batch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestLineEndsEveryKind runs the CSV sample of every kind with LF, CRLF and
// CR line ends (Excel for Mac's "CSV (Macintosh)"): every row is read and
// sent, as many as the LF file has.
func TestLineEndsEveryKind(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"devices", "charges", "subscriptions", "installed-items"} {
		data, err := os.ReadFile(filepath.Join("..", "samples", kind+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		lf := strings.ReplaceAll(string(data), "\r\n", "\n")
		for _, ends := range []struct{ name, eol string }{{"lf", "\n"}, {"crlf", "\r\n"}, {"cr", "\r"}} {
			t.Run(kind+" "+ends.name, func(t *testing.T) {
				t.Parallel()
				sb, api := startSandbox(t, sandbox.Options{})
				path := filepath.Join(t.TempDir(), kind+".csv")
				if err := os.WriteFile(path, []byte(strings.ReplaceAll(lf, "\n", ends.eol)), 0o600); err != nil {
					t.Fatal(err)
				}
				s, err := batch.Run(context.Background(), runConfig(t, path, api))
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				want := strings.Count(strings.TrimRight(lf, "\n"), "\n") // the rows but the header
				if s.Rows != want || s.Counts[report.StatusOK] != want {
					t.Errorf("%d rows, %v; want %d ok", s.Rows, s.Counts, want)
				}
				if len(sb.Applied()) == 0 {
					t.Error("nothing applied")
				}
			})
		}
	}
}

// TestJobFilesAsExcelShowsThem validates job files written as Excel and
// the programs around it write them: each row planned or invalid as a person
// looking at the file in Excel would expect, and a file that cannot be
// read as Excel reads it refused (exit 2) with a message that names it once.
func TestJobFilesAsExcelShowsThem(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 40000)
	producers := filepath.Join("..", "formats", "testdata", "producers")
	for _, tc := range []struct {
		name   string
		file   string // a file of the producer corpus, or
		text   string // the text of a job file named name.csv
		ext    string
		format string
		// want: each row's status and a part of its message, in order; or err.
		want   [][2]string
		err    string
		report func(t *testing.T, results string) // checks the plan report
	}{
		{name: "sep hint", text: "sep=;\r\nesn;group_name\r\nESN-1;OPERATOR1\r\n", want: [][2]string{{"planned", ""}}},
		{name: "cr only", text: "esn,group_name\rESN-G-1,OPERATOR1\rESN-G-2,OPERATOR1\r", want: [][2]string{{"planned", ""}, {"planned", ""}}},
		{name: "excel quotes", text: "esn,group_name,comment\n=\"00012345678901234567\",OPERATOR1,24\" monitor\n", want: [][2]string{{"planned", ""}},
			report: func(t *testing.T, results string) {
				if !strings.Contains(results, "00012345678901234567,OPERATOR1,\"24\"\" monitor\"") {
					t.Errorf("plan: %q", results)
				}
			}},
		{name: "a long cell in a column the job does not read", text: "esn,group_name,note\nESN-1,OPERATOR1," + long + "\nESN-2,OPERATOR1,short\n",
			want: [][2]string{{"planned", ""}, {"planned", ""}},
			report: func(t *testing.T, results string) {
				if !strings.Contains(results, ","+long+",2,planned") {
					t.Error("the CSV plan does not hold the note whole")
				}
			}},
		{name: "a long cell cut in an XLSX report", text: "esn,group_name,note\nESN-1,OPERATOR1," + long + "\n", format: "xlsx",
			want: [][2]string{{"planned", ""}},
			report: func(t *testing.T, results string) {
				if !strings.Contains(results, strings.Repeat("x", 32767-27)+" [cut at 32,767 characters]") || strings.Contains(results, strings.Repeat("x", 32767-26)) {
					t.Error("the XLSX plan does not cut the note with its mark")
				}
			}},
		{name: "a long cell in a column the job reads", text: "esn,group_name\n" + long + ",OPERATOR1\nESN-2,OPERATOR1\n",
			want: [][2]string{{"invalid", "cell A2 is longer than 32767 characters"}, {"planned", ""}}},
		{name: "padded number IDs (ExcelJS)", file: "exceljs.xlsx",
			want: [][2]string{{"planned", ""}, {"planned", ""}, {"planned", ""}, {"planned", ""}, {"planned", ""}}},
		{name: "padded number IDs (write-excel-file)", file: "write-excel-file.xlsx",
			want: [][2]string{{"planned", ""}, {"planned", ""}, {"planned", ""}, {"planned", ""}, {"planned", ""}}},
		{name: "a padded ID openxlsx turned into a date", file: "r-openxlsx.xlsx",
			want: [][2]string{{"planned", ""}, {"planned", ""}, {"planned", ""}, {"invalid", `"1933-10-18" is a date cell`}}},
		{name: "a number shown as 3.5E+14 (SheetJS CSV)", file: "sheetjs.csv",
			want: [][2]string{{"planned", ""}, {"planned", ""}, {"planned", ""}, {"planned", ""}, {"invalid", `"3.5E+14" is in exponent notation`}}},
		{name: "a chart sheet first", file: "libreoffice-chartsheet.xlsx", want: [][2]string{{"planned", ""}, {"planned", ""}}},
		{name: "a header that swallowed the file", text: "\"esn,group_name\nESN-1,OPERATOR1\nESN-2,OPERATOR1\n",
			err: "a header that swallowed the file.csv: row 1, column \"A\": the quote that opens a cell on line 1 is never closed"},
		{name: "a quote that swallows rows", text: "esn,group_name,note\nESN-1,OPERATOR1,\"24\" monitor\nESN-2,OPERATOR1,x\n",
			err: "a quote that swallows rows.csv: row 2, column \"note\": a quote inside a quoted cell (line 2) is neither doubled"},
		{name: "mixed encodings", text: "esn,group_name\nE-1,Soci\xc3\xa9t\xc3\xa9\nE-2,Soci\xe9t\xe9\n",
			err: "mixed encodings.csv: row 3, column \"group_name\": invalid UTF-8, in a file whose earlier text is UTF-8: the file mixes encodings"},
		{name: "did you mean", text: "ESN Number,group_name\nESN-1,OPERATOR1\n",
			err: "did you mean.csv: row 1: the header fits no job kind; the nearest is a devices job, which needs the column esn (did you mean esn for \"ESN Number\"?)"},
		{name: "note", ext: ".docx", text: "x", err: "note.docx: unsupported file extension \".docx\""},
		{name: "image", text: "\x89PNG\r\n\x1a\n\x00\x00", err: "image.csv: this is a PNG image, not CSV text"},
		{name: "pdf", ext: ".xlsx", text: "%PDF-1.4\n", err: "pdf.xlsx: this is a PDF document, not an .xlsx workbook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(producers, tc.file)
			if tc.file == "" {
				ext := tc.ext
				if ext == "" {
					ext = ".csv"
				}
				path = filepath.Join(dir, tc.name+ext)
				if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := batch.Config{Path: path, OutDir: dir, Concurrency: 1, Attempts: 1, Rate: 10, Format: formats.Format(tc.format)}
			if tc.format == "" {
				cfg.Format = formats.CSV
			}
			s, err := batch.Validate(context.Background(), cfg)
			if tc.err != "" {
				var ie *formats.InputError
				var fe *fault.FileError
				if !errors.As(err, &ie) && !errors.As(err, &fe) {
					t.Fatalf("err %v (%T), want an input error (exit 2)", err, err)
				}
				msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
				if !strings.HasPrefix(msg, tc.err) {
					t.Errorf("err %q, want %q", msg, tc.err)
				}
				if strings.Count(msg, filepath.Base(path)) != 1 {
					t.Errorf("err %q names the file other than once", msg)
				}
				if s != nil {
					t.Errorf("a summary, whose plan paths were never written, for a refused file")
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			var rows []map[string]string
			if tc.format == "xlsx" {
				data := xlsxText(t, s.Reports.Results)
				if tc.report != nil {
					tc.report(t, data)
				}
				return
			}
			rows = readCSV(t, s.Reports.Results)
			if len(rows) != len(tc.want) {
				t.Fatalf("%d rows, want %d", len(rows), len(tc.want))
			}
			for i, w := range tc.want {
				if rows[i]["status"] != w[0] || !strings.Contains(rows[i]["error_message"], w[1]) {
					t.Errorf("row %s: %s %q, want %s %q", rows[i]["row"], rows[i]["status"], rows[i]["error_message"], w[0], w[1])
				}
			}
			if tc.report != nil {
				data, err := os.ReadFile(s.Reports.Results)
				if err != nil {
					t.Fatal(err)
				}
				tc.report(t, string(data))
			}
		})
	}
}

// xlsxText is the text of every cell of an XLSX report's first sheet, one
// cell a line.
func xlsxText(t *testing.T, path string) string {
	t.Helper()
	r, err := formats.Open(path, formats.Options{MaxCellChars: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b strings.Builder
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		for _, f := range rec.Fields {
			b.WriteString(f + "\n")
		}
	}
	return b.String()
}
