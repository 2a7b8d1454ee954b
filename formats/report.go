package formats

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/crmbatch/crmbatch/formats/xlsxreport"
	"github.com/crmbatch/crmbatch/internal/tempfile"
)

// RowStyle is how a report row is shown.
type RowStyle uint8

// Row styles. Tinted rows (failed or invalid) get a light red fill in XLSX.
const (
	Plain RowStyle = iota
	Tinted
)

// Kinds a report gives its cells, beyond those a reader finds in a file.
// In XLSX: an Integer cell holding a whole number is a number shown as it
// is (a row number, attempts); an amount kind (AmountKind) holding a plain
// decimal is a number shown with the currency's decimals and thousands
// separators; a Heading cell is bold text. A cell whose text is not such a
// number stays text, as written. CSV has no kinds.
const (
	Integer = table.Integer
	Heading = table.Heading
)

// AmountKind is the kind of an amount cell shown with decimals decimals (0
// to 4): 1,234 JPY, 1,234.56 USD, 1.234 BHD.
func AmountKind(decimals int) CellKind { return table.AmountKind(decimals) }

// ReportWriter writes a report to a temporary file and puts it in place only
// on Commit, so a reader never sees half a report.
type ReportWriter interface {
	// WriteRow appends a row; fields are aligned with the header.
	WriteRow(fields []string, style RowStyle) error
	// WriteCells is WriteRow with a kind for each cell (aligned with
	// fields; nil = none): in XLSX a Date cell holding an ISO date is written
	// as a real date, Integer and amount kinds (AmountKind) as numbers. A
	// Number cell stays text, so an ID typed as a number keeps its digits.
	// CSV has no kinds.
	WriteCells(fields []string, kinds []CellKind, style RowStyle) error
	// AddSheet adds a simple sheet (for example "Summary") whose first row is
	// bold. XLSX only; a no-op for CSV.
	AddSheet(name string, rows [][]string) error
	// AddTypedSheet is AddSheet with a kind per cell (kinds aligned with
	// rows; nil = all text): Number, Integer and amount cells holding a plain
	// number are number cells, so that a spreadsheet sums them; Heading
	// cells are bold.
	AddTypedSheet(name string, rows [][]string, kinds [][]CellKind) error
	// Commit flushes, syncs and renames the file into place, with the mode
	// the umask gives (0600 for a password-protected workbook's).
	Commit() error
	// Abort removes the temporary file. After Commit it does nothing, so it
	// can be deferred.
	Abort() error
}

// ErrReportClosed is returned by a ReportWriter used after Commit or Abort.
var ErrReportClosed = errors.New("report already committed or aborted")

// NeutraliseFormula prefixes an apostrophe to a cell that a spreadsheet would
// run as a formula: one starting with = + - @ tab or CR (OWASP CSV
// injection). A cell that already starts with apostrophes followed by one of
// those gets one more, so that the CSV reader, which drops one such
// apostrophe, gives back exactly the original.
func NeutraliseFormula(s string) string {
	if neutralised(s) {
		return "'" + s
	}
	return s
}

// CreateReport starts a report at path with the header row. The file is
// written as a temporary file in the same folder.
//
// CSV reports are UTF-8 without a byte order mark, comma-separated, LF line
// ends, every cell passed through NeutraliseFormula. XLSX reports have one
// sheet, "Results", with a bold frozen header row and an autofilter; every
// cell is a text cell, so IDs stay as typed and nothing is a formula. The
// columns are as wide as the texts of the first rows; printed, the sheet is
// landscape, one page wide, with the header row on every page.
func CreateReport(path string, f Format, header []string) (ReportWriter, error) {
	return CreateTypedReport(path, f, header, nil)
}

// CreateTypedReport is CreateReport with a kind per column: in XLSX, the cells
// of Number columns are numbers shown with two decimals and those of Date
// columns (YYYY-MM-DDTHH:MM:SS) real dates, so that a spreadsheet sums and
// sorts them; every other cell stays text. CSV has no types: kinds change nothing.
func CreateTypedReport(path string, f Format, header []string, kinds []CellKind) (ReportWriter, error) {
	return CreateReportWith(path, f, header, ReportOptions{Kinds: kinds})
}

// ReportOptions tune a report.
type ReportOptions struct {
	// Kinds type the columns of an XLSX report, as in CreateTypedReport.
	Kinds []CellKind
	// Wrap marks the columns (by index) whose long texts wrap in a wide
	// column of an XLSX report, such as an error message.
	Wrap []bool
	// PageOne, when positive, is how many leading columns of an XLSX report
	// are printed on the first pages: as wide as they are, at a scale that
	// keeps its 11-point text at 9 points or more on A4 or Letter
	// landscape (a wrapped column narrows to fit), the other columns on the
	// pages after them. 0: the sheet prints one page wide.
	PageOne int
	// Titles is how many leading columns are printed on every page, with
	// the header row: those that name a row.
	Titles int
	// Password encrypts an XLSX report, as Excel does a password-protected
	// workbook: the reports of a password-protected job file are protected
	// with its password. A CSV report cannot be encrypted and is refused.
	Password string
}

// ErrReportNotEncryptable: a CSV report was asked for with a password.
var ErrReportNotEncryptable = errors.New("a CSV report cannot be password-protected")

