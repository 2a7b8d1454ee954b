package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func register(c *client, esn string) (answer, error) {
	return c.post("netflix/operators/register_devices", map[string]any{"group_identifier": map[string]string{"name": "OPERATOR1"}, "devices": devices(esn)})
}

// loginThroughFaults logs in, retrying the answers faults spoil.
func loginThroughFaults(t *testing.T, c *client) {
	t.Helper()
	for range 100 {
		a, err := c.post("authentication/token", map[string]any{"username": DemoUsername, "password": DemoPassword, "organisation": DemoOrganisation})
		if err == nil && a.Status.Code == "OK" {
			var d struct{ Token string }
			c.decodeOK(a, &d)
			c.token = d.Token
			return
		}
	}
	t.Fatal("no login got through the faults")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, c := start(t, Options{RateLimit: 2, RateBurst: 3, Now: clk.Now})
	c.login() // 1 of the burst of 3
	for i, want := range []int{200, 200, 429, 429} {
		a, err := register(c, fmt.Sprintf("RATE-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if a.HTTPStatus != want {
			t.Fatalf("request %d: HTTP %d, want %d", i, a.HTTPStatus, want)
		}
		if want == 429 {
			if ra := a.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q, want 1", ra)
			}
			if a.Status.Code == "OK" || a.Status.Code == "" {
				t.Errorf("429 status code = %q, want an error envelope", a.Status.Code)
			}
			if n := s.Applied()[Effect{methodRegister, fmt.Sprintf("RATE-%d", i)}]; n != 0 {
				t.Errorf("429 applied %d", n)
			}
		}
	}
	clk.Advance(500 * time.Millisecond) // one token back at 2/s
	if a, _ := register(c, "RATE-OK"); a.HTTPStatus != 200 {
		t.Errorf("after refill: HTTP %d, want 200", a.HTTPStatus)
	}
	if got := s.Calls()["netflix/operators/register_devices"]; got != 5 {
		t.Errorf("Calls = %d, want 5 (429s included)", got)
	}

	t.Run("retry-after rounds up", func(t *testing.T) {
		_, c := start(t, Options{RateLimit: 0.25, Now: newClock().Now})
		c.login()
		a, err := c.post("authentication/token", map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if a.HTTPStatus != 429 || a.Header.Get("Retry-After") != "4" {
			t.Errorf("HTTP %d Retry-After %q, want 429 and 4", a.HTTPStatus, a.Header.Get("Retry-After"))
		}
	})
}

func TestFailRate(t *testing.T) {
	t.Parallel()
	s, c := start(t, Options{FailRate: 0.5, Seed: 7})
	loginThroughFaults(t, c)
	var failed, passed int
	for i := range 40 {
		esn := fmt.Sprintf("FAIL-%02d", i)
		a, err := register(c, esn)
		if err != nil {
			t.Fatal(err)
		}
		applied := s.Applied()[Effect{methodRegister, esn}]
		switch a.HTTPStatus {
		case http.StatusInternalServerError:
			failed++
			if applied != 0 || a.Status.Code != "INTERNAL_ERROR" {
				t.Errorf("%s: 500 %s with %d applied, want INTERNAL_ERROR and nothing applied", esn, a.Status.Code, applied)
			}
			if _, ok := s.DeviceGroup(esn); ok {
				t.Errorf("%s: registered after a 500", esn)
			}
		case http.StatusOK:
			passed++
			if applied != 1 {
				t.Errorf("%s: 200 with %d applied, want 1", esn, applied)
			}
		default:
			t.Errorf("%s: HTTP %d", esn, a.HTTPStatus)
		}
	}
	if failed == 0 || passed == 0 {
		t.Errorf("%d failed, %d passed: want some of each at rate 0.5", failed, passed)
	}
}

func TestDropRate(t *testing.T) {
	t.Parallel()
	s, c := start(t, Options{DropRate: 0.5, Seed: 11})
	loginThroughFaults(t, c)
	var dropped int
	for i := range 40 {
		esn := fmt.Sprintf("DROP-%02d", i)
		a, err := register(c, esn)
		if err != nil {
			dropped++
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Logf("%s: dropped with %v", esn, err)
			}
		} else if a.Status.Code != "OK" {
			t.Fatalf("%s: %s", esn, a.Status.Code)
		}
		if n := s.Applied()[Effect{methodRegister, esn}]; n != 1 {
			t.Errorf("%s: applied %d, want 1 (dropped: %v)", esn, n, err != nil)
		}
	}
	if dropped == 0 || dropped == 40 {
		t.Errorf("%d of 40 dropped at rate 0.5", dropped)
	}
	if got := s.Calls()["netflix/operators/register_devices"]; got != 40 {
		t.Errorf("Calls = %d, want 40: the client must not have resent", got)
	}
}

// TestDropRaw checks that a dropped answer writes nothing at all.
func TestDropRaw(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(New(Options{DropRate: 1}))
	defer ts.Close()
	resp, err := http.Post(ts.URL+BasePath+"authentication/token", "application/json", bytes.NewReader([]byte(`{}`)))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got HTTP %d, want a closed connection", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) {
		t.Logf("error: %v", err)
	}
}

// outcomes runs n sequential calls on a fresh server and records each fault seen.
func outcomes(t *testing.T, opts Options, n int) []string {
	t.Helper()
	_, c := start(t, opts)
	c.hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var out []string
	for range n {
		a, err := c.post("authentication/token", map[string]any{"username": DemoUsername, "password": DemoPassword, "organisation": DemoOrganisation})
		switch {
		case err != nil:
			out = append(out, "drop")
		default:
			out = append(out, fmt.Sprint(a.HTTPStatus))
		}
	}
	return out
}

