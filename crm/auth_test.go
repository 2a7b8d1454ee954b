package crm

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"HS256"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tok  string
		want time.Time
	}{
		// The token of the seed's charges/acknowledge example.
		{"seed", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c3IiOiJNUEFkbWluaXN0cmF0b3IiLCJvcmciOiJwc19kZXYiLCJvdW4iOiIxIiwiZXhwIjoiMTQ4ODI5OTQwMiIsImlhdCI6IjE0ODgyOTIyMDIiLCJqdGkiOiJFNEIyNTdDNDA2NUE0NTA3OTYzNkI3NkI2MDUwMzY5QSJ9.KhMhy4Sz2iG0g14Sv_pUpE0KFweKsicf9aR44mg0vuE", time.Unix(1488299402, 0)},
		{"exp number", jwt(`{"exp":1700000000}`), time.Unix(1700000000, 0)},
		{"exp float", jwt(`{"exp":1700000000.5}`), time.Unix(1700000000, 5e8)},
		{"exp string", jwt(`{"usr":"x","exp":"1700000000"}`), time.Unix(1700000000, 0)},
		{"padded payload", "a." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1700000001}`)) + ".c", time.Unix(1700000001, 0)},
		{"no exp", jwt(`{"usr":"x"}`), time.Time{}},
		{"exp null", jwt(`{"exp":null}`), time.Time{}},
		{"exp garbage", jwt(`{"exp":"soon"}`), time.Time{}},
		{"exp in milliseconds", jwt(`{"exp":1700000000000}`), time.Time{}},
		{"opaque", "33586DF3842E4AE5BABF43C43269E8F8", time.Time{}},
		{"bad base64", "a.!!!.c", time.Time{}},
		{"payload not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tokenExpiry(tc.tok); !got.Equal(tc.want) {
				t.Errorf("tokenExpiry = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRenewTime(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Client{renewBefore: 5 * time.Minute}
	for _, tc := range []struct {
		name string
		exp  time.Time
		want time.Time
	}{
		{"two hours", t0.Add(2 * time.Hour), t0.Add(2*time.Hour - 5*time.Minute)},
		{"shorter than RenewBefore", t0.Add(4 * time.Minute), t0.Add(2 * time.Minute)},
		{"exactly RenewBefore", t0.Add(5 * time.Minute), t0.Add(150 * time.Second)},
		{"already past", t0.Add(-time.Minute), time.Time{}},
		{"unknown", time.Time{}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := c.renewTime(t0, tc.exp); !got.Equal(tc.want) {
				t.Errorf("renewTime = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReloginSingleFlight: 32 callers whose opaque token the server stops
// accepting share one login and all succeed after one replay each.
func TestReloginSingleFlight(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		current string
		issued  int
		refused atomic.Int32
	)
	mux := http.NewServeMux()
	mux.HandleFunc(testBasePath+"authentication/token", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		issued++
		current = fmt.Sprintf("opaque-token-%d", issued)
		tok := current
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // let the other callers pile up
		serveBody(`{"data":{"token":"`+tok+`"},"status":{"code":"OK"}}`)(w, r)
	})
	mux.HandleFunc(testBasePath+"netflix/promotions/list", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := r.URL.Query().Get("token") == current
		mu.Unlock()
		if !ok {
			refused.Add(1)
			serveBody(`{"data":null,"status":{"code":"SESSION_EXPIRED","message":null,"description":null}}`)(w, r)
			return
		}
		serveBody(`{"data":[{"code":"14","name":"Test"}],"status":{"code":"OK"}}`)(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath})
	if err := c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	current = "revoked" // every issued token is refused from now on
	mu.Unlock()

	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.Promotions(t.Context())
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("call: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if c.Logins() != 2 || issued != 2 {
		t.Errorf("client logins %d, server logins %d, want 2", c.Logins(), issued)
	}
	if n := refused.Load(); n < 1 || n > 32 {
		t.Errorf("%d refused calls", n)
	}
}
