package batch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// The tests of this file hold the statuses true when something a run relies
// on changes under it or between its runs (issue 25): the job file, the
// ledger, the failures report fed back, the server's ways of answering.

// writeExcelCSV writes rows as Excel's "CSV UTF-8" does: a byte order mark
// and CRLF line ends.
func writeExcelCSV(t *testing.T, dir, name string, rows [][]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("\ufeff")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\r\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSameRowsReSavedAreTheSameJob: a job's identity is its rows as read, not
// its bytes. The rows of a finished job re-saved by a spreadsheet under
// another name (a byte order mark, CRLF line ends, "toggle (excel).csv") are
// refused as done; an unfinished job's re-saved copy resumes it. Nothing is
// applied twice.
func TestSameRowsReSavedAreTheSameJob(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"suspend", "pci011"}, {"unsuspend", "pci011"}, {"suspend", "pci012"}, {"unsuspend", "pci012"}}
	t.Run("finished", func(t *testing.T) {
		t.Parallel()
		sb, api := startSandbox(t, sandbox.Options{})
		dir := t.TempDir()
		cfg := runConfig(t, writeCSV(t, dir, "toggle.csv", rows), api)
		if s := mustRun(t, cfg); s.Counts[report.StatusOK] != 4 {
			t.Fatalf("first run: %v", s.Counts)
		}
		for _, name := range []string{"toggle (excel).csv", "toggle.csv"} {
			again := cfg
			again.Path = writeExcelCSV(t, dir, name, rows)
			_, err := batch.Run(context.Background(), again)
			var fe *fault.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "ran to the end") {
				t.Fatalf("%s, the same rows re-saved: %v, want them refused as done", name, err)
			}
		}
		checkApplied(t, sb, []string{"pci011", "pci012"}, map[string]int{"suspend": 1, "unsuspend": 1})
	})
	t.Run("unfinished", func(t *testing.T) {
		t.Parallel()
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if apiMethod(r) == "netflix/subscriptions/suspend" {
				stop() // interrupted once a suspend was applied
			}
		})
		dir := t.TempDir()
		cfg := runConfig(t, writeCSV(t, dir, "toggle.csv", rows), api)
		cfg.Concurrency = 1
		if _, err := batch.Run(ctx, cfg); err == nil {
			t.Fatal("the interrupted run ended without an error")
		}
		again := cfg
		again.Path = writeExcelCSV(t, dir, "toggle (excel).csv", rows)
		s := mustRun(t, again)
		if !s.Resumed || s.Counts[report.StatusOK]+s.Counts[report.StatusSkipped] != 4 {
			t.Fatalf("the re-saved copy: resumed %v, counts %v; want the first run resumed, every row ok", s.Resumed, s.Counts)
		}
		checkApplied(t, sb, []string{"pci011", "pci012"}, map[string]int{"suspend": 1, "unsuspend": 1})
	})
}

// healable routes requests through mw until heal is called, then straight
// to the sandbox: the faults of a first run, gone for the next.
type healable struct {
	healed atomic.Bool
	mw     middleware
}

func (h *healable) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	if h.healed.Load() {
		next.ServeHTTP(w, r)
		return
	}
	h.mw(next, w, r)
}

func (h *healable) heal() { h.healed.Store(true) }

