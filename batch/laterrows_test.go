package batch_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestUnknownRowRetriedAfterTheCustomersLaterRows: a row ends unknown and the
// run goes on to the customer's later rows, which move the subscription on.
// Retried (by its failures report, or by the same command), the state read
// back is the later rows' work: it proves nothing about this row, so the row
// stays unknown — never resent (a second effect), never failed (it was
// applied).
func TestUnknownRowRetriedAfterTheCustomersLaterRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rows   [][]string // the first data row ends unknown, the later ones ok
		faults map[string]middleware
		// failures retries by the failures report, else by the same command.
		failures bool
	}{
		{
			// The create's read-back shows the subscription a create makes,
			// which the customer may have had before: unknown. The suspend
			// follows. Read back again, the subscription is suspended.
			name:     "a create, then a suspend; the failures report",
			rows:     [][]string{{"create", "LR-1"}, {"suspend", "LR-1"}},
			faults:   map[string]middleware{"netflix/subscriptions/create": lost},
			failures: true,
		},
		{
			// Read back, the subscription is cancelled: a resend would
			// create a second one.
			name:     "a create, then a cancel; the failures report",
			rows:     [][]string{{"create", "LR-3"}, {"cancel", "LR-3"}},
			faults:   map[string]middleware{"netflix/subscriptions/create": lost},
			failures: true,
		},
		{
			name:   "a create, then a suspend; the same command",
			rows:   [][]string{{"create", "LR-2"}, {"suspend", "LR-2"}},
			faults: map[string]middleware{"netflix/subscriptions/create": lost},
		},
		{
			// The suspend's read-back fails: unknown. The unsuspend follows
			// and applies. Read back again, the subscription is effective, as
			// it was before the suspend: a resend would suspend it twice.
			name: "a suspend whose read-back failed, then an unsuspend; the failures report",
			rows: [][]string{{"suspend", "pci003"}, {"unsuspend", "pci003"}},
			faults: map[string]middleware{
				"netflix/subscriptions/suspend": lost,
				"netflix/subscriptions/show":    unavailable,
			},
			failures: true,
		},
		{
			name: "a suspend whose read-back failed, then an unsuspend; the same command",
			rows: [][]string{{"suspend", "pci004"}, {"unsuspend", "pci004"}},
			faults: map[string]middleware{
				"netflix/subscriptions/suspend": lost,
				"netflix/subscriptions/show":    unavailable,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &healable{mw: byMethod(tc.faults)}
			sb, api := startBehind(t, sandbox.Options{}, h.serve)
			rows := append([][]string{{"action", "billing_system_customer_identifier"}}, tc.rows...)
			cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
			s := mustRun(t, cfg)
			wants := []rowWant{wantUnknown}
			for range tc.rows[1:] {
				wants = append(wants, wantOK)
			}
			checkTruth(t, s, sb, subscriptionEffect, wants)
			if t.Failed() {
				return
			}

			h.heal()
			retry := cfg
			if tc.failures {
				retry.Path = s.Reports.Failures
				wants = wants[:1]
			}
			s = mustRun(t, retry)
			if !tc.failures {
				wants = []rowWant{wantUnknown, wantOK}
			}
			checkTruth(t, s, sb, subscriptionEffect, wants)
			if s.Counts[report.StatusFailed] != 0 {
				t.Errorf("counts %v: a row failed that was applied", s.Counts)
			}
		})
	}
}

