package crm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmbatch/crmbatch/fault"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the installation's prefix, including /crmapi/rest/v2/ (the
	// trailing slash may be left out).
	BaseURL string
	// HTTPClient sends the requests; nil means a default client. The client uses
	// a copy whose CheckRedirect follows no redirect (see Client.redirected).
	HTTPClient *http.Client
	// Credentials are what the client logs in with.
	Credentials Credentials
	// Wait is called before every HTTP attempt, logins included: the shared rate
	// limiter. nil means no wait.
	Wait func(context.Context) error
	// Timeout bounds each HTTP attempt, reading the answer included; 0 means none.
	Timeout time.Duration
	// Now is the clock the token's exp claim is compared with; nil means time.Now.
	Now func() time.Time
	// Logger receives a Debug line per HTTP attempt; nil means no logging.
	Logger *slog.Logger
	// RenewBefore is how long before its exp claim a token is renewed; 0 means 5
	// minutes.
	RenewBefore time.Duration
}

// DefaultRenewBefore is the default Config.RenewBefore.
const DefaultRenewBefore = 5 * time.Minute

// MaxResponse bounds the answer read from the server: 8 MiB, far above any
// documented answer (a page of 50 charges is about 20 KB, a failed set of 1000
// devices about 30 KB). A larger answer is not read (see Client.tooLarge).
const MaxResponse = 8 << 20

// maxTokens is how many of its latest tokens a client redacts from what the
// server says.
const maxTokens = 16

// Client calls the Web API of one CRM.COM installation. It is safe for concurrent
// use; all callers share one token.
type Client struct {
	base        string
	hc          *http.Client
	creds       Credentials
	wait        func(context.Context) error
	timeout     time.Duration
	now         func() time.Time
	log         *slog.Logger
	renewBefore time.Duration

	mu      sync.Mutex
	tok     string    // current token, "" before the first login
	gen     uint64    // generation of tok, incremented by every login
	renewAt time.Time // when tok is due for renewal; zero when unknown
	logins  int
	flight  *loginFlight // the login in progress, if any
	tokens  []string     // the latest tokens, redacted from the server's texts
}

// New returns a client for cfg. It does not connect: the first call logs in.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, fault.WithHint(errors.New("crm: no endpoint"), "set the installation's Web API URL, e.g. https://crm.example.com/crmapi/rest/v2/")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fault.WithHint(errors.New("crm: the endpoint is not a URL"), "use the installation's Web API URL, e.g. https://crm.example.com/crmapi/rest/v2/")
	}
	if u.User != nil {
		return nil, fault.WithHint(errors.New("crm: the endpoint URL must not hold credentials"), "pass them through the environment")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fault.WithHint(fmt.Errorf("crm: endpoint %q is not an http(s) URL", u.String()), "use the installation's Web API URL, e.g. https://crm.example.com/crmapi/rest/v2/")
	}
	if !cfg.Credentials.usable() {
		return nil, fault.WithHint(errors.New("crm: incomplete credentials: need a username, password and organisation, or an API key"),
			"set "+EnvUsername+", "+EnvPassword+" and "+EnvOrganisation+", or "+EnvAPIKey)
	}
	c := &Client{
		base:        strings.TrimSuffix(u.String(), "/") + "/",
		hc:          &http.Client{},
		creds:       cfg.Credentials,
		wait:        cfg.Wait,
		timeout:     cfg.Timeout,
		now:         cfg.Now,
		log:         cfg.Logger,
		renewBefore: cfg.RenewBefore,
	}
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		c.hc = &hc
	}
	// No redirect is followed: net/http would resend a 307/308's body (the
	// password, the token) and Basic auth to wherever the Location points, even
	// another host or plain http. The 3xx answer comes back to classify instead.
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.renewBefore <= 0 {
		c.renewBefore = DefaultRenewBefore
	}
	return c, nil
}

// String describes the client without its secrets.
func (c *Client) String() string { return "crm.Client{" + c.base + "}" }

