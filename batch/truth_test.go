package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

// The tests of this file check that every row's status is what the server did
// (issue 11): ok only when the server confirmed it, failed only when it was
// certainly not applied, unknown when it may have been. Where the sandbox cannot
// answer as a real server may, a middleware in front of it does: it rewrites an
// answer, answers in the sandbox's stead, or drops the connection after the
// sandbox applied the call. The sandbox underneath counts what was applied.

// middleware handles one request in front of the sandbox (next).
type middleware func(next http.Handler, w http.ResponseWriter, r *http.Request)

// startBehind serves a sandbox behind mw over real HTTP.
func startBehind(t *testing.T, opts sandbox.Options, mw middleware) (*sandbox.Server, crm.Config) {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mw(sb, w, r) }))
	t.Cleanup(srv.Close)
	return sb, crm.Config{
		BaseURL: srv.URL + sandbox.BasePath,
		Credentials: crm.Credentials{Username: sandbox.DemoUsername, Password: sandbox.DemoPassword,
			Organisation: sandbox.DemoOrganisation},
	}
}

// apiMethod is the Web API method a request calls: "netflix/charges/acknowledge".
func apiMethod(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, sandbox.BasePath) }

// params returns the JSON body of a POST, which is then read again by the sandbox.
func params(r *http.Request) map[string]any {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// customerOf is the billing_system_customer_identifier of a subscriptions call.
func customerOf(r *http.Request) string {
	if r.Method == http.MethodGet {
		return r.URL.Query().Get("billing_system_customer_identifier")
	}
	s, _ := params(r)["billing_system_customer_identifier"].(string)
	return s
}

// chargesOf are the charge numbers of an acknowledge or accept call, in order.
func chargesOf(r *http.Request) []string {
	p := params(r)
	set, _ := p["acknowledged_charges_set"].([]any)
	if set == nil {
		set, _ = p["accepted_charges_set"].([]any)
	}
	var out []string
	for _, c := range set {
		n, _ := c.(map[string]any)["number"].(string)
		out = append(out, n)
	}
	return out
}

// pass hands the request to the sandbox.
func pass(next http.Handler, w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) }

// rewrite hands the request to the sandbox and sends its answer with the
// envelope changed by edit.
func rewrite(edit func(env map[string]any)) middleware {
	return func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var env map[string]any
		body := rec.Body.Bytes()
		if json.Unmarshal(body, &env) == nil {
			edit(env)
			body, _ = json.Marshal(env)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}
}

// okData is the data of an OK envelope, or nil.
func okData(env map[string]any) map[string]any {
	if st, _ := env["status"].(map[string]any); st == nil || st["code"] != "OK" {
		return nil
	}
	d, _ := env["data"].(map[string]any)
	return d
}

// lost hands the request to the sandbox, which applies it, and closes the
// connection without a byte of its answer.
func lost(next http.Handler, w http.ResponseWriter, r *http.Request) {
	next.ServeHTTP(httptest.NewRecorder(), r)
	hangUpNow(w)
}

func hangUpNow(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// answer answers in the sandbox's stead: nothing is applied.
func answer(status int, body string) middleware {
	return func(_ http.Handler, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// refusal is a non-OK envelope, as CRM.COM refuses a call.
func refusal(code, message string) string {
	b, _ := json.Marshal(map[string]any{"data": nil, "status": map[string]any{"code": code, "message": message, "description": ""}})
	return string(b)
}

// unavailable is a 503 that applied nothing; injectedRefusal refuses the call
// as CRM.COM does (the row fails, INJECTED).
var (
	unavailable     = answer(http.StatusServiceUnavailable, refusal("UNAVAILABLE", "injected"))
	injectedRefusal = answer(http.StatusOK, refusal("INJECTED", "injected refusal"))
)

// failuresRun runs the failures report of the run s of cfg, as its user
// feeds it back.
func failuresRun(t *testing.T, cfg batch.Config, s *report.Summary) *report.Summary {
	t.Helper()
	cfg.Path = s.Reports.Failures
	return mustRun(t, cfg)
}

// badGateway is a proxy's 502: it says nothing of whether the call was applied.
var badGateway = answer(http.StatusBadGateway, "<html>502 Bad Gateway</html>")

// applyThen hands the request to the sandbox, which applies it, and answers
// with then instead of its answer (a proxy's 502 hiding an applied call).
func applyThen(then middleware) middleware {
	return func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(httptest.NewRecorder(), r)
		then(next, w, r)
	}
}

// nth answers the calls of one method in turn: the first with steps[0], and so
// on; the last step answers every later call.
type nth struct {
	n     atomic.Int64
	steps []middleware
}

func (s *nth) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	s.steps[min(i, len(s.steps)-1)](next, w, r)
}

func steps(m ...middleware) *nth { return &nth{steps: m} }

// byMethod routes the methods named to their middleware; the others pass.
func byMethod(routes map[string]middleware) middleware {
	return func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		if mw, ok := routes[apiMethod(r)]; ok {
			mw(next, w, r)
			return
		}
		next.ServeHTTP(w, r)
	}
}

