package batch_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/internal/sandboxtest"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// startSandbox serves a sandbox over real HTTP and returns it with the API config.
func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, crm.Config) {
	t.Helper()
	return sandboxtest.Start(t, opts)
}

// waitFor polls cond until it holds, or until shortly before the test's
// deadline (a hang, however slow the machine); then it reports what it
// waited for (t.Error: it may be called from another goroutine) and returns
// false.
func waitFor(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	hang := beforeDeadline(t)
	for !cond() {
		select {
		case <-hang:
			t.Errorf("waited until the test's deadline for %s", what)
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return true
}

func writeCSV(t *testing.T, dir, name string, rows [][]string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	return sandboxtest.ReadCSV(t, path)
}

func runConfig(t *testing.T, path string, api crm.Config) batch.Config {
	return sandboxtest.RunConfig(t, path, api)
}

func devicesFile(t *testing.T, dir string, n int, prefix string) string {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rows := [][]string{{"esn", "group_name", "note"}}
	for i := range n {
		rows = append(rows, []string{fmt.Sprintf("%s%06d", prefix, i), "OPERATOR1", "=cmd|' /C calc'!A0"})
	}
	return writeCSV(t, dir, "devices.csv", rows)
}

func TestRunDevicesEveryRowOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rows int
		opts sandbox.Options
	}{
		{"one chunk", 10, sandbox.Options{}},
		{"exactly one full chunk", 1000, sandbox.Options{}},
		{"one more than a chunk", 1001, sandbox.Options{}},
		{"faults", 5000, sandbox.Options{FailRate: 0.1, DropRate: 0.02, Seed: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startSandbox(t, tc.opts)
			dir := t.TempDir()
			path := devicesFile(t, dir, tc.rows, "ESN")
			s, err := batch.Run(context.Background(), runConfig(t, path, api))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if s.Counts[report.StatusOK] != tc.rows || s.Rows != tc.rows {
				t.Fatalf("counts %v of %d rows, want all %d ok", s.Counts, s.Rows, tc.rows)
			}
			applied := sb.Applied()
			for i := range tc.rows {
				esn := fmt.Sprintf("ESN%06d", i)
				if n := applied[sandbox.Effect{Method: "netflix/operators/register_devices", Key: esn}]; n != 1 {
					t.Fatalf("%s registered %d times, want 1", esn, n)
				}
			}
			res := readCSV(t, s.Reports.Results)
			if len(res) != tc.rows {
				t.Fatalf("results has %d rows, want %d", len(res), tc.rows)
			}
			for i, r := range res {
				if r["row"] != fmt.Sprint(i+2) || r["status"] != "ok" || r["esn"] != fmt.Sprintf("ESN%06d", i) {
					t.Fatalf("results row %d = %v", i, r)
				}
				if !strings.HasPrefix(r["note"], "'=") {
					t.Fatalf("formula cell not neutralised: %q", r["note"])
				}
			}
			if len(readCSV(t, s.Reports.Failures)) != 0 {
				t.Fatalf("failures report is not empty")
			}
		})
	}
}

