package batch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// serve puts a handler in front of a sandbox over real HTTP.
func serve(t *testing.T, sb *sandbox.Server, front func(w http.ResponseWriter, r *http.Request, next http.Handler)) crm.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { front(w, r, sb) }))
	t.Cleanup(srv.Close)
	return crm.Config{
		BaseURL: srv.URL + sandbox.BasePath,
		Credentials: crm.Credentials{Username: sandbox.DemoUsername, Password: sandbox.DemoPassword,
			Organisation: sandbox.DemoOrganisation},
	}
}

// statuses counts the statuses (and status/code pairs) of a results report.
func statuses(t *testing.T, path string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, r := range readCSV(t, path) {
		n[r["status"]]++
		if r["error_code"] != "" {
			n[r["status"]+"/"+r["error_code"]]++
		}
	}
	return n
}

// subscriptionRows is a lifecycle file as billing systems export it: every
// create, then every suspend, then every unsuspend.
func subscriptionRows(customers []string) [][]string {
	rows := [][]string{{"action", "billing_system_customer_identifier", "channel"}}
	for _, a := range []string{"create", "suspend", "unsuspend"} {
		for _, c := range customers {
			ch := ""
			if a == "create" {
				ch = "WEB"
			}
			rows = append(rows, []string{a, c, ch})
		}
	}
	return rows
}

func customers(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// checkOnce fails unless every lifecycle effect of cs was applied exactly want times.
func checkApplied(t *testing.T, sb *sandbox.Server, cs []string, want map[string]int) {
	t.Helper()
	applied := sb.Applied()
	for _, c := range cs {
		for m, n := range want {
			if got := applied[sandbox.Effect{Method: "netflix/subscriptions/" + m, Key: c}]; got != n {
				t.Errorf("%s of %s applied %d times, want %d", m, c, got, n)
			}
		}
	}
}

// TestSameWorkWhateverItIsCalled interrupts a subscriptions run, edits its file
// (a row appended, a value fixed), and runs it again with another chunk size,
// concurrency and spelling of the endpoint: the rows the first run applied are
// skipped, the rest sent, every effect once. Once finished, the same file and
// another spelling are refused; a later, different file that suspends the same
// customers again is sent.
func TestSameWorkWhateverItIsCalled(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	var stopAfter atomic.Int64
	var stop context.CancelFunc
	var mu sync.Mutex
	api := serve(t, sb, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/suspend") && stopAfter.Add(-1) == 0 {
			mu.Lock()
			stop()
			mu.Unlock()
		}
	})
	cs := customers("EDIT", 12)
	dir := t.TempDir()
	rows := subscriptionRows(cs)
	path := writeCSV(t, dir, "lifecycle.csv", rows)
	cfg := runConfig(t, path, api)
	cfg.Concurrency = 2

	stopAfter.Store(5)
	ctx, cancel := context.WithCancel(context.Background())
	mu.Lock()
	stop = cancel
	mu.Unlock()
	if _, err := batch.Run(ctx, cfg); err == nil {
		t.Fatal("the interrupted run ended without an error")
	}
	cancel()

	// The file is edited: a typo fixed, a row appended.
	rows[1][2] = "STORE"
	rows = append(rows, []string{"cancel", cs[0], ""})
	writeCSV(t, dir, "lifecycle.csv", rows)
	again := cfg
	again.ChunkSize, again.Concurrency = 7, 5
	again.Endpoint = strings.Replace(strings.TrimSuffix(api.BaseURL, "/"), "http://", "HTTP://", 1)
	again.Endpoint = strings.Replace(again.Endpoint, "/crmapi", "//crmapi", 1)
	s, err := batch.Run(context.Background(), again)
	if err != nil {
		t.Fatalf("the edited file: %v", err)
	}
	n := statuses(t, s.Reports.Results)
	if n["ok"]+n["skipped"] != len(rows)-1 || n["skipped/ALREADY_DONE"] == 0 || n["failed"]+n["unknown"] != 0 {
		t.Fatalf("the edited file: statuses %v, want every row ok or skipped ALREADY_DONE", n)
	}
	checkApplied(t, sb, cs, map[string]int{"create": 1, "suspend": 1, "unsuspend": 1})
	checkApplied(t, sb, cs[:1], map[string]int{"cancel": 1})

	// Finished: the same file, another chunk size or endpoint spelling, is refused.
	for _, c := range []batch.Config{again, cfg} {
		before := sb.Applied()
		_, err := batch.Run(context.Background(), c)
		var fe *fault.FileError
		if !errors.As(err, &fe) || !strings.Contains(fe.Error(), "ran to the end") {
			t.Fatalf("a finished file run again: %v, want a refusal", err)
		}
		if after := sb.Applied(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatal("a refused run applied something")
		}
	}

	// A later, different file suspends some customers again: new work.
	later := [][]string{{"action", "billing_system_customer_identifier"}}
	for _, c := range cs[1:5] {
		later = append(later, []string{"suspend", c})
	}
	next := cfg
	next.Path = writeCSV(t, dir, "next-month.csv", later)
	if s, err := batch.Run(context.Background(), next); err != nil || s.Counts[report.StatusOK] != 4 {
		t.Fatalf("a later file: %v, counts %v", err, s.Counts)
	}
	checkApplied(t, sb, cs[1:5], map[string]int{"suspend": 2})
}

