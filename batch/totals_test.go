package batch_test

import (
	"context"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestChargeControlTotalsAddUp runs a charge sheet with ok, failed, invalid
// and skipped rows in two currencies, and checks the control totals: exact
// amounts per status and currency that add up to the input's.
func TestChargeControlTotalsAddUp(t *testing.T) {
	t.Parallel()
	_, api := startSandbox(t, sandbox.Options{})
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	header := []string{"number", "billing_system_customer_identifier", "amount", "currency"}
	earlier := writeCSV(t, dir, "earlier.csv", [][]string{header, {"I00000004", "pci004", "13.99", "USD"}})
	cfg := runConfig(t, earlier, api)
	cfg.StateDir = state
	if _, err := batch.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	path := writeCSV(t, dir, "sheet.csv", [][]string{header,
		{"I00000001", "pci001", "7.99", "USD"},
		{"I00000002", "pci002", "9,99", "USD"},     // a decimal comma
		{"I00000004", "pci004", "13.99", "USD"},    // acknowledged by the earlier run: skipped
		{"I00000005", "pci999", "2.99", "EUR"},     // not this customer's: failed
		{"I00000010", "pci010", "1,011.99", "eur"}, // grouped, currency in lower case
		{"3.5E+14", "pci001", "0.01", "EUR"},       // invalid
		{"I00000011", "pci011", "0.10", "USD"},
		{"I00000013", "pci013", "0.20", "USD"},
	})
	cfg.Path = path
	s, err := batch.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]struct {
		count  int
		amount string
	}{
		{"input", "EUR"}:   {3, "1014.99"},
		{"input", "USD"}:   {5, "32.27"},
		{"ok", "EUR"}:      {1, "1011.99"},
		{"ok", "USD"}:      {4, "18.28"},
		{"failed", "EUR"}:  {1, "2.99"},
		{"invalid", "EUR"}: {1, "0.01"},
		{"skipped", "USD"}: {1, "13.99"},
	}
	if len(s.Totals) != len(want) {
		t.Fatalf("totals %+v, want %d lines", s.Totals, len(want))
	}
	sums := map[string]*big.Rat{}
	for _, tot := range s.Totals {
		w, ok := want[[2]string{tot.Status, tot.Currency}]
		if !ok || tot.Count != w.count || tot.Amount != w.amount {
			t.Errorf("total %+v, want %+v", tot, w)
		}
		r, _ := new(big.Rat).SetString(tot.Amount)
		key := tot.Currency
		if tot.Status == "input" {
			key = "input " + key
		}
		if sums[key] == nil {
			sums[key] = new(big.Rat)
		}
		sums[key].Add(sums[key], r)
	}
	for _, cur := range []string{"EUR", "USD"} {
		if sums[cur].Cmp(sums["input "+cur]) != 0 {
			t.Errorf("%s: statuses add up to %s, input is %s", cur, sums[cur].FloatString(2), sums["input "+cur].FloatString(2))
		}
	}
}
