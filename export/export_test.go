package export_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/export"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

func connect(t *testing.T, api crm.Config) *batch.Session {
	t.Helper()
	sess, err := batch.Connect(context.Background(), batch.Config{Concurrency: 1, Attempts: 5, Rate: 1000, API: api})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestExportThenAcknowledge is the finance routine: export the pending charges,
// run the exported sheet, and find every charge acknowledged once, the control
// totals equal to the sandbox's, and nothing left pending.
func TestExportThenAcknowledge(t *testing.T) {
	t.Parallel()
	for _, f := range []formats.Format{formats.CSV, formats.XLSX} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			sb, api := startSandbox(t, sandbox.Options{})
			pending := sb.ChargeTotals(crm.ChargeStatusNotProcessed)
			out := filepath.Join(t.TempDir(), "pending."+string(f))
			e, err := export.Charges(context.Background(), connect(t, api), crm.ChargeStatusNotProcessed, out, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e.Charges != pending || e.PerStatus["PENDING"] != pending {
				t.Fatalf("exported %d (%v), the sandbox has %d pending", e.Charges, e.PerStatus, pending)
			}
			cfg := runConfig(t, out, api)
			cfg.Format = formats.CSV
			s, err := batch.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.Counts[report.StatusOK] != pending {
				t.Fatalf("counts %v, want %d ok", s.Counts, pending)
			}
			applied := sb.Applied()
			for _, r := range readCSV(t, s.Reports.Results) {
				if n := applied[sandbox.Effect{Method: "netflix/charges/acknowledge", Key: r["number"]}]; n != 1 {
					t.Fatalf("%s acknowledged %d times", r["number"], n)
				}
			}
			// The control totals: the export's and the run's agree, ok = input.
			exported := map[string]string{}
			for _, tot := range e.Totals {
				if tot.Status == "input" {
					exported[tot.Currency] = tot.Amount
				}
			}
			for _, tot := range s.Totals {
				if tot.Status == "input" && exported[tot.Currency] != tot.Amount {
					t.Errorf("%s: run's input total %s, export's %s", tot.Currency, tot.Amount, exported[tot.Currency])
				}
				if tot.Status == "ok" && exported[tot.Currency] != tot.Amount {
					t.Errorf("%s: acknowledged %s, exported %s", tot.Currency, tot.Amount, exported[tot.Currency])
				}
			}
			if want := demoTotal(pending); exported["USD"] != want["USD"] || exported["EUR"] != want["EUR"] {
				t.Errorf("export totals %v, the sandbox's charges sum to %v", exported, want)
			}
			again, err := export.Charges(context.Background(), connect(t, api), crm.ChargeStatusNotProcessed, filepath.Join(t.TempDir(), "again.csv"), formats.CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			if again.Charges != 0 {
				t.Fatalf("a second export found %d pending charges", again.Charges)
			}
		})
	}
}

// demoTotal sums the sandbox's pending demo charges, from its documented demo
// data (sandbox/doc.go): prices cycle 5.99 7.99 9.99 11.99 13.99 2.99 1.99 by
// charge number, every third charge is processed, every fifth is in EUR.
func demoTotal(pending int) map[string]string {
	prices := []string{"5.99", "7.99", "9.99", "11.99", "13.99", "2.99", "1.99"}
	sums := map[string]*big.Rat{"USD": new(big.Rat), "EUR": new(big.Rat)}
	for i, n := 1, 0; n < pending; i++ {
		if i%3 == 0 {
			continue
		}
		n++
		cur := "USD"
		if i%5 == 0 {
			cur = "EUR"
		}
		p, _ := new(big.Rat).SetString(prices[i%len(prices)])
		sums[cur].Add(sums[cur], p)
	}
	return map[string]string{"USD": sums["USD"].FloatString(2), "EUR": sums["EUR"].FloatString(2)}
}

// TestExportWhileAnotherProcessAcknowledges acknowledges charges from the front
// of the list while the export pages through it: pages shift, and yet every
// charge still pending at the end is in the export.
func TestExportWhileAnotherProcessAcknowledges(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{Latency: 5 * time.Millisecond, Charges: 1500})
	client, err := crm.New(api)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var stop atomic.Bool
	done := make(chan int)
	go func() {
		acked := 0
		for i := 1; !stop.Load() && i < 1500; i++ {
			if i%3 == 0 || i%7 != 1 {
				continue // acknowledge every seventh pending charge, oldest first
			}
			n := fmt.Sprintf("I%08d", i)
			if _, err := client.AcknowledgeCharges(ctx, []crm.ChargeItem{{Number: n, BillingSystemCustomerIdentifier: fmt.Sprintf("pci%03d", (i-1)%60+1)}}); err == nil {
				acked++
			}
		}
		done <- acked
	}()
	e, err := export.Charges(ctx, connect(t, api), crm.ChargeStatusNotProcessed, filepath.Join(t.TempDir(), "x.csv"), formats.CSV, nil)
	stop.Store(true)
	acked := <-done
	if err != nil {
		t.Fatal(err)
	}
	if acked == 0 {
		t.Fatal("nothing was acknowledged during the export: the test proves nothing")
	}
	exported := map[string]bool{}
	for _, r := range readCSV(t, e.Path) {
		exported[r["number"]] = true
	}
	for i := 1; i <= 1500; i++ {
		n := fmt.Sprintf("I%08d", i)
		if ack, _, ok := sb.Charge(n); ok && !ack && i%3 != 0 && !exported[n] {
			t.Errorf("%s is pending and not in the export", n)
		}
	}
	t.Logf("%d charges exported in %d passes, %d acknowledged meanwhile", e.Charges, e.Passes, acked)
}

