package formats

import "github.com/crmbatch/crmbatch/formats/internal/table"

// Sentinel errors, for errors.Is. Every error the readers return for bad
// input is an *InputError wrapping one of these; the CSV and XLSX readers
// share them (formats/internal/table), so they are the same values here.
var (
	// ErrUnsupportedFormat: the file name has an extension that is neither CSV nor XLSX.
	ErrUnsupportedFormat = table.ErrUnsupportedFormat
	// ErrEmptyFile: the file holds nothing but blank lines.
	ErrEmptyFile = table.ErrEmptyFile
	// ErrNoHeader: no row of the file or sheet has a non-blank cell.
	ErrNoHeader = table.ErrNoHeader
	// ErrDuplicateHeader: two header cells are the same name after NormalizeHeader.
	ErrDuplicateHeader = table.ErrDuplicateHeader
	// ErrUnnamedColumn: a data row has a value under a header cell that is blank.
	ErrUnnamedColumn = table.ErrUnnamedColumn
	// ErrEncoding: text that is neither valid UTF-8 nor Windows-1252.
	ErrEncoding = table.ErrEncoding
	// ErrMalformed: content that breaks the format's syntax (a CSV quote, a
	// non-numeric value in a numeric XLSX cell, out-of-order cells).
	ErrMalformed = table.ErrMalformed
	// ErrTruncated: the XLSX container or sheet XML is broken or ends early.
	ErrTruncated = table.ErrTruncated
	// ErrTooLarge: a cell, record or zip member is over its limit.
	ErrTooLarge = table.ErrTooLarge
	// ErrRowTooWide: a row has values in more columns than the header has,
	// or the header has more columns than Options.MaxColumns.
	ErrRowTooWide = table.ErrRowTooWide
	// ErrSheetNotFound: the sheet asked for is not in the workbook.
	ErrSheetNotFound = table.ErrSheetNotFound
	// ErrEncrypted: the file is an OLE container (password-protected workbook or legacy .xls).
	ErrEncrypted = table.ErrEncrypted
	// ErrCellError: a header cell holds a spreadsheet error (#N/A, #REF!, ...)
	// or a formula whose result was never calculated. In a data row such a
	// cell is Unusable, one of the record's Problems, not an error of the file.
	ErrCellError = table.ErrCellError
)

// InputError is a problem with an input file, with as much of its location
// as is known: file, sheet (XLSX only), row number as a spreadsheet shows it,
// and the column's header text.
type InputError = table.InputError

// because returns an error whose text is the formatted message and which
// errors.Is matches against kind.
func because(kind error, format string, args ...any) error {
	return table.Because(kind, format, args...)
}

// becauseFix is because with what to do about it: the error's hint.
func becauseFix(kind error, fix, format string, args ...any) error {
	return table.BecauseFix(kind, fix, format, args...)
}

// columnLetters returns the spreadsheet name of the 0-based column i: A, B, ..., Z, AA.
func columnLetters(i int) string { return table.ColumnLetters(i) }

// isBlank reports whether a cell holds nothing but white space.
func isBlank(s string) bool { return table.IsBlank(s) }
