package pacer

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// clock is a settable time for the pacer.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newTestPacer(c *clock, r float64) *Pacer {
	return New(Options{Rate: r, Backoff: 100 * time.Millisecond, Now: c.now})
}

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
				if d := p.Backoff(tc.attempt, tc.retryAfter); d < tc.min || d > tc.max {
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
		{"a 429 cuts the rate by a fifth and holds every worker", func() { p.Throttled(2 * time.Second) }, 80, 2 * time.Second},
		{"a 429 of the same episode does not cut again", func() { c.add(time.Second); p.Throttled(time.Second) }, 80, 2 * time.Second},
		{"a success soon after raises nothing", func() { c.add(500 * time.Millisecond); p.Succeeded() }, 80, 2 * time.Second},
		{"2 s without a 429: +5%", func() { c.add(2 * time.Second); p.Succeeded() }, 84, 2 * time.Second},
		{"not again within 2 s", func() { c.add(time.Second); p.Succeeded() }, 84, 2 * time.Second},
		{"a 429 of a new episode cuts again", func() { p.Throttled(time.Second) }, 67.2, 5500 * time.Millisecond},
		{"climbing back stops under the rate of the last 429 (84 × 0.95)", func() {
			for range 10 {
				c.add(2 * time.Second)
				p.Succeeded()
			}
		}, 79.8, 5500 * time.Millisecond},
		{"after 30 s without a 429 the ceiling rises by 5%", func() {
			c.add(30 * time.Second)
			p.Succeeded()
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

// fakeClock is a clock whose sleeps wake only when the test advances it: a
// pacer's waits in it take no time and depend on no machine's speed.
type fakeClock struct {
	mu       sync.Mutex
	t        time.Time
	sleepers map[chan struct{}]time.Time // wake channel → deadline
	slept    chan time.Time              // the deadline of each sleep begun
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{t: t, sleepers: map[chan struct{}]time.Time{}, slept: make(chan time.Time, 64)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	wake := make(chan struct{})
	c.mu.Lock()
	until := c.t.Add(d)
	c.sleepers[wake] = until
	c.mu.Unlock()
	c.slept <- until
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.sleepers, wake)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// next moves the clock to the earliest deadline of the sleepers and wakes
// those it reached; it returns how many.
func (c *fakeClock) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, until := range c.sleepers {
		if first.IsZero() || until.Before(first) {
			first = until
		}
	}
	c.t = first
	n := 0
	for wake, until := range c.sleepers {
		if !until.After(first) {
			close(wake)
			delete(c.sleepers, wake)
			n++
		}
	}
	return n
}

// TestThrottleHoldsAttemptsWaitingForTheirSlot queues three attempts on the
// rate limiter (1 a second), then a 429 says Retry-After 10 s: none of the
// three goes on the wire before the 10 s have passed. (They went out at 1, 2
// and 3 s: the hold was checked before the limiter's wait, not after.)
func TestThrottleHoldsAttemptsWaitingForTheirSlot(t *testing.T) {
	t.Parallel()
	start := time.Unix(1e9, 0)
	c := newFakeClock(start)
	p := New(Options{Rate: 1, Backoff: 100 * time.Millisecond, Now: c.now})
	p.sleep = c.sleep
	ctx := context.Background()
	if err := p.Wait(ctx); err != nil { // the attempt that will meet the 429
		t.Fatal(err)
	}
	const queued = 3
	sent := make(chan time.Time, queued)
	for range queued {
		go func() {
			if err := p.Wait(ctx); err != nil {
				t.Error(err)
			}
			sent <- c.now()
		}()
	}
	for range queued {
		<-c.slept // each waits for its slot: 1, 2 and 3 s on
	}
	const retryAfter = 10 * time.Second
	p.Throttled(retryAfter)

	// Every attempt not yet sent is asleep: wake the earliest, until all are sent.
	asleep := queued
	var at []time.Time
	for len(at) < queued {
		if asleep == queued-len(at) {
			asleep -= c.next()
		}
		select {
		case when := <-sent:
			at = append(at, when)
		case <-c.slept:
			asleep++
		}
	}
	for i, when := range at {
		if when.Before(start.Add(retryAfter)) {
			t.Errorf("attempt %d went out %s after the 429, inside its Retry-After of %s", i+1, when.Sub(start), retryAfter)
		}
	}
}
