package batch

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
)

// reportPaths names the reports of X.csv: X.results.csv, X.failures.csv and
// X.summary.json in the output folder.
func reportPaths(cfg Config) Reports {
	dir := cfg.OutDir
	if dir == "" {
		dir = filepath.Dir(cfg.Path)
	}
	base := strings.TrimSuffix(filepath.Base(cfg.Path), filepath.Ext(cfg.Path))
	ext := "." + string(cfg.Format)
	return Reports{
		Results:  filepath.Join(dir, base+".results"+ext),
		Failures: filepath.Join(dir, base+".failures"+ext),
		Summary:  filepath.Join(dir, base+".summary.json"),
	}
}

// reported is what pass 3 wrote: every row's status, the counts, the first
// problems and the control totals; for a dry run, the calls planned too.
type reported struct {
	rows, notSent int
	counts        map[Status]int
	errorCodes    map[string]int
	firstProblems []string
	totals        []Total
	planned       planned
}

// finish is pass 3: every input row, in input order, with its status: invalid
// from validation, the outcome of the rows sent, and "failed" with NOT_SENT for
// valid rows a stopped run never sent. rows (when not 0) is how many rows pass
// 1 read: rows added to the file since were never sent and are not reported.
// The outcomes come from st as the calls are made (a run of its own, written
// while it sends), else from the ledger after them (a resumed run, whose
// earlier outcomes are there), else there are none (a dry run). The reports
// are left to commit, with the Summary sheet, or to abort.
func finish(cfg Config, j *job, led *ledger.Ledger, runID string, st *stream, rows int) (*reports, reported, error) {
	rp := reported{counts: map[Status]int{}, errorCodes: map[string]int{}}
	rep, err := newReports(j, reportPaths(cfg), cfg.Format)
	if err != nil {
		return nil, rp, err
	}
	outcomes := func(int) (ledger.Outcome, bool) { return ledger.Outcome{}, false }
	var cur *ledger.Cursor
	switch {
	case st != nil:
		outcomes = st.wait
	case led != nil:
		if cur, err = led.Outcomes(context.Background(), runID); err != nil {
			rep.abort()
			return nil, rp, err
		}
		defer cur.Close()
		outcomes = outcomesBySeq(cur)
	}
	tot := newTotals(j)
	plan, flush := callCounter(j, &rp.planned)
	err = j.scan(rows, func(r row) error {
		rp.rows++
		o, sent := outcomes(r.seq)
		switch {
		case r.err != nil:
			o = ledger.Outcome{Status: string(StatusInvalid), Code: r.err.Code, Message: r.err.Error()}
		case cfg.DryRun:
			o = ledger.Outcome{Status: string(StatusPlanned)}
			if err := plan(r.item); err != nil {
				return err
			}
		case !sent:
			o = ledger.Outcome{Status: string(StatusFailed), Code: "NOT_SENT",
				Message: "not sent: the run stopped before this row; run the same command again to send it"}
			rp.notSent++
		}
		o.Row = r.rec.Row
		st := Status(o.Status)
		rp.counts[st]++
		if tot != nil {
			tot.add(r.rec.Fields, st)
		}
		if o.Code != "" {
			rp.errorCodes[o.Code]++
		}
		if problem(st) && len(rp.firstProblems) < maxFirstProblems {
			rp.firstProblems = append(rp.firstProblems, problemLine(j, r.rec, o))
		}
		return rep.write(r.rec, o)
	})
	if err == nil && cfg.DryRun {
		err = flush()
	}
	if err == nil && cur != nil {
		err = cur.Err()
	}
	if st != nil {
		st.ended()
	}
	if err != nil {
		rep.abort()
		return nil, rp, err
	}
	rp.totals = tot.list()
	return rep, rp, nil
}

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

// reports are the results and failures reports of a run being written.
type reports struct {
	kind              *Kind
	keep              []int // the input columns copied, by index
	line              []string
	results, failures formats.ReportWriter
}