// TestFailuresReportResolvesUnknownRows: a failures report fed back in
// resolves its unknown rows as the same command would, through the lineage
// of the run that wrote it: installed items by replaying the transaction
// reference their call carried (the server refuses it as used: applied), a
// suspend by reading the subscription back against its state before. Nothing
// is applied twice, nothing applied is failed, and the first run's end says
// which command resolves its unknown rows.
func TestFailuresReportResolvesUnknownRows(t *testing.T) {
	t.Parallel()
	down := answer(http.StatusServiceUnavailable, refusal("UNAVAILABLE", "injected"))
	// only lets mw handle the requests that touch one customer or
	// subscription; the others pass.
	only := func(who string, mw middleware) middleware {
		return func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			p := params(r)
			sub, _ := p["subscription_identifier"].(map[string]any)
			if customerOf(r) == who || sub["number"] == who {
				mw(next, w, r)
				return
			}
			next.ServeHTTP(w, r)
		}
	}
	for _, tc := range []struct {
		name   string
		rows   [][]string // the first data row passes; the others meet the faults
		faults map[string]middleware
		effect effectOf
		// readBefore runs the job with --read-before; stillUnknown says the
		// failures report cannot prove the unknown rows either.
		readBefore, stillUnknown bool
	}{
		{
			name: "installed items answered OK with data null",
			rows: [][]string{{"action", "subscription_number", "serial_number"},
				{"add", "S0000000008", "RB-SN-0"}, {"add", "S0000000007", "RB-SN-1"}, {"add", "S0000000007", "RB-SN-2"}},
			faults: map[string]middleware{"subscriptions/installed_items/add": only("S0000000007", rewrite(func(env map[string]any) {
				if okData(env) != nil {
					env["data"] = nil
				}
			}))},
			effect: itemEffect,
		},
		{
			name: "a suspend whose answer was lost, its read-back meeting 503s, read before",
			rows: [][]string{{"action", "billing_system_customer_identifier"}, {"suspend", "pci004"}, {"suspend", "pci003"}},
			faults: map[string]middleware{
				"netflix/subscriptions/suspend": only("pci003", lost),
				// The read before the row passes, the read-backs fail.
				"netflix/subscriptions/show": only("pci003", steps(pass, down).serve),
			},
			readBefore: true,
			effect:     subscriptionEffect,
		},
		{
			// The state before the customer's first row was not read: the
			// read-back shows it suspended, which it may have been before,
			// so the row stays unknown (never failed) and nothing is sent twice.
			name: "a suspend whose answer was lost, its read-back meeting 503s, not read before",
			rows: [][]string{{"action", "billing_system_customer_identifier"}, {"suspend", "pci004"}, {"suspend", "pci003"}},
			faults: map[string]middleware{
				"netflix/subscriptions/suspend": only("pci003", lost),
				"netflix/subscriptions/show":    only("pci003", down),
			},
			effect:       subscriptionEffect,
			stillUnknown: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &healable{mw: byMethod(tc.faults)}
			sb, api := startBehind(t, sandbox.Options{}, h.serve)
			dir := t.TempDir()
			cfg := truthConfig(t, writeCSV(t, dir, "job.csv", tc.rows), api)
			cfg.ReadBefore = tc.readBefore
			s := mustRun(t, cfg)
			wants := []rowWant{wantOK}
			for range tc.rows[2:] {
				wants = append(wants, wantUnknown)
			}
			checkTruth(t, s, sb, tc.effect, wants)
			if want := "crmbatch run " + cfg.Path; s.Resolve != want {
				t.Errorf("the run says %q resolves its unknown rows, want %q", s.Resolve, want)
			}

			h.heal()
			retry := cfg
			retry.Path = s.Reports.Failures
			s = mustRun(t, retry)
			resolved := make([]rowWant, len(wants)-1)
			for i := range resolved {
				resolved[i] = wantOK
				if tc.stillUnknown {
					resolved[i] = wantUnknown
				}
			}
			checkTruth(t, s, sb, tc.effect, resolved)
			if tc.stillUnknown {
				return
			}
			for _, r := range readCSV(t, s.Reports.Results) {
				if r["error_code"] != "CONFIRMED_BY_READ_BACK" || r["error_message"] == "" {
					t.Errorf("row %s: ok with %s %q, want CONFIRMED_BY_READ_BACK saying what the read showed", r["row"], r["error_code"], r["error_message"])
				}
			}
		})
	}
}

