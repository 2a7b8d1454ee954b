package batch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// The tests of this file check what a subscriptions row whose answer was lost
// becomes (issue 30): the state is read back only then, and a row is ok
// (CONFIRMED_BY_READ_BACK) only when the state before the row is known (from
// the customer's earlier row, or read before it with --read-before) and the
// read shows the row moved it to its end state; a row whose read shows its end
// state while the state before is not known is unknown (the customer may have
// been in it already); nothing is ever sent twice.

// atNth answers the nth call (1-based) of method for customer with mw; every
// other call passes to the sandbox.
func atNth(method, customer string, n int, mw middleware) middleware {
	var seen atomic.Int64
	return func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		if apiMethod(r) == method && customerOf(r) == customer && int(seen.Add(1)) == n {
			mw(next, w, r)
			return
		}
		next.ServeHTTP(w, r)
	}
}

// setState applies actions (action, customer) to the sandbox before a test's
// run, straight, as another system would.
func setState(t *testing.T, sb *sandbox.Server, actions [][2]string) {
	t.Helper()
	if len(actions) == 0 {
		return
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	c, err := crm.New(crm.Config{BaseURL: srv.URL + sandbox.BasePath, Credentials: crm.Credentials{
		Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, a := range actions {
		switch a[0] {
		case kind.ActionSuspend:
			err = c.SuspendSubscription(ctx, a[1])
		case kind.ActionUnsuspend:
			err = c.UnsuspendSubscription(ctx, a[1])
		case kind.ActionCancel:
			err = c.CancelSubscription(ctx, a[1])
		case kind.ActionCreate:
			_, err = c.CreateSubscription(ctx, crm.CreateSubscriptionRequest{BillingSystemCustomerIdentifier: a[1]})
		}
		if err != nil {
			t.Fatalf("setting %s %s up: %v", a[0], a[1], err)
		}
	}
}

// lostRow is what must come of a row: its status, code, a part of its message
// ("" = any).
type lostRow struct {
	status, code, says string
}

var (
	plainOK   = lostRow{status: "ok"}
	confirmed = func(says string) lostRow {
		return lostRow{status: "ok", code: "CONFIRMED_BY_READ_BACK", says: "read back, the customer has " + says}
	}
	// mayHaveBeen is a row whose read back shows its end state, the state
	// before not known.
	mayHaveBeen = func(past string) lostRow {
		return lostRow{status: "unknown", code: "UNKNOWN_OUTCOME", says: "so whether this row " + past + " it cannot be told"}
	}
	refused = func(code string) lostRow { return lostRow{status: "failed", code: code} }
)

// TestLostSubscriptionAnswers: for each action, its answer lost on the
// customer's first row (state before not known; or read before it with
// --read-before) and on a later row (known from the rows before), the
// customer already in the action's end state or not. The sandbox counts what
// each action applied: never twice, and a row is ok only when it applied.
func TestLostSubscriptionAnswers(t *testing.T) {
	t.Parallel()
	const (
		create    = "netflix/subscriptions/create"
		suspend   = "netflix/subscriptions/suspend"
		unsuspend = "netflix/subscriptions/unsuspend"
		cancel    = "netflix/subscriptions/cancel"
	)
	type tcase struct {
		name       string
		setUp      [][2]string // applied before the run: the customer's state
		rows       [][2]string // action, customer
		lose       middleware
		readBefore bool
		wants      []lostRow
		effects    map[string]int // "method customer": times applied by the run
		shows      int            // subscriptions/show calls
	}
	var cases []tcase
	// The customer's first row of the file, the state before not read: the
	// end state read back cannot tell whether this row made it.
	for _, mode := range []struct {
		name       string
		readBefore bool
	}{{"first row", false}, {"first row, --read-before", true}} {
		shows := 1 // the read back
		pick := func(unread, read lostRow) lostRow {
			if mode.readBefore {
				return read
			}
			return unread
		}
		if mode.readBefore {
			shows = 2 // the read before, the read back
		}
		firstRows := []tcase{
			{
				name: mode.name + ": create, the customer without a subscription",
				rows: [][2]string{{"create", "LB-NEW"}}, lose: atNth(create, "LB-NEW", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("created"), confirmed("subscription S0000003566 EFFECTIVE (before: no subscription): created"))},
				effects: map[string]int{create + " LB-NEW": 1},
			},
			{
				name: mode.name + ": create, the customer already with a subscription",
				rows: [][2]string{{"create", "pci001"}}, lose: atNth(create, "pci001", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("created"), refused("SUBSCRIPTION_EXISTS"))},
				effects: map[string]int{create + " pci001": 0},
			},
			{
				name: mode.name + ": suspend, the customer's subscription effective",
				rows: [][2]string{{"suspend", "pci002"}}, lose: atNth(suspend, "pci002", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("suspended"), confirmed("subscription S0000000002 NOT_EFFECTIVE (before: subscription S0000000002 EFFECTIVE): suspended"))},
				effects: map[string]int{suspend + " pci002": 1},
			},
			{
				name:  mode.name + ": suspend, the customer already suspended",
				setUp: [][2]string{{"suspend", "pci003"}},
				rows:  [][2]string{{"suspend", "pci003"}}, lose: atNth(suspend, "pci003", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("suspended"), refused("INVALID_STATE"))},
				effects: map[string]int{suspend + " pci003": 0},
			},
			{
				name:  mode.name + ": unsuspend, the customer suspended",
				setUp: [][2]string{{"suspend", "pci004"}},
				rows:  [][2]string{{"unsuspend", "pci004"}}, lose: atNth(unsuspend, "pci004", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("unsuspended"), confirmed("subscription S0000000004 EFFECTIVE (before: subscription S0000000004 NOT_EFFECTIVE): unsuspended"))},
				effects: map[string]int{unsuspend + " pci004": 1},
			},
			{
				name: mode.name + ": unsuspend, the customer already effective",
				rows: [][2]string{{"unsuspend", "pci005"}}, lose: atNth(unsuspend, "pci005", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("unsuspended"), refused("INVALID_STATE"))},
				effects: map[string]int{unsuspend + " pci005": 0},
			},
			{
				name: mode.name + ": cancel, the customer's subscription effective",
				rows: [][2]string{{"cancel", "pci006"}}, lose: atNth(cancel, "pci006", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("cancelled"), confirmed("subscription S0000000006 CANCELLED (before: subscription S0000000006 EFFECTIVE): cancelled"))},
				effects: map[string]int{cancel + " pci006": 1},
			},
			{
				name:  mode.name + ": cancel, the customer already cancelled",
				setUp: [][2]string{{"cancel", "pci007"}},
				rows:  [][2]string{{"cancel", "pci007"}}, lose: atNth(cancel, "pci007", 1, lost),
				wants:   []lostRow{pick(mayHaveBeen("cancelled"), refused("INVALID_STATE"))},
				effects: map[string]int{cancel + " pci007": 0},
			},
			{
				// A proxy's 502 that hid nothing: the read shows the
				// subscription as the row found it, so it is sent again.
				name: mode.name + ": suspend answered 502 without applying",
				rows: [][2]string{{"suspend", "pci008"}}, lose: atNth(suspend, "pci008", 1, badGateway),
				wants:   []lostRow{plainOK},
				effects: map[string]int{suspend + " pci008": 1},
			},
			{
				name: mode.name + ": create answered 502 without applying",
				rows: [][2]string{{"create", "LB-502"}}, lose: atNth(create, "LB-502", 1, badGateway),
				wants:   []lostRow{plainOK},
				effects: map[string]int{create + " LB-502": 1},
			},
		}
		for _, tc := range firstRows {
			tc.readBefore, tc.shows = mode.readBefore, shows
			cases = append(cases, tc)
		}
	}
	// A later row of the customer: the state before is the one the rows
	// before left, so the read back tells, and nothing is read before.
	later := []tcase{
		{
			name: "later row: create after a cancel",
			rows: [][2]string{{"cancel", "pci009"}, {"create", "pci009"}}, lose: atNth(create, "pci009", 1, lost),
			wants:   []lostRow{plainOK, confirmed("subscription S0000003566 EFFECTIVE (before: a CANCELLED subscription): created; netflix_token is unknown")},
			effects: map[string]int{cancel + " pci009": 1, create + " pci009": 1},
		},
		{
			name:  "later row: create, the customer already with a subscription",
			setUp: [][2]string{{"suspend", "pci010"}},
			rows:  [][2]string{{"unsuspend", "pci010"}, {"create", "pci010"}}, lose: atNth(create, "pci010", 1, lost),
			wants:   []lostRow{plainOK, refused("SUBSCRIPTION_EXISTS")},
			effects: map[string]int{unsuspend + " pci010": 1, create + " pci010": 0},
		},
		{
			name: "later row: suspend after a create",
			rows: [][2]string{{"create", "LB-S"}, {"suspend", "LB-S"}}, lose: atNth(suspend, "LB-S", 1, lost),
			wants:   []lostRow{plainOK, confirmed("subscription S0000003566 NOT_EFFECTIVE (before: subscription S0000003566 EFFECTIVE): suspended")},
			effects: map[string]int{create + " LB-S": 1, suspend + " LB-S": 1},
		},
		{
			name: "later row: suspend, the customer already suspended by the row before",
			rows: [][2]string{{"suspend", "pci011"}, {"suspend", "pci011"}}, lose: atNth(suspend, "pci011", 2, lost),
			wants:   []lostRow{plainOK, refused("INVALID_STATE")},
			effects: map[string]int{suspend + " pci011": 1},
		},
		{
			name: "later row: unsuspend after a suspend",
			rows: [][2]string{{"suspend", "pci012"}, {"unsuspend", "pci012"}}, lose: atNth(unsuspend, "pci012", 1, lost),
			wants:   []lostRow{plainOK, confirmed("subscription S0000000012 EFFECTIVE (before: a NOT_EFFECTIVE subscription): unsuspended")},
			effects: map[string]int{suspend + " pci012": 1, unsuspend + " pci012": 1},
		},
		{
			name: "later row: unsuspend, the customer already effective after a create",
			rows: [][2]string{{"create", "LB-U"}, {"unsuspend", "LB-U"}}, lose: atNth(unsuspend, "LB-U", 1, lost),
			wants:   []lostRow{plainOK, refused("INVALID_STATE")},
			effects: map[string]int{create + " LB-U": 1, unsuspend + " LB-U": 0},
		},
		{
			name: "later row: cancel after a create",
			rows: [][2]string{{"create", "LB-C"}, {"cancel", "LB-C"}}, lose: atNth(cancel, "LB-C", 1, lost),
			wants:   []lostRow{plainOK, confirmed("subscription S0000003566 CANCELLED (before: subscription S0000003566 EFFECTIVE): cancelled")},
			effects: map[string]int{create + " LB-C": 1, cancel + " LB-C": 1},
		},
		{
			name: "later row: cancel, the customer already cancelled by the row before",
			rows: [][2]string{{"cancel", "pci013"}, {"cancel", "pci013"}}, lose: atNth(cancel, "pci013", 2, lost),
			wants:   []lostRow{plainOK, refused("INVALID_STATE")},
			effects: map[string]int{cancel + " pci013": 1},
		},
	}
	for _, tc := range later {
		tc.shows = 1 // the read back
		cases = append(cases, tc)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startBehind(t, sandbox.Options{}, tc.lose)
			setState(t, sb, tc.setUp)
			before := sb.Applied()
			rows := [][]string{{"action", "billing_system_customer_identifier"}}
			for _, r := range tc.rows {
				rows = append(rows, []string{r[0], r[1]})
			}
			cfg := truthConfig(t, writeCSV(t, t.TempDir(), "subs.csv", rows), api)
			cfg.ReadBefore = tc.readBefore
			s := mustRun(t, cfg)
			res := readCSV(t, s.Reports.Results)
			if len(res) != len(tc.wants) {
				t.Fatalf("%d rows in the results, want %d", len(res), len(tc.wants))
			}
			for i, w := range tc.wants {
				r := res[i]
				if r["status"] != w.status || r["error_code"] != w.code || !strings.Contains(r["error_message"], w.says) {
					t.Errorf("row %s (%s %s): %s %s %q; want %s %s saying %q", r["row"], r["action"], r["billing_system_customer_identifier"],
						r["status"], r["error_code"], r["error_message"], w.status, w.code, w.says)
				}
			}
			after := sb.Applied()
			for e, want := range tc.effects {
				method, key, _ := strings.Cut(e, " ")
				eff := sandbox.Effect{Method: method, Key: key}
				if got := after[eff] - before[eff]; got != want {
					t.Errorf("%s applied %d times by the run, want %d", e, got, want)
				}
			}
			if got := sb.Calls()["netflix/subscriptions/show"]; got != tc.shows {
				t.Errorf("%d subscriptions/show calls, want %d", got, tc.shows)
			}
			if got, want := s.Counts[report.StatusUnknown], countStatus(tc.wants, "unknown"); got != want {
				t.Errorf("summary: %d unknown, want %d", got, want)
			}
		})
	}
}

