package batch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestNotSentRowOfFailuresReportIsSent: the first run applies create and
// suspend of NS-1, and is interrupted while its unsuspend is on its way (not
// applied): its second suspend is never sent, and the failures report lists it
// (failed NOT_SENT) with the unsuspend. Fed back, the report's suspend is the
// first file's second suspend, never applied: it must be sent, not skipped as
// the first suspend, done.
func TestNotSentRowOfFailuresReportIsSent(t *testing.T) {
	t.Parallel()
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/unsuspend": func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				interrupt()
				hangUpNow(w)
			},
		}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "NS-1"}, {"suspend", "NS-1"}, {"unsuspend", "NS-1"}, {"suspend", "NS-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s, err := batch.Run(ctx, cfg)
	if err == nil {
		t.Fatal("the first run: no error, want it interrupted")
	}
	if s == nil || s.Reports.Failures == "" {
		t.Fatalf("the interrupted run wrote no failures report (%v)", err)
	}
	b, _ := os.ReadFile(s.Reports.Failures)
	t.Logf("failures report:\n%s", b)
	p.phase.Store(1)
	retry := cfg
	retry.Path = s.Reports.Failures
	s, err = batch.Run(context.Background(), retry)
	if err != nil {
		t.Fatalf("the failures report's run: %v", err)
	}
	res := readCSV(t, s.Reports.Results)
	for _, r := range res {
		t.Logf("row %s %s: %s %s %q", r["row"], r["action"], r["status"], r["error_code"], r["error_message"])
	}
	n := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: "NS-1"}]
	last := res[len(res)-1]
	if last["action"] != "suspend" || last["status"] != "ok" || n != 2 {
		t.Errorf("the second suspend, never sent before: %s %s %q, suspends applied %d times; want ok, applied twice (once a row)",
			last["status"], last["error_code"], last["error_message"], n)
	}
}

// TestUncertainChargeAcknowledgedByTheRunThatLostItIsNotFailed: a run
// acknowledges charge I00000004 (no charge_status in its file), loses the
// answer after the server applied it, and stops with the lists unreachable.
// Another file holds I00000001 and then I00000004; the first's answer is lost
// after it applied, and its read-back reads both lists whole. Then the
// I00000004 claim, taken over, is read back: it is in neither list, because
// the first run acknowledged it. The complete read before this run's call
// came after the first run's call: it cannot say "nothing was acknowledged".
func TestUncertainChargeAcknowledgedByTheRunThatLostItIsNotFailed(t *testing.T) {
	t.Parallel()
	hang := func(_ http.Handler, w http.ResponseWriter, _ *http.Request) { hangUpNow(w) }
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/charges/acknowledge": lost,
			"netflix/charges/list":        hang,
		}),
		func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			if apiMethod(r) == "netflix/charges/acknowledge" && slices.Contains(chargesOf(r), "I00000001") {
				lost(next, w, r)
				return
			}
			next.ServeHTTP(w, r)
		},
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	dir := t.TempDir()
	header := []string{"number", "billing_system_customer_identifier"}
	first := truthConfig(t, writeCSV(t, dir, "monday.csv", [][]string{header, {"I00000004", "pci004"}}), api)
	first.StateDir = filepath.Join(dir, "state")
	first.Concurrency, first.ChunkSize = 1, 1
	if _, err := batch.Run(context.Background(), first); err == nil {
		t.Fatal("the first run ended, want it stopped (the lists unreachable)")
	}
	p.phase.Store(1)
	second := first
	second.Path = writeCSV(t, dir, "tuesday.csv", [][]string{header, {"I00000001", "pci001"}, {"I00000004", "pci004"}})
	s := mustRun(t, second)
	for _, r := range readCSV(t, s.Reports.Results) {
		t.Logf("%s: %s %s %q", r["number"], r["status"], r["error_code"], r["error_message"])
	}
	checkTruth(t, s, sb, chargeEffect, []rowWant{{status: "unknown", applied: 1}, {status: "unknown", applied: 1}})
}