// GoString is String, so that %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// method describes one API method.
type method struct {
	path string // relative to the base URL
	get  bool   // GET with query parameters, else POST with a JSON body
	// idempotent: sending it twice does no harm, so a lost answer is Transient
	// rather than Ambiguous (every GET, and logins).
	idempotent bool
}

// request is one call ready to be sent, token aside.
type request struct {
	m      method
	query  url.Values // GET
	body   []byte     // POST: a JSON object without token
	apiKey string     // Basic auth username (web_api_key login)
}

// newRequest prepares a call of m with params: url.Values for a GET, anything that
// encodes as a JSON object (or nil) for a POST.
func newRequest(m method, params any) (*request, error) {
	r := &request{m: m}
	if m.get {
		q, _ := params.(url.Values)
		if q == nil {
			q = url.Values{}
		}
		r.query = q
		return r, nil
	}
	if params == nil {
		r.body = []byte("{}")
		return r, nil
	}
	b, err := json.Marshal(params)
	if err != nil || len(b) < 2 || b[0] != '{' {
		return nil, &Error{Method: m.path, Class: Permanent, Message: "cannot encode the request as a JSON object", Err: err}
	}
	r.body = b
	return r, nil
}

// httpRequest builds the HTTP request of one attempt, with tok when not empty.
func (r *request) httpRequest(ctx context.Context, base, tok string) (*http.Request, error) {
	target := base + r.m.path
	if r.m.get {
		q := url.Values{}
		for k, v := range r.query {
			q[k] = v
		}
		if tok != "" {
			q.Set("token", tok)
		}
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		return req, nil
	}
	body := r.body
	if tok != "" {
		t, _ := json.Marshal(tok)
		rest := bytes.TrimSpace(body[1:])
		b := make([]byte, 0, len(body)+len(t)+12)
		b = append(b, `{"token":`...)
		b = append(b, t...)
		if len(rest) > 0 && rest[0] != '}' {
			b = append(b, ',')
		}
		body = append(b, rest...)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.apiKey != "" {
		req.SetBasicAuth(r.apiKey, "")
	}
	return req, nil
}

// envelope is the answer of every method.
type envelope struct {
	Data   json.RawMessage `json:"data"`
	Status *Status         `json:"status"`
}

// call sends r with the current token and returns the data of its envelope. When
// the answer may mean that the token was refused, it logs in again (once for all
// concurrent callers) and replays the call once: a refused call applied nothing.
func (c *Client) call(ctx context.Context, r *request) (json.RawMessage, error) {
	data, gen, err := c.attempt(ctx, r, 0)
	if !isAuthFailure(err) {
		return c.redactData(data), err
	}
	c.log.DebugContext(ctx, "crm token refused, logging in again", "method", r.m.path)
	data, _, err = c.attempt(ctx, r, gen)
	if isAuthFailure(err) {
		var e *Error
		errors.As(err, &e)
		e.Class = Auth
	}
	return c.redactData(data), err
}

// attempt sends one HTTP request with a token newer than stale and returns the
// data of an OK envelope and the token's generation. It takes the token after
// waiting its turn (Config.Wait), so a long wait cannot outlive the token.
func (c *Client) attempt(ctx context.Context, r *request, stale uint64) (json.RawMessage, uint64, error) {
	if err := c.waitTurn(ctx, r); err != nil {
		return nil, 0, err
	}
	tok, gen, err := c.token(ctx, stale)
	if err != nil {
		return nil, 0, err
	}
	data, err := c.send(ctx, r, tok)
	return data, gen, err
}

// waitTurn waits for Config.Wait (the caller's shared rate limiter).
func (c *Client) waitTurn(ctx context.Context, r *request) error {
	if c.wait == nil {
		return nil
	}
	if err := c.wait(ctx); err != nil {
		if ctx.Err() != nil {
			return canceled(ctx, r.m.path)
		}
		return &Error{Method: r.m.path, Class: Transient, Err: err}
	}
	return nil
}

// send makes one HTTP request with tok ("" for a login) and returns the data of
// an OK envelope.
func (c *Client) send(ctx context.Context, r *request, tok string) (json.RawMessage, error) {
	actx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := r.httpRequest(actx, c.base, tok)
	if err != nil {
		return nil, &Error{Method: r.m.path, Class: Permanent, Err: stripURL(err)}
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	var body []byte
	tooLarge := false
	if err == nil {
		if resp.ContentLength > MaxResponse {
			tooLarge = true // not even read: closing drops the connection
		} else {
			body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
			tooLarge = len(body) > MaxResponse
		}
		resp.Body.Close()
		if tooLarge {
			body = nil
		}
	}
	attrs := []any{"method", r.m.path, "latency", time.Since(start)}
	if resp != nil {
		attrs = append(attrs, "http_status", resp.StatusCode)
	}
	if err != nil {
		attrs = append(attrs, "error", stripURL(err).Error())
	}
	c.log.DebugContext(ctx, "crm call", attrs...)
	var data json.RawMessage
	if tooLarge && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		err = c.tooLarge(r.m, resp, wrote.Load())
	} else {
		data, err = c.classify(ctx, r.m, resp, body, err, wrote.Load())
	}
	if e, ok := err.(*Error); ok {
		e.Code = c.redact(e.Code)
		e.Message = c.redact(e.Message)
		e.Fix = c.redact(e.Fix)
	}
	return data, err
}

// tooLarge is the error of an OK answer larger than MaxResponse, which no Web
// API method gives: the endpoint is something else, or the server is broken.
// Reading it again would give the same, so it is Permanent; but a
// state-changing call was sent and may have been applied, so for those it is
// Ambiguous (the caller reads the state back, or resends what is idempotent,
// within its attempts).
func (c *Client) tooLarge(m method, resp *http.Response, wrote bool) error {
	class := Permanent
	if wrote && !m.idempotent {
		class = Ambiguous
	}
	return &Error{Method: m.path, Class: class, HTTPStatus: resp.StatusCode, Code: CodeAnswerTooLarge,
		Message: fmt.Sprintf("the answer is larger than %d MiB, which no Web API method sends", MaxResponse>>20),
		Fix:     "check that the endpoint is the installation's Web API URL, e.g. https://crm.example.com/crmapi/rest/v2/"}
}

// Codes the client gives to failures it detects itself (the server's own codes
// are in status.code).
const (
	// CodeRedirected: the endpoint answered with a redirect, which is not followed.
	CodeRedirected = "REDIRECTED"
	// CodeAnswerTooLarge: the answer was larger than MaxResponse.
	CodeAnswerTooLarge = "ANSWER_TOO_LARGE"
	// CodeNotWebAPI: the endpoint answered, but not as the Web API does (no
	// JSON envelope, or HTTP 404, 405 or 501 on a method's path).
	CodeNotWebAPI = "NOT_WEB_API"
	// CodeTLS: no TLS conversation with the endpoint (a plain http port, or a
	// certificate that is not trusted for its name).
	CodeTLS = "TLS"
)

// endpointExample is the shape of an --endpoint, for hints.
const endpointExample = "https://crm.example.com/crmapi/rest/v2/"

// notTheAPI makes e an Endpoint error: the server that answered is not the Web
// API at the endpoint's path, so no call, and no retry, can succeed until a
// person fixes --endpoint.
func notTheAPI(e *Error, parsed bool) *Error {
	e.Class = Endpoint
	if e.Code == "" {
		e.Code = CodeNotWebAPI
	}
	switch {
	case parsed:
		// A JSON envelope, but no such method here: the path or version is wrong.
	case e.HTTPStatus >= 200 && e.HTTPStatus <= 299:
		e.Message = "the answer is not the Web API's JSON (a web page, or another service)"
	default:
		e.Message = fmt.Sprintf("HTTP %d %s, not the Web API's JSON", e.HTTPStatus, http.StatusText(e.HTTPStatus))
	}
	switch e.HTTPStatus {
	case http.StatusBadRequest:
		e.Fix = "check --endpoint (or CRMBATCH_ENDPOINT): plain http to an https port is answered so; the Web API's URL looks like " + endpointExample
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		e.Fix = "no Web API method answers at this path: set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. " + endpointExample
	default:
		e.Fix = "the endpoint is not a CRM.COM Web API: set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. " + endpointExample
	}
	return e
}

// pageNotAPI reports whether a 4xx answer without an envelope means the
// endpoint is not the Web API. 401 and 403 are the credentials' (a login
// follows), 408 and 413 the request's own.
func pageNotAPI(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge:
		return false
	}
	return code >= 400 && code <= 499
}