// truthConfig is a run with few, fast retries.
func truthConfig(t *testing.T, path string, api crm.Config) batch.Config {
	cfg := runConfig(t, path, api)
	cfg.Attempts, cfg.Backoff = 3, time.Millisecond
	return cfg
}

// rowWant is what must come of a row: its status, its code when not "", and how
// many times the sandbox applied its effect.
type rowWant struct {
	status, code string
	applied      int
}

var (
	wantOK      = rowWant{status: "ok", applied: 1}
	wantUnknown = rowWant{status: "unknown", applied: 1} // applied, and nothing could prove it
)

func wantFailed(code string) rowWant { return rowWant{status: "failed", code: code} }

// effectOf names the effect of a results row.
type effectOf func(r map[string]string) sandbox.Effect

func effectCol(method, col string) effectOf {
	return func(r map[string]string) sandbox.Effect { return sandbox.Effect{Method: method, Key: r[col]} }
}

var (
	chargeEffect = effectCol("netflix/charges/acknowledge", "number")
	deviceEffect = effectCol("netflix/operators/register_devices", "esn")
	itemEffect   = effectCol("subscriptions/installed_items/add", "serial_number")
)

func subscriptionEffect(r map[string]string) sandbox.Effect {
	return sandbox.Effect{Method: "netflix/subscriptions/" + r["action"], Key: r["billing_system_customer_identifier"]}
}

// checkTruth checks the rows of a run's results report against wants, and that
// the report is true to what the sandbox applied: no effect applied twice, no
// row ok that was not applied, no row failed that was.
func checkTruth(t *testing.T, s *report.Summary, sb *sandbox.Server, effect effectOf, wants []rowWant) {
	t.Helper()
	res := readCSV(t, s.Reports.Results)
	if len(res) != len(wants) {
		t.Fatalf("results report has %d rows, want %d", len(res), len(wants))
	}
	applied := sb.Applied()
	for i, w := range wants {
		r := res[i]
		e := effect(r)
		n := applied[e]
		what := fmt.Sprintf("row %s (%s %s): %s %s %q, applied %d times", r["row"], e.Method, e.Key, r["status"], r["error_code"], r["error_message"], n)
		switch {
		case n > 1:
			t.Errorf("%s: applied twice", what)
		case r["status"] == "ok" && n != 1:
			t.Errorf("%s: ok but not applied", what)
		case r["status"] == "failed" && n != 0:
			t.Errorf("%s: failed but applied", what)
		}
		if r["status"] != w.status || (w.code != "" && r["error_code"] != w.code) || n != w.applied {
			t.Errorf("%s; want %s %s, applied %d times", what, w.status, w.code, w.applied)
		}
	}
	if t.Failed() {
		return
	}
	if got := s.Counts[report.StatusUnknown]; got > 0 && len(readCSV(t, s.Reports.Failures)) < got {
		t.Errorf("the failures report leaves out unknown rows")
	}
}

// mustRun runs cfg and fails the test on a run error.
func mustRun(t *testing.T, cfg batch.Config) *report.Summary {
	t.Helper()
	s, err := batch.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return s
}