// TestUnknownRowNotConfirmedByTheCustomersLaterRows: a suspend is lost
// before it reaches the server and its read-back fails, so it ends unknown;
// the customer's later rows (an unsuspend, refused, and a suspend, applied)
// leave the subscription suspended. Read back again, the state is the one the
// lost suspend would have made, but the later suspend made it: the row was
// never applied and must not be reported ok. A row whose customer has no
// later rows is still proven by its read-back.
func TestUnknownRowNotConfirmedByTheCustomersLaterRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rows [][]string // row 2 (the suspend) ends unknown
		// want is what comes of row 2 once retried: "unknown", or "resent"
		// (read back as not applied, sent again and ok, applied once).
		want string
	}{
		{
			name: "later rows made the state",
			rows: [][]string{{"create", "LM-1"}, {"suspend", "LM-1"}, {"unsuspend", "LM-1"}, {"suspend", "LM-1"}},
			want: "unknown",
		},
		{
			// The suspend finds no subscription and is refused: certainly
			// not applied, it moved nothing, and the create's read-back
			// still proves what came of it.
			name: "a later row refused: read back, the state proves the row",
			rows: [][]string{{"create", "LM-3"}, {"suspend", "LM-3"}, {"unsuspend", "LM-3"}},
			want: "resent",
		},
		{
			name: "no later rows: read back, the state proves the row",
			rows: [][]string{{"create", "LM-2"}, {"suspend", "LM-2"}},
			want: "resent",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			neverArrives := func(_ http.Handler, w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				hangUpNow(w)
			}
			h := &healable{mw: byMethod(map[string]middleware{
				"netflix/subscriptions/suspend": steps(neverArrives, pass).serve,
				"netflix/subscriptions/show":    unavailable,
			})}
			sb, api := startBehind(t, sandbox.Options{}, h.serve)
			rows := append([][]string{{"action", "billing_system_customer_identifier"}}, tc.rows...)
			cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
			s := mustRun(t, cfg)
			if got := readCSV(t, s.Reports.Results)[1]["status"]; got != "unknown" {
				t.Fatalf("first run: the lost suspend is %s, want unknown", got)
			}
			h.heal()
			s = mustRun(t, cfg)
			res := readCSV(t, s.Reports.Results)
			suspends := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: tc.rows[0][1]}]
			got := res[1]
			switch tc.want {
			case "unknown":
				if got["status"] != "unknown" {
					t.Errorf("retried: the suspend that never arrived is %s %s %q; want unknown (the later suspend made the state)",
						got["status"], got["error_code"], got["error_message"])
				}
				if suspends != 1 {
					t.Errorf("suspends applied %d times, want 1 (the later row's)", suspends)
				}
			default:
				if got["status"] != "ok" || suspends != 1 {
					t.Errorf("retried: the suspend is %s %s %q, applied %d times; want ok, applied once",
						got["status"], got["error_code"], got["error_message"], suspends)
				}
			}
		})
	}
}

// TestUnknownRowReadBackAfterAnEarlierRowResentAcrossRuns: the first run
// refuses an unsuspend, then sends the customer's suspend, whose answer is
// lost and whose read-back fails: unknown, the last row of its customer, so
// not passed in that run. Its failures report sends the unsuspend again
// first (file order), which moves the subscription, then reads the suspend
// back: the state is the unsuspend's work and proves nothing of the suspend,
// which was applied. It must stay unknown, never be sent a second time, and
// so in the failures report of that run too.
func TestUnknownRowReadBackAfterAnEarlierRowResentAcrossRuns(t *testing.T) {
	t.Parallel()
	h := &healable{mw: byMethod(map[string]middleware{
		"netflix/subscriptions/unsuspend": answer(http.StatusOK, refusal("INJECTED", "injected refusal")),
		"netflix/subscriptions/suspend":   lost,
		"netflix/subscriptions/show":      unavailable,
	})}
	sb, api := startBehind(t, sandbox.Options{}, h.serve)
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "RV-1"}, {"unsuspend", "RV-1"}, {"suspend", "RV-1"}}
	cfg := truthConfig(t, writeCSV(t, t.TempDir(), "job.csv", rows), api)
	s := mustRun(t, cfg)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantFailed("INJECTED"), wantUnknown})
	if t.Failed() {
		return
	}
	h.heal()
	s = failuresRun(t, cfg, s)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantOK, wantUnknown})
	if t.Failed() {
		return
	}
	// The second run's failures report: the suspend alone. Its state before,
	// as the second run recorded it, is the unsuspend's work: still no proof.
	s = failuresRun(t, cfg, s)
	checkTruth(t, s, sb, subscriptionEffect, []rowWant{wantUnknown})
}