// cutShort reports whether body is JSON that was cut off (it begins as JSON
// but does not parse), rather than an answer of another kind.
func cutShort(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[') && !json.Valid(b)
}

// errHTTPToHTTPS is the text of net/http's error for an https request answered
// in plain http. It has no type of its own (net/http replaces the
// tls.RecordHeaderError with errors.New), so its text is all there is to know
// it by.
const errHTTPToHTTPS = "http: server gave HTTP response to HTTPS client"

// tlsHint is the hint for a transport error that means no TLS conversation
// could be had with the endpoint, else "".
func tlsHint(err error) string {
	var (
		rec      tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &rec), err.Error() == errHTTPToHTTPS:
		return "the endpoint's port speaks plain http, not https: check --endpoint (or CRMBATCH_ENDPOINT) for the scheme and port of the Web API, e.g. " + endpointExample
	case errors.As(err, &hostname):
		return "the endpoint's certificate is not for its host name: check --endpoint's host"
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &invalid):
		return "the endpoint's certificate is not trusted: if it is signed by your organisation's CA, pass --ca-file with that CA's PEM certificate"
	}
	return ""
}

// redirected is the error of a 3xx answer with a Location. No redirect is
// followed, to any host: a POST's body holds the password or the token, a GET's
// query the token, and an API key login's Basic auth the key; following would
// send them where --endpoint does not say, maybe in clear text. The error names
// where the endpoint pointed (without its query, which may echo the token) and
// the --endpoint to set when that is the Web API.
func (c *Client) redirected(m method, resp *http.Response) error {
	loc, err := resp.Location()
	e := &Error{Method: m.path, Class: Endpoint, HTTPStatus: resp.StatusCode, Code: CodeRedirected}
	if err != nil {
		e.Message = "the endpoint answered with a redirect to an unreadable location"
		e.Fix = "set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. https://crm.example.com/crmapi/rest/v2/"
		return e
	}
	loc.User, loc.RawQuery, loc.ForceQuery, loc.Fragment, loc.RawFragment = nil, "", false, "", ""
	e.Message = "the endpoint redirected to " + loc.String() + "; crmbatch follows no redirect, so that credentials and tokens go only to the endpoint it was given"
	base := *loc
	if p, ok := strings.CutSuffix(loc.Path, "/"+m.path); ok {
		base.Path, base.RawPath = p+"/", ""
	} else {
		base.Path, base.RawPath = "/crmapi/rest/v2/", ""
	}
	from := resp.Request.URL
	switch {
	case from.Scheme == "https" && loc.Scheme != "https":
		e.Fix = "the endpoint sends its https requests to plain " + loc.Scheme + ", where passwords and tokens would cross the network unencrypted: keep --endpoint (or CRMBATCH_ENDPOINT) on https, at the installation's https Web API URL, and ask its administrators why it redirects to " + base.String()
	case loc.Path == base.Path+m.path:
		e.Fix = "if that is the installation's Web API, set --endpoint (or CRMBATCH_ENDPOINT) to " + base.String()
	default:
		e.Fix = "set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. " + base.String()
	}
	return e
}

