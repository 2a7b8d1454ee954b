package formats

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/crmbatch/crmbatch/internal/compare"
	"github.com/xuri/excelize/v2"
)

const benchRows = 1_000_000

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchFiles writes, once per test binary, a CSV and an XLSX of benchRows rows
// × 3 columns: a 15-digit ESN (a number in XLSX), a unique customer name (a
// shared string in XLSX) and a date.
func benchFiles(b *testing.B) (csvPath, xlsxPath string) {
	b.Helper()
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "formats-bench-"); benchErr != nil {
			return
		}
		if benchErr = writeBenchCSV(filepath.Join(benchDir, "1m.csv")); benchErr != nil {
			return
		}
		benchErr = writeBenchXLSX(filepath.Join(benchDir, "1m.xlsx"))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "1m.csv"), filepath.Join(benchDir, "1m.xlsx")
}

func writeBenchCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "esn,customer_name,performed_on")
	for i := range benchRows {
		fmt.Fprintf(w, "%d,Customer %07d,2024-01-%02d\n", 350000000000000+i, i, 1+i%28)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func writeBenchXLSX(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	put := func(name string, fill func(w io.Writer)) {
		w, _ := zw.Create(name)
		bw := bufio.NewWriterSize(w, 1<<16)
		fill(bw)
		bw.Flush()
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	str := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	put("_rels/.rels", str(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+rel+`officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	put("xl/workbook.xml", str(`<workbook `+ns+`><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`))
	put("xl/_rels/workbook.xml.rels", str(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+rel+`worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="`+rel+`sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="`+rel+`styles" Target="styles.xml"/></Relationships>`))
	put("xl/styles.xml", str(`<styleSheet `+ns+`><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>`))
	put("xl/sharedStrings.xml", func(w io.Writer) {
		fmt.Fprintf(w, `<sst %s count="%d" uniqueCount="%d"><si><t>esn</t></si><si><t>customer_name</t></si><si><t>performed_on</t></si>`, ns, benchRows+3, benchRows+3)
		for i := range benchRows {
			fmt.Fprintf(w, `<si><t>Customer %07d</t></si>`, i)
		}
		io.WriteString(w, `</sst>`)
	})
	put("xl/worksheets/sheet1.xml", func(w io.Writer) {
		io.WriteString(w, `<worksheet `+ns+`><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>`)
		for i := range benchRows {
			r := i + 2
			fmt.Fprintf(w, `<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d" t="s"><v>%d</v></c><c r="C%d" s="1"><v>%d</v></c></row>`,
				r, r, 350000000000000+i, r, i+3, r, 45292+i%28)
		}
		io.WriteString(w, `</sheetData></worksheet>`)
	})
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func benchRead(b *testing.B, path string) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Open(path, Options{ReuseRecord: true})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != benchRows {
			b.Fatalf("%d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSVRead1M(b *testing.B) {
	csvPath, _ := benchFiles(b)
	benchRead(b, csvPath)
}

func BenchmarkXLSXRead1M(b *testing.B) {
	_, xlsxPath := benchFiles(b)
	benchRead(b, xlsxPath)
}

// BenchmarkBareEncodingCSV is encoding/csv alone on the same file, for comparison.
func BenchmarkBareEncodingCSV(b *testing.B) {
	csvPath, _ := benchFiles(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n, err := compare.EncodingCSV(csvPath); err != nil || n != benchRows+1 {
			b.Fatalf("%d records, %v", n, err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchReportHeader and benchReportRow are a results report row: the job's
// three columns and the five the tool adds.
var (
	benchReportHeader = []string{"esn", "action", "operator", "row", "status", "error_code", "error", "response_id"}
	benchReportRow    = []string{"350000000000000", "register", "OPERATOR1", "2", "failed", "E0012", "device is already registered", "9f86d081884c7d65"}
)

// BenchmarkXLSXReport1M writes an XLSX report of benchRows rows of 8 columns,
// every tenth row tinted, and a Summary sheet.
func BenchmarkXLSXReport1M(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "1m.results.xlsx")
	row := append([]string(nil), benchReportRow...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w, err := CreateReport(path, XLSX, benchReportHeader)
		if err != nil {
			b.Fatal(err)
		}
		for i := range benchRows {
			row[0] = strconv.Itoa(350000000000000 + i)
			row[3] = strconv.Itoa(i + 2)
			style := Plain
			if i%10 == 0 {
				style = Tinted
			}
			if err := w.WriteRow(row, style); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.AddSheet("Summary", [][]string{{"status", "rows"}, {"ok", "900000"}, {"failed", "100000"}}); err != nil {
			b.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if st, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(st.Size()), "file-bytes")
	}
}

// BenchmarkExcelizeRows1M reads the same XLSX with excelize's streaming Rows,
// for comparison with ours.
func BenchmarkExcelizeRows1M(b *testing.B) {
	_, xlsxPath := benchFiles(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n, err := compare.ExcelizeRows(xlsxPath, "Data"); err != nil || n != benchRows+1 {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkExcelizeReport1M writes BenchmarkXLSXReport1M's rows with
// excelize's StreamWriter, for comparison with ours.
func BenchmarkExcelizeReport1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "1m.results.xlsx")
	row := make([]any, len(benchReportRow))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f := excelize.NewFile()
		sw, err := f.NewStreamWriter("Sheet1")
		if err != nil {
			b.Fatal(err)
		}
		head := make([]any, len(benchReportHeader))
		for i, h := range benchReportHeader {
			head[i] = h
		}
		sw.SetRow("A1", head)
		for i := range benchRows {
			for j, c := range benchReportRow {
				row[j] = c
			}
			row[0] = strconv.Itoa(350000000000000 + i)
			row[3] = strconv.Itoa(i + 2)
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cell, row); err != nil {
				b.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.SaveAs(path); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