// TestForgottenFlagDoesNotReplaceAnUnfinishedRun: a run of a file stopped
// with rows not yet sent; the same file run without the flag it was run with
// is refused (exit 2), naming that flag and how to resume, and leaves the
// reports that list the rows not yet sent as they were. With the flag, it
// resumes; with --fresh, the unfinished run is abandoned and its reports are
// kept under other names.
func TestForgottenFlagDoesNotReplaceAnUnfinishedRun(t *testing.T) {
	t.Parallel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var calls atomic.Int64
	sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if apiMethod(r) == "netflix/operators/register_devices" && calls.Add(1) == 2 {
			stop() // interrupted after two calls
		}
	})
	dir := t.TempDir()
	rows := [][]string{{"esn"}}
	for i := range 300 {
		rows = append(rows, []string{fmt.Sprintf("MIG%05d", i)})
	}
	flagged := runConfig(t, writeCSV(t, dir, "mig.csv", rows), api)
	flagged.Overrides = map[string]string{"group_name": "OPERATOR1"}
	flagged.ChunkSize, flagged.Concurrency = 50, 1
	first, err := batch.Run(ctx, flagged)
	var fatal *fault.FatalError
	if !errors.As(err, &fatal) || first.NotSent == 0 {
		t.Fatalf("interrupted run: %v, %d not sent; want it stopped with rows not sent", err, first.NotSent)
	}
	failures, err := os.ReadFile(first.Reports.Failures)
	if err != nil {
		t.Fatal(err)
	}

	forgot := flagged
	forgot.Overrides = nil
	before := totalCalls(sb)
	_, err = batch.Run(context.Background(), forgot)
	var fe *fault.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "--group-name OPERATOR1") || !strings.Contains(fault.HintOf(err), "crmbatch run --group-name OPERATOR1 ") {
		t.Fatalf("the flag forgotten: %v; want a refusal naming --group-name OPERATOR1 and how to resume", err)
	}
	if now, _ := os.ReadFile(first.Reports.Failures); string(now) != string(failures) {
		t.Fatal("the refused run replaced the failures report of the unfinished run")
	}
	if totalCalls(sb) != before {
		t.Fatal("the refused run made calls")
	}

	s := mustRun(t, flagged)
	if !s.Resumed || s.Counts[report.StatusOK] != 300 {
		t.Fatalf("with the flag: resumed %v, counts %v; want every row ok", s.Resumed, s.Counts)
	}
	applied := sb.Applied()
	for _, r := range rows[1:] {
		if n := applied[sandbox.Effect{Method: "netflix/operators/register_devices", Key: r[0]}]; n != 1 {
			t.Fatalf("%s registered %d times", r[0], n)
		}
	}

	// Another file under the name, the first unfinished again: --fresh
	// abandons it and keeps its reports aside.
	ctx2, stop2 := context.WithCancel(context.Background())
	calls.Store(0)
	stop = stop2
	flagged.Path = writeCSV(t, dir, "mig.csv", append(rows[:1:1], rows[1:101]...))
	flagged.Rerun = true
	if _, err := batch.Run(ctx2, flagged); !errors.As(err, &fatal) {
		t.Fatalf("second interrupted run: %v", err)
	}
	forgot.Fresh = true
	if s, err := batch.Run(context.Background(), forgot); err != nil || s.Counts[report.StatusInvalid] != 100 {
		t.Fatalf("--fresh without the flag: %v; want it run, every row invalid", err)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "mig.failures.abandoned-*.csv"))
	if len(kept) != 1 {
		t.Fatalf("the abandoned run's failures report kept as %v, want one file", kept)
	}
}

// pendingCharges are n demo charges that are pending (the demo's charges
// numbered a multiple of 3 are processed), as rows of a charges job.
func pendingCharges(n int) [][]string {
	rows := [][]string{{"number", "billing_system_customer_identifier", "reference_number"}}
	for i := 1; len(rows) <= n; i++ {
		if i%3 != 0 {
			rows = append(rows, chargeRow(i))
		}
	}
	return rows
}