func TestSeedDeterminism(t *testing.T) {
	t.Parallel()
	opts := Options{FailRate: 0.3, DropRate: 0.3, Seed: 42}
	a := outcomes(t, opts, 40)
	b := outcomes(t, opts, 40)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, "drop") || !slices.Contains(a, "500") || !slices.Contains(a, "200") {
		t.Errorf("outcomes %v: want drops, 500s and 200s", a)
	}
	opts.Seed = 43
	if d := outcomes(t, opts, 40); slices.Equal(a, d) {
		t.Errorf("seeds 42 and 43 gave the same faults: %v", d)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{Latency: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"token": c.token, "group_identifier": map[string]string{"id": "1"}, "devices": devices("LATE-1")})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"netflix/operators/register_devices", bytes.NewReader(body))
	if _, err := c.hc.Do(req); err == nil {
		t.Fatal("request beat the latency")
	}
	// A full round trip later the abandoned request is long gone.
	wantCode(t, c.mustGet("netflix/promotions/list", nil), "OK")
	if _, ok := s.DeviceGroup("LATE-1"); ok {
		t.Error("an abandoned request was applied")
	}
}

func TestTransport(t *testing.T) {
	t.Parallel()
	_, c := startLoggedIn(t, Options{})
	for _, tc := range []struct {
		name, method, path string
		want               int
		code               string
	}{
		{"unknown method", http.MethodPost, "netflix/nothing", 404, "UNKNOWN_METHOD"},
		{"outside base path", http.MethodGet, "/other", 404, "UNKNOWN_METHOD"},
		{"GET of a POST method", http.MethodGet, "netflix/subscriptions/create", 405, "METHOD_NOT_ALLOWED"},
		{"POST of a GET method", http.MethodPost, "netflix/charges/list", 405, "METHOD_NOT_ALLOWED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := c.base + tc.path
			if tc.path[0] == '/' {
				u = c.base[:len(c.base)-len(BasePath)] + tc.path
			}
			req, _ := http.NewRequest(tc.method, u, bytes.NewReader([]byte(`{}`)))
			a, err := c.do(req)
			if err != nil {
				t.Fatal(err)
			}
			if a.HTTPStatus != tc.want || a.Status.Code != tc.code {
				t.Errorf("HTTP %d %s, want %d %s", a.HTTPStatus, a.Status.Code, tc.want, tc.code)
			}
		})
	}
	for _, tc := range []struct{ name, body, want string }{
		{"truncated JSON", `{"token": "x"`, "MALFORMED_REQUEST"},
		{"array body", `[1, 2]`, "MALFORMED_REQUEST"},
		{"wrong field type", `{"billing_system_customer_identifier": 12}`, "INVALID_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.want == "INVALID_VALUE" {
				body = fmt.Sprintf(`{"token": %q, "billing_system_customer_identifier": 12}`, c.token)
			}
			a, err := c.postRaw("netflix/subscriptions/suspend", []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			wantCode(t, a, tc.want)
		})
	}
}

// TestConcurrency hammers one server from many goroutines; run with -race.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{RateLimit: 1e6})
	const workers, each = 8, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				esn := fmt.Sprintf("CONC-%d-%02d", w, i)
				if _, err := register(c, esn); err != nil {
					t.Error(err)
					return
				}
				if _, err := c.get("netflix/charges/list", map[string][]string{"number_of_results": {"5"}, "charge_status": {"NOT_PROCESSED"}, "offset": {"0"}}); err != nil {
					t.Error(err)
					return
				}
				_ = s.Applied()
				_ = s.Calls()
			}
		})
	}
	wg.Wait()
	for w := range workers {
		for i := range each {
			if n := s.Applied()[Effect{methodRegister, fmt.Sprintf("CONC-%d-%02d", w, i)}]; n != 1 {
				t.Fatalf("applied %d, want 1", n)
			}
		}
	}
}

// TestEffectsListed: GET /sandbox/effects lists what Applied counts, one
// sorted line per effect, with no token and untouched by the faults.
func TestEffectsListed(t *testing.T) {
	t.Parallel()
	_, c := startLoggedIn(t, Options{})
	c.mustPost("netflix/subscriptions/suspend", map[string]any{"billing_system_customer_identifier": "pci002"})
	c.mustPost("netflix/subscriptions/suspend", map[string]any{"billing_system_customer_identifier": "pci001"})
	c.mustPost("netflix/subscriptions/suspend", map[string]any{"billing_system_customer_identifier": "pci001"}) // refused: counts nothing
	c.mustPost("netflix/subscriptions/unsuspend", map[string]any{"billing_system_customer_identifier": "pci001"})
	c.mustPost("netflix/subscriptions/suspend", map[string]any{"billing_system_customer_identifier": "pci001"})
	want := "netflix/subscriptions/suspend\tpci001\t2\n" +
		"netflix/subscriptions/suspend\tpci002\t1\n" +
		"netflix/subscriptions/unsuspend\tpci001\t1\n"
	if status, body := getEffects(t, c); status != http.StatusOK || body != want {
		t.Errorf("HTTP %d:\n%s\nwant:\n%s", status, body, want)
	}
	// The list is no Web API call: no fault reaches it.
	_, faulty := start(t, Options{DropRate: 1, FailRate: 1, Latency: time.Hour, RateLimit: 1e-9})
	if status, body := getEffects(t, faulty); status != http.StatusOK || body != "" {
		t.Errorf("a faulty sandbox: HTTP %d %q, want 200 and no effect", status, body)
	}
}

func getEffects(t *testing.T, c *client) (int, string) {
	t.Helper()
	resp, err := c.hc.Get(strings.TrimSuffix(c.base, BasePath) + EffectsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
