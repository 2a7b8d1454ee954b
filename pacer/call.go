package pacer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crmbatch/crmbatch/crm"
)

// Attempt is one logical call as Call makes it: Send sends it once and returns
// the server's answer (a *crm.Error when it was not OK).
type Attempt struct {
	Send func(ctx context.Context) error
	// ReadBack finds out whether a call that may have been applied was:
	// applied true when it was, false when it certainly was not (then it is
	// sent again). nil means the call is idempotent: it is simply sent again,
	// and its outcome stays unknown until an attempt is answered.
	ReadBack func(ctx context.Context) (applied bool, err error)
	// Strict says the call is not idempotent: an HTTP 5xx counts as a lost
	// answer, since a proxy's 502 or 504 may hide a call that was applied.
	Strict bool
	// Again sends once more a call whose answer was lost: one attempt,
	// counted as a retry, its error returned as it is.
	Again bool
}

// Watcher is told what Call does: each attempt as it ends (err is ErrStopped,
// or wraps it, when the run stopped before the attempt went out), each retry
// before it is sent, and each 429.
type Watcher interface {
	Attempted(ctx context.Context, attempt int, elapsed time.Duration, err error)
	Retried()
	Throttled()
}

// step is what Call does after a failed attempt.
type step int

const (
	giveUp   step = iota // the answer is final: the call failed
	throttle             // HTTP 429: wait as the server says, costing no attempt
	backOff              // not applied: wait, then send again
	readBack             // may have been applied: find out before sending again
	stopRun              // credentials refused, or no Web API there: the run cannot go on
)

// decide is the decision table: what a failed attempt's answer calls for,
// like rclone's shouldRetry. crm tells what happened on the wire (the
// class: not applied, answer lost, refused, ...); what to do about it is
// decided here alone.
func decide(ce *crm.Error, strict bool) step {
	switch {
	case ce.Class == crm.Transient && ce.HTTPStatus == http.StatusTooManyRequests:
		return throttle
	case ce.Class == crm.Transient && strict && ce.HTTPStatus >= 500:
		return readBack
	case ce.Class == crm.Transient:
		return backOff
	case ce.Class == crm.Ambiguous:
		return readBack
	case ce.Class == crm.Auth, ce.Class == crm.Endpoint:
		return stopRun
	}
	return giveUp
}

// WaitError stops a run whose server asked for a longer wait (Retry-After)
// than --max-wait allows.
type WaitError struct {
	Wait, Max time.Duration
	Until     time.Time
	Err       error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("the server asked to wait %s before the next call (Retry-After), longer than --max-wait %s: come back after %s (%v)",
		e.Wait.Round(time.Second), e.Max, e.Until.Local().Format(time.DateTime), e.Err)
}

// Hint says what to do about the wait.
func (e *WaitError) Hint() string {
	return "run the same command again after then (rows done are skipped), or give a longer --max-wait to wait it out"
}

func (e *WaitError) Unwrap() error { return e.Err }

// UnknownError is the end of a call that may have been applied, when nothing
// proved whether it was.
type UnknownError struct{ Err error }

func (e *UnknownError) Error() string {
	return "the call may have been applied and nothing could prove it either way (" + e.Err.Error() +
		"); check it in CRM.COM, or run the same file again to read it back"
}
func (e *UnknownError) Unwrap() error { return e.Err }

// UnknownOutcome wraps err as an unknown outcome when an earlier attempt may
// have been applied: a later attempt's error never erases that.
func UnknownOutcome(uncertain bool, err error) error {
	var ue *UnknownError
	if !uncertain || err == nil || errors.As(err, &ue) {
		return err
	}
	return &UnknownError{Err: err}
}

// stopped is err as the end of a call when the run stops: ErrStopped, with
// why.
func stopped(err error) error { return fmt.Errorf("%w: %w", ErrStopped, err) }