// checkNothingLost checks a stopped run's reports against what the sandbox
// applied: no row applied is reported failed (not sent or refused), none
// applied twice, every row ok was applied.
func checkNothingLost(t *testing.T, s *report.Summary, sb *sandbox.Server, effect effectOf) (unknown int) {
	t.Helper()
	applied := sb.Applied()
	for _, r := range readCSV(t, s.Reports.Results) {
		n := applied[effect(r)]
		switch {
		case n > 1:
			t.Errorf("row %s: applied %d times", r["row"], n)
		case r["status"] == "failed" && n > 0:
			t.Errorf("row %s: applied, reported failed %s %q", r["row"], r["error_code"], r["error_message"])
		case r["status"] == "ok" && n != 1:
			t.Errorf("row %s: ok, applied %d times", r["row"], n)
		case r["status"] == "unknown":
			unknown++
		}
	}
	return unknown
}

// TestLedgerThatCannotBeWritten: the ledger's disk fills during a run (a
// write budget: SQLite's "database or disk is full"), or the ledger is
// deleted while a run writes it: the run stops at once (exit 3, saying it is
// the ledger), rows sent but not recorded are unknown, never not sent, and
// nothing is applied twice. A state folder whose ledger is gone refuses to
// start a new one, sending nothing, unless --new-ledger; a read-only ledger is
// called read-only, not damaged.
func TestLedgerThatCannotBeWritten(t *testing.T) {
	t.Parallel()
	t.Run("disk full", func(t *testing.T) {
		t.Parallel()
		sb, api := startSandbox(t, sandbox.Options{})
		dir := t.TempDir()
		rows := [][]string{{"esn", "group_name"}}
		for i := range 2000 {
			rows = append(rows, []string{fmt.Sprintf("FULL%05d", i), "OPERATOR1"})
		}
		cfg := runConfig(t, writeCSV(t, dir, "devices.csv", rows), api)
		cfg.ChunkSize, cfg.Concurrency = 100, 2
		cfg.LedgerPages = 6
		s, err := batch.Run(context.Background(), cfg)
		var fatal *fault.FatalError
		if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "the ledger ") || !strings.Contains(err.Error(), "full") {
			t.Fatalf("run on a full disk: %v; want it stopped, saying the ledger is full", err)
		}
		checkNothingLost(t, s, sb, deviceEffect)

		cfg.LedgerPages = 0
		s = mustRun(t, cfg)
		if s.Counts[report.StatusOK] != 2000 {
			t.Fatalf("the same command with room again: %v, want every row ok", s.Counts)
		}
		checkNothingLost(t, s, sb, deviceEffect)
	})
	t.Run("deleted while running", func(t *testing.T) {
		t.Parallel()
		var state string
		var calls atomic.Int64
		sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			if apiMethod(r) == "netflix/charges/acknowledge" && calls.Add(1) == 2 {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(filepath.Join(state, ledger.FileName+suffix))
				}
			}
			next.ServeHTTP(w, r)
		})
		dir := t.TempDir()
		cfg := runConfig(t, writeCSV(t, dir, "charges.csv", pendingCharges(150)), api)
		cfg.Concurrency = 1
		state = cfg.StateDir
		s, err := batch.Run(context.Background(), cfg)
		var fatal *fault.FatalError
		if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "the ledger ") || !errors.Is(err, ledger.ErrVanished) {
			t.Fatalf("the ledger deleted mid-run: %v; want the run stopped, saying the ledger was removed", err)
		}
		if checkNothingLost(t, s, sb, chargeEffect) == 0 {
			t.Error("no row unknown: the call whose outcome the ledger lost is reported as if it knew")
		}

		before := totalCalls(sb)
		_, err = batch.Run(context.Background(), cfg)
		if !errors.Is(err, ledger.ErrGone) && (err == nil || !strings.Contains(err.Error(), "--new-ledger")) {
			t.Fatalf("the same file again: %v; want it refused, naming --new-ledger", err)
		}
		if totalCalls(sb) != before {
			t.Fatal("the refused run made calls")
		}
		cfg.NewLedger = true
		if _, err := batch.Run(context.Background(), cfg); err != nil {
			t.Fatalf("with --new-ledger: %v", err)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		t.Parallel()
		sb, api := startSandbox(t, sandbox.Options{})
		dir := t.TempDir()
		cfg := runConfig(t, devicesFile(t, dir, 10, "RO"), api)
		mustRun(t, cfg)
		if err := os.Chmod(filepath.Join(cfg.StateDir, ledger.FileName), 0o400); err != nil {
			t.Fatal(err)
		}
		cfg.Path = devicesFile(t, filepath.Join(dir, "next"), 10, "RO2")
		before := totalCalls(sb)
		_, err := batch.Run(context.Background(), cfg)
		if !errors.Is(err, ledger.ErrReadOnly) && (err == nil || !strings.Contains(err.Error(), "read-only")) || strings.Contains(fmt.Sprint(err), "damaged") {
			t.Fatalf("a read-only ledger: %v; want it called read-only", err)
		}
		if totalCalls(sb) != before {
			t.Fatal("calls were made")
		}
	})
}