// TestTwoSheetsOfTheSameChargesAtOnce runs two different files holding the same
// charges at the same time on one ledger: each charge is acknowledged once, by
// one of them, and the ledger keeps the reference of the run that did it.
func TestTwoSheetsOfTheSameChargesAtOnce(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{Latency: 2 * time.Millisecond})
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	var numbers []string
	for i := 1; i <= 120; i++ {
		if i%3 != 0 { // pending ones
			numbers = append(numbers, fmt.Sprintf("I%08d", i))
		}
	}
	var paths []string
	for f, name := range []string{"finance-a.csv", "finance-b.csv"} {
		rows := [][]string{{"number", "billing_system_customer_identifier", "reference_number"}}
		if f == 1 {
			rows[0] = []string{"billing_system_customer_identifier", "number", "reference_number", "note"}
		}
		for i, n := range numbers {
			cust := fmt.Sprintf("pci%03d", (mustAtoi(t, n[1:])-1)%60+1)
			ref := fmt.Sprintf("%s-%d", name, i)
			if f == 0 {
				rows = append(rows, []string{n, cust, ref})
			} else {
				rows = append(rows, []string{cust, n, ref, "x"})
			}
		}
		paths = append(paths, writeCSV(t, dir, name, rows))
	}
	var wg sync.WaitGroup
	sums := make([]*report.Summary, 2)
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := runConfig(t, p, api)
			cfg.StateDir, cfg.Concurrency = state, 3
			s, err := batch.Run(context.Background(), cfg)
			if err != nil {
				t.Errorf("%s: %v", p, err)
			}
			sums[i] = s
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ok := 0
	for _, s := range sums {
		n := statuses(t, s.Reports.Results)
		ok += n["ok"]
		if n["ok"]+n["skipped"] != len(numbers) {
			t.Errorf("%s: %v, want every row ok or skipped", s.Input, n)
		}
	}
	if ok != len(numbers) {
		t.Errorf("%d rows ok across both files, want %d (each charge once)", ok, len(numbers))
	}
	applied := sb.Applied()
	led, err := ledger.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	for _, n := range numbers {
		if c := applied[sandbox.Effect{Method: "netflix/charges/acknowledge", Key: n}]; c != 1 {
			t.Errorf("charge %s acknowledged %d times", n, c)
		}
		kept, _ := sb.ChargeReferenceNumber(n)
		d, found, err := led.Done(context.Background(), "charges", n)
		if err != nil || !found || d.Detail != kept {
			t.Errorf("charge %s: the ledger says reference %q (found %v, %v), the server kept %q", n, d.Detail, found, err, kept)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInstalledItemsReferenceIsPerLedger runs an installed-items file, then the
// same file with another ledger: the second run's calls carry references of
// their own, so the server judges them (the item is there already) instead of
// refusing a duplicate reference that crmbatch would take for "done".
func TestInstalledItemsReferenceIsPerLedger(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{})
	path := writeCSV(t, t.TempDir(), "items.csv", [][]string{
		{"action", "subscription_number", "serial_number", "provisioning_distributor"},
		{"add", "S0000000007", "STB-7001", "Main"},
		{"add", "S0000000007", "STB-7002", "Main"},
	})
	first := runConfig(t, path, api)
	if s, err := batch.Run(context.Background(), first); err != nil || s.Counts[report.StatusOK] != 2 {
		t.Fatalf("first run: %v, %v", err, s.Counts)
	}
	second := runConfig(t, path, api) // another --state: another ledger
	s, err := batch.Run(context.Background(), second)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if s.Counts[report.StatusOK] != 0 {
		t.Fatalf("second run reports %v: ok for rows the server did not apply", s.Counts)
	}
	for _, serial := range []string{"STB-7001", "STB-7002"} {
		if n := sb.Applied()[sandbox.Effect{Method: "subscriptions/installed_items/add", Key: serial}]; n != 1 {
			t.Errorf("%s added %d times", serial, n)
		}
	}
}

// TestResumeAfterTheEndpointWentDown stops a run whose endpoint refuses every
// call and login (exit 3) and runs it again once it is back: the rows of the
// call that met the outage are sent, every device registered once.
func TestResumeAfterTheEndpointWentDown(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	var calls, down atomic.Int64
	down.Store(1)
	api := serve(t, sb, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "register_devices") && calls.Add(1) >= 3 {
			calls.Store(100)
		}
		if calls.Load() >= 100 && down.Load() == 1 {
			// The credentials stop working: every call, login included, is refused.
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
	path := devicesFile(t, t.TempDir(), 500, "DOWN")
	cfg := runConfig(t, path, api)
	cfg.ChunkSize, cfg.Concurrency, cfg.Attempts = 50, 1, 3
	s, err := batch.Run(context.Background(), cfg)
	var fe *fault.FatalError
	if !errors.As(err, &fe) {
		t.Fatalf("run with the endpoint down: %v, want a FatalError", err)
	}
	if s.Counts[report.StatusFailed] != 0 || s.NotSent == 0 || s.Counts[report.StatusOK]+s.NotSent != 500 {
		t.Fatalf("counts %v, not sent %d: the rows never sent should be counted apart, none failed", s.Counts, s.NotSent)
	}
	down.Store(0)
	s, err = batch.Run(context.Background(), cfg)
	if err != nil || s.Counts[report.StatusOK] != 500 || !s.Resumed {
		t.Fatalf("resumed run: %v, %v resumed %v", err, s.Counts, s.Resumed)
	}
	applied := sb.Applied()
	for i := range 500 {
		if n := applied[sandbox.Effect{Method: "netflix/operators/register_devices", Key: fmt.Sprintf("DOWN%06d", i)}]; n != 1 {
			t.Fatalf("device %d registered %d times", i, n)
		}
	}
}

// TestDamagedLedgerIsRefused truncates a ledger that knows a finished job: the
// run is refused and sends nothing, rather than start a new ledger, with an
// error that keeps its cause (ledger.ErrDamaged) through the usage error.
func TestDamagedLedgerIsRefused(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{})
	path := devicesFile(t, t.TempDir(), 20, "TRUNC")
	cfg := runConfig(t, path, api)
	if _, err := batch.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	for _, damage := range []string{"", "not a database at all"} {
		if err := os.WriteFile(filepath.Join(cfg.StateDir, ledger.FileName), []byte(damage), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(cfg.StateDir, ledger.FileName+"-wal"))
		before := totalCalls(sb)
		_, err := batch.Run(context.Background(), cfg)
		var usage *fault.UsageError
		if !errors.Is(err, ledger.ErrDamaged) || !errors.As(err, &usage) {
			t.Fatalf("ledger %q: %v, want a usage error caused by ledger.ErrDamaged", damage, err)
		}
		if totalCalls(sb) != before {
			t.Fatalf("ledger %q: calls were made", damage)
		}
	}
}

// TestFileAppendedWhileRunning appends rows to the job file while it is sent:
// the rows first read are sent and reported, the rest not sent, and the run
// ends with a FatalError that says how the file changed.
func TestFileAppendedWhileRunning(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	dir := t.TempDir()
	path := devicesFile(t, dir, 300, "GROW")
	var once sync.Once
	api := serve(t, sb, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "register_devices") {
			once.Do(func() {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err == nil {
					fmt.Fprintln(f, "GROWLATE1,OPERATOR1,x")
					fmt.Fprintln(f, "GROWLATE2,OPERATOR1,x")
					f.Close()
				}
			})
		}
		next.ServeHTTP(w, r)
	})
	cfg := runConfig(t, path, api)
	cfg.ChunkSize = 100
	s, err := batch.Run(context.Background(), cfg)
	var fe *fault.FatalError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "grew") {
		t.Fatalf("run: %v, want a FatalError saying the file grew", err)
	}
	if s == nil || s.Counts[report.StatusOK] != 300 || s.Rows != 300 {
		t.Fatalf("summary %+v, want the 300 rows first read ok", s)
	}
	if len(readCSV(t, s.Reports.Results)) != 300 {
		t.Fatal("the results report does not hold the 300 rows first read")
	}
	if sb.Applied()[sandbox.Effect{Method: "netflix/operators/register_devices", Key: "GROWLATE1"}] != 0 {
		t.Fatal("a row appended during the run was sent")
	}
}
