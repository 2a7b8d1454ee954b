package batch_test

import (
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
	down := answer(http.StatusServiceUnavailable, refusal("UNAVAILABLE", "injected"))
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
				"netflix/subscriptions/show":    down,
			},
			failures: true,
		},
		{
			name: "a suspend whose read-back failed, then an unsuspend; the same command",
			rows: [][]string{{"suspend", "pci004"}, {"unsuspend", "pci004"}},
			faults: map[string]middleware{
				"netflix/subscriptions/suspend": lost,
				"netflix/subscriptions/show":    down,
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