func TestRunReportsFailedAndInvalidRows(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{})
	dir := t.TempDir()
	path := writeCSV(t, dir, "devices.csv", [][]string{
		{"esn", "group_name"},
		{"GOOD001", "OPERATOR1"},
		{"BLOCKED01", "OPERATOR1"},
		{"3.5E+14", "OPERATOR1"},
		{"GOOD001", "OPERATOR1"},
		{"GOOD002", ""},
		{"GOOD003", "OPERATOR1"},
	})
	s, err := batch.Run(context.Background(), runConfig(t, path, api))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []struct{ status, code string }{
		{"ok", ""}, {"failed", "DEVICE_FAILED"}, {"invalid", "MANGLED_ID"}, {"invalid", "DUPLICATE"}, {"invalid", "REQUIRED"}, {"ok", ""},
	}
	res := readCSV(t, s.Reports.Results)
	for i, w := range want {
		if res[i]["status"] != w.status || res[i]["error_code"] != w.code {
			t.Errorf("row %d: status %q code %q, want %q %q (%s)", i+2, res[i]["status"], res[i]["error_code"], w.status, w.code, res[i]["error_message"])
		}
	}
	fails := readCSV(t, s.Reports.Failures)
	if len(fails) != 4 {
		t.Fatalf("failures has %d rows, want 4", len(fails))
	}
	if s.Problems() != 4 {
		t.Fatalf("Problems() = %d, want 4", s.Problems())
	}
	if g, ok := sb.DeviceGroup("GOOD003"); !ok || g != "OPERATOR1" {
		t.Fatalf("GOOD003 not registered: %q %v", g, ok)
	}

	// Feeding the failures report back retries exactly those rows.
	s2, err := batch.Run(context.Background(), runConfig(t, s.Reports.Failures, api))
	if err != nil {
		t.Fatalf("Run failures: %v", err)
	}
	if s2.Rows != 4 {
		t.Fatalf("failures run read %d rows, want 4", s2.Rows)
	}
	res2 := readCSV(t, s2.Reports.Results)
	var esns []string
	for _, r := range res2 {
		esns = append(esns, r["esn"])
		if _, dup := r["status_1"]; dup {
			t.Fatalf("report columns repeated: %v", r)
		}
	}
	if got := strings.Join(esns, ","); got != "BLOCKED01,3.5E+14,GOOD001,GOOD002" {
		t.Fatalf("failures run rows = %s", got)
	}
}

func TestValidateSendsNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeCSV(t, dir, "subs.csv", [][]string{
		{"action", "billing_system_customer_identifier", "channel", "validity_duration", "customer_address.floor", "customer_address.type"},
		{"create", "C1", "web", "100", "2", "HOME"},
		{"create", "C2", "TELEPATHY", "", "", ""},
		{"create", "C3", "", "90000", "", ""},
		{"create", "C4", "", "", "two", "HOME"},
		{"create", "C5", "", "", "2", ""},
		{"suspend", "C1", "", "", "", ""},
		{"explode", "C1", "", "", "", ""},
	})
	s, err := batch.Validate(context.Background(), batch.Config{Path: path, Concurrency: 1, Attempts: 1, Rate: 10})
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if s.Job != "subscriptions" {
		t.Fatalf("job %q, want subscriptions", s.Job)
	}
	res := readCSV(t, s.Reports.Results)
	want := []struct{ status, msg string }{
		{"planned", ""},
		{"invalid", "column channel"},
		{"invalid", "column validity_duration"},
		{"invalid", "column customer_address.floor"},
		{"invalid", "column customer_address.type"},
		{"planned", ""},
		{"invalid", "column action"},
	}
	for i, w := range want {
		if res[i]["status"] != w.status || !strings.Contains(res[i]["error_message"], w.msg) {
			t.Errorf("row %d: %q %q, want %q containing %q", i+2, res[i]["status"], res[i]["error_message"], w.status, w.msg)
		}
	}
	if s.Calls != 2 {
		t.Errorf("planned calls %d, want 2", s.Calls)
	}
}

func TestRunFileErrorsSendNothing(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{})
	for _, tc := range []struct {
		name string
		rows [][]string
		job  string
		want string
	}{
		{"missing column", [][]string{{"group_name"}, {"OPERATOR1"}}, "devices", "no column esn"},
		{"unknown dotted field", [][]string{{"action", "billing_system_customer_identifier", "customer_address.stret_name"}, {"create", "C", "x"}}, "", "customer_address.stret_name"},
		{"no kind fits", [][]string{{"what"}, {"x"}}, "", "fits no job kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeCSV(t, t.TempDir(), "job.csv", tc.rows)
			cfg := runConfig(t, path, api)
			cfg.Job = tc.job
			_, err := batch.Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if _, statErr := os.Stat(strings.TrimSuffix(path, ".csv") + ".results.csv"); !os.IsNotExist(statErr) {
				t.Fatalf("a results report exists after a file error")
			}
		})
	}
	if n := sb.Logins(); n != 0 {
		t.Fatalf("the sandbox saw %d logins: something was sent", n)
	}
}

