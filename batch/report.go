package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
)

// reportPaths names the reports of X.csv: X.results.csv, X.failures.csv and
// X.summary.json in the output folder. A dry run (validate) writes its plan
// instead, X.plan.csv and X.plan.json, and never touches a run's reports.
func reportPaths(cfg Config) Reports {
	dir := cfg.OutDir
	if dir == "" {
		dir = filepath.Dir(cfg.Path)
	}
	base := strings.TrimSuffix(filepath.Base(cfg.Path), filepath.Ext(cfg.Path))
	ext := "." + string(cfg.Format)
	if cfg.DryRun {
		return Reports{
			Results: filepath.Join(dir, base+".plan"+ext),
			Summary: filepath.Join(dir, base+".plan.json"),
		}
	}
	return Reports{
		Results:  filepath.Join(dir, base+".results"+ext),
		Failures: filepath.Join(dir, base+".failures"+ext),
		Summary:  filepath.Join(dir, base+".summary.json"),
	}
}

// reported is what pass 3 wrote: every row's status, the counts, the first
// problems and the control totals; for a dry run, the calls planned too.
type reported struct {
	cut            error // the file changed in place: no row past it is reported
	rows, notSent  int
	counts         map[Status]int
	errorCodes     map[string]int
	errorMessages  map[string]string // the first message of each code
	firstProblems  []string
	totals         []Total
	reconciliation *report.Reconciliation
	planned        planned
}

// ledgerOutcomes are the outcomes in the ledger of a run that stopped, which
// a resumed run goes on with: those of the rows it did (done), and of those
// it sent without knowing what came of them (uncertain): what the reports
// say of such a row when this run stops before it.
type ledgerOutcomes struct {
	led       *ledger.Ledger
	runID     string
	done      ledger.Seqs
	uncertain map[int]string
}

// finish is pass 3: every input row, in input order, with its status: invalid
// from validation, the outcome of the rows sent, and "failed" with NOT_SENT for
// valid rows a stopped run never sent. rows (when not 0) is how many rows pass
// 1 read: rows added to the file since were never sent and are not reported.
// The outcomes come from st as the calls are made, and from the ledger for
// the rows a resumed run did before it stopped (earlier); a dry run has none.
// A file changed in place ends the reports at the row that changed (rp.cut).
// The reports are left to commit, with the Summary sheet, or to abort.
func finish(cfg Config, j *job, earlier *ledgerOutcomes, st *stream, rows int) (*reports, reported, error) {
	rp := reported{counts: map[Status]int{}, errorCodes: map[string]int{}, errorMessages: map[string]string{}}
	password := ""
	if j.protect {
		password = cfg.XLSXPassword
	}
	rep, err := newReports(j, reportPaths(cfg), cfg.Format, cfg.Overrides, password)
	if err != nil {
		return nil, rp, err
	}
	if cfg.hooks != nil && cfg.hooks.writer != nil {
		rep.results = cfg.hooks.writer(rep.results)
		if rep.failures != nil {
			rep.failures = cfg.hooks.writer(rep.failures)
		}
	}
	outcomes := func(int) (ledger.Outcome, bool) { return ledger.Outcome{}, false }
	if st != nil {
		outcomes = st.wait
	}
	var cur *ledger.Cursor
	if earlier != nil {
		if cur, err = earlier.led.OutcomesApart(context.Background(), earlier.runID); err != nil {
			rep.abort()
			return nil, rp, err
		}
		defer cur.Close()
		recorded := outcomesBySeq(cur)
		outcomes = func(seq int) (ledger.Outcome, bool) {
			if earlier.done.Has(seq) {
				return recorded(seq)
			}
			if o, ok := st.wait(seq); ok {
				return o, true
			}
			if o, ok := recorded(seq); ok {
				return o, true // unknown before, and this run stopped before it
			}
			if _, sent := earlier.uncertain[seq]; sent {
				return ledger.Outcome{Status: string(StatusUnknown), Code: "UNKNOWN_OUTCOME",
					Message: "sent by this run before it stopped, which then did not know what came of it; not read back yet: run the same command to read it back"}, true
			}
			return ledger.Outcome{}, false
		}
	}
	tot := newTotals(j)
	plan, flush := callCounter(j, cfg.Concurrency, cfg.ReadBefore, &rp.planned)
	err = j.scanToReport(rows, func(r *row) error {
		if rp.rows++; rows == 0 {
			if err := reportFits(cfg, rp.rows, false); err != nil {
				return err
			}
		}
		var o ledger.Outcome
		switch {
		case r.err != nil:
			// An invalid row is never sent: its outcome is not waited for.
			o = ledger.Outcome{Status: string(StatusInvalid), Code: r.err.Code, Message: r.err.Error()}
		case cfg.DryRun:
			o = ledger.Outcome{Status: string(StatusPlanned)}
			if err := plan(r.item); err != nil {
				return err
			}
		default:
			var sent bool
			if o, sent = outcomes(r.seq); sent {
				break
			}
			o = ledger.Outcome{Status: string(StatusFailed), Code: codeNotSent,
				Message: "not sent: the run stopped before this row; run the same command again to send it"}
			rp.notSent++
		}
		o.Row = rep.rowNumber(r.rec)
		if tot != nil {
			o = tot.add(r.rec, r.item, o)
		}
		st := Status(o.Status)
		rp.counts[st]++
		if o.Code != "" {
			if rp.errorCodes[o.Code]++; rp.errorMessages[o.Code] == "" {
				rp.errorMessages[o.Code] = o.Message
			}
		}
		if problem(st) && o.Code != codeNotSent && len(rp.firstProblems) < maxFirstProblems {
			rp.firstProblems = append(rp.firstProblems, problemLine(j, r.rec, o))
		}
		return rep.write(r.rec, o)
	})
	var changed *changedError
	if errors.As(err, &changed) {
		rp.cut, err = changed, nil // the rows read before it are reported
	}
	if err == nil && cfg.DryRun {
		err = flush()
	}
	if err == nil && cur != nil {
		err = cur.Err()
	}
	if err != nil {
		rep.abort()
		return nil, rp, err
	}
	rp.reconciliation = tot.reconciliation()
	rp.totals = listTotals(rp.reconciliation)
	return rep, rp, nil
}