func countStatus(rows []lostRow, status string) int {
	n := 0
	for _, r := range rows {
		if r.status == status {
			n++
		}
	}
	return n
}

// TestNoCallTheFileDidNotAsk: while every answer arrives, a subscriptions run
// makes one call a row and reads nothing; with --read-before, one read more for
// each customer; validate's plan says both.
func TestNoCallTheFileDidNotAsk(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"action", "billing_system_customer_identifier"}}
	const customers = 30
	for i := range customers {
		rows = append(rows, []string{"create", fmt.Sprintf("NC%03d", i)})
	}
	for i := range customers {
		rows = append(rows, []string{"suspend", fmt.Sprintf("NC%03d", i)}, []string{"cancel", fmt.Sprintf("NC%03d", i)})
	}
	for _, tc := range []struct {
		name       string
		readBefore bool
		shows      int
	}{
		{"default: no read", false, 0},
		{"--read-before: one read a customer", true, customers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startSandbox(t, sandbox.Options{})
			path := writeCSV(t, t.TempDir(), "subs.csv", rows)
			cfg := runConfig(t, path, api)
			cfg.ReadBefore = tc.readBefore
			plan, err := batch.Validate(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			wantCalls := int64(len(rows) - 1 + tc.shows)
			if plan.Calls != wantCalls || plan.ReadBeforeCalls != customers || plan.ReadBefore != tc.readBefore {
				t.Errorf("plan: %d calls, read_before_calls %d (read_before %v); want %d, %d (%v)",
					plan.Calls, plan.ReadBeforeCalls, plan.ReadBefore, wantCalls, customers, tc.readBefore)
			}
			s := mustRun(t, cfg)
			if s.Counts[report.StatusOK] != len(rows)-1 {
				t.Fatalf("counts %v, want every row ok", s.Counts)
			}
			calls := sb.Calls()
			if got := calls["netflix/subscriptions/show"]; got != tc.shows {
				t.Errorf("%d subscriptions/show calls, want %d", got, tc.shows)
			}
			if s.Calls != plan.Calls {
				t.Errorf("the run made %d calls, the plan said %d", s.Calls, plan.Calls)
			}
		})
	}
}

