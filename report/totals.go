package report

import (
	"math/big"
	"sort"
	"strings"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
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

// Totals sums a charges job's amounts per action, status and currency as
// the rows are reported, with the one amount reader.
type Totals struct {
	cols *Amounts
	rec  *Reconciler
}

// NewTotals totals the amounts of the columns a; nil for nil.
func NewTotals(a *Amounts) *Totals {
	if a == nil {
		return nil
	}
	return &Totals{cols: a, rec: NewReconciler(a.exported >= 0)}
}

// Add counts a reported row of the action with its outcome, and returns the
// outcome with the AMOUNT_EDITED warning when its amount is not the one
// exported.
func (t *Totals) Add(rec formats.Record, action string, o ledger.Outcome) ledger.Outcome {
	c := t.cols
	amt, err := c.read(rec, c.amount)
	if err != nil {
		amt = nil
	}
	var exported *big.Rat
	if c.exported >= 0 && c.exported < len(rec.Fields) {
		exported, _ = amount.Number(strings.TrimSpace(rec.Fields[c.exported]))
	}
	cur := currencyOf(rec, c.currency)
	edited := false
	if a, x := c.edited(rec); a != nil && Status(o.Status) != StatusInvalid {
		edited = true
		msg := editedMessage(a, x, cur)
		if o.Code == "" {
			o.Code, o.Message = CodeAmountEdited, msg
		} else {
			o.Message += "; " + msg
		}
	}
	status := o.Status
	if o.Code == CodeNotSent {
		status = "not_sent"
	}
	t.rec.Add(action, status, cur, amt, exported, edited)
	return o
}

// Reconciliation is the totals' Reconciliation (nil for no totals).
func (t *Totals) Reconciliation() *Reconciliation {
	if t == nil {
		return nil
	}
	return t.rec.Result()
}

// ListTotals are the control totals per status and currency of a
// reconciliation: input first, then by status, then by currency.
func ListTotals(r *Reconciliation) []Total {
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
			return rank(out[a].Status) < rank(out[b].Status)
		}
		return out[a].Currency < out[b].Currency
	})
	return out
}

// ExportTotals sums a charges export's amounts per charge status and
// currency.
type ExportTotals struct{ rec *Reconciler }

// Add counts a charge: its amount as written, currency and status.
func (t *ExportTotals) Add(amountText, currency, status string) {
	if t.rec == nil {
		t.rec = NewReconciler(false)
	}
	a, err := amount.Number(amountText)
	if err != nil {
		a = nil
	}
	t.rec.Add("", status, strings.ToUpper(strings.TrimSpace(currency)), a, nil, false)
}

// List returns the totals, input first.
func (t *ExportTotals) List() []Total { return ListTotals(t.rec.Result()) }