// classify turns the outcome of one HTTP attempt into the data of an OK envelope
// or an error of the right class, like rclone's shouldRetry:
//
//   - no answer and the caller's ctx is done: ctx.Err(), wrapped, not an *Error;
//   - no answer (transport error, dropped connection, Config.Timeout): Transient
//     when the request was not fully written (dial refused, DNS, TLS) or the
//     method is idempotent; Ambiguous when a state-changing request was written;
//   - no TLS conversation (an http port, an untrusted certificate): Endpoint;
//   - HTTP 3xx with a Location: Endpoint (see redirected);
//   - HTTP 404, 405, 501: Endpoint (no Web API method at this path);
//   - HTTP 429, 5xx: Transient, with the Retry-After wait;
//   - other HTTP 4xx (and anything not 2xx): Permanent; 401 and 403 make the
//     caller log in again and replay once; a 4xx page without an envelope
//     (but 408, 413) is Endpoint: the server is not the Web API;
//   - HTTP 2xx with a body that is no envelope: JSON cut short is Ambiguous
//     for a state-changing method, Transient otherwise; any other body (a web
//     page) is Endpoint, but Ambiguous for a state-changing method that was
//     sent (something answered, we cannot tell what it did);
//   - a non-OK status.code: Permanent, with Code and Message; one that mentions
//     the token makes the caller log in again and replay once;
//   - status.code OK: the data.
func (c *Client) classify(ctx context.Context, m method, resp *http.Response, body []byte, err error, wrote bool) (json.RawMessage, error) {
	if err != nil && ctx.Err() != nil {
		return nil, canceled(ctx, m.path)
	}
	lost := Transient
	if wrote && !m.idempotent {
		lost = Ambiguous
	}
	if err != nil {
		err = stripURL(err)
		if errors.Is(err, context.DeadlineExceeded) {
			// Our own per-request deadline (the caller's is handled above). Not
			// wrapped: a caller must not mistake it for its own context's.
			err = fmt.Errorf("no answer within %s", c.timeout)
		}
		e := &Error{Method: m.path, Class: lost, Err: err}
		if h := tlsHint(err); h != "" {
			// No TLS conversation: nothing was sent, and no retry can help.
			e.Class, e.Code, e.Fix = Endpoint, CodeTLS, h
		}
		if resp != nil {
			e.HTTPStatus = resp.StatusCode // the body was cut off
		}
		return nil, e
	}

	var env envelope
	parsed := json.Unmarshal(body, &env) == nil && env.Status != nil
	e := &Error{Method: m.path, HTTPStatus: resp.StatusCode}
	if parsed {
		e.Code = env.Status.Code
		e.Message = statusMessage(env.Status)
	}
	switch code := resp.StatusCode; {
	case code >= 300 && code <= 399 && resp.Header.Get("Location") != "":
		return nil, c.redirected(m, resp)
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented:
		// No Web API method at this path: the endpoint (or its version) is
		// wrong, or it is some other web server. Every call would get the same.
		return nil, notTheAPI(e, parsed)
	case code == http.StatusTooManyRequests || code >= 500:
		e.Class = Transient
		e.RetryAfter = c.retryAfter(resp.Header.Get("Retry-After"))
		return nil, e
	case code < 200 || code > 299:
		e.Class = Permanent
		if !parsed {
			e.Message = http.StatusText(code)
			if pageNotAPI(code) {
				return nil, notTheAPI(e, parsed)
			}
		}
		return nil, e
	case !parsed && cutShort(body):
		// JSON cut off: the server's answer was lost on the way.
		e.Class = lost
		e.Message = "the answer is not a Web API envelope"
		return nil, e
	case !parsed && lost == Ambiguous:
		// Something answered a state-changing call, and it may have applied it.
		e.Class = Ambiguous
		e.Message = "the answer is not a Web API envelope"
		return nil, e
	case !parsed:
		return nil, notTheAPI(e, parsed)
	case env.Status.Code != "OK":
		e.Class = Permanent
		return nil, e
	}
	return env.Data, nil
}