// TestStoppedSubscriptionRunReadsBack: a run that stopped after a row's answer
// was lost (the endpoint went away before the row could be read back) leaves
// the row unknown; the same command reads it back with the state before the
// row as the stopped run recorded it: known from the customer's earlier row or
// read before it (--read-before), the row is proven; not known, the end state
// read back cannot tell.
func TestStoppedSubscriptionRunReadsBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		rows       [][]string
		lose       string // the method whose first answer is lost
		readBefore bool
		want       lostRow // of the last row, once resumed
		applied    sandbox.Effect
	}{
		{
			name: "first row", rows: [][]string{{"create", "ST-1"}}, lose: "netflix/subscriptions/create",
			want:    lostRow{status: "unknown", code: "UNKNOWN_OUTCOME", says: "the run that sent it stopped before its answer; read back, the customer has subscription S0000003566 EFFECTIVE, as a create leaves it, but may have had it before this row"},
			applied: sandbox.Effect{Method: "netflix/subscriptions/create", Key: "ST-1"},
		},
		{
			name: "first row, --read-before", rows: [][]string{{"create", "ST-2"}}, lose: "netflix/subscriptions/create", readBefore: true,
			want:    lostRow{status: "ok", code: "CONFIRMED_BY_READ_BACK", says: "the run that sent it stopped before its answer; read back, the customer has subscription S0000003566 EFFECTIVE (before: no subscription): created"},
			applied: sandbox.Effect{Method: "netflix/subscriptions/create", Key: "ST-2"},
		},
		{
			name: "later row", rows: [][]string{{"create", "ST-3"}, {"suspend", "ST-3"}}, lose: "netflix/subscriptions/suspend",
			want:    lostRow{status: "ok", code: "CONFIRMED_BY_READ_BACK", says: "read back, the customer has subscription S0000003566 NOT_EFFECTIVE (before: subscription S0000003566 EFFECTIVE): suspended"},
			applied: sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: "ST-3"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var down, healed atomic.Bool
			sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				switch {
				case healed.Load():
				case apiMethod(r) == tc.lose && !down.Load():
					down.Store(true)
					lost(next, w, r)
					return
				case down.Load():
					hangUpNow(w) // the endpoint went away: the run stops
					return
				}
				next.ServeHTTP(w, r)
			})
			rows := append([][]string{{"action", "billing_system_customer_identifier"}}, tc.rows...)
			cfg := truthConfig(t, writeCSV(t, t.TempDir(), "subs.csv", rows), api)
			cfg.ReadBefore = tc.readBefore
			if _, err := batch.Run(context.Background(), cfg); err == nil {
				t.Fatal("first run: no error, want it stopped")
			}
			healed.Store(true)
			s := mustRun(t, cfg)
			res := readCSV(t, s.Reports.Results)
			r := res[len(res)-1]
			if r["status"] != tc.want.status || r["error_code"] != tc.want.code || !strings.Contains(r["error_message"], tc.want.says) {
				t.Errorf("row %s: %s %s %q; want %s %s saying %q", r["row"], r["status"], r["error_code"], r["error_message"], tc.want.status, tc.want.code, tc.want.says)
			}
			if n := sb.Applied()[tc.applied]; n != 1 {
				t.Errorf("%v applied %d times, want 1", tc.applied, n)
			}
		})
	}
}