// TestFailureSetsMatchedLoosely: failure-set entries that name their row other
// than exactly (number null with only the reference_number, another case,
// surrounding spaces) fail that row; an entry that names no row of the call
// makes every row of the call unknown; and a row is never taken for another
// that differs from it only in case.
func TestFailureSetsMatchedLoosely(t *testing.T) {
	t.Parallel()
	charges := [][]string{
		{"number", "billing_system_customer_identifier", "reference_number"},
		{"I00000001", "pci001", "REF-A"},
		{"I00000002", "pci001", "REF-B"}, // I00000002 is pci002's: failed, code "1"
		{"I00000004", "pci004", "REF-C"},
	}
	devices := [][]string{
		{"esn", "group_name"},
		{"GOOD-A1", "OPERATOR1"},
		{"BLOCKED01", "OPERATOR1"}, // the sandbox fails it
		{"GOOD-A2", "OPERATOR1"},
	}
	// entry changes the failure set's entries.
	entry := func(set string, edit func(e map[string]any)) middleware {
		return rewrite(func(env map[string]any) {
			if d := okData(env); d != nil {
				entries, _ := d[set].([]any)
				for _, e := range entries {
					edit(e.(map[string]any))
				}
			}
		})
	}
	chargeEntry := func(edit func(e map[string]any)) middleware { return entry("failed_charges_set", edit) }
	deviceEntry := func(edit func(e map[string]any)) middleware { return entry("failed_devices_set", edit) }
	unmatched := rowWant{status: "unknown", code: "UNMATCHED_FAILURE", applied: 1}
	unmatchedNot := rowWant{status: "unknown", code: "UNMATCHED_FAILURE"}
	for _, tc := range []struct {
		name   string
		rows   [][]string
		mw     middleware
		effect effectOf
		wants  []rowWant
	}{
		{
			name:  "charge number null, reference_number only",
			rows:  charges,
			mw:    chargeEntry(func(e map[string]any) { e["number"] = nil }),
			wants: []rowWant{wantOK, wantFailed("1"), wantOK}, effect: chargeEffect,
		},
		{
			name:  "charge number in another case",
			rows:  charges,
			mw:    chargeEntry(func(e map[string]any) { e["number"] = strings.ToLower(e["number"].(string)) }),
			wants: []rowWant{wantOK, wantFailed("1"), wantOK}, effect: chargeEffect,
		},
		{
			name:  "charge number with surrounding spaces",
			rows:  charges,
			mw:    chargeEntry(func(e map[string]any) { e["number"] = "  " + e["number"].(string) + " " }),
			wants: []rowWant{wantOK, wantFailed("1"), wantOK}, effect: chargeEffect,
		},
		{
			name: "charge number null, reference_number in another case with spaces",
			rows: charges,
			mw: chargeEntry(func(e map[string]any) {
				e["number"], e["reference_number"] = nil, " "+strings.ToLower(e["reference_number"].(string))
			}),
			wants: []rowWant{wantOK, wantFailed("1"), wantOK}, effect: chargeEffect,
		},
		{
			name:  "charge error_code a number",
			rows:  charges,
			mw:    chargeEntry(func(e map[string]any) { e["error_code"] = 1 }),
			wants: []rowWant{wantOK, wantFailed("1"), wantOK}, effect: chargeEffect,
		},
		{
			name:  "charge entry for no row of the call",
			rows:  charges,
			mw:    chargeEntry(func(e map[string]any) { e["number"], e["reference_number"] = "I00000999", nil }),
			wants: []rowWant{unmatched, unmatchedNot, unmatched}, effect: chargeEffect,
		},
		{
			name:  "charge entry with neither number nor reference_number",
			rows:  charges,
			mw:    chargeEntry(func(e map[string]any) { e["number"], e["reference_number"] = nil, nil }),
			wants: []rowWant{unmatched, unmatchedNot, unmatched}, effect: chargeEffect,
		},
		{
			// The server takes them as one charge: the second is a repeat.
			name: "charges that differ only in case",
			rows: [][]string{
				{"number", "billing_system_customer_identifier"},
				{"i00000001", "pci001"}, // no such charge (the sandbox compares exactly): failed, code "2"
				{"I00000001", "pci001"},
			},
			mw:    pass,
			wants: []rowWant{wantFailed("2"), {status: "invalid", code: "DUPLICATE"}}, effect: chargeEffect,
		},
		{
			name: "charge number naming one row, reference_number another",
			rows: charges,
			mw: chargeEntry(func(e map[string]any) {
				e["number"], e["reference_number"] = "I00000002", "REF-C"
			}),
			wants: []rowWant{unmatched, unmatchedNot, unmatched}, effect: chargeEffect,
		},
		{
			name:  "device in another case",
			rows:  devices,
			mw:    deviceEntry(func(e map[string]any) { e["esn"] = strings.ToLower(e["esn"].(string)) }),
			wants: []rowWant{wantOK, wantFailed("DEVICE_FAILED"), wantOK}, effect: deviceEffect,
		},
		{
			name:  "device with surrounding spaces",
			rows:  devices,
			mw:    deviceEntry(func(e map[string]any) { e["esn"] = "\t" + e["esn"].(string) + "  " }),
			wants: []rowWant{wantOK, wantFailed("DEVICE_FAILED"), wantOK}, effect: deviceEffect,
		},
		{
			name:  "device entry for no row of the call",
			rows:  devices,
			mw:    deviceEntry(func(e map[string]any) { e["esn"] = "NOT-IN-THE-CALL" }),
			wants: []rowWant{unmatched, unmatchedNot, unmatched}, effect: deviceEffect,
		},
		{
			// One rule for identifiers: ESNs that differ only in case are one.
			name: "devices that differ only in case",
			rows: [][]string{
				{"esn", "group_name"},
				{"BLOCKED02", "OPERATOR1"}, // fails
				{"blocked02", "OPERATOR1"}, // a repeat of it
			},
			mw:    pass,
			wants: []rowWant{wantFailed("DEVICE_FAILED"), {status: "invalid", code: "DUPLICATE"}}, effect: deviceEffect,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startBehind(t, sandbox.Options{}, tc.mw)
			path := writeCSV(t, t.TempDir(), "job.csv", tc.rows)
			s := mustRun(t, truthConfig(t, path, api))
			checkTruth(t, s, sb, tc.effect, tc.wants)
		})
	}
}