// CreateReportWith is CreateReport with options.
func CreateReportWith(path string, f Format, header []string, opts ReportOptions) (ReportWriter, error) {
	if opts.Password != "" && f != XLSX {
		return nil, fault.WithHint(fmt.Errorf("report %s: %w", path, ErrReportNotEncryptable),
			"the job file is password-protected, so its reports are too: ask for XLSX reports (--format xlsx)")
	}
	// The umask decides who may read a report, as for any file; the reports
	// of a password-protected workbook are the owner's alone.
	perm := os.FileMode(0o666)
	if opts.Password != "" {
		perm = 0o600
	}
	tmp, err := tempfile.Create(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp", perm)
	if err != nil {
		return nil, err
	}
	var w ReportWriter
	switch f {
	case CSV:
		w, err = newCSVReport(path, tmp, header)
	case XLSX:
		w, err = newXLSXReport(path, tmp, header, opts)
	default:
		err = fmt.Errorf("report %s: %w %q", path, ErrUnsupportedFormat, f)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return w, nil
}

// commitFile syncs tmp, closes it and renames it to path.
func commitFile(tmp *os.File, path string) error {
	err := tmp.Sync()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync() // make the rename durable; not all systems support it
		dir.Close()
	}
	return nil
}

type csvReport struct {
	path string
	tmp  *os.File
	buf  *bufio.Writer
	w    *csv.Writer
	row  []string
	done bool
}

func newCSVReport(path string, tmp *os.File, header []string) (*csvReport, error) {
	r := &csvReport{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 64<<10)}
	r.w = csv.NewWriter(r.buf)
	if err := r.WriteRow(header, Plain); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *csvReport) WriteCells(fields []string, _ []CellKind, style RowStyle) error {
	return r.WriteRow(fields, style)
}

func (r *csvReport) WriteRow(fields []string, _ RowStyle) error {
	if r.done {
		return ErrReportClosed
	}
	r.row = r.row[:0]
	for _, f := range fields {
		// Whole, however long: a CSV cell has no limit, and the report is
		// what the job file held (an XLSX report must cut).
		if neutralised(f) {
			f = "'" + f
		}
		r.row = append(r.row, f)
	}
	return r.w.Write(r.row)
}

func (r *csvReport) AddSheet(string, [][]string) error { return nil }

func (r *csvReport) AddTypedSheet(string, [][]string, [][]CellKind) error { return nil }

func (r *csvReport) Commit() error {
	if r.done {
		return ErrReportClosed
	}
	r.done = true
	r.w.Flush()
	err := r.w.Error()
	if err == nil {
		err = r.buf.Flush()
	}
	if err != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		return fmt.Errorf("write report %s: %w", r.path, err)
	}
	return commitFile(r.tmp, r.path)
}

func (r *csvReport) Abort() error {
	if r.done {
		return nil
	}
	r.done = true
	r.tmp.Close()
	return os.Remove(r.tmp.Name())
}

// xlsxReport is an XLSX report: formats/xlsxreport writes the workbook into
// the temporary file as rows come; Commit encrypts it when a password is set
// and puts it in place.
type xlsxReport struct {
	path string
	tmp  *os.File
	w    *xlsxreport.Writer
	done bool
	// password, when set, encrypts the finished file (never logged).
	password string
}

func newXLSXReport(path string, tmp *os.File, header []string, opts ReportOptions) (*xlsxReport, error) {
	w, err := xlsxreport.New(tmp, header, xlsxreport.Options{
		Kinds: opts.Kinds, Wrap: opts.Wrap, PageOne: opts.PageOne, Titles: opts.Titles})
	if err != nil {
		return nil, fmt.Errorf("create report %s: %w", path, err)
	}
	return &xlsxReport{path: path, tmp: tmp, w: w, password: opts.Password}, nil
}

func (r *xlsxReport) WriteRow(fields []string, style RowStyle) error {
	return r.WriteCells(fields, nil, style)
}

func (r *xlsxReport) WriteCells(fields []string, kinds []CellKind, style RowStyle) error {
	if r.done {
		return ErrReportClosed
	}
	if err := r.w.WriteRow(fields, kinds, style == Tinted); err != nil {
		return fmt.Errorf("write report %s: %w", r.path, err)
	}
	return nil
}

func (r *xlsxReport) AddSheet(name string, rows [][]string) error {
	return r.AddTypedSheet(name, rows, nil)
}

func (r *xlsxReport) AddTypedSheet(name string, rows [][]string, kinds [][]CellKind) error {
	if r.done {
		return ErrReportClosed
	}
	return r.w.AddSheet(name, rows, kinds)
}

func (r *xlsxReport) Commit() error {
	if r.done {
		return ErrReportClosed
	}
	r.done = true
	err := r.w.Close()
	if err == nil && r.password != "" {
		err = encryptFile(r.tmp, r.password)
	}
	if err != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		return fmt.Errorf("write report %s: %w", r.path, err)
	}
	return commitFile(r.tmp, r.path)
}

func (r *xlsxReport) Abort() error {
	if r.done {
		return nil
	}
	r.done = true
	r.tmp.Close()
	return os.Remove(r.tmp.Name())
}
