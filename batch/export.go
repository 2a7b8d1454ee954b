package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
)

// ExportColumns are the columns of a charges export. The first four make it a
// valid charges job: fill reference_number, set action, run it.
var ExportColumns = []string{"number", "billing_system_customer_identifier", "reference_number", "action",
	"amount", "currency", "local_currency_amount", "local_currency", "charge_status", "paid_through_date",
	"received_on", "set_as_approved_on", "set_as_declined_on", "set_as_bad_request_on", "set_as_rejected_request_on",
	"amount_raw", "local_currency_amount_raw"}

// Export is what a charges export wrote.
type Export struct {
	Path      string         `json:"path"`
	Status    string         `json:"charge_status"`
	Charges   int            `json:"charges"`
	PerStatus map[string]int `json:"per_status"`
	Totals    []Total        `json:"totals"`
	Calls     int            `json:"calls"`
	Passes    int            `json:"passes"`
}

// pageSize is the most charges/list returns in one call.
const pageSize = 50

// ExportCharges pages netflix/charges/list into out, oldest first. Charges that
// are acknowledged while it pages drop out of the list and shift the pages
// after them, so a page can skip charges that are still there: it lists again
// from the start until a whole pass finds no charge it had not seen.
func (s *Session) ExportCharges(ctx context.Context, status, out string, f formats.Format, progress func(charges int)) (*Export, error) {
	if status != crm.ChargeStatusNotProcessed && status != crm.ChargeStatusProcessed {
		return nil, &UsageError{Msg: fmt.Sprintf("--status %q: NOT_PROCESSED (pending charges) or PROCESSED", status)}
	}
	e := &Export{Path: out, Status: status, PerStatus: map[string]int{}}
	seen := map[string]bool{}
	var charges []crm.Charge
	for {
		e.Passes++
		found := 0
		for offset := 0; ; {
			var page []crm.Charge
			err := s.read(ctx, func(ctx context.Context) (err error) {
				page, err = s.x.client.ListCharges(ctx, crm.ListChargesRequest{NumberOfResults: pageSize, ChargeStatus: status, Offset: offset})
				return err
			})
			e.Calls++
			if err != nil {
				return nil, &FatalError{Err: fmt.Errorf("listing charges: %w", err)}
			}
			for _, c := range page {
				if !seen[c.Number] {
					seen[c.Number] = true
					charges = append(charges, c)
					found++
				}
			}
			if progress != nil {
				progress(len(charges))
			}
			offset += len(page)
			if len(page) < pageSize {
				break
			}
		}
		if found == 0 {
			break // a whole pass found nothing new: nothing was skipped
		}
	}
	sort.SliceStable(charges, func(a, b int) bool { return deref(charges[a].ReceivedOn) < deref(charges[b].ReceivedOn) })

	kinds := make([]formats.CellKind, len(ExportColumns))
	for i, c := range ExportColumns {
		switch {
		case c == "amount" || c == "local_currency_amount":
			kinds[i] = formats.Number
		case c == "paid_through_date" || c == "received_on" || strings.HasPrefix(c, "set_as_"):
			kinds[i] = formats.Date
		}
	}
	w, err := formats.CreateTypedReport(out, f, ExportColumns, kinds)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	defer w.Abort()
	tot := newTotalsAt(4, 5) // amount, currency
	for _, c := range charges {
		row := []string{c.Number, c.BillingSystemCustomerIdentifier, "", ActionAcknowledge,
			money(c.Amount, c.Currency), c.Currency, money(c.LocalCurrencyAmount, c.LocalCurrency), c.LocalCurrency,
			c.ChargeStatus, deref(c.PaidThroughDate), deref(c.ReceivedOn), deref(c.SetAsApprovedOn),
			deref(c.SetAsDeclinedOn), deref(c.SetAsBadRequestOn), deref(c.SetAsRejectedRequestOn),
			string(c.Amount), string(c.LocalCurrencyAmount)}
		if err := w.WriteRow(row, formats.Plain); err != nil {
			return nil, err
		}
		e.PerStatus[c.ChargeStatus]++
		tot.add(row, Status(c.ChargeStatus))
	}
	e.Charges = len(charges)
	e.Totals = tot.list()
	sheet := [][]string{{"what", "value"}, {"charge_status", status}, {"charges", fmt.Sprint(e.Charges)}}
	sheet = append(sheet, countRows("charges ", e.PerStatus)...)
	sheet = append(sheet, totalRows(e.Totals)...)
	if err := w.AddSheet("Summary", sheet); err != nil {
		return nil, err
	}
	if err := w.Commit(); err != nil {
		return nil, err
	}
	return e, nil
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
	return r.FloatString(minorUnits(currency))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
