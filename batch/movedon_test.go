package batch_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/sandbox"
)

// phased routes requests through the middleware of the current phase.
type phased struct {
	phase  atomic.Int32
	phases []middleware
}

func (p *phased) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	p.phases[p.phase.Load()](next, w, r)
}

// TestMovedOnRowKeepsItsPassWhenTheNextRowIsRefused: the first run refuses
// an unsuspend, loses the answer of the suspend after it, which applied (its
// read-back fails: unknown), and refuses the cancel after that. Its failures
// report sends the unsuspend first, which applies: the suspend's read-back is
// the unsuspend's work, so it stays unknown; the cancel is refused again. The
// failures report of that run reads the suspend back once more: effective, as
// before the suspend, but the unsuspend moved it since, so it stays unknown,
// never sent a second time.
func TestMovedOnRowKeepsItsPassWhenTheNextRowIsRefused(t *testing.T) {
	t.Parallel()
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/unsuspend": injectedRefusal,
			"netflix/subscriptions/suspend":   lost,
			"netflix/subscriptions/show":      unavailable,
			"netflix/subscriptions/cancel":    injectedRefusal,
		}),
		byMethod(map[string]middleware{"netflix/subscriptions/cancel": injectedRefusal}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "MP-1"}, {"unsuspend", "MP-1"}, {"suspend", "MP-1"}, {"cancel", "MP-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantFailed("INJECTED"), wantUnknown, wantFailed("INJECTED")})
	if t.Failed() {
		return
	}
	p.phase.Store(1)
	s = failuresRun(t, cfg, s)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown, wantFailed("INJECTED")})
	if t.Failed() {
		return
	}
	p.phase.Store(2)
	s = failuresRun(t, cfg, s)
	// The suspend was applied once, by the first run: it must stay unknown.
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantUnknown, wantOK})
}

// parkedInLane reports whether a goroutine of a run waits, parked, for the
// earlier rows of its lane (a row not yet intended, let alone sent).
func parkedInLane() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, "batch.ticket.wait(") {
			return true
		}
	}
	return false
}

// TestResumeSkipsARowThatMovedTheCustomerAfterAnUncertainRow: the first run
// refuses an unsuspend, then loses the answer of the customer's suspend after
// it applied (its read-back fails): unknown, the last row of its customer.
// Its failures report sends the unsuspend first, which applies, and is
// interrupted before the suspend is read back. The same command resumes that
// run: the unsuspend is done and skipped, but the ledger knows its call came
// after the suspend's, so the suspend's read-back (effective, as before it)
// proves nothing: unknown, never sent a second time.
//
// Not parallel: it waits for a run's goroutine to park in its lane, and
// another test's run could park there too.
func TestResumeSkipsARowThatMovedTheCustomerAfterAnUncertainRow(t *testing.T) {
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/unsuspend": injectedRefusal,
			"netflix/subscriptions/suspend":   lost,
			"netflix/subscriptions/show":      unavailable,
		}),
		byMethod(map[string]middleware{
			// The unsuspend applies and answers; the run is interrupted
			// meanwhile, while the suspend waits for it (as SIGINT does).
			"netflix/subscriptions/unsuspend": func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				waitFor(t, "the suspend to wait for the unsuspend", parkedInLane)
				interrupt()
				next.ServeHTTP(w, r)
			},
		}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "RS-1"}, {"unsuspend", "RS-1"}, {"suspend", "RS-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantFailed("INJECTED"), wantUnknown})
	if t.Failed() {
		return
	}
	p.phase.Store(1)
	retry := cfg
	retry.Path = s.Reports.Failures
	if _, err := batch.Run(ctx, retry); err == nil {
		t.Fatal("the failures report's run: no error, want it interrupted")
	}
	if n := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/unsuspend", Key: "RS-1"}]; n != 1 {
		t.Fatalf("the unsuspend applied %d times before the interruption, want 1", n)
	}
	if n := sb.Calls()["netflix/subscriptions/suspend"]; n != 1 {
		t.Fatalf("suspends sent %d times before the resume, want 1 (the first run's): the interruption came late", n)
	}
	p.phase.Store(2)
	s = mustRun(t, retry)
	if !s.Resumed {
		t.Fatal("the same command did not resume the interrupted run")
	}
	// The unsuspend is skipped as done; the suspend, applied once by the
	// first run, must stay unknown.
	res := readCSV(t, s.Reports.Results)
	if len(res) != 2 {
		t.Fatalf("results report has %d rows, want 2", len(res))
	}
	r := res[1]
	if n := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: "RS-1"}]; r["status"] != "unknown" || n != 1 {
		t.Errorf("the suspend, resumed: %s %s %q, applied %d times; want unknown, applied once", r["status"], r["error_code"], r["error_message"], n)
	}
}