// TestSuccessWithoutItsDataIsNotOK: an OK answer that lacks what says what was
// applied is no confirmation.
func TestSuccessWithoutItsDataIsNotOK(t *testing.T) {
	t.Parallel()
	devices := [][]string{{"esn", "group_name"}, {"NODATA-1", "OPERATOR1"}, {"NODATA-2", "OPERATOR1"}}
	items := [][]string{{"action", "subscription_number", "serial_number"},
		{"add", "S0000000007", "ND-1"}, {"add", "S0000000007", "ND-2"}}
	setData := func(data any) middleware {
		return rewrite(func(env map[string]any) {
			if okData(env) != nil {
				env["data"] = data
			}
		})
	}
	editData := func(edit func(d map[string]any)) middleware {
		return rewrite(func(env map[string]any) {
			if d := okData(env); d != nil {
				edit(d)
			}
		})
	}
	noNumber := editData(func(d map[string]any) { delete(d, "subscription_number") })
	notExecuted := rowWant{status: "unknown", code: "NOT_EXECUTED", applied: 1}
	for _, tc := range []struct {
		name   string
		rows   [][]string
		routes map[string]middleware
		before bool // --read-before
		effect effectOf
		wants  []rowWant
	}{
		{
			name:   "register_devices data null",
			rows:   devices,
			routes: map[string]middleware{"netflix/operators/register_devices": setData(nil)},
			effect: deviceEffect, wants: []rowWant{wantUnknown, wantUnknown},
		},
		{
			name:   "register_devices data {}",
			rows:   devices,
			routes: map[string]middleware{"netflix/operators/register_devices": setData(map[string]any{})},
			effect: deviceEffect, wants: []rowWant{wantUnknown, wantUnknown},
		},
		{
			name:   "register_devices failed_devices_set null",
			rows:   devices,
			routes: map[string]middleware{"netflix/operators/register_devices": setData(map[string]any{"failed_devices_set": nil})},
			effect: deviceEffect, wants: []rowWant{wantUnknown, wantUnknown},
		},
		{
			name: "acknowledge data {} and the pending list failing",
			rows: [][]string{{"number", "billing_system_customer_identifier"}, {"I00000007", "pci007"}, {"I00000008", "pci008"}},
			routes: map[string]middleware{
				"netflix/charges/acknowledge": setData(map[string]any{}),
				"netflix/charges/list":        answer(http.StatusInternalServerError, refusal("INTERNAL_ERROR", "down")),
			},
			effect: chargeEffect, wants: []rowWant{wantUnknown, wantUnknown},
		},
		{
			// Not confirmed by the answer; the read-back proves it: the
			// customer had no subscription and has one now.
			name:   "create without subscription_number, read back",
			rows:   [][]string{{"action", "billing_system_customer_identifier"}, {"create", "NODATA-C1"}},
			routes: map[string]middleware{"netflix/subscriptions/create": noNumber},
			before: true,
			effect: subscriptionEffect, wants: []rowWant{{status: "ok", code: "CONFIRMED_BY_READ_BACK", applied: 1}},
		},
		{
			// Without the state before, the subscription read back may be
			// one the customer had already.
			name:   "create without subscription_number, the state before not read",
			rows:   [][]string{{"action", "billing_system_customer_identifier"}, {"create", "NODATA-C4"}},
			routes: map[string]middleware{"netflix/subscriptions/create": noNumber},
			effect: subscriptionEffect, wants: []rowWant{wantUnknown},
		},
		{
			name: "create without subscription_number, show failing after",
			rows: [][]string{{"action", "billing_system_customer_identifier"}, {"create", "NODATA-C2"}},
			routes: map[string]middleware{
				"netflix/subscriptions/create": noNumber,
				"netflix/subscriptions/show":   steps(pass, answer(http.StatusInternalServerError, refusal("INTERNAL_ERROR", "down"))).serve,
			},
			effect: subscriptionEffect, wants: []rowWant{wantUnknown},
		},
		{
			name: "create with data null, show failing after",
			rows: [][]string{{"action", "billing_system_customer_identifier"}, {"create", "NODATA-C3"}},
			routes: map[string]middleware{
				"netflix/subscriptions/create": setData(nil),
				"netflix/subscriptions/show":   steps(pass, answer(http.StatusInternalServerError, refusal("INTERNAL_ERROR", "down"))).serve,
			},
			effect: subscriptionEffect, wants: []rowWant{wantUnknown},
		},
		{
			name:   "installed items action not EXECUTED",
			rows:   items,
			routes: map[string]middleware{"subscriptions/installed_items/add": editData(func(d map[string]any) { d["life_cycle_state"] = "PENDING" })},
			effect: itemEffect, wants: []rowWant{notExecuted, notExecuted},
		},
		{
			name:   "installed items action without life_cycle_state",
			rows:   items,
			routes: map[string]middleware{"subscriptions/installed_items/add": editData(func(d map[string]any) { delete(d, "life_cycle_state") })},
			effect: itemEffect, wants: []rowWant{notExecuted, notExecuted},
		},
		{
			name:   "installed items data null",
			rows:   items,
			routes: map[string]middleware{"subscriptions/installed_items/add": setData(nil)},
			effect: itemEffect, wants: []rowWant{notExecuted, notExecuted},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startBehind(t, sandbox.Options{}, byMethod(tc.routes))
			path := writeCSV(t, t.TempDir(), "job.csv", tc.rows)
			cfg := truthConfig(t, path, api)
			cfg.ReadBefore = tc.before
			s := mustRun(t, cfg)
			checkTruth(t, s, sb, tc.effect, tc.wants)
			res := readCSV(t, s.Reports.Results)
			for _, r := range res {
				if r["status"] == "ok" && r["action"] == "create" {
					if number, _, _ := sb.Subscription(r["billing_system_customer_identifier"]); r["subscription_number"] != number {
						t.Errorf("row %s: subscription_number %q, the sandbox's is %q", r["row"], r["subscription_number"], number)
					}
					if !strings.Contains(r["error_message"], "netflix_token is unknown") {
						t.Errorf("row %s: ok without the answer's data and no word of it: %q", r["row"], r["error_message"])
					}
				}
			}
		})
	}
}

