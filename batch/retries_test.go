package batch_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestRowFailedAfterUnknownIsSentByTheNextFailuresReport: the first run's
// suspend gets a 502 that applied nothing and its read-back fails: unknown.
// Its failures report reads it back (not applied, as before it), sends it
// again and is refused: failed, certainly not applied. The failures report
// of that run must send it: it is not applied and nothing came after. (A
// cancel of another customer, refused first, applies in the second run, so
// that the third file is not the second's again.)
func TestRowFailedAfterUnknownIsSentByTheNextFailuresReport(t *testing.T) {
	t.Parallel()
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/suspend": badGateway,
			"netflix/subscriptions/show":    unavailable,
			"netflix/subscriptions/cancel":  injectedRefusal,
		}),
		byMethod(map[string]middleware{"netflix/subscriptions/suspend": injectedRefusal}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "MP-1"}, {"suspend", "MP-1"}, {"create", "MP-2"}, {"cancel", "MP-2"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, {status: "unknown"}, wantOK, wantFailed("INJECTED")})
	if t.Failed() {
		return
	}
	p.phase.Store(1)
	s = failuresRun(t, cfg, s)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantFailed("INJECTED"), wantOK})
	if t.Failed() {
		return
	}
	p.phase.Store(2)
	s = failuresRun(t, cfg, s)
	// Never applied, refused last time: sent now, and applied once.
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK})
}

// TestReadBackAfterAnotherProcessCallInFlight: two processes share a ledger.
// One runs an unsuspend of MP-1 (its own file): its call is intended, then
// held on its way to the server. Meanwhile the other runs create and suspend
// of MP-1: the suspend is applied, its answer lost and its read-back fails
// (unknown). Then the held unsuspend arrives and applies. The unsuspend was
// intended before the suspend, but it reached the server after it: the
// suspend's read-back (active, as before it) is the unsuspend's work and
// proves nothing. The failures report must not send the suspend again.
func TestReadBackAfterAnotherProcessCallInFlight(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	held := func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		next.ServeHTTP(w, r)
	}
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/unsuspend": held,
			"netflix/subscriptions/suspend":   lost,
			"netflix/subscriptions/show":      unavailable,
		}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	first := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "MP-1"}, {"suspend", "MP-1"}}), api)
	other := truthConfig(t, writeCSV(t, t.TempDir(), "other.csv", [][]string{{"action", "billing_system_customer_identifier"},
		{"unsuspend", "MP-1"}}), api)
	other.StateDir = first.StateDir // one ledger, two processes
	type ran struct {
		err error
	}
	done := make(chan ran, 1)
	go func() {
		_, err := batch.Run(context.Background(), other)
		done <- ran{err}
	}()
	<-arrived // the unsuspend is intended and on its way
	s := mustRun(t, first)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown})
	close(release)
	if r := <-done; r.err != nil {
		t.Fatalf("the other run: %v", r.err)
	}
	if t.Failed() {
		return
	}
	p.phase.Store(1)
	retry := first
	retry.Path = s.Reports.Failures
	s = mustRun(t, retry)
	// The suspend was applied once, by the first run: it must stay unknown.
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantUnknown})
}

// TestResumedFailuresReportKeepsItsRowsFirstFileKeys: the first run applies
// create, suspend and unsuspend of RF-1 and its second suspend is refused.
// Its failures report (that second suspend alone) is interrupted while the
// suspend is on its way, not applied. The same command resumes it: the row is
// the first file's second suspend, never applied, not its first one done. It
// must be read back (not applied) and sent, never skipped as ALREADY_DONE.
func TestResumedFailuresReportKeepsItsRowsFirstFileKeys(t *testing.T) {
	t.Parallel()
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	p := &phased{phases: []middleware{
		atNth("netflix/subscriptions/suspend", "RF-1", 2, injectedRefusal),
		byMethod(map[string]middleware{
			// Interrupted with the suspend sent and not applied.
			"netflix/subscriptions/suspend": func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				interrupt()
				hangUpNow(w)
			},
		}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "RF-1"}, {"suspend", "RF-1"}, {"unsuspend", "RF-1"}, {"suspend", "RF-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	res := readCSV(t, s.Reports.Results)
	if len(res) != 4 || res[3]["status"] != "failed" {
		t.Fatalf("the first run's second suspend: %v, want failed", res)
	}
	p.phase.Store(1)
	retry := cfg
	retry.Path = s.Reports.Failures
	if _, err := batch.Run(ctx, retry); err == nil {
		t.Fatal("the failures report's run: no error, want it interrupted")
	}
	p.phase.Store(2)
	s = mustRun(t, retry)
	if !s.Resumed {
		t.Fatal("the same command did not resume the interrupted run")
	}
	res = readCSV(t, s.Reports.Results)
	if len(res) != 1 {
		t.Fatalf("results report has %d rows, want 1", len(res))
	}
	r := res[0]
	if n := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: "RF-1"}]; r["status"] != "ok" || n != 2 {
		t.Errorf("the second suspend, resumed: %s %s %q, suspends applied %d times; want ok, applied twice (once a row)", r["status"], r["error_code"], r["error_message"], n)
	}
}

// TestResumedRowIsNotMovedByItsOwnReadBack: the first run loses the answer of
// a suspend after it applied and its read-back fails: unknown. Its failures
// report reads the suspend back and is interrupted during the read. The same
// command resumes it: no call of the customer came after the suspend's but
// the row's own read-back, which sent nothing, so the read-back (suspended,
// from effective) proves it applied: ok, applied once.
func TestResumedRowIsNotMovedByItsOwnReadBack(t *testing.T) {
	t.Parallel()
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	p := &phased{phases: []middleware{
		byMethod(map[string]middleware{
			"netflix/subscriptions/suspend": lost,
			"netflix/subscriptions/show":    unavailable,
		}),
		byMethod(map[string]middleware{
			"netflix/subscriptions/show": func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				interrupt()
				unavailable(next, w, r)
			},
		}),
		pass,
	}}
	sb, api := startBehind(t, sandbox.Options{}, p.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "RR-1"}, {"suspend", "RR-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown})
	if t.Failed() {
		return
	}
	p.phase.Store(1)
	retry := cfg
	retry.Path = s.Reports.Failures
	if _, err := batch.Run(ctx, retry); err == nil {
		t.Fatal("the failures report's run: no error, want it interrupted")
	}
	if n := sb.Calls()["netflix/subscriptions/suspend"]; n != 1 {
		t.Fatalf("suspends sent %d times, want 1 (the first run's)", n)
	}
	p.phase.Store(2)
	s = mustRun(t, retry)
	if !s.Resumed {
		t.Fatal("the same command did not resume the interrupted run")
	}
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK})
}