// TestResumedRowKeepsThePassOfItsEarlierAttempt: a run loses the answer of a
// suspend after it applied (its read-back fails: unknown), then applies the
// customer's unsuspend and is interrupted before the customer's cancel. The
// same command resumes it: the suspend is read back (moved on: unknown), the
// unsuspend is done, the cancel is refused. The failures report then reads the
// suspend back: effective, as before it, but moved on since: unknown, never
// sent a second time.
//
// Not parallel: see TestResumeSkipsARowThatMovedTheCustomerAfterAnUncertainRow.
func TestResumedRowKeepsThePassOfItsEarlierAttempt(t *testing.T) {
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/suspend": lost,
			"netflix/subscriptions/show":    unavailable,
			"netflix/subscriptions/unsuspend": func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				waitFor(t, "the cancel to wait for the unsuspend", parkedInLane)
				interrupt()
				next.ServeHTTP(w, r)
			},
		}),
		byMethod(map[string]middleware{"netflix/subscriptions/cancel": injectedRefusal}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "RP-1"}, {"suspend", "RP-1"}, {"unsuspend", "RP-1"}, {"cancel", "RP-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	if _, err := batch.Run(ctx, cfg); err == nil {
		t.Fatal("the first run: no error, want it interrupted")
	}
	if n := sb.Calls()["netflix/subscriptions/cancel"]; n != 0 {
		t.Fatalf("cancels sent %d times before the resume, want none: the interruption came late", n)
	}
	p.phase.Store(1)
	s := mustRun(t, cfg)
	if !s.Resumed {
		t.Fatal("the same command did not resume the interrupted run")
	}
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown, wantOK, wantFailed("INJECTED")})
	if t.Failed() {
		return
	}
	p.phase.Store(2)
	s = failuresRun(t, cfg, s)
	// The suspend was applied once, by the first run: it must stay unknown.
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantUnknown, wantOK})
}

// TestFailuresReportSendsARepeatedActionThatFailed: a customer is suspended,
// unsuspended and suspended again; the second suspend is refused. Its
// failures report holds that suspend alone, the first of its kind in that
// file, so it takes the effect key of the first file's first suspend, which
// was applied: it is skipped as done already, never sent, though nothing
// ever applied it.
func TestFailuresReportSendsARepeatedActionThatFailed(t *testing.T) {
	t.Parallel()
	h := &healable{mw: atNth("netflix/subscriptions/suspend", "RK-1", 2, injectedRefusal)}
	sb, api := startBehind(t, sandbox.Options{}, h.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "RK-1"}, {"suspend", "RK-1"}, {"unsuspend", "RK-1"}, {"suspend", "RK-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	if got := readCSV(t, s.Reports.Results)[3]; got["status"] != "failed" || got["error_code"] != "INJECTED" {
		t.Fatalf("first run: the second suspend is %s %s, want failed INJECTED", got["status"], got["error_code"])
	}
	h.heal()
	s = failuresRun(t, cfg, s)
	res := readCSV(t, s.Reports.Results)
	suspends := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: "RK-1"}]
	if len(res) != 1 || res[0]["status"] != "ok" || suspends != 2 {
		t.Errorf("the failures report: %v, suspends applied %d times; want the second suspend sent and ok (2 suspends applied, one a row)", res, suspends)
	}
}

// TestEditSendsTheCustomersEarlierRowThenFailuresReportReadsBack: the first
// run refuses an unsuspend, then loses the answer of the customer's suspend
// after it applied (its read-back fails): unknown, the last row of its
// customer. An edit of the file without the suspend's row (a copy, elsewhere)
// runs with --skip-done: the unsuspend applies, after the suspend's call. The
// first run's failures report skips the unsuspend as done and reads the
// suspend back: effective, as before the suspend, but the ledger knows the
// unsuspend's call came after: unknown, never sent a second time.
func TestEditSendsTheCustomersEarlierRowThenFailuresReportReadsBack(t *testing.T) {
	t.Parallel()
	h := &healable{mw: byMethod(map[string]middleware{
		"netflix/subscriptions/unsuspend": injectedRefusal,
		"netflix/subscriptions/suspend":   lost,
		"netflix/subscriptions/show":      unavailable,
	})}
	sb, api := startBehind(t, sandbox.Options{}, h.serve)
	dir := t.TempDir()
	header := []string{"action", "billing_system_customer_identifier"}
	cfg := truthConfig(t, writeCSV(t, dir, "job.csv", [][]string{header,
		{"create", "ED-1"}, {"unsuspend", "ED-1"}, {"suspend", "ED-1"}}), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantFailed("INJECTED"), wantUnknown})
	if t.Failed() {
		return
	}
	failures := s.Reports.Failures
	h.heal()
	edit := cfg
	// The same file name in another folder: its reports do not replace the
	// first run's failures report.
	if err := os.Mkdir(filepath.Join(dir, "edited"), 0o700); err != nil {
		t.Fatal(err)
	}
	edit.Path = writeCSV(t, filepath.Join(dir, "edited"), "job.csv", [][]string{header, {"create", "ED-1"}, {"unsuspend", "ED-1"}})
	edit.SkipDone = true
	s = mustRun(t, edit)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{{status: "skipped", code: "ALREADY_DONE", applied: 1}, wantOK})
	if t.Failed() {
		return
	}
	retry := cfg
	retry.Path = failures
	s = mustRun(t, retry)
	// The suspend was applied once, by the first run: it must stay unknown.
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{{status: "skipped", code: "ALREADY_DONE", applied: 1}, wantUnknown})
}
