package report

import (
	"slices"
	"sort"
	"strconv"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
)

// Columns are the columns crmbatch adds to the reports. Readers ignore them,
// so a failures report can be fed back in as a job file.
var Columns = []string{"row", "status", "error_code", "error_message", "attempts"}

// Layout is what a report's columns come from: the job file's header, the
// job kind's required columns (an XLSX report's first) and output columns
// (its last), and the columns set for every row by flags.
type Layout struct {
	Header    []string
	Required  []string
	Outputs   []string
	Overrides map[string]string
	// Amounts are a charges sheet's amount columns (nil: none): in XLSX,
	// numbers in their currency's decimals.
	Amounts *Amounts
}

// Writer writes the results and failures reports of a run (a dry run's plan
// has no failures report).
type Writer struct {
	cols   []reportColumn
	rowCol int // the row column of a report fed back in; -1 = none
	// typed: the reports are XLSX, whose cells keep types; amounts are the
	// charges sheet's amount columns, written as numbers (nil: none).
	typed             bool
	amounts           *Amounts
	line              []string
	kinds             []formats.CellKind
	results, failures formats.ReportWriter
}

// reportColumn is where a report's column comes from: an input column (in >=
// 0), a flag that set a column for every row (set), one of the
// Columns (report), or one of the kind's outputs (output).
type reportColumn struct {
	name   string
	in     int
	set    string
	report int
	output string
}

// Create creates the reports. A CSV report has the input's columns (but
// the report and output columns of a report fed back in), the columns set by
// flags that the input lacks (so that the failures report runs as it is),
// then the report columns, then the kind's output columns. An XLSX report,
// read by a person, has the kind's key columns first, then the report
// columns, then the other columns, then the outputs. The failures report is
// itself a job: readers ignore the report and output columns. With a
// password (the job file's), the XLSX reports are protected with it.
func Create(paths Paths, f formats.Format, l Layout, password string) (*Writer, error) {
	overrides := l.Overrides
	rep := &Writer{rowCol: -1, typed: f == formats.XLSX, amounts: l.Amounts}
	var keys, others []reportColumn
	has := map[string]bool{}
	for i, h := range l.Header {
		n := formats.NormalizeHeader(h)
		if n == "row" && rep.rowCol < 0 {
			rep.rowCol = i
		}
		if slices.Contains(Columns, n) || slices.Contains(l.Outputs, n) {
			continue
		}
		c := reportColumn{name: h, in: i, report: -1}
		if v, ok := overrides[n]; ok && n != "" {
			c.in, c.set = -1, v // the flag wins over the column, as it did when sent
		}
		has[n] = true
		if f == formats.XLSX && slices.Contains(l.Required, n) {
			keys = append(keys, c)
			continue
		}
		others = append(others, c)
	}
	set := make([]string, 0, len(overrides))
	for c := range overrides {
		if !has[c] {
			set = append(set, c)
		}
	}
	sort.Strings(set)
	for _, c := range set {
		rc := reportColumn{name: c, in: -1, set: overrides[c], report: -1}
		if f == formats.XLSX && slices.Contains(l.Required, c) {
			keys = append(keys, rc)
			continue
		}
		others = append(others, rc)
	}
	var tail []reportColumn
	for i, c := range Columns {
		tail = append(tail, reportColumn{name: c, in: -1, report: i})
	}
	if f == formats.XLSX {
		rep.cols = append(append(keys, tail...), others...)
	} else {
		rep.cols = append(append(keys, others...), tail...)
	}
	for _, c := range l.Outputs {
		rep.cols = append(rep.cols, reportColumn{name: c, in: -1, report: -1, output: c})
	}
	header := make([]string, len(rep.cols))
	wrap := make([]bool, len(rep.cols))
	for i, c := range rep.cols {
		header[i] = c.name
		wrap[i] = c.report >= 0 && Columns[c.report] == "error_message"
	}
	opts := formats.ReportOptions{Wrap: wrap, Password: password}
	if f == formats.XLSX {
		// Printed, the first pages hold the key columns, the status and
		// the whole error; the key columns name the rows on every page.
		opts.PageOne, opts.Titles = len(keys)+len(tail), len(keys)
	}
	var err error
	if rep.results, err = formats.CreateReportWith(paths.Results, f, header, opts); err != nil {
		return nil, err
	}
	if paths.Failures == "" {
		return rep, nil
	}
	if rep.failures, err = formats.CreateReportWith(paths.Failures, f, header, opts); err != nil {
		rep.results.Abort()
		return nil, err
	}
	return rep, nil
}

// RowColumn is the column of a report fed back in that holds the row it had
// in the first file, so that a retried row keeps its number through every
// retry; -1 = none.
func (rep *Writer) RowColumn() int { return rep.rowCol }

// Write writes a row with its outcome (o.Row its number), to the failures
// report too when it is a problem.
func (rep *Writer) Write(rec formats.Record, o ledger.Outcome) error {
	line, kinds := rep.line[:0], rep.kinds[:0]
	for _, c := range rep.cols {
		v, k := "", formats.Text
		switch {
		case c.in >= 0:
			v = rec.Fields[c.in]
			if c.in < len(rec.Kinds) {
				k = rec.Kinds[c.in]
			}
			if rep.amounts != nil && rep.typed {
				if tv, tk, ok := rep.amounts.cell(rec, c.in); ok {
					v, k = tv, tk
				} else if k == formats.Text && ExportDates[formats.NormalizeHeader(c.name)] {
					k = formats.Date
				}
			}
		case c.report >= 0:
			v = [...]string{strconv.Itoa(o.Row), o.Status, o.Code, o.Message, strconv.Itoa(o.Attempts)}[c.report]
			if c.report == 0 || c.report == 4 {
				k = formats.Integer // row, attempts
			}
		case c.output != "":
			v = o.Outputs[c.output]
		default:
			v = c.set
		}
		line, kinds = append(line, v), append(kinds, k)
	}
	rep.line, rep.kinds = line, kinds
	style := formats.Plain
	if Status(o.Status).Problem() {
		style = formats.Tinted
		if rep.failures != nil {
			if err := rep.failures.WriteCells(line, kinds, style); err != nil {
				return err
			}
		}
	}
	return rep.results.WriteCells(line, kinds, style)
}

// Commit adds the Reconciliation sheet of a charges job and the Summary
// sheet of s, and puts the reports in place.
func (rep *Writer) Commit(s *Summary) error {
	sheet, kinds := SummarySheet(s)
	for _, w := range []formats.ReportWriter{rep.results, rep.failures} {
		if w == nil {
			continue
		}
		if s.Reconciliation != nil {
			rows, rowKinds := s.Reconciliation.Sheet()
			if err := w.AddTypedSheet("Reconciliation", rows, rowKinds); err != nil {
				return err
			}
		}
		if err := w.AddTypedSheet("Summary", sheet, kinds); err != nil {
			return err
		}
		if err := w.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Abort removes the reports being written.
func (rep *Writer) Abort() {
	rep.results.Abort()
	if rep.failures != nil {
		rep.failures.Abort()
	}
}

// Wrap puts wrap around each report's writer: a test's view of what is
// written.
func (rep *Writer) Wrap(wrap func(formats.ReportWriter) formats.ReportWriter) {
	rep.results = wrap(rep.results)
	if rep.failures != nil {
		rep.failures = wrap(rep.failures)
	}
}