// TestChargeNumbersComparedAsTheServerDoes: two rows whose charge numbers
// differ only in case are one charge, a repeat: the second is invalid, so a
// failure the server echoes in another case can only name the row sent.
func TestChargeNumbersComparedAsTheServerDoes(t *testing.T) {
	t.Parallel()
	echoUpper := rewrite(func(env map[string]any) {
		if d := okData(env); d != nil {
			entries, _ := d["failed_charges_set"].([]any)
			for _, e := range entries {
				m := e.(map[string]any)
				m["number"] = strings.ToUpper(m["number"].(string))
			}
		}
	})
	header := []string{"number", "billing_system_customer_identifier", "reference_number"}
	for _, tc := range []struct {
		name  string
		rows  [][]string
		wants []rowWant
	}{
		{
			name:  "the charge first, a lower-case copy after",
			rows:  [][]string{header, {"I00000001", "pci001", "CASE-1"}, {"i00000001", "pci001", "CASE-2"}},
			wants: []rowWant{wantOK, {status: "invalid", code: "DUPLICATE", applied: 1}}, // the charge applied by row 2
		},
		{
			name:  "a lower-case copy first (no such charge), the charge after",
			rows:  [][]string{header, {"i00000002", "pci002", "CASE-3"}, {" I00000002", "pci002", "CASE-4"}},
			wants: []rowWant{wantFailed("2"), {status: "invalid", code: "DUPLICATE"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startBehind(t, sandbox.Options{}, byMethod(map[string]middleware{"netflix/charges/acknowledge": echoUpper}))
			s := mustRun(t, truthConfig(t, writeCSV(t, t.TempDir(), "charges.csv", tc.rows), api))
			checkTruth(t, s, sb, func(r map[string]string) sandbox.Effect {
				return sandbox.Effect{Method: "netflix/charges/acknowledge", Key: strings.ToUpper(strings.TrimSpace(r["number"]))}
			}, tc.wants)
		})
	}
}

// TestChargesReadBackOnEvidenceOnly: after a lost answer, a charge is ok only
// on positive evidence. An acknowledged charge left the lists, but so is a
// charge that does not exist: without an export or a list read that showed
// it listed before, it is unknown; after a complete read of the lists that
// did not have it, failed NOT_PENDING. A lost accept is sent again once: its
// answer, or a refusal saying the charge is already accepted, tells; a
// second lost answer leaves it unknown. Every case runs against a server that
// drops accepted charges from the lists and against one that keeps them
// listed (the API says only that acknowledged ones leave).
func TestChargesReadBackOnEvidenceOnly(t *testing.T) {
	t.Parallel()
	hand := []string{"number", "billing_system_customer_identifier", "reference_number"}
	accept := func(rows ...[]string) [][]string {
		out := [][]string{append(append([]string{}, exportHeader...), "action")}
		for _, r := range rows {
			out = append(out, append(append([]string{}, r...), "accept"))
		}
		return out
	}
	unknownNone := rowWant{status: "unknown"}
	for _, tc := range []struct {
		name    string
		rows    [][]string
		method  string
		answers []middleware // the calls of method in turn; the last answers the rest
		wants   []rowWant
		maxSent int // calls of method at most
	}{
		{
			name:    "acknowledge of no such charge, answer lost: unknown, not ok",
			rows:    [][]string{hand, {"I00099999", "pci001", "NOPE-1"}},
			method:  "netflix/charges/acknowledge",
			answers: []middleware{lost, pass},
			wants:   []rowWant{unknownNone}, maxSent: 1,
		},
		{
			name:    "acknowledge from an export, answer lost: the export listed it",
			rows:    [][]string{exportHeader, exportedRow(1)},
			method:  "netflix/charges/acknowledge",
			answers: []middleware{lost, pass},
			wants:   []rowWant{{status: "ok", code: "CONFIRMED_BY_READ_BACK", applied: 1}}, maxSent: 1,
		},
		{
			name:    "after a complete read of the lists without it, no such charge: failed NOT_PENDING",
			rows:    [][]string{hand, {"I00099998", "pci001", "NOPE-2"}, {"I00099999", "pci001", "NOPE-3"}},
			method:  "netflix/charges/acknowledge",
			answers: []middleware{lost},
			wants:   []rowWant{unknownNone, wantFailed("NOT_PENDING")}, maxSent: 2,
		},
		{
			name:    "accept, answer lost: sent again once",
			rows:    accept(exportedRow(4)),
			method:  "netflix/charges/accept",
			answers: []middleware{lost, pass},
			wants:   []rowWant{{status: "ok", applied: 1}}, maxSent: 2,
		},
		{
			name:    "accept, both answers lost: unknown",
			rows:    accept(exportedRow(5)),
			method:  "netflix/charges/accept",
			answers: []middleware{lost},
			wants:   []rowWant{wantUnknown}, maxSent: 2,
		},
	} {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, accepted charges listed %v", tc.name, keep), func(t *testing.T) {
				t.Parallel()
				var sent atomic.Int64
				answers := steps(tc.answers...)
				sb, api := startBehind(t, sandbox.Options{KeepAccepted: keep}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
					if apiMethod(r) == tc.method {
						sent.Add(1)
						answers.serve(next, w, r)
						return
					}
					next.ServeHTTP(w, r)
				})
				cfg := truthConfig(t, writeCSV(t, t.TempDir(), "charges.csv", tc.rows), api)
				cfg.ChunkSize, cfg.Concurrency = 1, 1
				s := mustRun(t, cfg)
				checkTruth(t, s, sb, effectCol(tc.method, "number"), tc.wants)
				if n := sent.Load(); n > int64(tc.maxSent) {
					t.Errorf("%s sent %d times, want at most %d", tc.method, n, tc.maxSent)
				}
			})
		}
	}
}

