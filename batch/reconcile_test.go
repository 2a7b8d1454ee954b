package batch_test

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// chargeCell is a cell of a charges sheet written by writeChargesXLSX: a
// number cell when num, else text.
type chargeCell struct {
	text string
	num  bool
}

// writeChargesXLSX writes a charges sheet whose amount cells are numbers or
// texts as given; the other cells are text.
func writeChargesXLSX(t *testing.T, path string, header []string, rows [][]chargeCell) string {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	sheet := x.GetSheetName(0)
	for i, h := range header {
		ref, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := x.SetCellStr(sheet, ref, h); err != nil {
			t.Fatal(err)
		}
	}
	for r, row := range rows {
		for i, c := range row {
			ref, _ := excelize.CoordinatesToCellName(i+1, r+2)
			var err error
			if c.num {
				f, _ := strconv.ParseFloat(c.text, 64)
				err = x.SetCellFloat(sheet, ref, f, -1, 64)
			} else {
				err = x.SetCellStr(sheet, ref, c.text)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func txt(s string) chargeCell { return chargeCell{text: s} }
func num(s string) chargeCell { return chargeCell{text: s, num: true} }

// TestReconciliationWorkbook runs a charges sheet with grouped, decimal-comma,
// JPY and edited amounts, reads results.xlsx back with excelize, and checks
// the cells' types, the Reconciliation figures (also in the summary), and
// that the ok rows' amount cells add up to the ok total of each currency.
func TestReconciliationWorkbook(t *testing.T) {
	t.Parallel()
	_, api := startSandbox(t, sandbox.Options{})
	dir := t.TempDir()
	header := []string{"number", "billing_system_customer_identifier", "action", "amount", "currency", "amount_raw", "received_on"}
	path := writeChargesXLSX(t, filepath.Join(dir, "charges.xlsx"), header, [][]chargeCell{
		{txt("I00000001"), txt("pci001"), txt("acknowledge"), num("5.99"), txt("USD"), txt("5.989999771118164"), txt("2025-01-01T08:00:37")},
		{txt("I00000002"), txt("pci002"), txt("acknowledge"), txt("1.234,56"), txt("EUR"), txt("1234.56"), txt("")},              // grouped, decimal comma
		{txt("I00000004"), txt("pci004"), txt("acknowledge"), txt("7,50"), txt("EUR"), txt("7.5"), txt("")},                      // decimal comma
		{txt("I00000005"), txt("pci005"), txt("acknowledge"), num("1234"), txt("JPY"), txt("1234"), txt("")},                     // JPY, a number
		{txt("I00000007"), txt("pci007"), txt("acknowledge"), txt("12.345"), txt("JPY"), txt("12345"), txt("")},                  // JPY grouped: the file's mark is ,
		{txt("I00000008"), txt("pci008"), txt("acknowledge"), txt("99,99"), txt("USD"), txt("5.989999771118164"), txt("")},       // edited
		{txt("I00000010"), txt("pci999"), txt("acknowledge"), txt("2,99"), txt("USD"), txt("2.99"), txt("")},                     // not this customer's: failed
		{txt("3.5E+14"), txt("pci001"), txt("acknowledge"), txt("0,01"), txt("USD"), txt("0.01"), txt("")},                       // invalid number
		{txt("I00000013"), txt("pci013"), txt("accept"), txt("1\u00a0234,5"), txt("EUR"), txt("1234.5"), txt("")},                // French grouping
		{txt("I00000014"), txt("pci014"), txt("accept"), num("13.99"), txt("USD"), txt("13.989999771118164"), txt("2025-01-02")}, // accepted
	})
	s, err := batch.Run(context.Background(), runConfig(t, path, api))
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Reconciliation
	if rec == nil || !rec.Holds() {
		t.Fatalf("reconciliation %+v: want one whose checks hold", rec)
	}

	x, err := excelize.OpenFile(s.Reports.Results)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); strings.Join(got, ",") != "Results,Reconciliation,Summary" {
		t.Fatalf("sheets %v", got)
	}
	rows, err := x.GetRows("Results")
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	cell := func(name string, r int) string {
		ref, _ := excelize.CoordinatesToCellName(col[name]+1, r+1)
		return ref
	}
	typeOf := func(ref string) excelize.CellType {
		k, err := x.GetCellType("Results", ref)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	okSums := map[string]*big.Rat{}
	for r := 1; r < len(rows); r++ {
		for _, c := range []struct {
			name   string
			number bool
		}{{"number", false}, {"billing_system_customer_identifier", false}, {"row", true}, {"attempts", true}, {"amount_raw", false}, {"status", false}} {
			if got := typeOf(cell(c.name, r)) == excelize.CellTypeUnset; got != c.number {
				t.Errorf("%s (%s): a number cell %v, want %v", cell(c.name, r), c.name, got, c.number)
			}
		}
		ref := cell("amount", r)
		if typeOf(ref) != excelize.CellTypeUnset {
			t.Errorf("%s: amount is not a number cell", ref)
		}
		raw, _ := x.GetCellValue("Results", ref, excelize.Options{RawCellValue: true})
		status, _ := x.GetCellValue("Results", cell("status", r))
		cur, _ := x.GetCellValue("Results", cell("currency", r))
		shown, _ := x.GetCellValue("Results", ref)
		if want := amount.Decimals(cur); strings.Contains(shown, ".") != (want > 0) {
			t.Errorf("%s shows %q for %s, want %d decimals", ref, shown, cur, want)
		}
		if status == "ok" {
			v, err := amount.Number(raw)
			if err != nil {
				t.Fatalf("%s holds %q: %v", ref, raw, err)
			}
			if okSums[cur] == nil {
				okSums[cur] = new(big.Rat)
			}
			okSums[cur].Add(okSums[cur], v)
		}
	}
	if k := typeOf(cell("received_on", 1)); k != excelize.CellTypeUnset {
		t.Errorf("received_on is not a date cell: %v", k)
	}
	for _, c := range rec.Checks {
		for _, p := range c.Parts {
			if p.Status != "ok" {
				continue
			}
			got := "0"
			if okSums[c.Currency] != nil {
				got = amount.Format(okSums[c.Currency], c.Currency)
			}
			if got != p.Amount {
				t.Errorf("%s: the ok rows' amount cells sum to %s, the ok total is %s", c.Currency, got, p.Amount)
			}
		}
	}

	// The figures, as the summary and the Reconciliation sheet say them.
	want := map[string][3]string{ // action status currency: rows, amount, as exported
		"acknowledge input EUR":   {"2", "1242.06", "1242.06"},
		"acknowledge ok EUR":      {"2", "1242.06", "1242.06"},
		"acknowledge input JPY":   {"2", "13579", "13579"},
		"acknowledge ok JPY":      {"2", "13579", "13579"},
		"acknowledge input USD":   {"4", "108.98", "14.98"},
		"acknowledge ok USD":      {"2", "105.98", "11.98"},
		"acknowledge failed USD":  {"1", "2.99", "2.99"},
		"acknowledge invalid USD": {"1", "0.01", "0.01"},
		"accept input EUR":        {"1", "1234.50", "1234.50"},
		"accept input USD":        {"1", "13.99", "13.99"},
	}
	got := map[string][3]string{}
	for _, l := range rec.Lines {
		got[l.Action+" "+l.Status+" "+l.Currency] = [3]string{strconv.Itoa(l.Rows), l.Amount, l.AmountExported}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %v, want %v", k, got[k], w)
		}
	}
	if n := s.ErrorCodes["AMOUNT_EDITED"]; n != 1 {
		t.Errorf("AMOUNT_EDITED on %d rows, want 1", n)
	}
	sheet, err := x.GetRows("Reconciliation")
	if err != nil {
		t.Fatal(err)
	}
	onSheet := map[string][]string{}
	for r, row := range sheet {
		if len(row) >= 5 && row[0] != "check" {
			onSheet[row[0]+" "+row[1]+" "+row[2]] = row
			for _, c := range []int{4, 5} { // rows, amount: numbers that a SUM adds
				ref, _ := excelize.CoordinatesToCellName(c, r+1)
				if k, _ := x.GetCellType("Reconciliation", ref); r > 0 && k != excelize.CellTypeUnset {
					t.Errorf("Reconciliation!%s (%q) is not a number cell", ref, row[c-1])
				}
			}
		}
	}
	for k, w := range want {
		row := onSheet[k]
		if len(row) < 6 {
			t.Errorf("Reconciliation sheet has no line %s", k)
			continue
		}
		dec := amount.Decimals(strings.Fields(k)[2])
		r, _ := new(big.Rat).SetString(w[1])
		if row[3] != w[0] || strings.ReplaceAll(row[4], ",", "") != r.FloatString(dec) {
			t.Errorf("Reconciliation %s: %v, want rows %s amount %s", k, row[3:5], w[0], w[1])
		}
	}

	// Fed back in as a job, the report reads the same values.
	back, err := formats.Open(s.Reports.Results, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	in, err := formats.Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bi := map[string]int{}
	for i, h := range back.Header() {
		bi[h] = i
	}
	for r := 2; ; r++ {
		a, errA := in.Next()
		b, errB := back.Next()
		if errA != nil || errB != nil {
			if (errA == nil) != (errB == nil) {
				t.Fatalf("row %d: input %v, report %v", r, errA, errB)
			}
			break
		}
		for i, h := range header {
			av, bv := a.Fields[i], b.Fields[bi[h]]
			if h == "amount" {
				ar, err1 := amount.Read(av, a.Kinds[i] == formats.Number, amount.Comma)
				br, err2 := amount.Read(bv, b.Kinds[bi[h]] == formats.Number, amount.Unknown)
				if err1 != nil || err2 != nil || ar.Cmp(br) != 0 {
					t.Errorf("row %d amount: %q (%v) in, %q (%v) back", r, av, err1, bv, err2)
				}
				continue
			}
			if h == "received_on" && av != "" {
				av = strings.TrimSuffix(strings.Replace(av, "T", " ", 1), ":00") // a date reads as its ISO date
				bv = strings.TrimSuffix(strings.Replace(bv, "T", " ", 1), ":00")
				if !strings.HasPrefix(bv, av[:10]) {
					t.Errorf("row %d %s: %q in, %q back", r, h, a.Fields[i], b.Fields[bi[h]])
				}
				continue
			}
			if av != bv {
				t.Errorf("row %d %s: %q in, %q back", r, h, av, bv)
			}
		}
		if n, _ := strconv.Atoi(b.Fields[bi["row"]]); n != r {
			t.Errorf("report row %d says row %q", r, b.Fields[bi["row"]])
		}
	}
}

// TestAmbiguousAmount: "1,234" in a file that says nothing else of its
// decimal mark is invalid, naming the cell; with --decimal-mark it is read.
func TestAmbiguousAmount(t *testing.T) {
	t.Parallel()
	_, api := startSandbox(t, sandbox.Options{})
	for _, tc := range []struct {
		name   string
		mark   amount.Mark
		status report.Status
		total  string
	}{
		{"no mark", amount.Unknown, report.StatusInvalid, "1000"},
		{"comma mark", amount.Comma, report.StatusOK, "1001.234"},
		{"point mark", amount.Point, report.StatusOK, "2234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeChargesXLSX(t, filepath.Join(dir, "jpy.xlsx"), []string{"number", "billing_system_customer_identifier", "amount", "currency"}, [][]chargeCell{
				{txt("I00000001"), txt("pci001"), txt("1,234"), txt("BHD")},
				{txt("I00000002"), txt("pci002"), num("1000"), txt("BHD")},
			})
			cfg := runConfig(t, path, api)
			cfg.DecimalMark = tc.mark
			s, err := batch.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.Counts[tc.status] == 0 {
				t.Fatalf("counts %v, want a %s row", s.Counts, tc.status)
			}
			if tc.status == report.StatusInvalid {
				if s.ErrorCodes["AMBIGUOUS_AMOUNT"] != 1 || !strings.Contains(s.FirstProblems[0], `cell C2 "1,234" reads as 1.234`) {
					t.Errorf("codes %v, problems %q", s.ErrorCodes, s.FirstProblems)
				}
			}
			var ok string
			for _, c := range s.Reconciliation.Checks {
				for _, p := range c.Parts {
					if p.Status == "ok" {
						ok = p.Amount
					}
				}
			}
			r, _ := new(big.Rat).SetString(tc.total)
			if ok != r.FloatString(3) {
				t.Errorf("ok total %s, want %s", ok, r.FloatString(3))
			}
		})
	}
}

// TestFinanceFixture runs the charges sheet behind the rendered pages of
// docs/finance.md (an export of 60 pending charges, edited as a finance team
// would: decimal commas, JPY, grouped amounts, edited amounts, a wrong
// customer, a blank one, an identifier turned into a number) and checks its
// reconciliation.
func TestFinanceFixture(t *testing.T) {
	t.Parallel()
	_, api := startSandbox(t, sandbox.Options{})
	dir := t.TempDir()
	path := filepath.Join(dir, "charges.xlsx")
	b, err := os.ReadFile(filepath.Join("testdata", "finance-charges.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := batch.Run(context.Background(), runConfig(t, path, api))
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[report.StatusOK] != 56 || s.Counts[report.StatusFailed] != 2 || s.Counts[report.StatusInvalid] != 2 || s.ErrorCodes["AMOUNT_EDITED"] != 8 {
		t.Errorf("counts %v, codes %v", s.Counts, s.ErrorCodes)
	}
	got := map[string]string{}
	for _, c := range s.Reconciliation.Checks {
		if !c.Holds {
			t.Errorf("%s: the check does not hold: %+v", c.Currency, c)
		}
		got[c.Currency] = fmt.Sprintf("%d %s", c.Input.Rows, c.Input.Amount)
	}
	want := map[string]string{"EUR": "12 1393.45", "JPY": "3 14813", "USD": "45 432.55"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("input totals %v, want %v", got, want)
	}
}
