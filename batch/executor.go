package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmbatch/crmbatch/crm"
)

// executor makes the calls of a run: it owns the client, the pacer and the retry
// policy shared by every worker, and counts calls and retries.
type executor struct {
	client  *crm.Client
	pace    *pacer
	retries int                      // attempts per call, the first included
	runID   string                   // the same when a stopped run is resumed: keys what must not be applied twice
	intend  func(items []Item) error // records durably that items are about to be sent

	calls     atomic.Int64
	retried   atomic.Int64
	throttled atomic.Int64 // answers HTTP 429

	log *slog.Logger

	fatalOnce sync.Once
	fatal     error // set once: the run must stop
	stop      context.CancelFunc
}

// ambiguity says what to do when a call may have been applied.
type ambiguity func(ctx context.Context) (applied bool, err error)

// resendAmbiguous is the policy of idempotent calls: resending applies nothing twice.
func resendAmbiguous(context.Context) (bool, error) { return false, nil }

// FatalError stops a run: authentication refused, the endpoint unreachable after
// every retry, or an interruption. What was done is journaled; a re-run resumes.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "the run could not finish: " + e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

func (x *executor) fail(err error) {
	x.fatalOnce.Do(func() {
		x.fatal = &FatalError{Err: err}
		if x.stop != nil {
			x.stop()
		}
	})
}

// retry makes one logical call: it repeats transient failures with backoff,
// resolves ambiguous ones with onAmbiguous (read back, or resend when the call is
// idempotent), and returns the number of attempts that reached the server and the
// final error. For a call that is not idempotent (strict), an HTTP 5xx counts as
// ambiguous too: a proxy's 502 or 504 may hide a call that was applied.
func (x *executor) retry(ctx context.Context, call func(context.Context) error, onAmbiguous ambiguity, strict bool) (int, error) {
	attempt := 0
	for {
		if ctx.Err() != nil {
			// Stopping: no new attempt starts. An earlier ambiguous attempt stays
			// unresolved and is reported as such; a call never sent is not reported.
			return attempt, ctx.Err()
		}
		attempt++
		if attempt > 1 {
			x.retried.Add(1)
		}
		x.calls.Add(1)
		// A call in flight is let finish (or time out) even when the run stops,
		// so that what it did is known and recorded.
		began := time.Now()
		err := call(context.WithoutCancel(ctx))
		x.logAttempt(ctx, attempt, time.Since(began), err)
		if errors.Is(err, errStopped) {
			// The run stopped while this attempt waited its turn: it was never sent.
			return attempt - 1, ctx.Err()
		}
		if err == nil {
			x.pace.succeeded()
			return attempt, nil
		}
		var ce *crm.Error
		if !errors.As(err, &ce) {
			return attempt, err
		}
		class := ce.Class
		if strict && class == crm.Transient && ce.HTTPStatus >= 500 {
			class = crm.Ambiguous
		}
		switch class {
		case crm.Transient:
			d := x.pace.backoff(attempt, ce.RetryAfter)
			if ce.HTTPStatus == 429 {
				x.throttled.Add(1)
				x.pace.throttled(d)
			} else if attempt < x.retries {
				if err := sleep(ctx, d); err != nil {
					return attempt, err
				}
			}
		case crm.Ambiguous:
			// Resolved even after the last attempt: a row applied is never
			// reported failed (its failures-report rerun would apply it again).
			applied, rerr := onAmbiguous(ctx)
			if rerr != nil {
				return attempt, fmt.Errorf("the call may have been applied and reading it back failed: %w", rerr)
			}
			if applied {
				return attempt, nil
			}
			if attempt >= x.retries {
				return attempt, err
			}
			continue
		case crm.Auth, crm.Endpoint:
			x.fail(err)
			return attempt, err
		default:
			return attempt, err
		}
		if attempt >= x.retries {
			if ce.HTTPStatus == 0 {
				// Not a single answer from the server: the endpoint is unreachable.
				x.fail(err)
			}
			return attempt, err
		}
		// The next attempt also waits in the client's Wait, which is the pacer's.
	}
}