// TestHalvingBlamesOnlyRowsProvenBad: a call refused as a whole once, whose
// halves all go through: no row is failed for a refusal it was never sent
// alone to meet; every row is sent apart until it is proven good or bad.
func TestHalvingBlamesOnlyRowsProvenBad(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"number", "billing_system_customer_identifier"}}
	for _, n := range []int{1, 2, 4, 5} {
		rows = append(rows, chargeRow(n)[:2])
	}
	refuseOnce := steps(answer(http.StatusOK, refusal("INVALID_VALUE", "One of the charges is invalid")), pass)
	sb, api := startBehind(t, sandbox.Options{}, byMethod(map[string]middleware{"netflix/charges/acknowledge": refuseOnce.serve}))
	s := mustRun(t, truthConfig(t, writeCSV(t, t.TempDir(), "charges.csv", rows), api))
	checkTruth(t, s, sb, chargeEffect, []rowWant{wantOK, wantOK, wantOK, wantOK})
}

// TestTakenOverChargeKeepsTheServersReference: a run stops not knowing
// whether its acknowledge of a charge (with its reference) was applied;
// another sheet holding the charge with another reference takes the claim
// over and reads it back: ok, saying the reference the server kept, and the
// ledger keeps that one too.
func TestTakenOverChargeKeepsTheServersReference(t *testing.T) {
	t.Parallel()
	h := &healable{mw: byMethod(map[string]middleware{
		"netflix/charges/acknowledge": lost,
		"netflix/charges/list":        func(_ http.Handler, w http.ResponseWriter, _ *http.Request) { hangUpNow(w) },
	})}
	sb, api := startBehind(t, sandbox.Options{}, h.serve)
	dir := t.TempDir()
	first := truthConfig(t, writeCSV(t, dir, "monday.csv", [][]string{exportHeader, {"I00000007", "pci007", "REF-MONDAY", "PENDING"}}), api)
	first.StateDir = filepath.Join(dir, "state")
	if _, err := batch.Run(context.Background(), first); err == nil {
		t.Fatal("the first run ended, want it stopped (the lists unreachable)")
	}
	h.heal()
	second := first
	second.Path = writeCSV(t, dir, "tuesday.csv", [][]string{exportHeader, {"I00000007", "pci007", "REF-TUESDAY", "PENDING"}})
	s := mustRun(t, second)
	checkTruth(t, s, sb, chargeEffect, []rowWant{{status: "ok", code: "CONFIRMED_BY_READ_BACK", applied: 1}})
	if msg := readCSV(t, s.Reports.Results)[0]["error_message"]; !strings.Contains(msg, "REF-MONDAY") {
		t.Errorf("the report says %q, want the reference the server kept, REF-MONDAY", msg)
	}
	if ref, _ := sb.ChargeReferenceNumber("I00000007"); ref != "REF-MONDAY" {
		t.Fatalf("the sandbox kept %q", ref)
	}
	led, err := ledger.Open(second.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	d, ok, err := led.Done(context.Background(), "charges", "I00000007")
	if err != nil || !ok || d.Detail != "REF-MONDAY" {
		t.Errorf("the ledger keeps %+v (%v, %v), want reference REF-MONDAY", d, ok, err)
	}
}

// TestRetryAfterLongerThanMaxWait: a server that asks to wait an hour stops
// the run at once (exit 3), saying when to come back, rather than hold it
// silently; nothing is applied and the rows are not sent.
func TestRetryAfterLongerThanMaxWait(t *testing.T) {
	t.Parallel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var throttled atomic.Int64
	sb, api := startBehind(t, sandbox.Options{}, byMethod(map[string]middleware{
		"netflix/operators/register_devices": func(_ http.Handler, w http.ResponseWriter, r *http.Request) {
			if throttled.Add(1) > 1 {
				stop() // a run that waited the hour out would be stopped here
			}
			w.Header().Set("Retry-After", "3600")
			answer(http.StatusTooManyRequests, refusal("TOO_MANY_REQUESTS", "slow down"))(nil, w, r)
		},
	}))
	cfg := truthConfig(t, devicesFile(t, t.TempDir(), 20, "WAIT"), api)
	s, err := batch.Run(ctx, cfg)
	var fatal *fault.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "--max-wait") || !strings.Contains(err.Error(), "come back after") {
		t.Fatalf("Retry-After 3600: %v; want the run stopped, naming --max-wait and when to come back", err)
	}
	if s.NotSent != 20 || len(sb.Applied()) != 0 {
		t.Fatalf("%d not sent, %d applied; want every row not sent", s.NotSent, len(sb.Applied()))
	}
}

