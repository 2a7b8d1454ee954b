package batch

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/crmbatch/crmbatch/crm"
)

// clock is a settable time for the pacer.
type clock struct{ t time.Time }

func (c *clock) now() time.Time               { return c.t }
func (c *clock) add(d time.Duration)          { c.t = c.t.Add(d) }
func newTestPacer(c *clock, r float64) *pacer { return newPacer(r, 100*time.Millisecond, c.now, nil) }

func TestPacerBackoff(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1e9, 0)}
	p := newTestPacer(c, 10)
	for _, tc := range []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{"first retry: up to the base", 1, 0, 1, 100 * time.Millisecond},
		{"third retry: up to 4× the base", 3, 0, 1, 400 * time.Millisecond},
		{"far retries: capped", 40, 0, 1, backoffMax},
		{"Retry-After longer than the backoff wins", 1, 5 * time.Second, 5 * time.Second, 5 * time.Second},
		{"Retry-After is capped", 1, time.Hour, retryAfterMax, retryAfterMax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 200 {
				if d := p.backoff(tc.attempt, tc.retryAfter); d < tc.min || d > tc.max {
					t.Fatalf("backoff(%d, %s) = %s, want within [%s, %s]", tc.attempt, tc.retryAfter, d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestPacerThrottleAndRecover(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1e9, 0)}
	p := newTestPacer(c, 100)
	steps := []struct {
		name      string
		do        func()
		wantLimit rate.Limit
		wantUntil time.Duration // from the start
	}{
		{"a 429 cuts the rate by a fifth and holds every worker", func() { p.throttled(2 * time.Second) }, 80, 2 * time.Second},
		{"a 429 of the same episode does not cut again", func() { c.add(time.Second); p.throttled(time.Second) }, 80, 2 * time.Second},
		{"a success soon after raises nothing", func() { c.add(500 * time.Millisecond); p.succeeded() }, 80, 2 * time.Second},
		{"2 s without a 429: +5%", func() { c.add(2 * time.Second); p.succeeded() }, 84, 2 * time.Second},
		{"not again within 2 s", func() { c.add(time.Second); p.succeeded() }, 84, 2 * time.Second},
		{"a 429 of a new episode cuts again", func() { p.throttled(time.Second) }, 67.2, 5500 * time.Millisecond},
		{"climbing back stops under the rate of the last 429 (84 × 0.95)", func() {
			for range 10 {
				c.add(2 * time.Second)
				p.succeeded()
			}
		}, 79.8, 5500 * time.Millisecond},
		{"after 30 s without a 429 the ceiling rises by 5%", func() {
			c.add(30 * time.Second)
			p.succeeded()
		}, 83.79, 5500 * time.Millisecond},
	}
	start := c.t
	for _, s := range steps {
		s.do()
		got := p.limiter.Limit()
		if got < s.wantLimit-0.01 || got > s.wantLimit+0.01 {
			t.Fatalf("%s: limit %v, want %v", s.name, got, s.wantLimit)
		}
		if until := p.until.Sub(start); until != s.wantUntil {
			t.Fatalf("%s: workers held until +%s, want +%s", s.name, until, s.wantUntil)
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    crm.Error
		strict bool
		want   step
	}{
		{"429 costs time, not an attempt", crm.Error{Class: crm.Transient, HTTPStatus: http.StatusTooManyRequests}, false, throttle},
		{"429 of a strict call too", crm.Error{Class: crm.Transient, HTTPStatus: http.StatusTooManyRequests}, true, throttle},
		{"503: back off", crm.Error{Class: crm.Transient, HTTPStatus: 503}, false, backOff},
		{"502 of a call that is not idempotent may hide an applied call", crm.Error{Class: crm.Transient, HTTPStatus: 502}, true, readBack},
		{"connection refused: back off", crm.Error{Class: crm.Transient}, true, backOff},
		{"answer lost: read back", crm.Error{Class: crm.Ambiguous}, false, readBack},
		{"credentials refused: stop", crm.Error{Class: crm.Auth, HTTPStatus: 401}, false, stopRun},
		{"redirected: stop", crm.Error{Class: crm.Endpoint}, false, stopRun},
		{"a refusal is final", crm.Error{Class: crm.Permanent, Code: "INVALID_STATE"}, true, giveUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide(&tc.err, tc.strict); got != tc.want {
				t.Errorf("decide = %d, want %d", got, tc.want)
			}
		})
	}
}