// TestRunSubscriptionsInFileOrderUnderFaults: under 500s and dropped answers
// every action is applied once, in file order. With --read-before every row is
// proven ok; without it, a lost answer on a customer's first row (its create)
// whose read back shows the subscription is unknown (the customer may have had
// it before), and every later row is proven from the rows before.
func TestRunSubscriptionsInFileOrderUnderFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		readBefore bool
	}{{"the state read back only", false}, {"--read-before", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startSandbox(t, sandbox.Options{FailRate: 0.1, DropRate: 0.05, Seed: 3})
			rows := [][]string{{"action", "billing_system_customer_identifier", "promotion_code", "channel"}}
			const customers = 150
			for i := range customers {
				c := fmt.Sprintf("NEW%04d", i)
				rows = append(rows, []string{"create", c, "14", "WEB"})
			}
			for i := range customers {
				rows = append(rows, []string{"suspend", fmt.Sprintf("NEW%04d", i), "", ""})
			}
			for i := range customers {
				rows = append(rows, []string{"cancel", fmt.Sprintf("NEW%04d", i), "", ""})
			}
			path := writeCSV(t, t.TempDir(), "subs.csv", rows)
			cfg := runConfig(t, path, api)
			cfg.ReadBefore = tc.readBefore
			s, err := batch.Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			applied := sb.Applied()
			for i := range customers {
				c := fmt.Sprintf("NEW%04d", i)
				for _, m := range []string{"create", "suspend", "cancel"} {
					if n := applied[sandbox.Effect{Method: "netflix/subscriptions/" + m, Key: c}]; n != 1 {
						t.Fatalf("%s of %s applied %d times, want 1", m, c, n)
					}
				}
				if _, state, ok := sb.Subscription(c); !ok || state != crm.LifeCycleCancelled {
					t.Fatalf("%s is %q, want CANCELLED", c, state)
				}
			}
			res := readCSV(t, s.Reports.Results)
			for i, r := range res {
				switch {
				case r["status"] == "unknown" && !tc.readBefore && i < customers:
					// a create whose answer was lost: it may have been there before
				case r["status"] != "ok":
					t.Errorf("row %s (%s %s): %s %s %q, want ok", r["row"], r["action"], r["billing_system_customer_identifier"], r["status"], r["error_code"], r["error_message"])
				case i < customers && !strings.HasPrefix(r["subscription_number"], "S"):
					t.Errorf("create row without subscription_number: %v", r)
				}
			}
			if tc.readBefore && s.Counts[report.StatusOK] != 3*customers {
				t.Errorf("counts %v, want %d ok", s.Counts, 3*customers)
			}
		})
	}
}

