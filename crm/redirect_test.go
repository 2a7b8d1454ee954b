package crm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/fault"
)

// elsewhere is the host a redirect points to: it counts what reaches it and
// would hand out a token to anyone.
func elsewhere(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"data":{"token":"`+testToken+`"},"status":{"code":"OK"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestRedirectsAreNotFollowed points the endpoint's answers, for a login by
// password and by API key, and for a call after a good login, at another host
// with 301, 302, 307 and 308, and an https endpoint at plain http: nothing
// reaches the other host, and the error is of class Endpoint, naming where the
// endpoint pointed and the endpoint to set instead.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	password := Credentials{Username: "jack", Password: "pa55word-s3cret", Organisation: "ORG"}
	apiKey := Credentials{APIKey: "k3y-0f-the-0perator"}
	for _, code := range []int{301, 302, 307, 308} {
		for _, tls := range []bool{false, true} {
			for _, login := range []struct {
				name  string
				creds Credentials
			}{{"password", password}, {"api key", apiKey}} {
				for _, phase := range []string{"login", "call"} {
					name := http.StatusText(code) + "/" + login.name + "/" + phase
					if tls {
						name = "https to http/" + name
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						other, reached := elsewhere(t)
						var own atomic.Int32
						h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							own.Add(1)
							method := strings.TrimPrefix(r.URL.Path, testBasePath)
							if phase == "call" && strings.HasPrefix(method, "authentication/") {
								io.WriteString(w, `{"data":{"token":"`+testToken+`"},"status":{"code":"OK"}}`)
								return
							}
							// The query of a GET holds the token: a naive server
							// keeps it in the Location.
							loc := other.URL + testBasePath + method
							if r.URL.RawQuery != "" {
								loc += "?" + r.URL.RawQuery
							}
							http.Redirect(w, r, loc, code)
						})
						var srv *httptest.Server
						if tls {
							srv = httptest.NewTLSServer(h)
						} else {
							srv = httptest.NewServer(h)
						}
						t.Cleanup(srv.Close)
						c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath, Credentials: login.creds,
							HTTPClient: srv.Client(), Timeout: 5 * time.Second})
						var err error
						what := "authentication/token"
						if login.creds.APIKey != "" {
							what = "authentication/web_api_key/token"
						}
						if phase == "call" {
							_, err = c.Promotions(t.Context())
							what = "netflix/promotions/list"
						} else {
							err = c.Login(t.Context())
						}
						var e *Error
						if !errors.As(err, &e) {
							t.Fatalf("error %v (%T), want an *Error", err, err)
						}
						if e.Class != Endpoint || e.Code != CodeRedirected || e.HTTPStatus != code || e.Method != what || !e.Fatal() || e.Retry() {
							t.Errorf("error = %#v", e)
						}
						if n := reached.Load(); n != 0 {
							t.Errorf("%d requests reached the host the endpoint redirected to", n)
						}
						if n := own.Load(); (phase == "login" && n != 1) || (phase == "call" && n != 2) {
							t.Errorf("%d requests to the endpoint: a redirect was retried", n)
						}
						msg := fault.Describe(err)
						if !strings.Contains(msg, "redirected to "+other.URL+testBasePath+what+";") {
							t.Errorf("message does not name where the endpoint redirected: %s", msg)
						}
						for _, secret := range []string{testToken, login.creds.Password, login.creds.APIKey} {
							if secret != "" && strings.Contains(msg, secret) {
								t.Errorf("message holds %q: %s", secret, msg)
							}
						}
						hint := "set --endpoint (or CRMBATCH_ENDPOINT) to " + other.URL + testBasePath
						if tls {
							hint = "keep --endpoint (or CRMBATCH_ENDPOINT) on https"
						}
						if !strings.Contains(msg, "\nhint: ") || !strings.Contains(msg, hint) {
							t.Errorf("message lacks %q: %s", hint, msg)
						}
					})
				}
			}
		}
	}
}

// TestRedirectLocations checks the hint for Locations that are not the same
// method under another base: relative ones, and ones elsewhere.
func TestRedirectLocations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, location, wantMsg, wantHint string
	}{
		{"same host, another base", "/v3/crmapi/rest/v2/authentication/token", "redirected to http://HOST/v3/crmapi/rest/v2/authentication/token;",
			"if that is the installation's Web API, set --endpoint (or CRMBATCH_ENDPOINT) to http://HOST/v3/crmapi/rest/v2/"},
		{"a login page", "https://sso.example.com/login?next=x#top", "redirected to https://sso.example.com/login;",
			"set --endpoint (or CRMBATCH_ENDPOINT) to the installation's Web API URL, e.g. https://sso.example.com/crmapi/rest/v2/"},
		{"user info dropped", "https://u:p@sso.example.com/crmapi/rest/v2/authentication/token", "redirected to https://sso.example.com/crmapi/rest/v2/authentication/token;",
			"to https://sso.example.com/crmapi/rest/v2/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", tc.location)
				w.WriteHeader(http.StatusTemporaryRedirect)
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath})
			err := c.Login(context.Background())
			host := strings.TrimPrefix(srv.URL, "http://")
			msg := fault.Describe(err)
			if want := strings.ReplaceAll(tc.wantMsg, "HOST", host); !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
			if want := strings.ReplaceAll(tc.wantHint, "HOST", host); !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
			if strings.Contains(msg, "u:p") || strings.Contains(msg, "next=") {
				t.Errorf("message shows the Location's user or query: %q", msg)
			}
			if ClassOf(err) != Endpoint {
				t.Errorf("class %v", ClassOf(err))
			}
		})
	}
}

// TestRedirectLeavesCallerClientAlone checks that the client follows no redirect
// with a copy of the caller's http.Client, whose own policy stays as it was.
func TestRedirectLeavesCallerClientAlone(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if _, err := New(Config{BaseURL: "https://crm.example.com/crmapi/rest/v2/", Credentials: testCreds, HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}
