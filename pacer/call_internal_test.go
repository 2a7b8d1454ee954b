package pacer

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/crm"
)

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

// counting is a Watcher that counts.
type counting struct{ sent, retried, throttled atomic.Int64 }

func (c *counting) Attempted(_ context.Context, _ int, _ time.Duration, err error) {
	if !errors.Is(err, ErrStopped) {
		c.sent.Add(1)
	}
}
func (c *counting) Retried()   { c.retried.Add(1) }
func (c *counting) Throttled() { c.throttled.Add(1) }

// TestCall runs the decision table end to end: a call whose attempts get the
// answers given, in turn, under a budget of 3 attempts and a longest wait of
// a minute. The pacer's waits take no time (its sleep is counted, not slept).
func TestCall(t *testing.T) {
	t.Parallel()
	var (
		ok        = (*crm.Error)(nil)
		down      = &crm.Error{Class: crm.Transient, HTTPStatus: 503}
		noAnswer  = &crm.Error{Class: crm.Transient}
		tooMany   = &crm.Error{Class: crm.Transient, HTTPStatus: 429, RetryAfter: time.Second}
		longWait  = &crm.Error{Class: crm.Transient, HTTPStatus: 429, RetryAfter: time.Hour}
		lost      = &crm.Error{Class: crm.Ambiguous}
		badGate   = &crm.Error{Class: crm.Transient, HTTPStatus: 502}
		refused   = &crm.Error{Class: crm.Permanent, Code: "INVALID_STATE"}
		loginGone = &crm.Error{Class: crm.Auth, HTTPStatus: 401}
	)
	type readBack struct {
		applied bool
		err     error
	}
	for _, tc := range []struct {
		name      string
		answers   []*crm.Error
		strict    bool
		readBacks []readBack // nil: the call is idempotent
		again     bool
		attempts  int
		want      string // "ok", "failed", "unknown", "stopped"
		fatal     bool
		throttled int64
		retried   int64
	}{
		{name: "answered at once", answers: []*crm.Error{ok}, attempts: 1, want: "ok"},
		{name: "503s back off, then ok", answers: []*crm.Error{down, down, ok}, attempts: 3, want: "ok", retried: 2},
		{name: "503s to the last attempt: failed, the server answered", answers: []*crm.Error{down, down, down}, attempts: 3, want: "failed", retried: 2},
		{name: "never an answer: the endpoint is unreachable, the run stops", answers: []*crm.Error{noAnswer, noAnswer, noAnswer}, attempts: 3, want: "stopped", fatal: true, retried: 2},
		{name: "429s cost no attempt", answers: []*crm.Error{tooMany, tooMany, tooMany, down, down, ok}, attempts: 6, want: "ok", throttled: 3, retried: 5},
		{name: "a wait longer than --max-wait stops the run", answers: []*crm.Error{longWait}, attempts: 1, want: "stopped", fatal: true},
		{name: "a refusal is final", answers: []*crm.Error{refused}, attempts: 1, want: "failed"},
		{name: "credentials refused stop the run", answers: []*crm.Error{loginGone}, attempts: 1, want: "stopped", fatal: true},
		{name: "answer lost, read back applied", answers: []*crm.Error{lost}, strict: true, readBacks: []readBack{{applied: true}}, attempts: 1, want: "ok"},
		{name: "answer lost, read back not applied: sent again", answers: []*crm.Error{lost, ok}, strict: true, readBacks: []readBack{{}}, attempts: 2, want: "ok", retried: 1},
		{name: "answer lost, the read back fails: unknown", answers: []*crm.Error{lost}, strict: true, readBacks: []readBack{{err: errors.New("read failed")}}, attempts: 1, want: "unknown"},
		{name: "a strict call's 502 is read back", answers: []*crm.Error{badGate}, strict: true, readBacks: []readBack{{applied: true}}, attempts: 1, want: "ok"},
		{name: "an idempotent call's lost answer stays unknown past a later refusal", answers: []*crm.Error{lost, refused}, attempts: 2, want: "unknown", retried: 1},
		{name: "an idempotent call's lost answer, then an answer: ok", answers: []*crm.Error{lost, ok}, attempts: 2, want: "ok", retried: 1},
		{name: "lost to the last attempt: unknown, never failed", answers: []*crm.Error{lost, lost, lost}, attempts: 3, want: "unknown", retried: 2},
		{name: "sent again once: one attempt, a retry, its error as it is", answers: []*crm.Error{down}, again: true, attempts: 1, want: "failed", retried: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &counting{}
			var fatal error
			p := New(Options{Rate: 0, Attempts: 3, MaxWait: time.Minute, Now: func() time.Time { return time.Unix(1e9, 0) },
				Fatal: func(err error) { fatal = err }, Watch: w})
			p.sleep = func(context.Context, time.Duration) error { return nil }
			sent := 0
			a := Attempt{Strict: tc.strict, Again: tc.again, Send: func(context.Context) error {
				e := tc.answers[sent]
				sent++
				if e == nil {
					return nil
				}
				return e
			}}
			if tc.readBacks != nil {
				reads := 0
				a.ReadBack = func(context.Context) (bool, error) {
					rb := tc.readBacks[reads]
					reads++
					return rb.applied, rb.err
				}
			}
			attempts, err := p.Call(context.Background(), a)
			var ue *UnknownError
			got := "failed"
			switch {
			case err == nil:
				got = "ok"
			case errors.Is(err, ErrStopped):
				got = "stopped"
			case errors.As(err, &ue):
				got = "unknown"
			}
			if got != tc.want || attempts != tc.attempts {
				t.Errorf("Call = %d attempts, %v (%s); want %d attempts, %s", attempts, err, got, tc.attempts, tc.want)
			}
			if (fatal != nil) != tc.fatal {
				t.Errorf("the run told to stop: %v, want %v", fatal, tc.fatal)
			}
			if sent != len(tc.answers) || w.sent.Load() != int64(sent) {
				t.Errorf("%d attempts sent, %d watched; want %d", sent, w.sent.Load(), len(tc.answers))
			}
			if w.throttled.Load() != tc.throttled || w.retried.Load() != tc.retried {
				t.Errorf("throttled %d, retried %d; want %d, %d", w.throttled.Load(), w.retried.Load(), tc.throttled, tc.retried)
			}
		})
	}
}

// TestCallStopped: a call whose run stops sends no new attempt, and one that
// waited its turn when the run stopped was never sent.
func TestCallStopped(t *testing.T) {
	t.Parallel()
	p := New(Options{Attempts: 3, Now: time.Now})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := p.Call(ctx, Attempt{Send: func(context.Context) error { t.Error("sent after the run stopped"); return nil }})
	if n != 0 || !errors.Is(err, ErrStopped) {
		t.Errorf("Call = %d, %v; want 0 attempts, ErrStopped", n, err)
	}
	n, err = p.Call(context.Background(), Attempt{Send: func(context.Context) error { return ErrStopped }})
	if n != 0 || !errors.Is(err, ErrStopped) {
		t.Errorf("Call of an attempt stopped in its wait = %d, %v; want 0 attempts, ErrStopped", n, err)
	}
}