// TestRowRefusalIsNotACredentialsFailure: a refusal of one row whose words
// sound like a login's ("expired") fails that row; the run goes on with the
// same token. A token code makes the client log in again, once, and replay.
func TestRowRefusalIsNotACredentialsFailure(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"create", "EXP-A"}, {"create", "EXP-B"}, {"create", "EXP-C"}, {"suspend", "pci008"}}
	for _, tc := range []struct {
		name   string
		answer middleware // create EXP-B's first answer; later ones pass
		always bool       // every create of EXP-B is answered so
		wants  []rowWant
		logins int
	}{
		{
			name:   "PROMOTION_EXPIRED, The promotion has expired",
			answer: answer(http.StatusOK, refusal("PROMOTION_EXPIRED", "The promotion has expired")),
			always: true,
			wants:  []rowWant{wantOK, wantFailed("PROMOTION_EXPIRED"), wantOK, wantOK}, logins: 1,
		},
		{
			name:   "a code without TOKEN, a message that names a token",
			answer: answer(http.StatusOK, refusal("INVALID_VALUE", "The netflix token of this customer has expired")),
			always: true,
			wants:  []rowWant{wantOK, wantFailed("INVALID_VALUE"), wantOK, wantOK}, logins: 1,
		},
		{
			name:   "a message saying the session expired, HTTP 200",
			answer: answer(http.StatusOK, refusal("VALIDITY_EXPIRED", "Session expired for this offer")),
			always: true,
			wants:  []rowWant{wantOK, wantFailed("VALIDITY_EXPIRED"), wantOK, wantOK}, logins: 1,
		},
		{
			name:   "INVALID_TOKEN once: a new login, the call replayed",
			answer: answer(http.StatusOK, refusal("INVALID_TOKEN", "The token is invalid or has expired")),
			wants:  []rowWant{wantOK, wantOK, wantOK, wantOK}, logins: 2,
		},
		{
			name:   "HTTP 401 once: a new login, the call replayed",
			answer: answer(http.StatusUnauthorized, "Unauthorized"),
			wants:  []rowWant{wantOK, wantOK, wantOK, wantOK}, logins: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var answered atomic.Bool
			sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				if apiMethod(r) == "netflix/subscriptions/create" && customerOf(r) == "EXP-B" && (tc.always || !answered.Swap(true)) {
					tc.answer(next, w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
			path := writeCSV(t, t.TempDir(), "subs.csv", rows)
			s, err := batch.Run(context.Background(), truthConfig(t, path, api))
			if err != nil {
				t.Fatalf("Run: %v; want the run to go on", err)
			}
			checkTruth(t, s, sb, subscriptionEffect, tc.wants)
			if n := sb.Logins(); n != tc.logins {
				t.Errorf("%d logins, want %d", n, tc.logins)
			}
		})
	}
}

