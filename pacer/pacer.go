// Package pacer owns how a run's calls are made: one rate limiter and one
// backoff state that every call consults, so that a 429 met by one worker
// slows the whole run and no attempt is sent while the server asks to wait,
// and one entry, Call, that decides after each attempt what to do (the
// decision table: back off, hold for a 429, read back a lost answer, give up,
// stop the run) within the run's attempts. It is its own package so that
// this policy has one owner, passed in, never a global, and one place where
// it is tested.
package pacer

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer owns the pace of a run: one rate limiter that every HTTP attempt waits on,
// and one throttling state that every worker consults, so that a 429 slows the
// whole run rather than one worker. It also lowers the rate after a 429 and
// raises it back slowly towards the configured rate. Other transient failures
// (5xx, timeouts) back off only the call that met them.
type Pacer struct {
	limiter *rate.Limiter
	target  rate.Limit
	// ceiling is how high the rate climbs back after 429s: a little under the
	// rate at which the server last said 429, raised slowly after a quiet spell
	// so that a server whose limit went up is found again.
	ceiling rate.Limit

	mu    sync.Mutex
	until time.Time // no attempt starts before this
	base  time.Duration

	lastThrottle time.Time
	lastRaise    time.Time
	lastProbe    time.Time

	stop  <-chan struct{} // closed when the run stops: no new attempt starts
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error // waits d of now's time
	rng   *rand.Rand

	maxAttempts int           // attempts per call, the first included
	maxWait     time.Duration // the longest Retry-After waited out; 0 = no bound
	fatal       func(error)   // told when the run must stop
	watch       Watcher
}

// Options make the pacer of a run.
type Options struct {
	Rate     float64       // attempts a second, every attempt and login included; 0 = no limit
	Backoff  time.Duration // base of the exponential backoff; 0 = 250ms
	Attempts int           // attempts per call, the first included; 429s cost none (0 = 1)
	// MaxWait is the longest Retry-After waited out: a longer one stops the
	// run (0 = no bound).
	MaxWait time.Duration
	Now     func() time.Time
	Stop    <-chan struct{} // closed when the run stops: no new attempt starts
	// Fatal is told when the run must stop: credentials refused, the
	// endpoint unreachable, a wait longer than MaxWait (nil = none).
	Fatal func(error)
	Watch Watcher // nil = none
}

const (
	backoffBase   = 250 * time.Millisecond
	backoffMax    = 30 * time.Second
	retryAfterMax = 2 * time.Minute
	raiseEvery    = 2 * time.Second
	probeEvery    = 30 * time.Second // a quiet spell after which the ceiling rises
)

// ErrStopped is what Wait returns once the run stops: the attempt is not sent.
var ErrStopped = errors.New("the run stopped")

// New returns the pacer of a run.
func New(o Options) *Pacer {
	base := o.Backoff
	if base <= 0 {
		base = backoffBase
	}
	lim := rate.Inf
	if o.Rate > 0 {
		lim = rate.Limit(o.Rate)
	}
	p := &Pacer{
		limiter:     rate.NewLimiter(lim, 1),
		target:      lim,
		ceiling:     lim,
		base:        base,
		stop:        o.Stop,
		now:         o.Now,
		sleep:       Sleep,
		rng:         rand.New(rand.NewPCG(uint64(o.Now().UnixNano()), 0x9e3779b97f4a7c15)),
		maxAttempts: max(o.Attempts, 1),
		maxWait:     o.MaxWait,
		fatal:       o.Fatal,
		watch:       o.Watch,
	}
	if p.fatal == nil {
		p.fatal = func(error) {}
	}
	if p.watch == nil {
		p.watch = unwatched{}
	}
	return p
}

// unwatched is the Watcher of a pacer told of nothing.
type unwatched struct{}

func (unwatched) Attempted(context.Context, int, time.Duration, error) {}
func (unwatched) Retried()                                             {}
func (unwatched) Throttled()                                           {}

// Wait blocks until the shared backoff has passed and the limiter grants a slot,
// with no backoff begun meanwhile: a 429 holds every attempt not yet on the
// wire, those already waiting for their slot too. It is the crm.Config.Wait of
// the run's client, so logins and replays are paced too. Calls run on a
// context that outlives the run's (so that an answer on its way is not thrown
// away); Wait is where a stopping run keeps new attempts from starting, with
// ErrStopped.
func (p *Pacer) Wait(ctx context.Context) error {
	select {
	case <-p.stop:
		return ErrStopped
	default:
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-p.stop:
			cancel(ErrStopped)
		case <-ctx.Done():
		}
	}()
	for {
		for {
			p.mu.Lock()
			d := p.until.Sub(p.now())
			p.mu.Unlock()
			if d <= 0 {
				break
			}
			if err := p.sleep(ctx, d); err != nil {
				return context.Cause(ctx)
			}
		}
		now := p.now()
		slot := p.limiter.ReserveN(now, 1)
		if d := slot.DelayFrom(now); d > 0 {
			if err := p.sleep(ctx, d); err != nil {
				slot.CancelAt(p.now())
				return context.Cause(ctx)
			}
		}
		p.mu.Lock()
		held := p.until.After(p.now())
		p.mu.Unlock()
		if !held {
			return nil
		}
		// A 429 came while this attempt waited for its slot: it waits out
		// the hold, then for a slot at the rate the 429 lowered.
	}
}

// Backoff returns how long to wait before attempt+1 of a call that failed
// transiently: exponential with full jitter, or the server's Retry-After when
// longer (capped).
func (p *Pacer) Backoff(attempt int, retryAfter time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.base << min(attempt-1, 16)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	d = time.Duration(p.rng.Int64N(int64(d)) + 1) // full jitter
	if retryAfter > 0 {
		d = max(d, min(retryAfter, retryAfterMax))
	}
	return d
}

// Throttled records an HTTP 429: every worker waits until the server's
// Retry-After has passed, and the rate is cut by a fifth, once per throttling
// episode (the 429s that several workers get at once count as one).
func (p *Pacer) Throttled(wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.target != rate.Inf && !now.Before(p.until) {
		cur := p.limiter.Limit()
		p.ceiling = min(p.ceiling, cur*0.95)
		p.limiter.SetLimitAt(now, max(cur*0.8, p.target/20))
	}
	if t := now.Add(wait); t.After(p.until) {
		p.until = t
	}
	p.lastThrottle = now
}

// Succeeded lets the rate climb back after a 429: by 5% every 2 s without a
// 429, up to the ceiling (a little under the rate that met the 429), so that it
// stays just under the server's limit rather than hitting it again and again.
// After 30 s without a 429 the ceiling rises by 5% (never above the configured
// rate), to find a limit that went up.
func (p *Pacer) Succeeded() {
	if p.target == rate.Inf {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	cur := p.limiter.Limit()
	if p.ceiling < p.target && now.Sub(p.lastThrottle) >= probeEvery && now.Sub(p.lastProbe) >= probeEvery {
		p.ceiling = min(p.target, p.ceiling*1.05)
		p.lastProbe = now
	}
	if cur >= p.ceiling || now.Sub(p.lastThrottle) < raiseEvery || now.Sub(p.lastRaise) < raiseEvery {
		return
	}
	p.limiter.SetLimitAt(now, min(p.ceiling, cur*1.05))
	p.lastRaise = now
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Now is the pacer's time: the run's clock.
func (p *Pacer) Now() time.Time { return p.now() }