// statusMessage is the message of a status, or its description when the message
// is null or empty.
func statusMessage(s *Status) string {
	if s.Message != nil && *s.Message != "" {
		return *s.Message
	}
	if s.Description != nil {
		return *s.Description
	}
	return ""
}

// retryAfter parses a Retry-After header: whole seconds or an HTTP date.
func (c *Client) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(0, time.Duration(s)*time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(c.now()))
	}
	return 0
}

// Redacted replaces a secret in the server's texts.
const Redacted = "[redacted]"

// secrets are what must never leave the client: the password, the API key and
// the latest tokens. Values shorter than 4 bytes are left out: replacing them
// would garble every text without hiding anything.
func (c *Client) secrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.tokens)+2)
	for _, s := range append([]string{c.creds.Password, c.creds.APIKey}, c.tokens...) {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// rememberToken adds a token to those redacted; the caller holds c.mu.
func (c *Client) rememberToken(tok string) {
	c.tokens = append(c.tokens, tok)
	if len(c.tokens) > maxTokens {
		c.tokens = c.tokens[len(c.tokens)-maxTokens:]
	}
}

// redact removes the secrets from a text the server wrote.
func (c *Client) redact(msg string) string {
	if msg == "" {
		return msg
	}
	for _, s := range c.secrets() {
		if strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, Redacted)
		}
	}
	return msg
}

