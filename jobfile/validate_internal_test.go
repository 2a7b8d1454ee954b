package jobfile

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/internal/compare"
)

const benchRows = 1_000_000

func benchDevicesCSV(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "devices.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"esn", "action", "group_name"})
	for i := range benchRows {
		w.Write([]string{fmt.Sprintf("ESN%010d", i), "register", "OPERATOR1"})
	}
	w.Flush()
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchDevicesXLSX(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "devices.xlsx")
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"esn", "action", "group_name"})
	for i := range benchRows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprintf("ESN%010d", i), "register", "OPERATOR1"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := x.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchValidate reads and validates every row of path, as a run's first pass does.
func benchValidate(b *testing.B, path string) {
	for b.Loop() {
		j, err := Open(path, "", formats.Options{}, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := j.Scan(0, func(r *Row) error {
			if r.Err != nil {
				return fmt.Errorf("row %d: %v", r.Rec.Row, r.Err)
			}
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != benchRows {
			b.Fatalf("%d rows, want %d", n, benchRows)
		}
	}
}

// benchBareCSV reads path with encoding/csv alone, reusing its records.
func benchBareCSV(b *testing.B, path string) {
	for b.Loop() {
		if n, err := compare.EncodingCSV(path); err != nil || n != benchRows+1 {
			b.Fatalf("%d records, %v", n, err)
		}
	}
}

// benchExcelizeRows reads path with excelize's streaming Rows.
func benchExcelizeRows(b *testing.B, path string) {
	for b.Loop() {
		if n, err := compare.ExcelizeRows(path, "Sheet1"); err != nil || n != benchRows+1 {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
}

// BenchmarkReadValidate1M compares, on the same files of a million device
// rows, crmbatch's pass 1 (read and validate every row) with a bare
// encoding/csv read of the CSV and with excelize's streaming read of the XLSX
// (which only reads):
//
//	go test -run '^$' -bench ReadValidate1M -benchtime 5x ./jobfile
//
// The README quotes the ratios: validate-csv ÷ bare-encoding-csv (goal: at
// most 3) and excelize-rows ÷ validate-xlsx (goal: at least 5).
func BenchmarkReadValidate1M(b *testing.B) {
	csvPath, xlsxPath := benchDevicesCSV(b), benchDevicesXLSX(b)
	for _, bc := range []struct {
		name  string
		path  string
		bench func(*testing.B, string)
	}{
		{"bare-encoding-csv", csvPath, benchBareCSV},
		{"validate-csv", csvPath, benchValidate},
		{"excelize-rows", xlsxPath, benchExcelizeRows},
		{"validate-xlsx", xlsxPath, benchValidate},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			bc.bench(b, bc.path)
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
