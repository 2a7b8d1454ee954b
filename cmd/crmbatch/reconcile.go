package main

import (
	"fmt"
	"io"

	"github.com/crmbatch/crmbatch/report"
)

// printReconciliation adds a charges job's check per currency to the end
// line: "USD: input 1234.56 (448 rows) = ok 1200.00 (440) + failed 34.56
// (8): holds", the figures of the Reconciliation sheet.
func printReconciliation(w io.Writer, s *report.Summary) {
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
