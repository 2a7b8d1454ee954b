package crm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/fault"
)

// hangUp reads the request, then closes the connection without answering.
func hangUp(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// stall never answers: it waits until the client goes away (its timeout, its
// caller's context), so a test of those cannot race an answer however slow
// the machine.
func stall(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
	<-r.Context().Done()
}

func status(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// refusedURL is a base URL on which nothing listens.
func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + testBasePath
}

// The hints of Endpoint errors.
const (
	noMethodHint = "no Web API method answers at this path: set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. " + endpointExample
	schemeHint   = "check --endpoint (or CRMBATCH_ENDPOINT): plain http to an https port is answered so; the Web API's URL looks like " + endpointExample
	notAPIHint   = "the endpoint is not a CRM.COM Web API: set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. " + endpointExample
)

// TestErrorClasses drives each failure over real HTTP and checks its class.
// addS1 is an installed-items call for the tests that need one that is not
// idempotent.
var addS1 = InstalledItemsRequest{SubscriptionIdentifier: Identifier{"number": "S1"},
	InstalledItemsSet: []InstalledItem{{InstalledItemIdentifier: Identifier{"serial_number": "SC-1"}}}}

const (
	tooLargeMsg  = "the answer is larger than 8 MiB, which no Web API method sends"
	tooLargeHint = "check that the endpoint is the installation's Web API URL, e.g. https://crm.example.com/crmapi/rest/v2/"
)

// huge answers an OK envelope padded to MaxResponse + 1 KiB, announced in
// Content-Length or chunked.
func huge(withLength bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		head, tail := `{"status":{"code":"OK"},"data":[],"pad":"`, `"}`
		pad := MaxResponse + 1024
		if withLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(head)+pad+len(tail)))
		}
		io.WriteString(w, head)
		chunk := strings.Repeat("x", 64<<10)
		for n := 0; n < pad; n += len(chunk) {
			if _, err := io.WriteString(w, chunk[:min(len(chunk), pad-n)]); err != nil {
				return // the client hung up, as it should
			}
		}
		io.WriteString(w, tail)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	suspend := func(ctx context.Context, c *Client) error { return c.SuspendSubscription(ctx, "pci001") }
	promotions := func(ctx context.Context, c *Client) error { _, err := c.Promotions(ctx); return err }
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		timeout time.Duration
		call    func(context.Context, *Client) error
		want    Error // Method, Class, HTTPStatus, Code, Message, RetryAfter are compared
		wantErr bool  // want.Err must be set
	}{
		{
			name:    "non-OK envelope, HTTP 200, message null",
			handler: serveBody(`{"data":null,"status":{"code":"SUBSCRIPTION_EXISTS","message":null,"description":"customer pci001 has a subscription"}}`),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Permanent, HTTPStatus: 200, Code: "SUBSCRIPTION_EXISTS", Message: "customer pci001 has a subscription"},
		},
		{
			name:    "non-OK envelope, message and description null",
			handler: serveBody(`{"data":null,"status":{"code":"INVALID_STATE","message":null,"description":null}}`),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Permanent, HTTPStatus: 200, Code: "INVALID_STATE"},
		},
		{
			name:    "429 with Retry-After seconds",
			handler: status(429, `{"data":null,"status":{"code":"TOO_MANY_REQUESTS","message":"slow down","description":""}}`, "Retry-After", "2"),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Transient, HTTPStatus: 429, Code: "TOO_MANY_REQUESTS", Message: "slow down", RetryAfter: 2 * time.Second},
		},
		{
			name:    "503 with Retry-After date",
			handler: status(503, "<html>maintenance</html>", "Retry-After", now.Add(3*time.Second).Format(http.TimeFormat)),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Transient, HTTPStatus: 503, RetryAfter: 3 * time.Second},
		},
		{
			name:    "500",
			handler: status(500, `{"data":null,"status":{"code":"INTERNAL_ERROR","message":"boom","description":""}}`),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Transient, HTTPStatus: 500, Code: "INTERNAL_ERROR", Message: "boom"},
		},
		{
			name:    "404 without envelope",
			handler: status(404, "not here"),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Endpoint, HTTPStatus: 404, Code: CodeNotWebAPI, Message: "HTTP 404 Not Found, not the Web API's JSON", Fix: noMethodHint},
		},
		{
			name:    "404 with the envelope of an unknown method",
			handler: status(404, `{"data":null,"status":{"code":"UNKNOWN_METHOD","message":"no Web API method here","description":""}}`),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Endpoint, HTTPStatus: 404, Code: "UNKNOWN_METHOD", Message: "no Web API method here", Fix: noMethodHint},
		},
		{
			name:    "405 from a plain web server",
			handler: status(405, "<html><body>Method Not Allowed</body></html>"),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Endpoint, HTTPStatus: 405, Code: CodeNotWebAPI, Message: "HTTP 405 Method Not Allowed, not the Web API's JSON", Fix: noMethodHint},
		},
		{
			name:    "501 from a plain web server",
			handler: status(501, "<html><body>Unsupported method ('POST')</body></html>"),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Endpoint, HTTPStatus: 501, Code: CodeNotWebAPI, Message: "HTTP 501 Not Implemented, not the Web API's JSON", Fix: noMethodHint},
		},
		{
			name:    "400 page: http to an https port",
			handler: status(400, "Client sent an HTTP request to an HTTPS server.\n"),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Endpoint, HTTPStatus: 400, Code: CodeNotWebAPI, Message: "HTTP 400 Bad Request, not the Web API's JSON", Fix: schemeHint},
		},
		{
			name:    "502 page from a proxy stays transient",
			handler: status(502, "<html>bad gateway</html>"),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Transient, HTTPStatus: 502},
		},
		{
			name:    "dropped connection after POST was read",
			handler: hangUp,
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Ambiguous},
			wantErr: true,
		},
		{
			name:    "dropped connection after GET was read",
			handler: hangUp,
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Transient},
			wantErr: true,
		},
		{
			name:    "POST timeout",
			handler: stall,
			timeout: 100 * time.Millisecond,
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Ambiguous},
			wantErr: true,
		},
		{
			name:    "GET timeout",
			handler: stall,
			timeout: 100 * time.Millisecond,
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Transient},
			wantErr: true,
		},
		{
			name:    "HTTP 200 with no envelope, POST",
			handler: serveBody(`<html>proxy error</html>`),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Ambiguous, HTTPStatus: 200, Message: "the answer is not a Web API envelope"},
		},
		{
			name:    "HTTP 200 with JSON cut short, GET",
			handler: serveBody(`{"data":[`),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Transient, HTTPStatus: 200, Message: "the answer is not a Web API envelope"},
		},
		{
			name:    "HTTP 200 web page, GET",
			handler: serveBody("<!DOCTYPE html><html><title>It works!</title></html>"),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Endpoint, HTTPStatus: 200, Code: CodeNotWebAPI, Message: "the answer is not the Web API's JSON (a web page, or another service)", Fix: notAPIHint},
		},
		{
			name:    "HTTP 200 JSON of another service, GET",
			handler: serveBody(`{"hello":"world"}`),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Endpoint, HTTPStatus: 200, Code: CodeNotWebAPI, Message: "the answer is not the Web API's JSON (a web page, or another service)", Fix: notAPIHint},
		},
		{
			name:    "OK envelope with data of the wrong shape, POST",
			handler: serveBody(`{"data":{"number":17},"status":{"code":"OK"}}`),
			call: func(ctx context.Context, c *Client) error {
				_, err := c.AddInstalledItems(ctx, addS1)
				return err
			},
			want:    Error{Method: "subscriptions/installed_items/add", Class: Ambiguous, HTTPStatus: 200, Message: "unexpected data in the answer"},
			wantErr: true,
		},
		{
			name:    "connection refused",
			call:    suspend,
			want:    Error{Method: "authentication/token", Class: Transient}, // the login comes first
			wantErr: true,
		},
		{
			name:    "401 twice",
			handler: status(401, ""),
			call:    suspend,
			want:    Error{Method: "netflix/subscriptions/suspend", Class: Auth, HTTPStatus: 401, Message: "Unauthorized"},
		},
		{
			name:    "answer over MaxResponse, GET, chunked",
			handler: huge(false),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Permanent, HTTPStatus: 200, Code: CodeAnswerTooLarge, Message: tooLargeMsg, Fix: tooLargeHint},
		},
		{
			name:    "answer over MaxResponse, GET, Content-Length",
			handler: huge(true),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Permanent, HTTPStatus: 200, Code: CodeAnswerTooLarge, Message: tooLargeMsg, Fix: tooLargeHint},
		},
		{
			name:    "answer over MaxResponse, POST that may have been applied",
			handler: huge(false),
			call:    func(ctx context.Context, c *Client) error { _, err := c.AddInstalledItems(ctx, addS1); return err },
			want:    Error{Method: "subscriptions/installed_items/add", Class: Ambiguous, HTTPStatus: 200, Code: CodeAnswerTooLarge, Message: tooLargeMsg, Fix: tooLargeHint},
		},
		{
			name: "answer of exactly MaxResponse is read",
			handler: func(w http.ResponseWriter, r *http.Request) {
				head := `{"status":{"code":"OK"},"data":[],"pad":"`
				io.WriteString(w, head+strings.Repeat("x", MaxResponse-len(head)-2)+`"}`)
			},
			call: promotions,
			want: Error{Method: "authentication/token", Class: Permanent}, // sentinel: no error wanted
		},
		{
			name:    "token refused twice",
			handler: serveBody(`{"data":null,"status":{"code":"INVALID_TOKEN","message":"The token is invalid or has expired","description":""}}`),
			call:    promotions,
			want:    Error{Method: "netflix/promotions/list", Class: Auth, HTTPStatus: 200, Code: "INVALID_TOKEN", Message: "The token is invalid or has expired"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := refusedURL(t)
			if tc.handler != nil {
				base = fakeServer(t, nil, tc.handler).URL + testBasePath
			}
			c := newTestClient(t, Config{BaseURL: base, Timeout: tc.timeout, Now: func() time.Time { return now }})
			err := tc.call(t.Context(), c)
			if tc.want == (Error{Method: "authentication/token", Class: Permanent}) {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is no *Error", err, err)
			}
			got := *e
			got.Err = nil
			if got != tc.want {
				t.Errorf("error = %#v\nwant    %#v", got, tc.want)
			}
			if tc.wantErr != (e.Err != nil) {
				t.Errorf("Err = %v, want one: %v", e.Err, tc.wantErr)
			}
			if ClassOf(err) != tc.want.Class || IsRetryable(err) != (tc.want.Class == Transient) || IsAmbiguous(err) != (tc.want.Class == Ambiguous) {
				t.Errorf("ClassOf = %v, IsRetryable = %v, IsAmbiguous = %v", ClassOf(err), IsRetryable(err), IsAmbiguous(err))
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Errorf("%v passes for the caller's context error", err)
			}
			if msg := err.Error(); strings.Contains(msg, testToken) || strings.Contains(msg, testCreds.Password) || strings.Contains(msg, "http://") {
				t.Errorf("Error() = %q shows the URL or a secret", msg)
			}
			if !strings.HasPrefix(err.Error(), "crm: "+tc.want.Method+": "+tc.want.Class.String()) {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

// TestCallerCancel checks that the caller's own context ends a call with its error,
// not a classified one.
func TestCallerCancel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ctx  func(context.Context) (context.Context, context.CancelFunc)
		want error
	}{
		{"canceled", func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 100*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeServer(t, nil, http.HandlerFunc(stall))
			c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath, Timeout: time.Minute})
			ctx, cancel := tc.ctx(t.Context())
			defer cancel()
			err := c.SuspendSubscription(ctx, "pci001")
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var e *Error
			if errors.As(err, &e) || ClassOf(err) != Permanent || IsRetryable(err) {
				t.Errorf("error %v is classified", err)
			}
		})
	}
}