// TestFileChangedInPlaceWhileRunning: a job file rewritten in place while it
// runs (the same size: cat other.csv > job.csv; or cut to nothing: : >
// job.csv) stops the run before any row of the new content is sent, and
// every row sent is reported with what was sent.
func TestFileChangedInPlaceWhileRunning(t *testing.T) {
	t.Parallel()
	const n = 60_000 // several of the blocks the file is checked by
	rowsOf := func(prefix string) [][]string {
		rows := [][]string{{"esn", "group_name"}}
		for i := range n {
			rows = append(rows, []string{fmt.Sprintf("%s%06d", prefix, i), "OPERATOR1"})
		}
		return rows
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"rewritten, the same size", func(t *testing.T, path string) {
			other := writeCSV(t, t.TempDir(), "other.csv", rowsOf("DIFF"))
			b, err := os.ReadFile(other)
			if err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(path, b, 0o600); err != nil { // truncates and writes: the same file
				t.Error(err)
			}
		}},
		{"cut to nothing", func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := writeCSV(t, dir, "job.csv", rowsOf("SAME"))
			var calls atomic.Int64
			sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				if apiMethod(r) == "netflix/operators/register_devices" && calls.Add(1) == 3 {
					tc.change(t, path)
				}
				next.ServeHTTP(w, r)
			})
			cfg := runConfig(t, path, api)
			cfg.ChunkSize, cfg.Concurrency = 100, 1
			s, err := batch.Run(context.Background(), cfg)
			var fatal *fault.FatalError
			if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "changed in place") {
				t.Errorf("run: %v; want it stopped, saying the file changed in place", err)
			}
			if s == nil {
				t.FailNow()
			}
			applied := sb.Applied()
			reported := map[string]string{}
			for _, r := range readCSV(t, s.Reports.Results) {
				reported[r["esn"]] = r["status"]
			}
			sent := 0
			for e := range applied {
				sent++
				if strings.HasPrefix(e.Key, "DIFF") {
					t.Errorf("%s, a row of the new content, was sent", e.Key)
					continue
				}
				if reported[e.Key] != "ok" {
					t.Errorf("%s was applied and is reported %q", e.Key, reported[e.Key])
				}
			}
			if sent < 300 {
				t.Fatalf("%d rows applied; the change came after three calls", sent)
			}
			if ok := s.Counts[report.StatusOK]; ok != sent {
				t.Errorf("%d rows ok, %d applied", ok, sent)
			}
		})
	}
}