// TestRefusedCallIsSplit checks that a call refused as a whole is split to fail
// only its bad rows, and that a refusal of the whole call (an unknown group)
// fails every row after a couple of calls rather than one call per row.
func TestRefusedCallIsSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		rows      [][]string
		wantFail  []int // 0-based data rows that must fail
		wantCode  string
		maxCalls  int64
		effect    string
		effectKey func(r map[string]string) string
	}{
		{
			name: "unknown group",
			rows: func() [][]string {
				rows := [][]string{{"esn", "group_name"}}
				for i := range 400 {
					rows = append(rows, []string{fmt.Sprintf("U%04d", i), "NO-SUCH-GROUP"})
				}
				return rows
			}(),
			wantFail: func() []int {
				var all []int
				for i := range 400 {
					all = append(all, i)
				}
				return all
			}(),
			wantCode: "GROUP_NOT_FOUND",
			maxCalls: 3,
		},
		{
			name: "one installed item already on another subscription",
			rows: [][]string{
				{"action", "subscription_number", "serial_number"},
				{"add", "S0000000009", "NEW-1"}, {"add", "S0000000009", "NEW-2"}, {"add", "S0000000009", "NEW-3"},
				{"add", "S0000000009", "SC-0001"}, {"add", "S0000000009", "NEW-5"}, {"add", "S0000000009", "NEW-6"},
			},
			wantFail:  []int{3},
			wantCode:  "ITEM_ALREADY_INSTALLED",
			maxCalls:  8,
			effect:    "subscriptions/installed_items/add",
			effectKey: func(r map[string]string) string { return r["serial_number"] },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startSandbox(t, sandbox.Options{})
			path := writeCSV(t, t.TempDir(), "job.csv", tc.rows)
			s, err := batch.Run(context.Background(), runConfig(t, path, api))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			fail := map[int]bool{}
			for _, i := range tc.wantFail {
				fail[i] = true
			}
			for i, r := range readCSV(t, s.Reports.Results) {
				switch {
				case fail[i] && (r["status"] != "failed" || r["error_code"] != tc.wantCode):
					t.Errorf("row %d: %s %s, want failed %s", i+2, r["status"], r["error_code"], tc.wantCode)
				case !fail[i] && r["status"] != "ok":
					t.Errorf("row %d: %s %s %s, want ok", i+2, r["status"], r["error_code"], r["error_message"])
				}
				if tc.effect != "" {
					want := 1
					if fail[i] {
						want = 0
					}
					if n := sb.Applied()[sandbox.Effect{Method: tc.effect, Key: tc.effectKey(r)}]; n != want {
						t.Errorf("row %d applied %d times, want %d", i+2, n, want)
					}
				}
			}
			if s.Calls > tc.maxCalls {
				t.Errorf("%d calls, want at most %d", s.Calls, tc.maxCalls)
			}
		})
	}
}

// TestLanesKeepFileOrder adds items to subscriptions, moves them on, and removes
// them from the subscriptions they were moved to: each row only works if the
// rows before it that touch the same subscriptions ran first, whatever the
// concurrency.
func TestLanesKeepFileOrder(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{Latency: time.Millisecond})
	rows := [][]string{{"action", "subscription_number", "serial_number", "to_subscription_number"}}
	for i := 1; i <= 10; i++ {
		from, to := fmt.Sprintf("S%010d", i), fmt.Sprintf("S%010d", i+10)
		item := fmt.Sprintf("LANE-%02d", i)
		rows = append(rows, []string{"add", from, item, ""}, []string{"move", from, item, to}, []string{"remove", to, item, ""})
	}
	path := writeCSV(t, t.TempDir(), "lanes.csv", rows)
	cfg := runConfig(t, path, api)
	cfg.Concurrency = 8
	s, err := batch.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readCSV(t, s.Reports.Results) {
		if r["status"] != "ok" {
			t.Errorf("row %s (%s %s): %s %s", r["row"], r["action"], r["serial_number"], r["error_code"], r["error_message"])
		}
		if _, on := sb.InstalledItemSubscription(r["serial_number"]); on {
			t.Errorf("%s is still installed after its remove", r["serial_number"])
		}
	}
}

// TestValidateUnforeseenError: validate, which sends and records nothing,
// ends an error it does not foresee (its plan cannot be written) as a usage
// error keeping its cause, never as a run that could not finish.
func TestValidateUnforeseenError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := devicesFile(t, dir, 3, "PLAN")
	if err := os.Mkdir(filepath.Join(dir, "devices.plan.csv"), 0o700); err != nil { // where the plan goes
		t.Fatal(err)
	}
	_, err := batch.Validate(context.Background(), batch.Config{Path: path, Concurrency: 1, Attempts: 1, Rate: 10})
	var (
		usage *fault.UsageError
		fatal *fault.FatalError
	)
	if !errors.As(err, &usage) || errors.As(err, &fatal) || errors.Unwrap(usage) == nil {
		t.Fatalf("err = %T %v, want a usage error that keeps its cause", err, err)
	}
}