// TestWait checks that Wait runs before every HTTP attempt, the login included,
// and that its error stops the call.
func TestWait(t *testing.T) {
	t.Parallel()
	var tokenRefused atomic.Bool
	tokenRefused.Store(true)
	srv := fakeServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		if tokenRefused.Swap(false) {
			serveBody(`{"data":null,"status":{"code":"INVALID_TOKEN","message":"expired"}}`)(w, r)
			return
		}
		serveBody(`{"data":[],"status":{"code":"OK"}}`)(w, r)
	})
	var waits atomic.Int32
	c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath, Wait: func(ctx context.Context) error {
		if waits.Add(1) > 4 {
			return errors.New("limiter closed")
		}
		return nil
	}})
	if _, err := c.Promotions(t.Context()); err != nil {
		t.Fatal(err)
	}
	// login, refused call, login, replay
	if got := waits.Load(); got != 4 {
		t.Errorf("Wait called %d times, want 4", got)
	}
	if c.Logins() != 2 {
		t.Errorf("Logins() = %d, want 2", c.Logins())
	}
	_, err := c.Promotions(t.Context())
	if !IsRetryable(err) || !strings.Contains(err.Error(), "limiter closed") {
		t.Errorf("error %v, want a transient one from Wait", err)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"envelope", &Error{Method: "netflix/charges/list", Class: Permanent, HTTPStatus: 200, Code: "INVALID_VALUE", Message: "bad offset"},
			"crm: netflix/charges/list: permanent error: INVALID_VALUE: bad offset"},
		{"429", &Error{Method: "netflix/charges/list", Class: Transient, HTTPStatus: 429, RetryAfter: 2 * time.Second},
			"crm: netflix/charges/list: transient error: http 429 (retry after 2s)"},
		{"dropped", &Error{Method: "netflix/subscriptions/create", Class: Ambiguous, Err: io.ErrUnexpectedEOF},
			"crm: netflix/subscriptions/create: ambiguous error: unexpected EOF (the call may have been applied)"},
		{"auth", &Error{Method: "authentication/token", Class: Auth, HTTPStatus: 200, Code: "AUTHENTICATION_FAILED", Message: "wrong"},
			"crm: authentication/token: auth error: AUTHENTICATION_FAILED: wrong\nhint: check the credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fault.Describe(tc.err); !strings.HasPrefix(got, tc.want) {
				t.Errorf("Error() and hint = %q, want prefix %q", got, tc.want)
			}
		})
	}
	if s := Class(9).String(); s != "Class(9)" {
		t.Errorf("Class(9) = %q", s)
	}
}

