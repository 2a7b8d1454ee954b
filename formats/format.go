package formats

import (
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"
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
		return "", &InputError{File: path, Err: because(ErrUnsupportedFormat,
			"legacy .xls workbooks are not supported\nhint: open it in Excel and save it as .xlsx")}
	}
	return "", &InputError{File: path, Err: because(ErrUnsupportedFormat,
		"unsupported file extension %q\nhint: use a .csv or .xlsx file", filepath.Ext(path))}
}

// CellKind says how a cell was stored in the file.
type CellKind uint8

// Cell kinds. CSV cells are Text or Empty.
const (
	Text CellKind = iota
	Number
	Date
	Bool
	Empty
	// Unusable cells show nothing crmbatch can take as the user's value: an
	// error (#N/A), a formula whose result was never calculated, a number
	// shown through a format crmbatch does not apply. Record.Problems says
	// which and why; the field holds what the file stored ("#N/A", "").
	Unusable
)

// String returns the kind's lower-case name.
func (k CellKind) String() string {
	switch k {
	case Text:
		return "text"
	case Number:
		return "number"
	case Date:
		return "date"
	case Bool:
		return "bool"
	case Empty:
		return "empty"
	case Unusable:
		return "unusable"
	}
	return "unknown"
}

// Record is one non-blank data row with its provenance.
type Record struct {
	// Sheet is the XLSX sheet name; "" for CSV.
	Sheet string
	// Row is the row number a spreadsheet shows for this record: the header is
	// usually row 1. For XLSX it is the sheet's own row number. For CSV it is the
	// record's ordinal counting blank lines but not the line breaks inside quoted
	// fields, which is what Excel shows when it opens the file; it equals the
	// text editor's line number unless an earlier record spans several lines.
	Row int
	// Fields are the cells' texts, aligned with Header(), padded with "".
	Fields []string
	// Kinds are aligned with Fields: how each cell was stored.
	Kinds []CellKind
	// Problems are the cells a job cannot take as they are, in column
	// order: the Unusable cells, and cells longer than
	// Options.MaxCellChars (returned whole, as Text); nil when there are
	// none. They are not the file's fault as a whole: a job that reads such
	// a column should refuse the row, one that does not may ignore them.
	Problems []CellProblem
}

// CellProblem is a cell of a record that holds no value crmbatch can use
// as it is: an Unusable cell, or one longer than Options.MaxCellChars.
type CellProblem struct {
	Column int    // index in Record.Fields
	Cell   string // the cell's A1 name, "B3"
	Reason string // what is wrong: "holds the error #N/A"
	Hint   string // what to do about it
}

// String says where the problem is, what it is and what to do, on one line:
// "cell B3 holds the error #N/A: correct the formula or type the value in".
func (p CellProblem) String() string {
	return "cell " + p.Cell + " " + p.Reason + ": " + p.Hint
}

// Options tune the readers. The zero value gives the defaults.
type Options struct {
	// Sheet is the XLSX sheet to read; "" means the first visible worksheet.
	Sheet string
	// MaxCellChars is the longest cell a job may take, in characters as
	// Excel counts them (UTF-16 code units); default 32,767, Excel's own
	// limit. A longer data cell is returned whole with a CellProblem; a
	// longer header cell is an error.
	MaxCellChars int
	// MaxColumns limits the header's width; default 1024.
	MaxColumns int
	// MaxXLSXBytes limits the uncompressed size of any XLSX zip member, and
	// the size of a password-protected workbook, which is decrypted in
	// memory; default 1 GiB.
	MaxXLSXBytes int64
	// Password opens a password-protected XLSX. It never appears in an
	// error message.
	Password string
	// ReuseRecord lets Next reuse the Fields and Kinds slices of the Record
	// it returned before (their strings stay valid): for a reader that is
	// done with a record when it asks for the next.
	ReuseRecord bool
}

// Defaults for Options.
const (
	DefaultMaxCellChars       = maxCellChars
	DefaultMaxColumns         = 1024
	DefaultMaxXLSXBytes int64 = 1 << 30
)

