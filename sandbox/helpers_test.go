package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// answer is one decoded response.
type answer struct {
	HTTPStatus int
	Header     http.Header
	Data       json.RawMessage `json:"data"`
	Status     struct {
		Code        string  `json:"code"`
		Message     *string `json:"message"`
		Description *string `json:"description"`
	} `json:"status"`
}

func (a answer) message() string {
	if a.Status.Message == nil {
		return ""
	}
	return *a.Status.Message
}

// client talks to a sandbox over real HTTP.
type client struct {
	t     *testing.T
	base  string
	hc    *http.Client
	token string
}

// start serves a new sandbox over loopback; the client is not logged in.
func start(t *testing.T, opts Options) (*Server, *client) {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, &client{t: t, base: ts.URL + BasePath, hc: ts.Client()}
}

// startLoggedIn serves a fault-free sandbox and logs the client in.
func startLoggedIn(t *testing.T, opts Options) (*Server, *client) {
	t.Helper()
	s, c := start(t, opts)
	c.login()
	return s, c
}

func (c *client) login() {
	c.t.Helper()
	a := c.mustPost("authentication/token", map[string]any{"username": DemoUsername, "password": DemoPassword, "organisation": DemoOrganisation})
	var d struct{ Token string }
	c.decodeOK(a, &d)
	c.token = d.Token
}

// post sends body with the client's token unless body sets one.
func (c *client) post(method string, body map[string]any) (answer, error) {
	c.t.Helper()
	if _, ok := body["token"]; !ok && c.token != "" {
		body["token"] = c.token
	}
	raw, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.postRaw(method, raw)
}

func (c *client) postRaw(method string, raw []byte) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, c.base+method, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

func (c *client) get(method string, q url.Values) (answer, error) {
	c.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if !q.Has("token") && c.token != "" {
		q.Set("token", c.token)
	}
	req, err := http.NewRequest(http.MethodGet, c.base+method+"?"+q.Encode(), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) do(req *http.Request) (answer, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		c.t.Fatalf("%s: response is not an envelope: %v", req.URL.Path, err)
	}
	a.HTTPStatus, a.Header = resp.StatusCode, resp.Header
	return a, nil
}

func (c *client) mustPost(method string, body map[string]any) answer {
	c.t.Helper()
	a, err := c.post(method, body)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	return a
}

func (c *client) mustGet(method string, q url.Values) answer {
	c.t.Helper()
	a, err := c.get(method, q)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	return a
}

// decodeOK checks that a is an OK answer and decodes its data into v.
func (c *client) decodeOK(a answer, v any) {
	c.t.Helper()
	if a.HTTPStatus != http.StatusOK || a.Status.Code != "OK" {
		c.t.Fatalf("answer = HTTP %d %s %q, want HTTP 200 OK", a.HTTPStatus, a.Status.Code, a.message())
	}
	if v != nil {
		if err := json.Unmarshal(a.Data, v); err != nil {
			c.t.Fatalf("data %s: %v", a.Data, err)
		}
	}
}

// wantCode checks an answer's status code (HTTP 200 unless it is a transport code).
func wantCode(t *testing.T, a answer, code string) {
	t.Helper()
	if a.Status.Code != code {
		t.Fatalf("status = %s %q, want %s", a.Status.Code, a.message(), code)
	}
	if a.HTTPStatus != http.StatusOK {
		t.Fatalf("HTTP status = %d, want 200", a.HTTPStatus)
	}
	if code != "OK" && a.message() == "" {
		t.Fatalf("status %s has no message", code)
	}
}

func devices(esns ...string) []map[string]string {
	out := make([]map[string]string, len(esns))
	for i, e := range esns {
		out[i] = map[string]string{"esn": e}
	}
	return out
}

func failedESNs(t *testing.T, a answer) []string {
	t.Helper()
	var d struct {
		FailedDevicesSet []struct{ ESN string } `json:"failed_devices_set"`
	}
	if err := json.Unmarshal(a.Data, &d); err != nil || d.FailedDevicesSet == nil {
		t.Fatalf("data %s: want failed_devices_set array (%v)", a.Data, err)
	}
	out := []string{}
	for _, f := range d.FailedDevicesSet {
		out = append(out, f.ESN)
	}
	return out
}
