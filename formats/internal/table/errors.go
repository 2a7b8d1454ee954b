package table

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors, for errors.Is. Every error the readers return for bad input
// is an *InputError wrapping one of these.
var (
	// ErrUnsupportedFormat: the file name has an extension that is neither CSV nor XLSX.
	ErrUnsupportedFormat = errors.New("unsupported file format")
	// ErrEmptyFile: the file holds nothing but blank lines.
	ErrEmptyFile = errors.New("file is empty")
	// ErrNoHeader: no row of the file or sheet has a non-blank cell.
	ErrNoHeader = errors.New("no header row")
	// ErrDuplicateHeader: two header cells are the same name after NormalizeHeader.
	ErrDuplicateHeader = errors.New("duplicate column name")
	// ErrUnnamedColumn: a data row has a value under a header cell that is blank.
	ErrUnnamedColumn = errors.New("value in a column with no header")
	// ErrEncoding: text that is neither valid UTF-8 nor Windows-1252.
	ErrEncoding = errors.New("invalid text encoding")
	// ErrMalformed: content that breaks the format's syntax (a CSV quote, a
	// non-numeric value in a numeric XLSX cell, out-of-order cells).
	ErrMalformed = errors.New("malformed file")
	// ErrTruncated: the XLSX container or sheet XML is broken or ends early.
	ErrTruncated = errors.New("file is truncated or damaged")
	// ErrTooLarge: a cell, record or zip member is over its limit.
	ErrTooLarge = errors.New("too large")
	// ErrRowTooWide: a row has values in more columns than the header has,
	// or the header has more columns than Options.MaxColumns.
	ErrRowTooWide = errors.New("row has more cells than the header")
	// ErrSheetNotFound: the sheet asked for is not in the workbook.
	ErrSheetNotFound = errors.New("sheet not found")
	// ErrEncrypted: the file is an OLE container (password-protected workbook or legacy .xls).
	ErrEncrypted = errors.New("workbook is encrypted")
	// ErrCellError: a header cell holds a spreadsheet error (#N/A, #REF!, ...)
	// or a formula whose result was never calculated. In a data row such a
	// cell is Unusable, one of the record's Problems, not an error of the file.
	ErrCellError = errors.New("cell holds no usable value")
)

// InputError is a problem with an input file, with as much of its location as
// is known: file, sheet (XLSX only), row number as a spreadsheet shows it, and
// the column's header text. Parts that are unknown are zero and left out of
// the message.
type InputError struct {
	File   string
	Sheet  string
	Row    int
	Column string
	Err    error
}

// Error formats the location and the cause, for example
// `jobs.xlsx: sheet "Charges": row 14, column "esn": cell longer than 32767 characters`.
func (e *InputError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Sheet != "" {
		b.WriteString("sheet ")
		b.WriteString(strconv.Quote(e.Sheet))
		b.WriteString(": ")
	}
	switch {
	case e.Row > 0 && e.Column != "":
		fmt.Fprintf(&b, "row %d, column %q: ", e.Row, e.Column)
	case e.Row > 0:
		fmt.Fprintf(&b, "row %d: ", e.Row)
	case e.Column != "":
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is finds the sentinel.
func (e *InputError) Unwrap() error { return e.Err }

// reason is a precise message that still matches its sentinel with errors.Is.
type reason struct {
	msg  string
	kind error
	hint string
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }
func (r *reason) Hint() string  { return r.hint }

// Because returns an error whose text is the formatted message and which
// errors.Is matches against kind.
func Because(kind error, format string, args ...any) error {
	return &reason{msg: fmt.Sprintf(format, args...), kind: kind}
}

// BecauseFix is Because with what to do about it: the error's hint.
func BecauseFix(kind error, fix, format string, args ...any) error {
	return &reason{msg: fmt.Sprintf(format, args...), kind: kind, hint: fix}
}

// ColumnLetters returns the spreadsheet name of the 0-based column i: A, B, ..., Z, AA.
func ColumnLetters(i int) string {
	var buf [8]byte
	n := len(buf)
	for i++; i > 0; i = (i - 1) / 26 {
		n--
		buf[n] = byte('A' + (i-1)%26)
	}
	return string(buf[n:])
}
