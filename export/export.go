// Package export writes the charges that an installation holds
// (netflix/charges/list) to a CSV or XLSX file that is itself a charges job:
// a finance team fills reference_number and runs it to acknowledge them. It
// reads through a logged-in batch.Session, with the run's pacing and
// retries, and sends nothing.
package export

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
)

// Result is what a charges export wrote.
type Result struct {
	Path      string         `json:"path"`
	Status    string         `json:"charge_status"`
	Charges   int            `json:"charges"`
	PerStatus map[string]int `json:"per_status"`
	Totals    []report.Total `json:"totals"`
	Calls     int            `json:"calls"`
	Passes    int            `json:"passes"`
}

// pageSize is the most charges/list returns in one call.
const pageSize = 50

// maxPasses bounds how many times the export lists again from the start: only
// charges acknowledged by another process while it pages make it list again, and
// each pass must find a charge the others missed.
const maxPasses = 20

// Charges pages netflix/charges/list into out, oldest first. Charges that
// are acknowledged while it pages drop out of the list and shift the pages
// after them, so a page can skip charges that are still there: it lists again
// from the start until a whole pass finds no charge it had not seen.
//
// Its calls are bounded by the pending count: a pass makes at most one call per
// 50 charges seen so far, plus two, and there are at most maxPasses passes. A
// full page at a later offset that brings no charge the pass had not already
// listed means the server ignores offset (it answers every offset with the same
// page): the export then stops, writes what it listed to out, and returns a
// *fault.FatalError saying the file is incomplete.
func Charges(ctx context.Context, s *batch.Session, status, out string, f formats.Format, progress func(charges int)) (*Result, error) {
	if status != crm.ChargeStatusNotProcessed && status != crm.ChargeStatusProcessed {
		return nil, &fault.UsageError{Msg: fmt.Sprintf("--status %q: NOT_PROCESSED (pending charges) or PROCESSED", status)}
	}
	e := &Result{Path: out, Status: status, PerStatus: map[string]int{}}
	charges, stuck, err := listCharges(ctx, s, e, status, progress)
	if err != nil {
		return nil, err
	}
	if err := e.write(charges, f); err != nil {
		return nil, err
	}
	if stuck != nil {
		return e, &fault.FatalError{Err: fault.WithHint(stuck, fmt.Sprintf("%s holds the %d charges listed until then and is incomplete; "+
			"ask the installation's administrators about charges/list paging", out, e.Charges))}
	}
	return e, nil
}

// listCharges pages charges/list in passes (see Charges). stuck, when not
// nil, says why the listing stopped before it was complete; charges then holds
// what was listed.
func listCharges(ctx context.Context, s *batch.Session, e *Result, status string, progress func(charges int)) (charges []crm.Charge, stuck, err error) {
	seen := map[string]bool{}
	for {
		e.Passes++
		if e.Passes > maxPasses {
			return charges, fmt.Errorf("charges/list kept changing: %d passes each found charges the others had missed", maxPasses), nil
		}
		found, calls := 0, 0
		inPass := map[string]bool{}
		for offset := 0; ; {
			if calls >= len(seen)/pageSize+2 {
				return charges, fmt.Errorf("charges/list answered more pages than the %d charges it listed fill", len(seen)), nil
			}
			var page []crm.Charge
			err := s.Read(ctx, func(ctx context.Context) (err error) {
				page, err = s.Client().ListCharges(ctx, crm.ListChargesRequest{NumberOfResults: pageSize, ChargeStatus: status, Offset: offset})
				return err
			})
			e.Calls++
			calls++
			if err != nil {
				return nil, nil, &fault.FatalError{Err: fmt.Errorf("listing charges: %w", err)}
			}
			fresh := 0
			for _, c := range page {
				if !inPass[c.Number] {
					inPass[c.Number] = true
					fresh++
				}
				if !seen[c.Number] {
					seen[c.Number] = true
					charges = append(charges, c)
					found++
				}
			}
			if progress != nil {
				progress(len(charges))
			}
			if len(page) < pageSize {
				break
			}
			if offset > 0 && fresh == 0 {
				// Acknowledged charges only leave the list, so a later full
				// page always holds charges the pass has not listed: this
				// server answered with a page it had given already.
				return charges, fmt.Errorf("charges/list answered offset %d with charges it had already listed at a lower offset: the server seems to ignore offset", offset), nil
			}
			offset += len(page)
		}
		if found == 0 {
			return charges, nil, nil // a whole pass found nothing new: nothing was skipped
		}
	}
}

// write writes the charges, oldest first, to e.Path with a report.Summary sheet.
func (e *Result) write(charges []crm.Charge, f formats.Format) error {
	out := e.Path
	status := e.Status
	sort.SliceStable(charges, func(a, b int) bool { return deref(charges[a].ReceivedOn) < deref(charges[b].ReceivedOn) })

	kinds := make([]formats.CellKind, len(kind.ExportColumns))
	for i, c := range kind.ExportColumns {
		if report.ExportDates[c] {
			kinds[i] = formats.Date
		}
	}
	w, err := formats.CreateTypedReport(out, f, kind.ExportColumns, kinds)
	if err != nil {
		return &fault.UsageError{Err: err}
	}
	defer w.Abort()
	var tot report.ExportTotals
	cells := make([]formats.CellKind, len(kind.ExportColumns))
	for _, c := range charges {
		row := []string{c.Number, c.BillingSystemCustomerIdentifier, "", kind.ActionAcknowledge,
			money(c.Amount, c.Currency), c.Currency, money(c.LocalCurrencyAmount, c.LocalCurrency), c.LocalCurrency,
			c.ChargeStatus, deref(c.PaidThroughDate), deref(c.ReceivedOn), deref(c.SetAsApprovedOn),
			deref(c.SetAsDeclinedOn), deref(c.SetAsBadRequestOn), deref(c.SetAsRejectedRequestOn),
			string(c.Amount), string(c.LocalCurrencyAmount)}
		// Amounts are numbers in their currency's decimals.
		cells[4], cells[6] = formats.AmountKind(amount.Decimals(c.Currency)), formats.AmountKind(amount.Decimals(c.LocalCurrency))
		if err := w.WriteCells(row, cells, formats.Plain); err != nil {
			return err
		}
		e.PerStatus[c.ChargeStatus]++
		tot.Add(row[4], c.Currency, c.ChargeStatus)
	}
	e.Charges = len(charges)
	e.Totals = tot.List()
	l := &report.SummaryLines{}
	l.Text("what", "value")
	l.Text("charge_status", status)
	l.Figure("charges", strconv.Itoa(e.Charges), "")
	statuses := make([]string, 0, len(e.PerStatus))
	for st := range e.PerStatus {
		statuses = append(statuses, st)
	}
	sort.Strings(statuses)
	for _, st := range statuses {
		l.Figure("charges "+st, strconv.Itoa(e.PerStatus[st]), "")
	}
	l.Totals(e.Totals)
	if err := w.AddTypedSheet("Summary", l.Rows, l.Kinds); err != nil {
		return err
	}
	return w.Commit()
}

// money shows an amount as the API sends it (a float with binary noise, such as
// 5.989999771118164) in the currency's decimals, rounded exactly: 5.99.
func money(n json.Number, currency string) string {
	if n == "" {
		return ""
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return string(n)
	}
	return amount.Format(r, currency)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
