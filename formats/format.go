package formats

import (
	"io"
	"path/filepath"
	"strings"

	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/crmbatch/crmbatch/formats/xlsx"
)

// Format is a job or report file format.
type Format string

// The formats crmbatch reads and writes.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// FormatOf tells the format of path from its extension: .csv, .txt and .tsv
// are CSV (the delimiter is sniffed), .xlsx and .xlsm are XLSX.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt", ".tsv":
		return CSV, nil
	case ".xlsx", ".xlsm":
		return XLSX, nil
	case ".xls":
		return "", &InputError{File: path, Err: becauseFix(ErrUnsupportedFormat, "open it in Excel and save it as .xlsx",
			"legacy .xls workbooks are not supported")}
	}
	return "", &InputError{File: path, Err: becauseFix(ErrUnsupportedFormat, "use a .csv or .xlsx file",
		"unsupported file extension %q", filepath.Ext(path))}
}

// CellKind says how a cell was stored in the file.
type CellKind = table.CellKind

// Cell kinds. CSV cells are Text or Empty.
const (
	Text   = table.Text
	Number = table.Number
	Date   = table.Date
	Bool   = table.Bool
	Empty  = table.Empty
	// Unusable cells show nothing crmbatch can take as the user's value: an
	// error (#N/A), a formula whose result was never calculated, a number
	// shown through a format crmbatch does not apply. Record.Problems says
	// which and why; the field holds what the file stored ("#N/A", "").
	Unusable = table.Unusable
)

// Record is one non-blank data row with its provenance: sheet, row number,
// the cells' texts aligned with the header, how each was stored, and the
// cells a job cannot take as they are.
type Record = table.Record

// CellProblem is a cell of a record that holds no value crmbatch can use
// as it is: an Unusable cell, or one longer than Options.MaxCellChars.
type CellProblem = table.CellProblem

// Options tune the readers. The zero value gives the defaults.
type Options = table.Options

// Defaults for Options.
const (
	DefaultMaxCellChars       = table.DefaultMaxCellChars
	DefaultMaxColumns         = table.DefaultMaxColumns
	DefaultMaxXLSXBytes int64 = table.DefaultMaxXLSXBytes
)

// NormalizeHeader returns s trimmed, without a byte order mark and in lower
// case, for matching header names case-insensitively.
func NormalizeHeader(s string) string { return table.NormalizeHeader(s) }

// SheetNames returns the names of an XLSX workbook's worksheets, in order,
// reading only the workbook's parts, not its sheets or shared strings: what a
// shell completes --sheet with. password opens a password-protected workbook.
func SheetNames(path, password string) ([]string, error) { return xlsx.SheetNames(path, password) }

// Reader streams the records of a CSV file or an XLSX sheet.
//
// After Next returns an error other than io.EOF the reader is spent: every
// later call returns the same error.
type Reader interface {
	// Header returns the header texts (trimmed, BOM stripped) in file order.
	// Trailing blank header cells are dropped.
	Header() []string
	// HeaderAt says where the header was read: the XLSX sheet ("" for CSV)
	// and the row number a spreadsheet shows for it.
	HeaderAt() (sheet string, row int)
	// Sheets are the names of the workbook's worksheets, in order (nil for
	// CSV), so that a caller can say which other sheet holds the job.
	Sheets() []string
	// Next returns the next non-blank record, or io.EOF at the end.
	Next() (Record, error)
	// Close releases the file.
	Close() error
}

// Open opens a job file for reading, choosing the reader by FormatOf. Errors
// name path as given.
func Open(path string, opts Options) (Reader, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if f == XLSX {
		x, err := xlsx.Open(path, opts)
		if err != nil {
			return nil, err
		}
		return x, nil
	}
	return openCSV(path, opts)
}

// OpenAt opens a job file's content, size bytes read from ra, choosing the
// reader by FormatOf(name); errors name name, and Close does not close ra. A
// caller that must read exactly the bytes it checked (a file held open and
// verified as it is read) reads it this way.
func OpenAt(ra io.ReaderAt, size int64, name string, opts Options) (Reader, error) {
	f, err := FormatOf(name)
	if err != nil {
		return nil, err
	}
	if f == XLSX {
		x, err := xlsx.OpenAt(ra, size, name, opts)
		if err != nil {
			return nil, err
		}
		return x, nil
	}
	r, err := newCSVReader(io.NewSectionReader(ra, 0, size), name, opts, nil)
	if err != nil {
		return nil, err
	}
	return r, nil
}