// send makes the call of a chunk. When a call of several rows is refused as a
// whole with a non-OK answer, one bad row may have spoiled it: the rows are split
// in halves and each half is sent again, down to the rows at fault, so that the
// good rows do not fail with them. When both halves are refused with the very
// same answer, the refusal is about the call (an unknown group, say), not a row:
// every row fails without more calls.
func (x *executor) send(ctx context.Context, k *Kind, items []Item) []result {
	res, attempts, err := k.call(withChunk(ctx, items), x, items)
	if err == nil {
		return res
	}
	return x.isolate(ctx, k, items, attempts, err)
}

func (x *executor) isolate(ctx context.Context, k *Kind, items []Item, attempts int, err error) []result {
	if len(items) < 2 || !refusedWhole(err) || ctx.Err() != nil {
		return failAll(items, attempts, err)
	}
	halves := [2][]Item{items[:len(items)/2], items[len(items)/2:]}
	var (
		res  [2][]result
		n    [2]int
		errs [2]error
	)
	for i, h := range halves {
		res[i], n[i], errs[i] = k.call(withChunk(ctx, h), x, h)
	}
	if sameRefusal(errs[0], err) && sameRefusal(errs[1], err) {
		return failAll(items, attempts+max(n[0], n[1]), err)
	}
	var out []result
	for i, h := range halves {
		r := res[i]
		if errs[i] != nil {
			r = x.isolate(ctx, k, h, n[i], errs[i])
		}
		for j := range r {
			r[j].Attempts += attempts
		}
		out = append(out, r...)
	}
	return out
}

// failAll gives every row the failure of their call.
func failAll(items []Item, attempts int, err error) []result {
	r := failedResult(err)
	r.Attempts = attempts
	out := make([]result, len(items))
	for i := range out {
		out[i] = r
	}
	return out
}

// refusedWhole reports whether err is a non-OK answer refusing a whole call
// for something one of its rows may cause. A refused transaction reference is
// about the call itself: split halves would carry new references and apply.
func refusedWhole(err error) bool {
	var ce *crm.Error
	return errors.As(err, &ce) && ce.Class == crm.Permanent && ce.Code != "" && ce.Code != duplicateReference
}

func sameRefusal(a, b error) bool {
	var ca, cb *crm.Error
	return errors.As(a, &ca) && errors.As(b, &cb) && ca.Code == cb.Code && ca.Message == cb.Message
}

type chunkKey struct{}

// withChunk names the rows a call carries, for the log lines of its attempts.
func withChunk(ctx context.Context, items []Item) context.Context {
	if len(items) == 0 {
		return ctx
	}
	first, last := items[0].Row, items[len(items)-1].Row
	name := fmt.Sprintf("%s rows %d-%d (%d)", items[0].Action, first, last, len(items))
	if len(items) == 1 {
		name = fmt.Sprintf("%s row %d", items[0].Action, first)
	}
	return context.WithValue(ctx, chunkKey{}, name)
}

// logAttempt logs one attempt: at Debug when it worked, at Warn when it did not,
// with the fields a scheduler's log search needs. elapsed_ms counts the wait for
// the rate limiter too; CRMBATCH_DEBUG=1 logs each HTTP exchange's own latency.
func (x *executor) logAttempt(ctx context.Context, attempt int, latency time.Duration, err error) {
	if x.log == nil || errors.Is(err, errStopped) {
		return
	}
	chunk, _ := ctx.Value(chunkKey{}).(string)
	attrs := []any{"run_id", x.runID, "chunk", chunk, "attempt", attempt, "elapsed_ms", latency.Milliseconds()}
	if err == nil {
		x.log.DebugContext(ctx, "call ok", attrs...)
		return
	}
	var ce *crm.Error
	if errors.As(err, &ce) {
		attrs = append(attrs, "method", ce.Method, "http_status", ce.HTTPStatus, "error_class", ce.Class.String(), "error_code", ce.Code)
	}
	x.log.WarnContext(ctx, "call failed", append(attrs, "error", err.Error())...)
}
