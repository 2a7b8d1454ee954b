package batch

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
)

// reported is what pass 3 wrote: every row's status, the counts, the first
// problems and the control totals; for a dry run, the calls planned too.
type reported struct {
	cut            error // the file changed in place: no row past it is reported
	rows, notSent  int
	counts         map[report.Status]int
	errorCodes     map[string]int
	errorMessages  map[string]string // the first message of each code
	firstProblems  []string
	totals         []report.Total
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
// The reports are left to commit, with the report.Summary sheet, or to abort.
func finish(cfg Config, j *jobfile.File, earlier *ledgerOutcomes, st *stream, rows int) (*report.Writer, reported, error) {
	rp := reported{counts: map[report.Status]int{}, errorCodes: map[string]int{}, errorMessages: map[string]string{}}
	rep, err := newReports(cfg, j)
	if err != nil {
		return nil, rp, err
	}
	if cfg.hooks != nil && cfg.hooks.writer != nil {
		rep.Wrap(cfg.hooks.writer)
	}
	outcomes, cur, err := outcomesOf(st, earlier)
	if err != nil {
		rep.Abort()
		return nil, rp, err
	}
	if cur != nil {
		defer cur.Close()
	}
	tot := report.NewTotals(j.Amounts)
	plan, flush := callCounter(j, cfg.Concurrency, cfg.ReadBefore, &rp.planned)
	err = j.ScanToReport(rows, func(r *jobfile.Row) error {
		if rp.rows++; rows == 0 {
			if err := reportFits(cfg, rp.rows, false); err != nil {
				return err
			}
		}
		var o ledger.Outcome
		switch {
		case r.Err != nil:
			// An invalid row is never sent: its outcome is not waited for.
			o = ledger.Outcome{Status: string(report.StatusInvalid), Code: r.Err.Code, Message: r.Err.Error()}
		case cfg.DryRun:
			o = ledger.Outcome{Status: string(report.StatusPlanned)}
			if err := plan(r.Item); err != nil {
				return err
			}
		default:
			var sent bool
			if o, sent = outcomes(r.Seq); sent {
				break
			}
			o = ledger.Outcome{Status: string(report.StatusFailed), Code: codeNotSent,
				Message: "not sent: the run stopped before this row; run the same command again to send it"}
			rp.notSent++
		}
		o.Row = jobfile.RowNumber(r.Rec, rep.RowColumn())
		if tot != nil {
			o = tot.Add(r.Rec, rowAction(j, r), o)
		}
		rp.tally(j.Path, r.Rec, o)
		return rep.Write(r.Rec, o)
	})
	var changed *jobfile.ChangedError
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
		rep.Abort()
		return nil, rp, err
	}
	rp.reconciliation = tot.Reconciliation()
	rp.totals = report.ListTotals(rp.reconciliation)
	return rep, rp, nil
}

// tally counts a row's outcome o among the run's figures: its status (the
// rows never sent apart: notSent), its error code with the code's first
// message, and the first problems the summary tells.
func (rp *reported) tally(path string, rec formats.Record, o ledger.Outcome) {
	st := report.Status(o.Status)
	if o.Code != codeNotSent {
		rp.counts[st]++
	}
	if o.Code != "" {
		if rp.errorCodes[o.Code]++; rp.errorMessages[o.Code] == "" {
			rp.errorMessages[o.Code] = o.Message
		}
	}
	if st.Problem() && o.Code != codeNotSent && len(rp.firstProblems) < maxFirstProblems {
		rp.firstProblems = append(rp.firstProblems, report.ProblemLine(path, rec, o))
	}
}

// outcomesOf is where pass 3 finds the outcome of row seq: from st as the
// calls are made (none for a dry run) and, for a resumed run, from the
// ledger (cur, to close) for the rows done before it stopped, or sent and
// unknown then and not sent again since.
func outcomesOf(st *stream, earlier *ledgerOutcomes) (func(seq int) (ledger.Outcome, bool), *ledger.Cursor, error) {
	outcomes := func(int) (ledger.Outcome, bool) { return ledger.Outcome{}, false }
	if st != nil {
		outcomes = st.wait
	}
	if earlier == nil {
		return outcomes, nil, nil
	}
	cur, err := earlier.led.OutcomesApart(context.Background(), earlier.runID)
	if err != nil {
		return nil, nil, err
	}
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
			return ledger.Outcome{Status: string(report.StatusUnknown), Code: "UNKNOWN_OUTCOME",
				Message: "sent by this run before it stopped, which then did not know what came of it; not read back yet: run the same command to read it back"}, true
		}
		return ledger.Outcome{}, false
	}
	return outcomes, cur, nil
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
	return &fault.UsageError{Msg: fmt.Sprintf("%s: %s: %s would be XLSX, and an XLSX sheet holds at most %d rows and its header; nothing was sent",
		cfg.Path, n, what, xlsxReportRows), Fix: "pass --format csv (a CSV report has no row limit), or split the file"}
}

// codeNotSent is the error code of the rows a stopped run never sent: they
// are counted apart (Summary.NotSent, not in Summary.Counts) and not listed
// one by one.
const codeNotSent = report.CodeNotSent

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

// callCounter counts the calls that a job's valid rows make, sending nothing:
// the plan of a kind that is not sequential (each chunk let go as soon as it is
// planned, so memory stays flat), one call a row for a sequential kind. For a
// subscriptions job it counts the reads --read-before makes too (p.readBefore):
// one for each row whose customer's state the run would not know, forgotten as
// the run forgets it (states: everything past maxStates customers); they are
// calls when readBefore is set.
func callCounter(j *jobfile.File, concurrency int, readBefore bool, p *planned) (add func(kind.Item) error, flush func() error) {
	if j.Kind.Sequential {
		seed := maphash.MakeSeed()
		known := map[uint64]struct{}{}
		return func(it kind.Item) error {
			p.calls++
			p.chunks++
			if j.Kind == kind.Subscriptions && len(it.Lanes) > 0 {
				customer := maphash.String(seed, it.Lanes[0])
				if _, ok := known[customer]; !ok {
					p.readBefore++
					if readBefore {
						p.calls++
					}
				}
				if len(known) >= kind.MaxStates {
					clear(known)
				}
				known[customer] = struct{}{}
			}
			return nil
		}, func() error { return nil }
	}
	ln := newLanes()
	pl := newPlanner(j.ChunkSize, 1024, ln, func(c *chunk) error {
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

// newReports creates the reports of job j; those of a password-protected
// workbook are protected with its password.
func newReports(cfg Config, j *jobfile.File) (*report.Writer, error) {
	password := ""
	if j.Protect {
		password = cfg.XLSXPassword
	}
	paths := report.PathsFor(cfg.Path, cfg.OutDir, cfg.Format, cfg.DryRun)
	layout := report.Layout{Header: j.Header, Required: j.Kind.Required, Outputs: j.Kind.Outputs, Overrides: cfg.Overrides, Amounts: j.Amounts}
	return report.Create(paths, cfg.Format, layout, password)
}
