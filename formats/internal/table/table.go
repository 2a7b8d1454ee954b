// Package table is what a job file is read as, whatever its format: a
// header and records of cells, each with how it was stored and where it
// is, and the *InputError that names file, sheet, row and column when the
// file cannot be trusted. The CSV reader (package formats) and the XLSX
// reader (package formats/xlsx) both give back these types and apply the
// same header and row checks, so a job reads one file format like the
// other; formats re-exports the types under their usual names. The kinds a
// report gives its cells (Integer, Heading, AmountKind) are here too, shared
// by formats and its XLSX report writer (formats/xlsxreport).
package table

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
	DefaultMaxCellChars       = 32767
	DefaultMaxColumns         = 1024
	DefaultMaxXLSXBytes int64 = 1 << 30
)

// WithDefaults returns o with every zero limit set to its default.
func (o Options) WithDefaults() Options {
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

// NormalizeHeader returns s trimmed, without a byte order mark and in lower
// case, for matching header names case-insensitively.
func NormalizeHeader(s string) string {
	return strings.ToLower(CleanHeader(s))
}

// CleanHeader trims s and strips byte order marks.
func CleanHeader(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasPrefix(s, "\ufeff") {
		s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	}
	return s
}

// IsBlank reports whether a cell holds nothing but white space.
func IsBlank(s string) bool {
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

// BuildHeader validates the raw header cells and returns the cleaned
// header. loc makes an error located at the header row.
func BuildHeader(cells []string, maxColumns, maxCell int, loc func(column string, err error) error) ([]string, error) {
	width := 0
	for i, c := range cells {
		if !IsBlank(c) {
			width = i + 1
		}
	}
	if width > maxColumns {
		return nil, loc("", Because(ErrRowTooWide, "header has %d columns, more than the limit of %d", width, maxColumns))
	}
	header := make([]string, width)
	seen := make(map[string]int, width)
	for i := range header {
		if LongerThan(cells[i], maxCell) {
			return nil, loc(ColumnLetters(i), Because(ErrTooLarge, "header cell longer than %d characters", maxCell))
		}
		h := CleanHeader(cells[i])
		header[i] = h
		if h == "" {
			continue
		}
		n := NormalizeHeader(h)
		if j, ok := seen[n]; ok {
			return nil, loc(h, BecauseFix(ErrDuplicateHeader, "rename one of them", "duplicate column name (columns %s and %s)",
				ColumnLetters(j), ColumnLetters(i)))
		}
		seen[n] = i
	}
	return header, nil
}

// CheckRecord applies the checks every data row gets: values only under
// named columns. cells may be longer than header; the extra cells must be
// blank. A cell's length is no error of the file (see longCells).
func CheckRecord(header, cells []string, loc func(column string, err error) error) error {
	for i, c := range cells {
		if i >= len(header) {
			if !IsBlank(c) {
				return loc("", Because(ErrRowTooWide, "value in column %s (%d) but the header has only %d columns",
					ColumnLetters(i), i+1, len(header)))
			}
			continue
		}
		if header[i] == "" && !IsBlank(c) {
			return loc("", BecauseFix(ErrUnnamedColumn, "add a header or delete the column", "value in column %s, which has no header name",
				ColumnLetters(i)))
		}
	}
	return nil
}

// LongerThan reports whether s has more than n characters as Excel counts
// them: UTF-16 code units. A string of n bytes has at most n of them, so
// the common short cell is not counted.
func LongerThan(s string, n int) bool {
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

// ColumnName is the header text of column i, or its letters when unnamed.
func ColumnName(header []string, i int) string {
	if i < len(header) && header[i] != "" {
		return header[i]
	}
	return ColumnLetters(i)
}

// BlankRow reports whether every cell is blank.
func BlankRow(cells []string) bool {
	for _, c := range cells {
		if !IsBlank(c) {
			return false
		}
	}
	return true
}

// AnyLongerThan reports whether a cell has more than n characters.
func AnyLongerThan(cells []string, n int) bool {
	for _, c := range cells {
		if LongerThan(c, n) {
			return true
		}
	}
	return false
}

// LongCells appends to problems the cells longer than max characters: such
// a cell is copied to the reports, but a job that reads its column should
// not take it.
func LongCells(problems []CellProblem, cells []string, row, max int) []CellProblem {
	for i, c := range cells {
		if LongerThan(c, max) {
			problems = append(problems, CellProblem{Column: i, Cell: CellName(i, row),
				Reason: fmt.Sprintf("is longer than %d characters", max),
				Hint:   fmt.Sprintf("shorten it (Excel keeps at most %d characters in a cell)", max)})
		}
	}
	return problems
}

// CellName is the A1 name of the 0-based column col in row: "B3".
func CellName(col, row int) string { return ColumnLetters(col) + strconv.Itoa(row) }