// xlsxReportRows is the most rows an XLSX report holds: a sheet's 1,048,576
// rows, but its header.
const xlsxReportRows = 1<<20 - 1

// reportFits refuses a job of rows rows whose XLSX reports would not hold
// every row: it is said before anything is sent, never after (known says
// that rows is the file's count, not a count so far).
func reportFits(cfg Config, rows int, known bool) error {
	if cfg.Format != formats.XLSX || rows <= xlsxReportRows {
		return nil
	}
	n := fmt.Sprintf("%d rows", rows)
	if !known {
		n = fmt.Sprintf("more than %d rows", xlsxReportRows)
	}
	what := "its reports"
	if cfg.DryRun {
		what = "its plan"
	}
	return &UsageError{Msg: fmt.Sprintf("%s: %s: %s would be XLSX, and an XLSX sheet holds at most %d rows and its header; nothing was sent\nhint: pass --format csv (a CSV report has no row limit), or split the file",
		cfg.Path, n, what, xlsxReportRows)}
}

// codeNotSent is the error code of the rows a stopped run never sent: they
// are counted apart (Summary.NotSent) and not listed one by one.
const codeNotSent = "NOT_SENT"

// problem reports whether rows of a status go to the failures report.
func problem(st Status) bool { return st == StatusFailed || st == StatusInvalid || st == StatusUnknown }

// outcomesBySeq walks a run's outcomes (ordered by seq) alongside the rows:
// the outcome of row seq, if it has one.
func outcomesBySeq(cur *ledger.Cursor) func(seq int) (ledger.Outcome, bool) {
	next, more := cur.Next()
	return func(seq int) (ledger.Outcome, bool) {
		for more && next.Seq < seq {
			next, more = cur.Next()
		}
		return next, more && next.Seq == seq
	}
}

// reports are the results and failures reports of a run being written (a
// dry run's plan has no failures report).
type reports struct {
	kind              *Kind
	cols              []reportColumn
	rowCol            int // the row column of a report fed back in; -1 = none
	line              []string
	kinds             []formats.CellKind
	results, failures formats.ReportWriter
	// typed: the reports are XLSX, whose cells keep types; amounts are the
	// charges job's amount columns, written as numbers (nil: none).
	typed   bool
	amounts *chargeAmounts
}

// reportColumn is where a report's column comes from: an input column (in >=
// 0), a flag that set a column for every row (set), one of the
// reportColumns (report), or one of the kind's outputs (output).
type reportColumn struct {
	name   string
	in     int
	set    string
	report int
	output string
}

