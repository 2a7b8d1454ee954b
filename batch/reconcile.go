package batch

import (
	"fmt"
	"strings"

	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/lineage"
	"github.com/crmbatch/crmbatch/report"
)

// rowAction is a charges row's action as the reconciliation counts it: the
// item's, else as written (an invalid row), else the default.
func rowAction(j *jobfile.File, r *jobfile.Row) string {
	if r.Item.Action != "" {
		return r.Item.Action
	}
	if v := strings.TrimSpace(j.Overrides["action"]); v != "" {
		return strings.ToLower(v)
	}
	if i, ok := j.Index["action"]; ok && i < len(r.Rec.Fields) && strings.TrimSpace(r.Rec.Fields[i]) != "" {
		return strings.ToLower(strings.TrimSpace(r.Rec.Fields[i]))
	}
	return kind.ActionAcknowledge
}

// commit completes the summary's Reconciliation with what to do, and puts
// the reports in place with their Reconciliation and Summary sheets.
func commit(rep *report.Writer, s *report.Summary) error {
	reconcileToDo(s)
	return rep.Commit(s)
}

// reconcileToDo says, in the summary's Reconciliation, what to do with the
// rows that were not ok: the failed and invalid ones are fixed and run again
// from the failures report, the unknown ones read back by the same command.
func reconcileToDo(s *report.Summary) {
	r := s.Reconciliation
	if r == nil {
		return
	}
	r.ToDo = nil
	amounts := func(status string) string {
		var parts []string
		for _, c := range r.Checks {
			for _, p := range c.Parts {
				if p.Status == status && p.Rows > 0 {
					parts = append(parts, strings.TrimSpace(c.Currency+" "+p.Amount))
				}
			}
		}
		return strings.Join(parts, ", ")
	}
	failures := lineage.ShellQuote(s.Reports.Failures)
	if n := s.Counts[report.StatusFailed]; n > 0 {
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d failed rows (%s): CRM.COM did not apply them. Read each row's error_message, correct what it names, then run: crmbatch run %s", n, amounts("failed"), failures))
	}
	if s.NotSent > 0 {
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d rows not sent (%s): the run stopped before them; the same command sends them", s.NotSent, amounts("not_sent")))
	}
	if n := s.Counts[report.StatusInvalid]; n > 0 {
		hint := ""
		if s.ErrorCodes[report.CodeAmbiguousAmount] > 0 {
			hint = " (AMBIGUOUS_AMOUNT: or pass --decimal-mark , or --decimal-mark .)"
		}
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d invalid rows (%s): never sent. Correct the cell each error_message names%s, then run: crmbatch run %s", n, amounts("invalid"), hint, failures))
	}
	if n := s.Counts[report.StatusUnknown]; n > 0 {
		resolve := s.Resolve
		if resolve == "" {
			resolve = "crmbatch run " + lineage.ShellQuote(s.Input)
		}
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d unknown rows (%s): CRM.COM may have applied them. Do not acknowledge them by hand; run the same command, which reads them back: %s", n, amounts("unknown"), resolve))
	}
	if n := s.ErrorCodes[report.CodeAmountEdited]; n > 0 {
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d rows have an amount edited since the export (AMOUNT_EDITED): \"amount\" sums them as edited, \"amount as exported\" as CRM.COM holds them", n))
	}
}
