package batch

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer owns the pace of a run: one rate limiter that every HTTP attempt waits on,
// and one backoff state that every worker consults, so that a 429 slows the whole
// run rather than one worker. It also lowers the rate after a 429 and raises it
// back towards the configured rate as calls succeed.
type pacer struct {
	limiter *rate.Limiter
	target  rate.Limit

	mu    sync.Mutex
	until time.Time // no attempt starts before this
	now   func() time.Time
	rng   *rand.Rand
}

const (
	backoffBase   = 250 * time.Millisecond
	backoffMax    = 30 * time.Second
	retryAfterMax = 2 * time.Minute
)

func newPacer(perSecond float64, now func() time.Time) *pacer {
	lim := rate.Inf
	if perSecond > 0 {
		lim = rate.Limit(perSecond)
	}
	return &pacer{
		limiter: rate.NewLimiter(lim, 1),
		target:  lim,
		now:     now,
		rng:     rand.New(rand.NewPCG(uint64(now().UnixNano()), 0x9e3779b97f4a7c15)),
	}
}

// Wait blocks until the shared backoff has passed and the limiter grants a slot.
// It is the crm.Config.Wait of the run's client, so logins and replays are paced too.
func (p *pacer) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := p.until.Sub(p.now())
		p.mu.Unlock()
		if d <= 0 {
			break
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return p.limiter.Wait(ctx)
}

// backoff records a transient failure of the given attempt (1-based): every worker
// waits until the backoff has passed. A server's Retry-After is honoured (capped).
func (p *pacer) backoff(attempt int, retryAfter time.Duration, throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := backoffBase << min(attempt-1, 16)
	if d > backoffMax {
		d = backoffMax
	}
	d = time.Duration(p.rng.Int64N(int64(d)) + 1) // full jitter
	if retryAfter > 0 {
		d = max(d, min(retryAfter, retryAfterMax))
	}
	if t := p.now().Add(d); t.After(p.until) {
		p.until = t
	}
	if throttled && p.target != rate.Inf {
		// The server says we are too fast: slow down for everyone.
		cur := p.limiter.Limit()
		p.limiter.SetLimit(max(cur*0.8, p.target/20))
	}
}

// succeeded lets the rate climb back towards the configured one after a 429.
func (p *pacer) succeeded() {
	if p.target == rate.Inf {
		return
	}
	cur := p.limiter.Limit()
	if cur < p.target {
		p.limiter.SetLimit(min(p.target, cur+p.target/100))
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
