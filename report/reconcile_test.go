package report

import (
	"math/big"
	"testing"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
)

func rat(s string) *big.Rat {
	r, _ := new(big.Rat).SetString(s)
	return r
}

// TestReconciler: the lines per action, status and currency, the check per
// currency with every status shown, and the sheet's figures as numbers.
func TestReconciler(t *testing.T) {
	r := NewReconciler(true)
	r.Add("acknowledge", "ok", "USD", rat("5.99"), rat("5.99"), false)
	r.Add("acknowledge", "ok", "USD", rat("99.99"), rat("5.99"), true)
	r.Add("acknowledge", "failed", "USD", rat("2.99"), rat("2.99"), false)
	r.Add("accept", "invalid", "JPY", nil, nil, false) // an amount not read
	r.Add("accept", "ok", "JPY", rat("1234"), rat("1234"), false)
	got := r.Result()
	want := []ReconLine{
		{Action: "accept", Status: "input", Currency: "JPY", Rows: 2, Amount: "1234", NotRead: 1, AmountExported: "1234"},
		{Action: "accept", Status: "ok", Currency: "JPY", Rows: 1, Amount: "1234", AmountExported: "1234"},
		{Action: "accept", Status: "invalid", Currency: "JPY", Rows: 1, Amount: "0", NotRead: 1, AmountExported: "0"},
		{Action: "acknowledge", Status: "input", Currency: "USD", Rows: 3, Amount: "108.97", AmountExported: "14.97", Edited: 1},
		{Action: "acknowledge", Status: "ok", Currency: "USD", Rows: 2, Amount: "105.98", AmountExported: "11.98", Edited: 1},
		{Action: "acknowledge", Status: "failed", Currency: "USD", Rows: 1, Amount: "2.99", AmountExported: "2.99"},
	}
	if len(got.Lines) != len(want) {
		t.Fatalf("lines %+v", got.Lines)
	}
	for i := range want {
		if got.Lines[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got.Lines[i], want[i])
		}
	}
	if !got.Holds() || len(got.Checks) != 2 {
		t.Fatalf("checks %+v", got.Checks)
	}
	usd := got.Checks[1]
	if usd.Currency != "USD" || usd.Input.Amount != "108.97" || len(usd.Parts) != 5 || usd.Parts[0].Amount != "105.98" || usd.Parts[3].Status != "unknown" {
		t.Errorf("USD check %+v", usd)
	}
	rows, kinds := got.Sheet()
	for i, row := range rows[1 : 1+len(want)] {
		for c := 3; c < 5; c++ {
			k := kinds[i+1][c]
			if _, isAmount := amountKindDecimals(k); k != formats.Integer && !isAmount {
				t.Errorf("sheet row %d column %d (%q) kind %v, want a number", i+2, c, row[c], k)
			}
		}
	}
}

// amountKindDecimals tells an amount kind by the decimals it shows.
func amountKindDecimals(k formats.CellKind) (int, bool) {
	for d := range 5 {
		if k == formats.AmountKind(d) {
			return d, true
		}
	}
	return 0, false
}

// TestTotalsCountNotSentApart: rows a stopped run never sent are reported
// failed NOT_SENT; the reconciliation counts them as not_sent, apart from the
// failed rows CRM.COM refused, and the check per currency still holds.
func TestTotalsCountNotSentApart(t *testing.T) {
	tot := NewTotals(AmountColumns(map[string]int{"amount": 0, "currency": 1}, amount.Point))
	for _, tc := range []struct {
		amount string
		o      ledger.Outcome
	}{
		{"1.00", ledger.Outcome{Status: "ok"}},
		{"2.00", ledger.Outcome{Status: "failed", Code: "1", Message: "refused"}},
		{"4.00", ledger.Outcome{Status: "failed", Code: CodeNotSent}},
		{"8.00", ledger.Outcome{Status: "failed", Code: CodeNotSent}},
	} {
		tot.Add(formats.Record{Fields: []string{tc.amount, "EUR"}}, "acknowledge", tc.o)
	}
	r := tot.Reconciliation()
	if len(r.Checks) != 1 || !r.Checks[0].Holds {
		t.Fatalf("checks %+v, want one that holds", r.Checks)
	}
	got := map[string]CheckPart{}
	for _, p := range r.Checks[0].Parts {
		got[p.Status] = p
	}
	for status, want := range map[string]CheckPart{
		"ok":       {Status: "ok", Rows: 1, Amount: "1.00"},
		"failed":   {Status: "failed", Rows: 1, Amount: "2.00"},
		"not_sent": {Status: "not_sent", Rows: 2, Amount: "12.00"},
	} {
		if got[status] != want {
			t.Errorf("%s: %+v, want %+v", status, got[status], want)
		}
	}
	if last := r.Checks[0].Parts[len(r.Checks[0].Parts)-1]; last.Status != "not_sent" {
		t.Errorf("the check ends with %q, want not_sent after the statuses every check shows", last.Status)
	}
}