// TestSubscriptionReadBackThatFails: a show that fails is no answer, so a call
// whose answer was lost is unknown, never failed, and never sent twice; a
// create whose answer was lost is ok only when the customer's subscription is
// a new one.
func TestSubscriptionReadBackThatFails(t *testing.T) {
	t.Parallel()
	down := answer(http.StatusInternalServerError, refusal("INTERNAL_ERROR", "injected"))
	refused := answer(http.StatusOK, refusal("INTERNAL_FAILURE", "The subscription could not be read"))
	for _, tc := range []struct {
		name   string
		rows   [][]string // action, customer
		routes map[string]middleware
		before bool // --read-before: the state is read before the row too
		wants  []rowWant
	}{
		{
			name:   "every show 500, create's answer lost",
			rows:   [][]string{{"create", "RB-A"}},
			routes: map[string]middleware{"netflix/subscriptions/show": down, "netflix/subscriptions/create": steps(lost, pass).serve},
			wants:  []rowWant{wantUnknown},
		},
		{
			name:   "every show refused (not NOT_FOUND), create's answer lost",
			rows:   [][]string{{"create", "RB-B"}},
			routes: map[string]middleware{"netflix/subscriptions/show": refused, "netflix/subscriptions/create": steps(lost, pass).serve},
			wants:  []rowWant{wantUnknown},
		},
		{
			name:   "show answers before, 500 after; create's answer lost",
			rows:   [][]string{{"create", "RB-C"}},
			routes: map[string]middleware{"netflix/subscriptions/show": steps(pass, down).serve, "netflix/subscriptions/create": steps(lost, pass).serve},
			before: true,
			wants:  []rowWant{wantUnknown},
		},
		{
			name:   "every show 500, suspend's answer lost",
			rows:   [][]string{{"suspend", "pci003"}},
			routes: map[string]middleware{"netflix/subscriptions/show": down, "netflix/subscriptions/suspend": steps(lost, pass).serve},
			wants:  []rowWant{wantUnknown},
		},
		{
			name:   "show refused after, cancel's answer lost",
			rows:   [][]string{{"cancel", "pci004"}},
			routes: map[string]middleware{"netflix/subscriptions/show": steps(pass, refused).serve, "netflix/subscriptions/cancel": steps(lost, pass).serve},
			before: true,
			wants:  []rowWant{wantUnknown},
		},
		{
			name:   "the customer had a subscription; create's answer lost",
			rows:   [][]string{{"create", "pci005"}},
			routes: map[string]middleware{"netflix/subscriptions/create": steps(lost, pass).serve},
			before: true,
			wants:  []rowWant{wantFailed("SUBSCRIPTION_EXISTS")},
		},
		{
			name:   "the customer had a subscription; every create's answer lost",
			rows:   [][]string{{"create", "pci006"}},
			routes: map[string]middleware{"netflix/subscriptions/create": lost},
			before: true,
			wants:  []rowWant{{status: "failed"}},
		},
		{
			name:   "the customer had a subscription, show failing after; create's answer lost",
			rows:   [][]string{{"create", "pci007"}},
			routes: map[string]middleware{"netflix/subscriptions/show": steps(pass, down).serve, "netflix/subscriptions/create": steps(lost, pass).serve},
			before: true,
			wants:  []rowWant{{status: "unknown"}},
		},
		{
			name:   "the customer's subscription was cancelled; create's answer lost",
			rows:   [][]string{{"cancel", "pci009"}, {"create", "pci009"}},
			routes: map[string]middleware{"netflix/subscriptions/create": steps(lost, pass).serve},
			wants:  []rowWant{wantOK, wantOK},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, api := startBehind(t, sandbox.Options{}, byMethod(tc.routes))
			rows := [][]string{{"action", "billing_system_customer_identifier"}}
			path := writeCSV(t, t.TempDir(), "subs.csv", append(rows, tc.rows...))
			cfg := truthConfig(t, path, api)
			cfg.ReadBefore = tc.before
			s := mustRun(t, cfg)
			checkTruth(t, s, sb, subscriptionEffect, tc.wants)
			for _, r := range readCSV(t, s.Reports.Results) {
				if r["status"] == "ok" && r["action"] == "create" {
					if number, _, _ := sb.Subscription(r["billing_system_customer_identifier"]); r["subscription_number"] != number {
						t.Errorf("row %s: subscription_number %q, the sandbox's is %q", r["row"], r["subscription_number"], number)
					}
				}
			}
		})
	}
}