// redactData removes the secrets from every string (and key) of the data of an
// answer, before it is decoded: whatever the server echoes (an error_description,
// a failed ESN, a field of a subscription action) reaches no report, log or
// ledger with a secret in it. Data with no backslash (no JSON escape) and no
// secret in its bytes is returned as it is.
func (c *Client) redactData(data json.RawMessage) json.RawMessage {
	secrets := c.secrets()
	if len(data) == 0 || len(secrets) == 0 {
		return data
	}
	if bytes.IndexByte(data, '\\') < 0 {
		found := false
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				found = true
				break
			}
		}
		if !found {
			return data
		}
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return data // not JSON: decoding it fails anyway, with no text of it
	}
	changed := false
	clean := func(s string) string {
		for _, x := range secrets {
			if strings.Contains(s, x) {
				s = strings.ReplaceAll(s, x, Redacted)
				changed = true
			}
		}
		return s
	}
	v = walkStrings(v, clean)
	if !changed {
		return data
	}
	out, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// walkStrings returns v with f applied to every string and object key in it.
func walkStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case []any:
		for i := range x {
			x[i] = walkStrings(x[i], f)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[f(k)] = walkStrings(e, f)
		}
		return out
	}
	return v
}

// stripURL drops the URL that net/http puts in its errors: a GET's URL holds the
// token.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// canceled is the error of a call whose caller's context is done.
func canceled(ctx context.Context, path string) error {
	return fmt.Errorf("crm: %s: %w", path, ctx.Err())
}

// decode decodes the data of an OK envelope into a T. The data was already
// answered OK, so a mismatch is the server's doing: Ambiguous for a state-changing
// method, Transient otherwise.
func decode[T any](m method, data json.RawMessage) (T, error) {
	var v T
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return v, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		class := Transient
		if !m.idempotent {
			class = Ambiguous
		}
		return v, &Error{Method: m.path, Class: class, HTTPStatus: http.StatusOK,
			Message: "unexpected data in the answer", Err: err}
	}
	return v, nil
}

// do calls m with params and decodes the data of the answer into a T.
func do[T any](ctx context.Context, c *Client, m method, params any) (T, error) {
	var zero T
	r, err := newRequest(m, params)
	if err != nil {
		return zero, err
	}
	data, err := c.call(ctx, r)
	if err != nil {
		return zero, err
	}
	return decode[T](m, data)
}