// Call makes one logical call and returns the number of attempts sent and the
// final error. Every attempt waits for its turn (the client's Wait is the
// pacer's), 429s hold the whole run and cost time, never an attempt of the
// budget (Options.Attempts); transient failures back off; an attempt that may
// have been applied is read back with a.ReadBack (or, for an idempotent call,
// sent again) and, until an answer proves otherwise, makes the outcome
// unknown (*UnknownError): a later attempt's error never erases it. When the
// run must stop (credentials refused, the endpoint unreachable, a wait longer
// than Options.MaxWait), Options.Fatal is told, and a call that surely
// applied nothing ends in ErrStopped, so that its rows are not recorded and a
// resume sends them.
func (p *Pacer) Call(ctx context.Context, a Attempt) (int, error) {
	if a.Again {
		return 1, p.again(ctx, a)
	}
	c := call{Pacer: p, a: a}
	for {
		if ctx.Err() != nil {
			// Stopping: no new attempt starts.
			return c.attempts, UnknownOutcome(c.uncertain, stopped(ctx.Err()))
		}
		err := c.try(ctx)
		if errors.Is(err, ErrStopped) {
			// The run stopped while this attempt waited its turn: it was never sent.
			return c.attempts - 1, UnknownOutcome(c.uncertain, err)
		}
		if err == nil {
			p.Succeeded()
			return c.attempts, nil
		}
		if done, err := c.after(ctx, err); done {
			return c.attempts, err
		}
	}
}

// again is Call of an Attempt sent once more.
func (p *Pacer) again(ctx context.Context, a Attempt) error {
	p.watch.Retried()
	began := time.Now()
	err := a.Send(context.WithoutCancel(ctx))
	p.watch.Attempted(ctx, 1, time.Since(began), err)
	return err
}

// call is one Call under way: its attempts, those that cost the budget, and
// whether one may have been applied.
type call struct {
	*Pacer
	a         Attempt
	attempts  int
	budget    int
	uncertain bool
}

// try sends one attempt. An attempt in flight is let finish (or time out)
// even when the run stops, so that what it did is known and recorded.
func (c *call) try(ctx context.Context) error {
	c.attempts++
	if c.attempts > 1 {
		c.watch.Retried()
	}
	began := time.Now()
	err := c.a.Send(context.WithoutCancel(ctx))
	c.watch.Attempted(ctx, c.attempts, time.Since(began), err)
	return err
}

// after decides what a failed attempt calls for: done with the call's final
// error, or not done when the next attempt is to be sent (after its wait).
func (c *call) after(ctx context.Context, err error) (done bool, _ error) {
	var ce *crm.Error
	if !errors.As(err, &ce) {
		return true, UnknownOutcome(c.uncertain, err)
	}
	next := decide(ce, c.a.Strict)
	if (next == throttle || next == backOff) && c.maxWait > 0 && ce.RetryAfter > c.maxWait {
		// The server asks for a longer wait than the user allows: stop,
		// saying when to come back, rather than hold the run silently.
		werr := &WaitError{Wait: ce.RetryAfter, Max: c.maxWait, Until: c.now().Add(ce.RetryAfter), Err: ce}
		c.fatal(werr)
		return true, UnknownOutcome(c.uncertain, stopped(werr))
	}
	if next != throttle {
		c.budget++
	}
	switch next {
	case giveUp:
		return true, UnknownOutcome(c.uncertain, err)
	case stopRun:
		c.fatal(err)
		return true, UnknownOutcome(c.uncertain, stopped(err))
	case throttle:
		c.watch.Throttled()
		c.Throttled(c.Backoff(c.budget+1, ce.RetryAfter))
		return false, nil // the next attempt waits in the client's Wait, the pacer's
	case readBack:
		if done, err := c.readBack(ctx, err); done {
			return true, err
		}
	}
	if c.budget >= c.maxAttempts {
		if ce.HTTPStatus == 0 && !c.uncertain && next == backOff {
			// Not a single answer from the server: the endpoint is unreachable.
			c.fatal(err)
			return true, stopped(err)
		}
		return true, UnknownOutcome(c.uncertain, err)
	}
	if err := c.sleep(ctx, c.Backoff(c.budget, ce.RetryAfter)); err != nil {
		return true, UnknownOutcome(c.uncertain, stopped(err))
	}
	return false, nil
}

// readBack handles an attempt whose answer was lost (err): the call is read
// back, and done when that tells (applied) or fails (unknown); an idempotent
// call is sent again instead, its outcome unknown until an attempt is
// answered. A call is read back even after its last attempt: a row applied is
// never reported failed (its failures-report rerun would apply it again).
func (c *call) readBack(ctx context.Context, err error) (done bool, _ error) {
	if c.a.ReadBack == nil {
		c.uncertain = true
		return false, nil
	}
	applied, rerr := c.a.ReadBack(ctx)
	switch {
	case rerr != nil:
		if cl := crm.ClassOf(rerr); cl == crm.Auth || cl == crm.Endpoint {
			// No later call can succeed either: stop the run.
			c.fatal(rerr)
		}
		return true, &UnknownError{Err: fmt.Errorf("%w; reading it back failed: %w", err, rerr)}
	case applied:
		return true, nil
	}
	c.uncertain = false // read back: not applied
	return false, nil
}