// TestWholeCallRefusalsAreIsolatedCheaply: a call refused as a whole, with a
// message that differs from call to call (it names the call's first charge),
// costs at most 3 calls when every row is refused, and at most 2·log2(n)+1
// when one row is at fault, wherever it is.
func TestWholeCallRefusalsAreIsolatedCheaply(t *testing.T) {
	t.Parallel()
	const n = 50
	var numbers []string
	rows := [][]string{{"number", "billing_system_customer_identifier"}}
	for i := 1; len(numbers) < n; i++ {
		if i%3 == 0 {
			continue // processed charges
		}
		numbers = append(numbers, fmt.Sprintf("I%08d", i))
		rows = append(rows, []string{numbers[len(numbers)-1], fmt.Sprintf("pci%03d", (i-1)%60+1)})
	}
	oneBad := int(2*math.Log2(n)) + 1
	type tcase struct {
		name     string
		bad      map[string]bool // nil: every call is refused
		maxCalls int
	}
	cases := []tcase{{name: "every row refused", maxCalls: 3}}
	for _, at := range []int{0, 1, 11, 12, 24, 25, 30, 37, 48, 49} {
		cases = append(cases, tcase{name: fmt.Sprintf("row %d of %d refused", at+1, n), bad: map[string]bool{numbers[at]: true}, maxCalls: oneBad})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				if apiMethod(r) != "netflix/charges/acknowledge" {
					next.ServeHTTP(w, r)
					return
				}
				mu.Lock()
				calls++
				mu.Unlock()
				set := chargesOf(r)
				refuse := tc.bad == nil
				for _, c := range set {
					refuse = refuse || tc.bad[c]
				}
				if refuse {
					answer(http.StatusOK, refusal("CHARGE_LOCKED", fmt.Sprintf("Charge %s is locked by a settlement run", set[0])))(next, w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
			path := writeCSV(t, t.TempDir(), "charges.csv", rows)
			s := mustRun(t, truthConfig(t, path, api))
			wants := make([]rowWant, n)
			for i, c := range numbers {
				wants[i] = wantOK
				if tc.bad == nil || tc.bad[c] {
					wants[i] = wantFailed("CHARGE_LOCKED")
				}
			}
			checkTruth(t, s, sb, chargeEffect, wants)
			if calls > tc.maxCalls {
				t.Errorf("%d acknowledge calls for %d rows, want at most %d", calls, n, tc.maxCalls)
			}
			if s.Calls != int64(calls) {
				t.Errorf("the summary counts %d calls, the server saw %d", s.Calls, calls)
			}
		})
	}
}

// exportedRow is chargeRow as a charges export has it: with the charge's
// charge_status (the demo's charges numbered a multiple of 3 are processed).
func exportedRow(n int) []string {
	status := "PENDING"
	if n%3 == 0 {
		status = "APPROVED"
	}
	return append(chargeRow(n), status)
}

// exportHeader is the header of exportedRow's rows.
var exportHeader = []string{"number", "billing_system_customer_identifier", "reference_number", "charge_status"}

// chargeRow is a row acknowledging demo charge n, for its customer.
func chargeRow(n int) []string {
	return []string{fmt.Sprintf("I%08d", n), fmt.Sprintf("pci%03d", (n-1)%60+1), fmt.Sprintf("LOST-%d", n)}
}

// othersAcknowledge acknowledges demo charges through the sandbox, as another
// user of the endpoint would, with the token of r.
func othersAcknowledge(next http.Handler, r *http.Request, numbers ...int) {
	set := []map[string]string{}
	for _, n := range numbers {
		row := chargeRow(n)
		set = append(set, map[string]string{"number": row[0], "billing_system_customer_identifier": row[1]})
	}
	b, _ := json.Marshal(map[string]any{"token": r.URL.Query().Get("token"), "acknowledged_charges_set": set})
	req := httptest.NewRequest(http.MethodPost, sandbox.BasePath+"netflix/charges/acknowledge", bytes.NewReader(b))
	next.ServeHTTP(httptest.NewRecorder(), req)
}

