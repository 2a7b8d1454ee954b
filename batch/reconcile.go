package batch

import (
	"fmt"
	"strings"
)

// reconcileToDo says, in the summary's Reconciliation, what to do with the
// rows that were not ok: the failed and invalid ones are fixed and run again
// from the failures report, the unknown ones read back by the same command.
func reconcileToDo(s *Summary) {
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
	failures := s.Reports.Failures
	if n := s.Counts[StatusFailed] - s.NotSent; n > 0 {
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d failed rows (%s): CRM.COM did not apply them. Read each row's error_message, correct what it names, then run: crmbatch run %s", n, amounts(string(StatusFailed)), shellQuote(failures)))
	}
	if s.NotSent > 0 {
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d rows not sent (NOT_SENT, counted as failed): the run stopped before them; the same command sends them", s.NotSent))
	}
	if n := s.Counts[StatusInvalid]; n > 0 {
		hint := ""
		if s.ErrorCodes[codeAmbiguousAmount] > 0 {
			hint = " (AMBIGUOUS_AMOUNT: or pass --decimal-mark , or --decimal-mark .)"
		}
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d invalid rows (%s): never sent. Correct the cell each error_message names%s, then run: crmbatch run %s", n, amounts(string(StatusInvalid)), hint, shellQuote(failures)))
	}
	if n := s.Counts[StatusUnknown]; n > 0 {
		resolve := s.Resolve
		if resolve == "" {
			resolve = "crmbatch run " + shellQuote(s.Input)
		}
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d unknown rows (%s): CRM.COM may have applied them. Do not acknowledge them by hand; run the same command, which reads them back: %s", n, amounts(string(StatusUnknown)), resolve))
	}
	if n := s.ErrorCodes[codeAmountEdited]; n > 0 {
		r.ToDo = append(r.ToDo, fmt.Sprintf("%d rows have an amount edited since the export (AMOUNT_EDITED): \"amount\" sums them as edited, \"amount as exported\" as CRM.COM holds them", n))
	}
}
