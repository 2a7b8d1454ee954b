package batch

import (
	"math/big"
	"sort"
	"strings"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
)

// Total is a control total of a charges job: how many rows of a status, and
// their amount in one currency, summed exactly (never through a float).
type Total struct {
	Status   string `json:"status"` // "input" for every row of the file
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Amount   string `json:"amount"`
	// Unparsed counts rows whose amount was not a number: they are in Count,
	// not in Amount.
	Unparsed int `json:"unparsed_amounts,omitempty"`
}

// totals sums a charges job's amounts per action, status and currency as
// the rows are reported, with the one amount reader.
type totals struct {
	cols *chargeAmounts
	rec  *report.Reconciler
}

// newTotals returns nil when the job has no amount column to total.
func newTotals(j *job) *totals {
	if j.amounts == nil {
		return nil
	}
	return &totals{cols: j.amounts, rec: report.NewReconciler(j.amounts.exported >= 0)}
}

// add counts a reported row with its outcome, and returns the outcome with
// the AMOUNT_EDITED warning when its amount is not the one exported.
func (t *totals) add(rec formats.Record, item Item, o ledger.Outcome) ledger.Outcome {
	c := t.cols
	amt, err := c.read(rec, c.amount)
	if err != nil {
		amt = nil
	}
	var exported *big.Rat
	if c.exported >= 0 {
		exported, _ = amount.Number(strings.TrimSpace(rec.Fields[c.exported]))
	}
	cur := c.currencyOf(rec, c.currency)
	edited := false
	if a, x := c.edited(rec); a != nil && Status(o.Status) != StatusInvalid {
		edited = true
		msg := editedMessage(a, x, cur)
		if o.Code == "" {
			o.Code, o.Message = codeAmountEdited, msg
		} else {
			o.Message += "; " + msg
		}
	}
	t.rec.Add(c.actionOf(rec, item), o.Status, cur, amt, exported, edited)
	return o
}

// reconciliation is the totals' Reconciliation (nil for no totals).
func (t *totals) reconciliation() *report.Reconciliation {
	if t == nil {
		return nil
	}
	return t.rec.Result()
}

// listTotals are the control totals per status and currency of a
// reconciliation: input first, then by status, then by currency.
func listTotals(r *report.Reconciliation) []Total {
	if r == nil {
		return nil
	}
	var out []Total
	for _, ch := range r.Checks {
		notRead := map[string]int{}
		for _, l := range r.Lines {
			if l.Currency == ch.Currency {
				notRead[l.Status] += l.NotRead
			}
		}
		out = append(out, Total{Status: "input", Currency: ch.Currency, Count: ch.Input.Rows, Amount: ch.Input.Amount, Unparsed: notRead["input"]})
		for _, p := range ch.Parts {
			if p.Rows > 0 {
				out = append(out, Total{Status: p.Status, Currency: ch.Currency, Count: p.Rows, Amount: p.Amount, Unparsed: notRead[p.Status]})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Status != out[b].Status {
			return statusRank(out[a].Status) < statusRank(out[b].Status)
		}
		return out[a].Currency < out[b].Currency
	})
	return out
}

// statusRank orders the statuses of the totals: input, ok, failed, invalid,
// unknown, skipped, planned, then any other (a charge status of an export).
func statusRank(s string) int {
	for i, st := range []Status{"input", StatusOK, StatusFailed, StatusInvalid, StatusUnknown, StatusSkipped, StatusPlanned} {
		if Status(s) == st {
			return i
		}
	}
	return 7
}

// exportTotals sums a charges export's amounts per charge status and currency.
type exportTotals struct{ rec *report.Reconciler }

func (t *exportTotals) add(amountText, currency, status string) {
	if t.rec == nil {
		t.rec = report.NewReconciler(false)
	}
	a, err := amount.Number(amountText)
	if err != nil {
		a = nil
	}
	t.rec.Add("", status, currency, a, nil, false)
}

func (t *exportTotals) list() []Total { return listTotals(t.rec.Result()) }