// TestFixedInvalidRowOfFailuresReportIsSent: the first run applies create,
// suspend and unsuspend of IV-1; its fourth row, a second suspend with the
// action misspelt, is invalid and never sent. The user fixes the action in
// the failures report and feeds it back: the suspend was never sent, so it
// must be sent, not skipped as the first suspend, done.
func TestFixedInvalidRowOfFailuresReportIsSent(t *testing.T) {
	t.Parallel()
	sb, api := startBehind(t, sandbox.Options{}, pass)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "IV-1"}, {"suspend", "IV-1"}, {"unsuspend", "IV-1"}, {"suspnd", "IV-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s, err := batch.Run(context.Background(), cfg)
	if s == nil || s.Reports.Failures == "" {
		t.Fatalf("the first run wrote no failures report (%v)", err)
	}
	fr := readCSV(t, s.Reports.Failures)
	if len(fr) != 1 || fr[0]["status"] != "invalid" {
		t.Fatalf("failures report %v, want the misspelt row, invalid", fr)
	}
	b, err := os.ReadFile(s.Reports.Failures)
	if err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(filepath.Dir(s.Reports.Failures), filepath.Base(s.Reports.Failures))
	if err := os.WriteFile(fixed, []byte(strings.Replace(string(b), "suspnd,", "suspend,", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	retry := cfg
	retry.Path = fixed
	s = mustRun(t, retry)
	res := readCSV(t, s.Reports.Results)
	for _, r := range res {
		t.Logf("row %s %s: %s %s %q", r["row"], r["action"], r["status"], r["error_code"], r["error_message"])
	}
	n := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: "IV-1"}]
	if len(res) != 1 || res[0]["status"] != "ok" || n != 2 {
		t.Errorf("the fixed suspend, never sent before: %v, suspends applied %d times; want ok, applied twice (once a row)", res, n)
	}
}

// TestCallOfAnotherProcessBetweenMovedCheckAndReadBack: the first run loses
// the answer of a suspend of MP-1 after it applied, and its read-back fails:
// unknown. Its failures report asks the ledger whether MP-1 moved since (no),
// then reads MP-1 back; before that read reaches the server, another process
// runs an unsuspend of MP-1 (its own file, the same ledger), which applies.
// The read shows MP-1 effective, as before the suspend: the unsuspend's work,
// which the ledger records before the read. The suspend must not be sent again.
func TestCallOfAnotherProcessBetweenMovedCheckAndReadBack(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	held := func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(arrived)
			<-release
		}
		next.ServeHTTP(w, r)
	}
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/suspend": lost,
			"netflix/subscriptions/show":    unavailable,
		}),
		byMethod(map[string]middleware{"netflix/subscriptions/show": held}),
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	first := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "MP-1"}, {"suspend", "MP-1"}}), api)
	other := truthConfig(t, writeCSV(t, t.TempDir(), "other.csv", [][]string{{"action", "billing_system_customer_identifier"},
		{"unsuspend", "MP-1"}}), api)
	other.StateDir = first.StateDir // one ledger, two processes
	s := mustRun(t, first)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown})
	if t.Failed() {
		return
	}
	p.phase.Store(1)
	retry := first
	retry.Path = s.Reports.Failures
	type ran struct {
		s   *report.Summary
		err error
	}
	done := make(chan ran, 1)
	go func() {
		s, err := batch.Run(context.Background(), retry)
		done <- ran{s, err}
	}()
	<-arrived // the failures report's run is reading MP-1 back
	o := mustRun(t, other)
	checkTruth(t, o, sb, effectCol("netflix/subscriptions/unsuspend", "billing_system_customer_identifier"), []rowWant{wantOK})
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatalf("the failures report's run: %v", r.err)
	}
	// The suspend was applied once, by the first run: it must stay unknown.
	checkTruth(t, r.s, sb, subscriptionEffect, []rowWant{wantUnknown})
}

// TestInRunReadBackAfterAnotherProcessCallInFlight: another process's
// unsuspend of MP-1 is intended and held on its way. This run creates MP-1
// and suspends it: the suspend applies, then the held unsuspend arrives and
// applies, then the suspend's answer is lost. The suspend's read-back (in
// this run, right after the loss) shows MP-1 effective, as before it: the
// unsuspend's work, and the ledger knows a call of MP-1 intended before and
// unanswered. The suspend must not be sent again.
func TestInRunReadBackAfterAnotherProcessCallInFlight(t *testing.T) {
	t.Parallel()
	arrived, release, served := make(chan struct{}), make(chan struct{}), make(chan struct{})
	held := func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		next.ServeHTTP(w, r)
		close(served)
	}
	var once sync.Once
	suspend := func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if !first {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(httptest.NewRecorder(), r) // applied
		close(release)
		<-served // the unsuspend applied after it
		hangUpNow(w)
	}
	mw := byMethod(map[string]middleware{
		"netflix/subscriptions/unsuspend": held,
		"netflix/subscriptions/suspend":   suspend,
	})
	sb, api := startBehind(t, sandbox.Options{}, mw)
	first := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "MP-1"}, {"suspend", "MP-1"}}), api)
	other := truthConfig(t, writeCSV(t, t.TempDir(), "other.csv", [][]string{{"action", "billing_system_customer_identifier"},
		{"unsuspend", "MP-1"}}), api)
	other.StateDir = first.StateDir // one ledger, two processes
	done := make(chan error, 1)
	go func() {
		_, err := batch.Run(context.Background(), other)
		done <- err
	}()
	<-arrived // the unsuspend is intended and on its way
	s := mustRun(t, first)
	if err := <-done; err != nil {
		t.Fatalf("the other run: %v", err)
	}
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown})
}