// newReports creates the reports: the input's columns (but report and output
// columns of a report fed back in), then the report columns, then the kind's
// output columns.
func newReports(j *job, paths Reports, f formats.Format) (*reports, error) {
	rep := &reports{kind: j.kind}
	header := []string{}
	for i, h := range j.header {
		n := formats.NormalizeHeader(h)
		if contains(reportColumns, n) || contains(j.kind.Outputs, n) {
			continue
		}
		header = append(header, h)
		rep.keep = append(rep.keep, i)
	}
	header = append(header, reportColumns...)
	header = append(header, j.kind.Outputs...)
	var err error
	if rep.results, err = formats.CreateReport(paths.Results, f, header); err != nil {
		return nil, err
	}
	if rep.failures, err = formats.CreateReport(paths.Failures, f, header); err != nil {
		rep.results.Abort()
		return nil, err
	}
	return rep, nil
}

// write writes a row with its outcome, to the failures report too when it is a
// problem.
func (rep *reports) write(rec formats.Record, o ledger.Outcome) error {
	line := rep.line[:0]
	for _, i := range rep.keep {
		line = append(line, rec.Fields[i])
	}
	line = append(line, strconv.Itoa(rec.Row), o.Status, o.Code, o.Message, strconv.Itoa(o.Attempts))
	for _, c := range rep.kind.Outputs {
		line = append(line, o.Outputs[c])
	}
	rep.line = line
	style := formats.Plain
	if problem(Status(o.Status)) {
		style = formats.Tinted
		if err := rep.failures.WriteRow(line, style); err != nil {
			return err
		}
	}
	return rep.results.WriteRow(line, style)
}

// commit adds the Summary sheet and puts both reports in place.
func (rep *reports) commit(sheet [][]string) error {
	for _, w := range []formats.ReportWriter{rep.results, rep.failures} {
		if err := w.AddSheet("Summary", sheet); err != nil {
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
	rep.failures.Abort()
}

// callCounter counts the calls that a job's valid rows make, sending nothing:
// the plan of a kind that is not sequential (each chunk let go as soon as it is
// planned, so memory stays flat), one call a row for a sequential kind.
func callCounter(j *job, p *planned) (add func(Item) error, flush func() error) {
	if j.kind.Sequential {
		return func(Item) error { p.calls++; p.chunks++; return nil }, func() error { return nil }
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
	return pl.add, pl.flush
}

const maxFirstProblems = 10

// problemLine says where a failed or invalid row is and why, as a log line:
// "jobs.xlsx: sheet Charges: row 14, column esn: ..." .
func problemLine(j *job, rec formats.Record, o ledger.Outcome) string {
	where := j.path + ": "
	if rec.Sheet != "" {
		where += "sheet " + rec.Sheet + ": "
	}
	where += "row " + strconv.Itoa(rec.Row) + ", "
	msg := o.Message
	if o.Code != "" && !strings.HasPrefix(msg, "column ") {
		msg = o.Code + ": " + msg
	}
	return where + msg
}

// countRows are Summary sheet lines of counts, sorted by what they count.
func countRows(prefix string, counts map[string]int) [][]string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{prefix + k, strconv.Itoa(counts[k])}
	}
	return rows
}

func summarySheet(s *Summary) [][]string {
	rows := [][]string{{"what", "value"},
		{"run_id", s.RunID}, {"input", s.Input}, {"input_sha256", s.InputSHA256}, {"job", s.Job},
		{"rows", strconv.Itoa(s.Rows)}}
	for _, st := range []Status{StatusOK, StatusFailed, StatusInvalid, StatusUnknown, StatusSkipped, StatusPlanned} {
		if n, ok := s.Counts[st]; ok {
			rows = append(rows, []string{"status " + string(st), strconv.Itoa(n)})
		}
	}
	if s.NotSent > 0 {
		rows = append(rows, []string{"of them not sent", strconv.Itoa(s.NotSent)})
	}
	rows = append(rows, countRows("error_code ", s.ErrorCodes)...)
	rows = append(rows, totalRows(s.Totals)...)
	rows = append(rows, []string{"calls", strconv.FormatInt(s.Calls, 10)}, []string{"retries", strconv.FormatInt(s.Retries, 10)},
		[]string{"throttled", strconv.FormatInt(s.Throttled, 10)},
		[]string{"start", s.Start.Format(time.RFC3339)}, []string{"end", s.End.Format(time.RFC3339)},
		[]string{"duration_seconds", strconv.FormatFloat(s.DurationSeconds, 'f', 3, 64)},
		[]string{"send_seconds", strconv.FormatFloat(s.SendSeconds, 'f', 3, 64)})
	return rows
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