// TestExportXLSXCellTypes reads an XLSX export back with excelize: IDs are
// text, amounts are numbers shown with two decimals, dates are real dates.
func TestExportXLSXCellTypes(t *testing.T) {
	t.Parallel()
	_, api := startSandbox(t, sandbox.Options{})
	out := filepath.Join(t.TempDir(), "pending.xlsx")
	if _, err := export.Charges(context.Background(), connect(t, api), crm.ChargeStatusNotProcessed, out, formats.XLSX, nil); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheet := x.GetSheetName(0)
	header, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) string {
		for i, h := range header[0] {
			if h == name {
				c, _ := excelize.ColumnNumberToName(i + 1)
				return c
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	for _, tc := range []struct {
		column string
		kind   excelize.CellType
		shown  string // as a spreadsheet shows it
		raw    string // "" = same as shown
	}{
		{"number", excelize.CellTypeInlineString, "I00000001", ""},
		{"billing_system_customer_identifier", excelize.CellTypeInlineString, "pci001", ""},
		{"amount", excelize.CellTypeUnset, "7.99", ""},
		{"amount_raw", excelize.CellTypeInlineString, "7.989999771118164", ""},
		{"received_on", excelize.CellTypeUnset, "2025-01-01 08:00:37", "45658.33376157407"},
	} {
		t.Run(tc.column, func(t *testing.T) {
			cell := col(tc.column) + "2"
			kind, err := x.GetCellType(sheet, cell)
			if err != nil || kind != tc.kind {
				t.Errorf("%s type %v (%v), want %v", cell, kind, err, tc.kind)
			}
			if shown, _ := x.GetCellValue(sheet, cell); shown != tc.shown {
				t.Errorf("%s shows %q, want %q", cell, shown, tc.shown)
			}
			if tc.raw != "" {
				if raw, _ := x.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true}); !strings.HasPrefix(raw, tc.raw[:8]) {
					t.Errorf("%s holds %q, want the date serial %s", cell, raw, tc.raw)
				}
			}
		})
	}
}

// TestExportAgainstServerIgnoringOffset serves charges/list from the sandbox's
// charges, but with offset ignored (every call answers the first page), or
// with pages that repeat the previous one: the export stops within its bound,
// keeps what it listed in the file, and fails with a *FatalError saying why.
func TestExportAgainstServerIgnoringOffset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		offset  func(offset int) int // the offset the server really applies
		charges int                  // in the sandbox
		want    int                  // charges in the file
	}{
		{"ignores offset", func(int) int { return 0 }, 300, 50},
		{"repeats from the second page", func(o int) int { return min(o, 50) }, 300, 100},
		{"ignores offset, fewer than a page", func(int) int { return 0 }, 30, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.Options{Charges: tc.charges})
			var lists atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/netflix/charges/list") {
					lists.Add(1)
					q := r.URL.Query()
					o, _ := strconv.Atoi(q.Get("offset"))
					q.Set("offset", strconv.Itoa(tc.offset(o)))
					r.URL.RawQuery = q.Encode()
				}
				sb.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			api := crm.Config{BaseURL: srv.URL + sandbox.BasePath, Credentials: crm.Credentials{
				Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}}
			out := filepath.Join(t.TempDir(), "pending.csv")
			done := make(chan struct{})
			var e *export.Result
			var err error
			go func() {
				defer close(done)
				e, err = export.Charges(context.Background(), connect(t, api), crm.ChargeStatusNotProcessed, out, formats.CSV, nil)
			}()
			select {
			case <-done:
			case <-beforeDeadline(t):
				t.Fatalf("the export has not ended after %d calls", lists.Load())
			}
			rows := readCSV(t, out)
			if len(rows) != tc.want {
				t.Errorf("%d charges in the file, want %d", len(rows), tc.want)
			}
			if tc.want < 50 {
				if err != nil {
					t.Errorf("a short page ends the list: %v", err)
				}
				return
			}
			var fatal *fault.FatalError
			if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "ignore offset") || !strings.Contains(fault.Describe(err), "incomplete") {
				t.Errorf("err = %v, want a FatalError saying the server ignores offset", err)
			}
			if e == nil || e.Charges != tc.want {
				t.Errorf("export = %+v", e)
			}
			if n := lists.Load(); n > int32(tc.want/50+2) {
				t.Errorf("%d charges/list calls for %d charges", n, tc.want)
			}
		})
	}
}