func (o Options) withDefaults() Options {
	if o.MaxCellChars <= 0 {
		o.MaxCellChars = DefaultMaxCellChars
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	if o.MaxXLSXBytes <= 0 {
		o.MaxXLSXBytes = DefaultMaxXLSXBytes
	}
	return o
}

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
		return openXLSX(path, opts)
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
		x, err := newXLSXReader(ra, size, name, opts, nil)
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

// NormalizeHeader returns s trimmed, without a byte order mark and in lower
// case, for matching header names case-insensitively.
func NormalizeHeader(s string) string {
	return strings.ToLower(cleanHeader(s))
}

// cleanHeader trims s and strips byte order marks.
func cleanHeader(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasPrefix(s, "\ufeff") {
		s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	}
	return s
}

// isBlank reports whether a cell holds nothing but white space.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n', '\v', '\f':
		default:
			if s[i] < utf8.RuneSelf {
				return false
			}
			return strings.TrimSpace(s[i:]) == ""
		}
	}
	return true
}

// header validates the raw header cells of row and returns the cleaned
// header. loc makes an error located at the header row.
func buildHeader(cells []string, maxColumns, maxCell int, loc func(column string, err error) error) ([]string, error) {
	width := 0
	for i, c := range cells {
		if !isBlank(c) {
			width = i + 1
		}
	}
	if width > maxColumns {
		return nil, loc("", because(ErrRowTooWide, "header has %d columns, more than the limit of %d", width, maxColumns))
	}
	header := make([]string, width)
	seen := make(map[string]int, width)
	for i := range header {
		if longerThan(cells[i], maxCell) {
			return nil, loc(columnLetters(i), because(ErrTooLarge, "header cell longer than %d characters", maxCell))
		}
		h := cleanHeader(cells[i])
		header[i] = h
		if h == "" {
			continue
		}
		n := NormalizeHeader(h)
		if j, ok := seen[n]; ok {
			return nil, loc(h, because(ErrDuplicateHeader, "duplicate column name (columns %s and %s)\nhint: rename one of them",
				columnLetters(j), columnLetters(i)))
		}
		seen[n] = i
	}
	return header, nil
}

// checkRecord applies the checks every data row gets: values only under
// named columns. cells may be longer than header; the extra cells must be
// blank. A cell's length is no error of the file (see longCells).
func checkRecord(header, cells []string, loc func(column string, err error) error) error {
	for i, c := range cells {
		if i >= len(header) {
			if !isBlank(c) {
				return loc("", because(ErrRowTooWide, "value in column %s (%d) but the header has only %d columns",
					columnLetters(i), i+1, len(header)))
			}
			continue
		}
		if header[i] == "" && !isBlank(c) {
			return loc("", because(ErrUnnamedColumn, "value in column %s, which has no header name\nhint: add a header or delete the column",
				columnLetters(i)))
		}
	}
	return nil
}

// longerThan reports whether s has more than n characters as Excel counts
// them: UTF-16 code units. A string of n bytes has at most n of them, so
// the common short cell is not counted.
func longerThan(s string, n int) bool {
	if len(s) <= n {
		return false
	}
	units := 0
	for _, r := range s {
		units++
		if r >= 0x10000 {
			units++
		}
		if units > n {
			return true
		}
	}
	return false
}

// columnName is the header text of column i, or its letters when unnamed.
func columnName(header []string, i int) string {
	if i < len(header) && header[i] != "" {
		return header[i]
	}
	return columnLetters(i)
}

// blankRow reports whether every cell is blank.
func blankRow(cells []string) bool {
	for _, c := range cells {
		if !isBlank(c) {
			return false
		}
	}
	return true
}

// anyLongerThan reports whether a cell has more than n characters.
func anyLongerThan(cells []string, n int) bool {
	for _, c := range cells {
		if longerThan(c, n) {
			return true
		}
	}
	return false
}