// newReports creates the reports. A CSV report has the input's columns (but
// the report and output columns of a report fed back in), the columns set by
// flags that the input lacks (so that the failures report runs as it is),
// then the report columns, then the kind's output columns. An XLSX report,
// read by a person, has the kind's key columns first, then the report
// columns, then the other columns, then the outputs. The failures report is
// itself a job: readers ignore the report and output columns. With a
// password (the job file's), the XLSX reports are protected with it.
func newReports(j *job, paths Reports, f formats.Format, overrides map[string]string, password string) (*reports, error) {
	rep := &reports{kind: j.kind, rowCol: -1, amounts: j.amounts, typed: f == formats.XLSX}
	var keys, others []reportColumn
	has := map[string]bool{}
	for i, h := range j.header {
		n := formats.NormalizeHeader(h)
		if n == "row" && rep.rowCol < 0 {
			rep.rowCol = i
		}
		if contains(reportColumns, n) || contains(j.kind.Outputs, n) {
			continue
		}
		c := reportColumn{name: h, in: i, report: -1}
		if v, ok := overrides[n]; ok && n != "" {
			c.in, c.set = -1, v // the flag wins over the column, as it did when sent
		}
		has[n] = true
		if f == formats.XLSX && contains(j.kind.Required, n) {
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
		if f == formats.XLSX && contains(j.kind.Required, c) {
			keys = append(keys, rc)
			continue
		}
		others = append(others, rc)
	}
	var tail []reportColumn
	for i, c := range reportColumns {
		tail = append(tail, reportColumn{name: c, in: -1, report: i})
	}
	if f == formats.XLSX {
		rep.cols = append(append(keys, tail...), others...)
	} else {
		rep.cols = append(append(keys, others...), tail...)
	}
	for _, c := range j.kind.Outputs {
		rep.cols = append(rep.cols, reportColumn{name: c, in: -1, report: -1, output: c})
	}
	header := make([]string, len(rep.cols))
	wrap := make([]bool, len(rep.cols))
	for i, c := range rep.cols {
		header[i] = c.name
		wrap[i] = c.report >= 0 && reportColumns[c.report] == "error_message"
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

// rowNumber is the row's number in the reports: its row in the file, or, for
// a report fed back in, the row it had in the first file, so that a retried
// row keeps its number through every retry.
func (rep *reports) rowNumber(rec formats.Record) int { return rowNumber(rec, rep.rowCol) }

// write writes a row with its outcome (o.Row its number), to the failures
// report too when it is a problem.
func (rep *reports) write(rec formats.Record, o ledger.Outcome) error {
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
				if tv, tk, ok := rep.amounts.cells(rec, c.in); ok {
					v, k = tv, tk
				} else if k == formats.Text && exportDates[formats.NormalizeHeader(c.name)] {
					k = formats.Date
				}
			}
		case c.report >= 0:
			v = [...]string{strconv.Itoa(o.Row), o.Status, o.Code, o.Message, strconv.Itoa(o.Attempts)}[c.report]
			if c.report == 0 || c.report == 4 {
				k = formats.Integer
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
	if problem(Status(o.Status)) {
		style = formats.Tinted
		if rep.failures != nil {
			if err := rep.failures.WriteCells(line, kinds, style); err != nil {
				return err
			}
		}
	}
	return rep.results.WriteCells(line, kinds, style)
}

// commit adds the Reconciliation sheet of a charges job and the Summary
// sheet, and puts the reports in place. It completes the summary's
// Reconciliation with what to do.
func (rep *reports) commit(s *Summary) error {
	reconcileToDo(s)
	sheet, kinds := summarySheet(s)
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

func (rep *reports) abort() {
	rep.results.Abort()
	if rep.failures != nil {
		rep.failures.Abort()
	}
}

// callCounter counts the calls that a job's valid rows make, sending nothing:
// the plan of a kind that is not sequential (each chunk let go as soon as it is
// planned, so memory stays flat), one call a row for a sequential kind. For a
// subscriptions job it counts the reads --read-before makes too (p.readBefore):
// one for each row whose customer's state the run would not know, forgotten as
// the run forgets it (states: everything past maxStates customers); they are
// calls when readBefore is set.
func callCounter(j *job, concurrency int, readBefore bool, p *planned) (add func(Item) error, flush func() error) {
	if j.kind.Sequential {
		seed := maphash.MakeSeed()
		known := map[uint64]struct{}{}
		return func(it Item) error {
			p.calls++
			p.chunks++
			if j.kind == Subscriptions && len(it.Lanes) > 0 {
				customer := maphash.String(seed, it.Lanes[0])
				if _, ok := known[customer]; !ok {
					p.readBefore++
					if readBefore {
						p.calls++
					}
				}
				if len(known) >= maxStates {
					clear(known)
				}
				known[customer] = struct{}{}
			}
			return nil
		}, func() error { return nil }
	}
	ln := newLanes()
	pl := newPlanner(j.chunkSize, 1024, ln, func(c *chunk) error {
		for _, t := range c.tickets {
			ln.leave(t)
		}
		p.chunks++
		p.calls++
		return nil
	})
	pl.count, pl.maxAge = true, reportWindow(j, concurrency)/2
	return pl.add, pl.flush
}

const maxFirstProblems = 10

// problemLine says where a failed or invalid row is and why, as a log line:
// "jobs.xlsx: sheet Charges: row 14, column esn: ..." or "..., row 5, error
// 1: ...". A row of a report fed back in says the row it had in the first
// file too.
func problemLine(j *job, rec formats.Record, o ledger.Outcome) string {
	where := j.path + ": "
	if rec.Sheet != "" {
		where += "sheet " + rec.Sheet + ": "
	}
	where += "row " + strconv.Itoa(rec.Row)
	if o.Row != rec.Row && o.Row > 0 {
		where += " (row " + strconv.Itoa(o.Row) + " of the first file)"
	}
	msg := o.Message
	if o.Code != "" && !strings.HasPrefix(msg, "column ") {
		msg = "error " + o.Code + ": " + msg
	}
	return where + ", " + msg
}

// summaryLines are the lines of the Summary sheet: what, value, about. Values
// that are figures are Number cells.
type summaryLines struct {
	rows  [][]string
	kinds [][]formats.CellKind
}

func (l *summaryLines) text(what, value string) {
	l.rows = append(l.rows, []string{what, value})
	l.kinds = append(l.kinds, nil)
}

func (l *summaryLines) figure(what, value, about string) {
	row := []string{what, value}
	if about != "" {
		row = append(row, about)
	}
	l.rows = append(l.rows, row)
	l.kinds = append(l.kinds, []formats.CellKind{formats.Text, formats.Number, formats.Text})
}

// totals adds control totals: per status and currency, the amount and the
// number of rows.
func (l *summaryLines) totals(ts []Total) {
	for _, t := range ts {
		about := strconv.Itoa(t.Count) + " rows"
		if t.Unparsed > 0 {
			about += ", " + strconv.Itoa(t.Unparsed) + " amounts not a number"
		}
		l.figure("amount "+t.Status+" "+t.Currency, t.Amount, about)
		l.figure("rows "+t.Status+" "+t.Currency, strconv.Itoa(t.Count), "")
	}
}

// summarySheet is the Summary sheet of the reports: the run, the counts per
// status and per error code (each with its first message, which describes
// it), a charges job's control totals, calls and times.
func summarySheet(s *Summary) ([][]string, [][]formats.CellKind) {
	l := &summaryLines{}
	l.text("what", "value")
	l.rows[0] = append(l.rows[0], "about")
	l.text("run_id", s.RunID)
	l.text("input", s.Input)
	l.text("input_sha256", s.InputSHA256)
	l.text("job", s.Job)
	l.figure("rows", strconv.Itoa(s.Rows), "")
	for _, st := range []Status{StatusOK, StatusFailed, StatusInvalid, StatusUnknown, StatusSkipped, StatusPlanned} {
		if n, ok := s.Counts[st]; ok {
			l.figure("status "+string(st), strconv.Itoa(n), "")
		}
	}
	if s.NotSent > 0 {
		l.figure("of them not sent", strconv.Itoa(s.NotSent), "failed rows the run stopped before sending")
	}
	codes := make([]string, 0, len(s.ErrorCodes))
	for c := range s.ErrorCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		l.figure("error_code "+c, strconv.Itoa(s.ErrorCodes[c]), s.ErrorMessages[c])
	}
	l.totals(s.Totals)
	l.figure("chunks", strconv.Itoa(s.Chunks), "")
	l.figure("calls", strconv.FormatInt(s.Calls, 10), "")
	switch {
	case s.ReadBeforeCalls > 0 && s.ReadBefore:
		l.figure("read_before_calls", strconv.FormatInt(s.ReadBeforeCalls, 10), "of the calls, those reading a customer's subscription before its first row (--read-before)")
	case s.ReadBeforeCalls > 0:
		l.figure("read_before_calls", strconv.FormatInt(s.ReadBeforeCalls, 10), "the calls --read-before would add: a read of each customer's subscription before its first row")
	}
	l.figure("retries", strconv.FormatInt(s.Retries, 10), "")
	l.figure("throttled", strconv.FormatInt(s.Throttled, 10), "")
	l.text("start", s.Start.Format(time.RFC3339))
	l.text("end", s.End.Format(time.RFC3339))
	l.figure("duration_seconds", strconv.FormatFloat(s.DurationSeconds, 'f', 3, 64), "")
	l.figure("send_seconds", strconv.FormatFloat(s.SendSeconds, 'f', 3, 64), "")
	return l.rows, l.kinds
}

// writeSummary writes X.summary.json through a temporary file and a rename.
func writeSummary(s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.Reports.Summary), ".crmbatch-summary-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.Reports.Summary)
}