// TestLostChargeAnswerThen502s: a charge whose first acknowledge was applied
// and whose answer was lost, while every later acknowledge meets a 502, is read
// back through the charges lists: ok when it left them and was listed before
// (by the export the file came from, or by a list read of the run), unknown
// when they cannot be read or nothing showed it listed before (a hand-made
// sheet: it may not exist), never failed and never applied twice; a later
// file holding the charge does not acknowledge it again. A charge the
// read-back does not see because it was never pending (processed by
// Netflix), or because others' acknowledges shifted the list's pages while it
// was read, is not taken for acknowledged.
func TestLostChargeAnswerThen502s(t *testing.T) {
	t.Parallel()
	listDown := answer(http.StatusInternalServerError, refusal("INTERNAL_ERROR", "injected"))
	skipped := rowWant{status: "skipped", code: "ALREADY_DONE", applied: 1}
	for _, tc := range []struct {
		name     string
		charges  []int        // the first file's charges; the later file has the last one again
		handMade bool         // the files have no charge_status: not an export
		ack      []middleware // the acknowledge calls in turn; the last answers the rest
		list     middleware   // charges/list; nil passes
		first    rowWant      // what comes of the charges of the first file
		later    rowWant      // what comes of the last one in the later file
	}{
		{
			name:     "answer lost, then 502s, a hand-made sheet",
			charges:  []int{1, 2},
			handMade: true,
			ack:      []middleware{lost, badGateway},
			first:    wantUnknown, later: wantUnknown,
		},
		{
			name:     "a 502, then the answer lost, then 502s, a hand-made sheet: the read between lists it",
			charges:  []int{1, 2},
			handMade: true,
			ack:      []middleware{badGateway, lost, badGateway},
			first:    wantOK, later: skipped,
		},
		{
			name:    "answer lost, then 502s",
			charges: []int{1, 2},
			ack:     []middleware{lost, badGateway},
			first:   wantOK, later: skipped,
		},
		{
			name:    "a 502 after it applied, then 502s",
			charges: []int{1, 2},
			ack:     []middleware{applyThen(badGateway), badGateway},
			first:   wantOK, later: skipped,
		},
		{
			name:    "a 502, then the answer lost, then 502s",
			charges: []int{1, 2},
			ack:     []middleware{badGateway, lost, badGateway},
			first:   wantOK, later: skipped,
		},
		{
			name:    "answer lost, then 502s, the lists failing",
			charges: []int{1, 2},
			ack:     []middleware{lost, badGateway},
			list:    listDown,
			first:   wantUnknown, later: rowWant{status: "ok", applied: 1}, // read back by the later run
		},
		{
			name:    "answer lost, then 502s, the list failing once",
			charges: []int{1, 2},
			ack:     []middleware{lost, badGateway},
			list:    steps(listDown, pass).serve,
			first:   wantOK, later: skipped,
		},
		{
			name:    "processed charges: a 502 that applied nothing, then the answer lost, then 502s",
			charges: []int{3, 6, 2},
			ack:     []middleware{badGateway, lost, badGateway},
			first:   wantOK, later: skipped,
		},
		{
			name:    "others acknowledge older charges while the list is read",
			charges: []int{83}, // the 56th pending charge: on the list's second page
			ack:     []middleware{badGateway, pass},
			list: func() middleware {
				var once sync.Once
				return func(next http.Handler, w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Get("offset") != "0" {
						once.Do(func() { othersAcknowledge(next, r, 1, 2, 4, 5, 7, 8, 10, 11, 13, 14) })
					}
					next.ServeHTTP(w, r)
				}
			}(),
			first: wantOK, later: skipped,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var healed atomic.Bool
			ack := steps(tc.ack...)
			sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				switch {
				case healed.Load():
				case apiMethod(r) == "netflix/charges/acknowledge":
					ack.serve(next, w, r)
					return
				case apiMethod(r) == "netflix/charges/list" && tc.list != nil:
					tc.list(next, w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
			dir := t.TempDir()
			header, row := exportHeader, exportedRow
			if tc.handMade {
				header, row = header[:3], chargeRow
			}
			rows := [][]string{header}
			wants := []rowWant{}
			for _, n := range tc.charges {
				rows = append(rows, row(n))
				wants = append(wants, tc.first)
			}
			cfg := truthConfig(t, writeCSV(t, dir, "monday.csv", rows), api)
			cfg.StateDir = filepath.Join(dir, "state")
			s := mustRun(t, cfg)
			checkTruth(t, s, sb, chargeEffect, wants)

			healed.Store(true)
			cfg.Path = writeCSV(t, dir, "tuesday.csv", [][]string{header, rows[len(rows)-1], row(200)})
			s = mustRun(t, cfg)
			checkTruth(t, s, sb, chargeEffect, []rowWant{tc.later, wantOK})
		})
	}
}

// TestEditedFileReadsBackItsUncertainCharge: a run that stopped (the endpoint
// went away) after a charge's answer was lost leaves the charge uncertain; the
// file (an export), edited and run again, continues that run's job: the charge
// is read back (it was listed, and left the lists: ok), neither sent again nor
// taken for another run's.
func TestEditedFileReadsBackItsUncertainCharge(t *testing.T) {
	t.Parallel()
	var healed atomic.Bool
	ack := steps(lost, badGateway)
	sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		switch {
		case healed.Load():
		case apiMethod(r) == "netflix/charges/acknowledge":
			ack.serve(next, w, r)
			return
		case apiMethod(r) == "netflix/charges/list":
			hangUpNow(w) // unreachable: the run stops
			return
		}
		next.ServeHTTP(w, r)
	})
	dir := t.TempDir()
	header := exportHeader
	cfg := truthConfig(t, writeCSV(t, dir, "monday.csv", [][]string{header, exportedRow(1), exportedRow(2), exportedRow(4)}), api)
	cfg.StateDir = filepath.Join(dir, "state")
	s, err := batch.Run(context.Background(), cfg)
	var fatal *fault.FatalError
	if !errors.As(err, &fatal) {
		t.Fatalf("first run: err = %v, want it stopped", err)
	}
	checkTruth(t, s, sb, chargeEffect, []rowWant{wantUnknown, wantUnknown, wantUnknown})

	healed.Store(true)
	writeCSV(t, dir, "monday.csv", [][]string{header, exportedRow(1), exportedRow(2), exportedRow(4), exportedRow(5)})
	s = mustRun(t, cfg)
	checkTruth(t, s, sb, chargeEffect, []rowWant{wantOK, wantOK, wantOK, wantOK})
}
