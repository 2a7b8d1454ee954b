package report

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// WriteText tells what a run or a validation did as a person reads it at a
// terminal or in cron's mail: a line of counts, the first problems, what to
// do about rows not sent or unknown, a charges job's reconciliation, and the
// reports' paths.
func (s *Summary) WriteText(w io.Writer) {
	verb := "ran"
	if s.DryRun {
		verb = "validated"
	}
	for _, u := range s.UnusedColumns {
		fmt.Fprintf(w, "crmbatch: warning: %s: %s by a %s job: copied to the reports, never sent\n", s.Input, u, s.Job)
	}
	if s.Rows == 0 {
		fmt.Fprintf(w, "crmbatch: %s %s (%s job): no rows, nothing to do", verb, s.Input, s.Job)
		if s.DryRun {
			fmt.Fprintf(w, "\n  plan:     %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Summary)
			return
		}
		fmt.Fprintf(w, "\n  results:  %s\n  failures: %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Failures, s.Reports.Summary)
		return
	}
	fmt.Fprintf(w, "crmbatch: %s %s (%s job): %d rows", verb, s.Input, s.Job, s.Rows)
	for _, st := range s.statuses() {
		if n := s.Counts[st]; n > 0 {
			fmt.Fprintf(w, ", %d %s", n, st)
		}
	}
	if s.NotSent > 0 {
		fmt.Fprintf(w, ", %d not sent", s.NotSent)
	}
	fmt.Fprintf(w, "; %d calls", s.Calls)
	if s.DryRun {
		fmt.Fprintf(w, " planned in %d chunks, about %s at the given --rate", s.Chunks, seconds(s.EstimatedSeconds))
		switch {
		case s.ReadBeforeCalls > 0 && s.ReadBefore:
			fmt.Fprintf(w, " (%d of them read customers' subscriptions before their first rows: --read-before)", s.ReadBeforeCalls)
		case s.ReadBeforeCalls > 0:
			fmt.Fprintf(w, " (--read-before would add %d calls, %s)", s.ReadBeforeCalls, seconds(float64(s.ReadBeforeCalls)*s.EstimatedSeconds/float64(max(s.Calls, 1))))
		}
	} else {
		fmt.Fprintf(w, ", %d retries, %s", s.Retries, time.Duration(s.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	for _, p := range s.FirstProblems {
		fmt.Fprintf(w, "\n  %s", p)
	}
	if n := s.Problems() - s.NotSent - len(s.FirstProblems); n > 0 {
		where := "the failures report"
		if s.DryRun {
			where = "the plan"
		}
		fmt.Fprintf(w, "\n  ... and %d more in %s", n, where)
	}
	if s.NotSent > 0 {
		fmt.Fprintf(w, "\n  %d rows not sent: the run stopped before them; the same command sends them", s.NotSent)
	}
	if n := s.Counts[StatusUnknown]; n > 0 && s.Resolve != "" {
		fmt.Fprintf(w, "\n  %d rows unknown: they may have been applied; %s (the same command) reads them back, as does crmbatch run %s", n, s.Resolve, s.Reports.Failures)
	}
	s.writeReconciliation(w)
	if s.DryRun {
		fmt.Fprintf(w, "\n  plan:     %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Summary)
		return
	}
	fmt.Fprintf(w, "\n  results:  %s\n  failures: %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Failures, s.Reports.Summary)
}

// statuses are the summary's statuses in the order they are told: the known
// ones first, then any other, sorted.
func (s *Summary) statuses() []Status {
	order := []Status{StatusOK, StatusPlanned, StatusFailed, StatusInvalid, StatusUnknown, StatusSkipped}
	known := map[Status]bool{}
	for _, st := range order {
		known[st] = true
	}
	var other []Status
	for st := range s.Counts {
		if !known[st] {
			other = append(other, st)
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i] < other[j] })
	return append(order, other...)
}

// LogAttrs are the summary's figures as log attributes: the "run finished"
// and "file done" lines carry them.
func (s *Summary) LogAttrs() []any {
	attrs := []any{"input", s.Input, "job", s.Job, "rows", s.Rows}
	for _, st := range s.statuses() {
		if n := s.Counts[st]; n > 0 {
			attrs = append(attrs, string(st), n)
		}
	}
	if s.NotSent > 0 {
		attrs = append(attrs, "not_sent", s.NotSent)
	}
	if s.Resolve != "" {
		attrs = append(attrs, "resolve", s.Resolve)
	}
	if len(s.UnusedColumns) > 0 {
		attrs = append(attrs, "unused_columns", s.UnusedColumns)
	}
	attrs = append(attrs, "calls", s.Calls)
	if !s.DryRun {
		attrs = append(attrs, "retries", s.Retries, "throttled", s.Throttled, "duration_seconds", s.DurationSeconds)
	}
	if s.DryRun {
		return append(attrs, "plan", s.Reports.Results, "summary", s.Reports.Summary)
	}
	return append(attrs, "results", s.Reports.Results, "failures", s.Reports.Failures, "summary", s.Reports.Summary)
}

// writeReconciliation adds a charges job's check per currency to the end
// line: "USD: input 1234.56 (448 rows) = ok 1200.00 (440) + failed 34.56
// (8): holds", the figures of the Reconciliation sheet.
func (s *Summary) writeReconciliation(w io.Writer) {
	if s.Reconciliation == nil {
		return
	}
	for _, c := range s.Reconciliation.Checks {
		cur := c.Currency
		if cur == "" {
			cur = "(no currency)"
		}
		fmt.Fprintf(w, "\n  %s: input %s (%d rows)", cur, c.Input.Amount, c.Input.Rows)
		sign := "="
		for _, p := range c.Parts {
			if p.Rows == 0 {
				continue
			}
			fmt.Fprintf(w, " %s %s %s (%d)", sign, p.Status, p.Amount, p.Rows)
			sign = "+"
		}
		notRead := 0
		for _, l := range s.Reconciliation.Lines {
			if l.Status == "input" && l.Currency == c.Currency {
				notRead += l.NotRead
			}
		}
		if notRead > 0 {
			fmt.Fprintf(w, " (%d amounts not read, in the rows but not the sums)", notRead)
		}
		if c.Holds {
			fmt.Fprint(w, ": holds")
		} else {
			fmt.Fprint(w, ": DOES NOT HOLD")
		}
	}
}

// seconds is a duration in seconds as a person reads it: to the second, or to
// a tenth under 10 s (3 calls at 10/s are 0.3s, not 0s).
func seconds(s float64) time.Duration {
	d := time.Duration(s * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
