// Package compare reads files the way other tools would, for the benchmarks
// that measure crmbatch's readers against them: encoding/csv alone, and
// excelize's streaming reader.
package compare

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"

	"github.com/xuri/excelize/v2"
)

// EncodingCSV reads every record of the CSV file at path with encoding/csv,
// reusing its records, and returns how many there were (the header included).
func EncodingCSV(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.ReuseRecord = true
	n := 0
	for {
		if _, err := r.Read(); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		n++
	}
}

// ExcelizeRows reads every row of a sheet of the workbook at path with
// excelize's streaming Rows (GetRows would hold the whole sheet), the cells'
// text only, and returns how many there were (the header included).
func ExcelizeRows(path, sheet string) (int, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows(sheet)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if _, err := rows.Columns(); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Error()
}