// TestResumeThatStopsAtOnceKeepsUnknownRows: rows whose outcome a run could
// not know stay unknown in the reports of a resumed run that stops before it
// reads them back (the login refused), never "not sent".
func TestResumeThatStopsAtOnceKeepsUnknownRows(t *testing.T) {
	t.Parallel()
	var refuse atomic.Bool
	sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			answer(http.StatusUnauthorized, "unauthorized")(next, w, r)
			return
		}
		if apiMethod(r) == "subscriptions/installed_items/add" {
			rewrite(func(env map[string]any) { env["data"] = nil })(next, w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
	rows := [][]string{{"action", "subscription_number", "serial_number"}, {"add", "S0000000009", "RS-1"}, {"add", "S0000000009", "RS-2"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "items.csv", rows), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, itemEffect, []rowWant{{status: "unknown", code: "NOT_EXECUTED", applied: 1}, {status: "unknown", code: "NOT_EXECUTED", applied: 1}})
	refuse.Store(true)
	s, err := batch.Run(context.Background(), cfg)
	var fatal *fault.FatalError
	if !errors.As(err, &fatal) || !s.Resumed {
		t.Fatalf("the resumed run: %v (resumed %v), want it stopped at the login", err, s != nil && s.Resumed)
	}
	checkTruth(t, s, sb, itemEffect, []rowWant{{status: "unknown", code: "NOT_EXECUTED", applied: 1}, {status: "unknown", code: "NOT_EXECUTED", applied: 1}})
}
