package report

import (
	"math/big"
	"sort"
	"strings"
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

// Totals sums the amount column of a charges job per status and currency.
type Totals struct {
	amountCol, currencyCol int
	sums                   map[[2]string]*Total
	rats                   map[[2]string]*big.Rat
}

// NewTotals totals the amounts of column a in the currencies of column c
// (-1: no currency column).
func NewTotals(a, c int) *Totals {
	return &Totals{amountCol: a, currencyCol: c, sums: map[[2]string]*Total{}, rats: map[[2]string]*big.Rat{}}
}

// Add counts a row of the status.
func (t *Totals) Add(fields []string, status Status) {
	cur := ""
	if t.currencyCol >= 0 {
		cur = strings.ToUpper(strings.TrimSpace(fields[t.currencyCol]))
	}
	amount, ok := parseAmount(fields[t.amountCol])
	for _, st := range []string{"input", string(status)} {
		k := [2]string{st, cur}
		tot := t.sums[k]
		if tot == nil {
			tot = &Total{Status: st, Currency: cur}
			t.sums[k] = tot
			t.rats[k] = new(big.Rat)
		}
		tot.Count++
		if ok {
			t.rats[k].Add(t.rats[k], amount)
		} else {
			tot.Unparsed++
		}
	}
}

// List returns the totals, input first, then by status and currency.
func (t *Totals) List() []Total {
	if t == nil {
		return nil
	}
	out := make([]Total, 0, len(t.sums))
	for k, tot := range t.sums {
		tot.Amount = t.rats[k].FloatString(MinorUnits(tot.Currency))
		out = append(out, *tot)
	}
	rank := map[string]int{"input": 0, string(StatusOK): 1, string(StatusFailed): 2, string(StatusInvalid): 3, string(StatusSkipped): 4, string(StatusPlanned): 5}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Status != out[b].Status {
			return rank[out[a].Status] < rank[out[b].Status]
		}
		return out[a].Currency < out[b].Currency
	})
	return out
}

// parseAmount reads an amount as a spreadsheet user wrote it: 5.99, 5,99 (a
// decimal comma), 1,234.56 or 1 234,56 (grouped), -3.
func parseAmount(s string) (*big.Rat, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if s == "" {
		return nil, false
	}
	if strings.Contains(s, ".") && strings.Contains(s, ",") {
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			s = strings.ReplaceAll(s, ".", "") // 1.234,56
		} else {
			s = strings.ReplaceAll(s, ",", "") // 1,234.56
		}
	}
	s = strings.ReplaceAll(s, ",", ".")
	if strings.ContainsAny(s, "eE/") { // big.Rat would take 1e3 and 1/3: an amount is neither
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// MinorUnits is how many decimals a currency's amounts have (ISO 4217).
func MinorUnits(currency string) int {
	switch currency {
	case "JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "UGX", "PYG", "RWF":
		return 0
	case "BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD":
		return 3
	}
	return 2
}