// TestIsAuthFailure: only HTTP 401 or 403, or a status code that names the token
// or the session, means the token was refused; a row's refusal whose message
// sounds like a login's ("expired", "token") does not.
func TestIsAuthFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"HTTP 401", &Error{Class: Permanent, HTTPStatus: 401}, true},
		{"HTTP 403", &Error{Class: Permanent, HTTPStatus: 403, Message: "Forbidden"}, true},
		{"INVALID_TOKEN", &Error{Class: Permanent, HTTPStatus: 200, Code: "INVALID_TOKEN", Message: "The token is invalid or has expired"}, true},
		{"token_expired, any case, spaces", &Error{Class: Permanent, HTTPStatus: 200, Code: " token_expired "}, true},
		{"SESSION_EXPIRED", &Error{Class: Permanent, HTTPStatus: 200, Code: "SESSION_EXPIRED"}, true},
		{"NOT_AUTHENTICATED", &Error{Class: Permanent, HTTPStatus: 200, Code: "NOT_AUTHENTICATED"}, true},
		{"PROMOTION_EXPIRED", &Error{Class: Permanent, HTTPStatus: 200, Code: "PROMOTION_EXPIRED", Message: "The promotion has expired"}, false},
		{"a message naming a token", &Error{Class: Permanent, HTTPStatus: 200, Code: "INVALID_VALUE", Message: "The netflix token has expired"}, false},
		{"a message saying the session expired", &Error{Class: Permanent, HTTPStatus: 200, Code: "VALIDITY_EXPIRED", Message: "Session expired"}, false},
		{"HTTP 400 saying unauthorized", &Error{Class: Permanent, HTTPStatus: 400, Message: "unauthorized promotion"}, false},
		{"HTTP 500", &Error{Class: Transient, HTTPStatus: 500, Code: "INVALID_TOKEN"}, false},
		{"a lost answer", &Error{Class: Ambiguous, Err: io.ErrUnexpectedEOF}, false},
		{"wrapped", fmt.Errorf("call: %w", &Error{Class: Permanent, HTTPStatus: 200, Code: "INVALID_TOKEN"}), true},
		{"no *Error", errors.New("expired token"), false},
		{"nil", nil, false},
	} {
		if got := isAuthFailure(tc.err); got != tc.want {
			t.Errorf("%s: isAuthFailure(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestRefusalOrCredentials drives refusals over HTTP: a token refusal makes the
// client log in again and replay the call once; a row's refusal is returned
// as it came, Permanent, without a new login or a replay.
func TestRefusalOrCredentials(t *testing.T) {
	t.Parallel()
	refusal := func(code, msg string) http.HandlerFunc {
		return serveBody(`{"data":null,"status":{"code":"` + code + `","message":"` + msg + `","description":""}}`)
	}
	okBody := serveBody(`{"data":{},"status":{"code":"OK"}}`)
	for _, tc := range []struct {
		name     string
		first    http.HandlerFunc // the first answer to suspend
		then     http.HandlerFunc // every later one
		want     Class            // of the error; -1: no error
		code     string
		logins   int
		suspends int
	}{
		{"PROMOTION_EXPIRED", refusal("PROMOTION_EXPIRED", "The promotion has expired"), okBody, Permanent, "PROMOTION_EXPIRED", 1, 1},
		{"a message naming a token", refusal("INVALID_VALUE", "The netflix token has expired"), okBody, Permanent, "INVALID_VALUE", 1, 1},
		{"HTTP 400 envelope saying expired", status(400, `{"data":null,"status":{"code":"INVALID_VALUE","message":"expired"}}`), okBody, Permanent, "INVALID_VALUE", 1, 1},
		{"HTTP 400 page saying expired", status(400, "expired"), okBody, Endpoint, CodeNotWebAPI, 1, 1},
		{"HTTP 500 saying session expired", status(500, `{"data":null,"status":{"code":"SESSION_EXPIRED"}}`), okBody, Transient, "SESSION_EXPIRED", 1, 1},
		{"INVALID_TOKEN once", refusal("INVALID_TOKEN", "The token is invalid or has expired"), okBody, -1, "", 2, 2},
		{"SESSION_EXPIRED once", refusal("SESSION_EXPIRED", ""), okBody, -1, "", 2, 2},
		{"HTTP 403 once", status(403, ""), okBody, -1, "", 2, 2},
		{"HTTP 401 twice", status(401, ""), status(401, ""), Auth, "", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logins, suspends atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				switch strings.TrimPrefix(r.URL.Path, testBasePath) {
				case "authentication/token":
					logins.Add(1)
					serveBody(`{"data":{"token":"`+testToken+`"},"status":{"code":"OK"}}`)(w, r)
				case "netflix/subscriptions/suspend":
					if suspends.Add(1) == 1 {
						tc.first(w, r)
						return
					}
					tc.then(w, r)
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath})
			err := c.SuspendSubscription(t.Context(), "pci001")
			var e *Error
			switch {
			case tc.want == -1 && err != nil:
				t.Errorf("error %v, want the replay to succeed", err)
			case tc.want != -1 && (!errors.As(err, &e) || e.Class != tc.want || e.Code != tc.code):
				t.Errorf("error %#v, want class %v code %q", err, tc.want, tc.code)
			}
			if n := logins.Load(); int(n) != tc.logins || c.Logins() != tc.logins {
				t.Errorf("server logins %d, client logins %d, want %d", n, c.Logins(), tc.logins)
			}
			if n := suspends.Load(); int(n) != tc.suspends {
				t.Errorf("%d suspend requests, want %d", n, tc.suspends)
			}
		})
	}
}

// TestTLSMismatch checks that an https endpoint that speaks plain http, or
// whose certificate is not trusted, is an Endpoint error at the login: no
// retry can help, a person must fix --endpoint or --ca-file.
func TestTLSMismatch(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(serveBody(`{"data":{},"status":{"code":"OK"}}`))
	t.Cleanup(plain.Close)
	untrusted := httptest.NewTLSServer(serveBody(`{"data":{},"status":{"code":"OK"}}`))
	t.Cleanup(untrusted.Close)
	for _, tc := range []struct {
		name, base, hint string
	}{
		{"https to an http port", strings.Replace(plain.URL, "http://", "https://", 1), "plain http, not https"},
		{"certificate of an unknown authority", untrusted.URL, "--ca-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, Config{BaseURL: tc.base + testBasePath})
			_, err := c.Promotions(t.Context())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is no *Error", err, err)
			}
			if e.Class != Endpoint || e.Code != CodeTLS || e.Method != "authentication/token" {
				t.Errorf("error = %#v, want an Endpoint TLS error at the login", e)
			}
			if !strings.Contains(e.Fix, tc.hint) {
				t.Errorf("hint %q does not say %q", e.Fix, tc.hint)
			}
		})
	}
}
