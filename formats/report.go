package formats

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// RowStyle is how a report row is shown.
type RowStyle uint8

// Row styles. Tinted rows (failed or invalid) get a light red fill in XLSX.
const (
	Plain RowStyle = iota
	Tinted
)

// ReportWriter writes a report to a temporary file and puts it in place only
// on Commit, so a reader never sees half a report.
type ReportWriter interface {
	// WriteRow appends a row; fields are aligned with the header.
	WriteRow(fields []string, style RowStyle) error
	// AddSheet adds a simple sheet (for example "Summary") whose first row is
	// bold. XLSX only; a no-op for CSV.
	AddSheet(name string, rows [][]string) error
	// Commit flushes, syncs and renames the file into place, with mode 0600.
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
// cell is a text cell, so IDs stay as typed and nothing is a formula.
func CreateReport(path string, f Format, header []string) (ReportWriter, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	var w ReportWriter
	switch f {
	case CSV:
		w, err = newCSVReport(path, tmp, header)
	case XLSX:
		w, err = newXLSXReport(path, tmp, header)
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

func (r *csvReport) WriteRow(fields []string, _ RowStyle) error {
	if r.done {
		return ErrReportClosed
	}
	r.row = r.row[:0]
	for _, f := range fields {
		r.row = append(r.row, NeutraliseFormula(f))
	}
	return r.w.Write(r.row)
}

func (r *csvReport) AddSheet(string, [][]string) error { return nil }

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

// resultsSheet names the XLSX report's sheet.
const resultsSheet = "Results"

// Column widths of XLSX reports, in characters.
const (
	minColumnWidth = 10
	maxColumnWidth = 50
)

type extraSheet struct {
	name string
	rows [][]string
}

type xlsxReport struct {
	path   string
	tmp    *os.File
	f      *excelize.File
	sw     *excelize.StreamWriter
	plain  int
	tinted int
	bold   int
	row    int
	cells  []any
	extra  []extraSheet
	done   bool
}

func newXLSXReport(path string, tmp *os.File, header []string) (*xlsxReport, error) {
	f := excelize.NewFile()
	r := &xlsxReport{path: path, tmp: tmp, f: f}
	if err := r.setup(header); err != nil {
		f.Close()
		return nil, fmt.Errorf("create report %s: %w", path, err)
	}
	return r, nil
}

func (r *xlsxReport) setup(header []string) error {
	f := r.f
	if err := f.SetSheetName(f.GetSheetName(0), resultsSheet); err != nil {
		return err
	}
	var err error
	text := 49 // the built-in "@" format: the cell is text
	if r.plain, err = f.NewStyle(&excelize.Style{NumFmt: text}); err != nil {
		return err
	}
	if r.bold, err = f.NewStyle(&excelize.Style{NumFmt: text, Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if r.tinted, err = f.NewStyle(&excelize.Style{NumFmt: text,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}}); err != nil {
		return err
	}
	if len(header) > 0 {
		// Set before the stream writer takes the sheet, which then writes it out.
		last, _ := excelize.CoordinatesToCellName(len(header), 1)
		if err := f.AutoFilter(resultsSheet, "A1:"+last, nil); err != nil {
			return err
		}
	}
	if r.sw, err = f.NewStreamWriter(resultsSheet); err != nil {
		return err
	}
	if err := r.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for i, h := range header {
		w := float64(utf8.RuneCountInString(h) + 2)
		w = min(max(w, minColumnWidth), maxColumnWidth)
		if err := r.sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	return r.writeRow(r.sw, header, r.bold)
}

func (r *xlsxReport) writeRow(sw *excelize.StreamWriter, fields []string, style int) error {
	r.row++
	r.cells = r.cells[:0]
	for _, s := range fields {
		r.cells = append(r.cells, excelize.Cell{StyleID: style, Value: s})
	}
	cell, err := excelize.CoordinatesToCellName(1, r.row)
	if err != nil {
		return err
	}
	return sw.SetRow(cell, r.cells, excelize.RowOpts{StyleID: style})
}

func (r *xlsxReport) WriteRow(fields []string, style RowStyle) error {
	if r.done {
		return ErrReportClosed
	}
	id := r.plain
	if style == Tinted {
		id = r.tinted
	}
	if err := r.writeRow(r.sw, fields, id); err != nil {
		return fmt.Errorf("write report %s: %w", r.path, err)
	}
	return nil
}

func (r *xlsxReport) AddSheet(name string, rows [][]string) error {
	if r.done {
		return ErrReportClosed
	}
	if strings.EqualFold(name, resultsSheet) {
		return fmt.Errorf("report sheet %q already exists", name)
	}
	for _, s := range r.extra {
		if strings.EqualFold(s.name, name) {
			return fmt.Errorf("report sheet %q already exists", name)
		}
	}
	if name == "" || utf8.RuneCountInString(name) > 31 || strings.ContainsAny(name, `:\/?*[]`) ||
		strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'") {
		return fmt.Errorf("invalid sheet name %q", name)
	}
	cp := make([][]string, len(rows))
	for i, row := range rows {
		cp[i] = append([]string(nil), row...)
	}
	r.extra = append(r.extra, extraSheet{name: name, rows: cp})
	return nil
}

func (r *xlsxReport) Commit() error {
	if r.done {
		return ErrReportClosed
	}
	r.done = true
	defer r.f.Close()
	if err := r.finish(); err != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		return fmt.Errorf("write report %s: %w", r.path, err)
	}
	return commitFile(r.tmp, r.path)
}

// finish ends the results sheet, writes the extra sheets and the workbook.
func (r *xlsxReport) finish() error {
	if err := r.sw.Flush(); err != nil {
		return err
	}
	for _, s := range r.extra {
		if _, err := r.f.NewSheet(s.name); err != nil {
			return err
		}
		sw, err := r.f.NewStreamWriter(s.name)
		if err != nil {
			return err
		}
		widths := map[int]int{}
		for _, row := range s.rows {
			for i, c := range row {
				widths[i] = max(widths[i], utf8.RuneCountInString(c)+2)
			}
		}
		for i, w := range widths {
			if err := sw.SetColWidth(i+1, i+1, float64(min(max(w, minColumnWidth), maxColumnWidth))); err != nil {
				return err
			}
		}
		r.row = 0
		for i, row := range s.rows {
			style := r.plain
			if i == 0 {
				style = r.bold
			}
			if err := r.writeRow(sw, row, style); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	r.f.SetActiveSheet(0)
	bw := bufio.NewWriterSize(r.tmp, 64<<10)
	if _, err := r.f.WriteTo(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func (r *xlsxReport) Abort() error {
	if r.done {
		return nil
	}
	r.done = true
	r.f.Close()
	r.tmp.Close()
	return os.Remove(r.tmp.Name())
}
