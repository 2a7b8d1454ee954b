package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/pacer"
)

// executor makes the calls of a run: it owns the client, the pacer and the retry
// policy shared by every worker, and counts calls and retries.
type executor struct {
	client   *crm.Client
	pace     *pacer.Pacer
	attempts int           // per call, the first included
	maxWait  time.Duration // the longest Retry-After waited out; a longer one stops the run
	runID    string        // the same when a stopped run is resumed
	// intend records durably that items are about to be sent, with a note
	// (see Item.Note), and returns the call's transaction reference.
	intend func(items []kind.Item, note string) (string, error)
	// claim claims the entities of items that must not be done twice across
	// runs and returns the results of the rows it could not claim (nil = the
	// kind has no such entities).
	claim func(ctx context.Context, items []kind.Item) (map[int]kind.Result, error)

	// memory is what the run knows of the server between calls.
	memory kind.Memory
	// readBefore reads a customer's subscription before its row when the run
	// does not know it (--read-before): every lost answer can then be judged.
	readBefore bool

	calls     atomic.Int64
	retried   atomic.Int64
	throttled atomic.Int64 // answers HTTP 429

	log      *slog.Logger
	progress Progress // told of retries and 429s

	fatalOnce sync.Once
	fatal     error // set once: the run must stop
	stop      context.CancelFunc
}

// waitError stops a run whose server asked for a longer wait (Retry-After)
// than --max-wait allows.
type waitError struct {
	wait, max time.Duration
	until     time.Time
	err       error
}

func (e *waitError) Error() string {
	return fmt.Sprintf("the server asked to wait %s before the next call (Retry-After), longer than --max-wait %s: come back after %s (%v)"+
		"\nhint: run the same command again after then (rows done are skipped), or give a longer --max-wait to wait it out",
		e.wait.Round(time.Second), e.max, e.until.Local().Format(time.DateTime), e.err)
}

func (e *waitError) Unwrap() error { return e.err }

func (x *executor) fail(err error) {
	x.fatalOnce.Do(func() {
		x.fatal = &fault.FatalError{Err: err}
		if x.stop != nil {
			x.stop()
		}
	})
}

// step is what the retry loop does after a failed attempt.
type step int

const (
	giveUp   step = iota // the answer is final: the call failed
	throttle             // HTTP 429: wait as the server says, costing no attempt
	backOff              // not applied: wait, then send again
	readBack             // may have been applied: find out before sending again
	stopRun              // credentials refused: the run cannot go on
)

// decide classifies a failed attempt, like rclone's shouldRetry. For a call that
// is not idempotent (strict), an HTTP 5xx counts as ambiguous: a proxy's 502 or
// 504 may hide a call that was applied.
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

// Retry makes one logical call and returns the number of attempts sent and the
// final error. 429s cost time, never an attempt of the budget (x.attempts);
// transient failures back off; an attempt that may have been applied is read
// back with onAmbiguous (or, for an idempotent call, sent again) and, until an
// answer proves otherwise, makes the outcome unknown: a later attempt's error
// never erases it. When the run must stop (credentials refused, the endpoint
// unreachable), a call that surely applied nothing ends in pacer.ErrStopped, so that
// its rows are not recorded and a resume sends them.
func (x *executor) Retry(ctx context.Context, call func(context.Context) error, onAmbiguous kind.Ambiguity, strict bool) (int, error) {
	attempts, budget := 0, 0
	uncertain := false
	for {
		if ctx.Err() != nil {
			// Stopping: no new attempt starts.
			return attempts, kind.UnknownOutcome(uncertain, fmt.Errorf("%w: %w", pacer.ErrStopped, ctx.Err()))
		}
		attempts++
		if attempts > 1 {
			x.retried.Add(1)
			x.progress.Retried()
		}
		x.calls.Add(1)
		// A call in flight is let finish (or time out) even when the run stops,
		// so that what it did is known and recorded.
		began := time.Now()
		err := call(context.WithoutCancel(ctx))
		x.logAttempt(ctx, attempts, time.Since(began), err)
		if errors.Is(err, pacer.ErrStopped) {
			// The run stopped while this attempt waited its turn: it was never sent.
			x.calls.Add(-1)
			return attempts - 1, kind.UnknownOutcome(uncertain, err)
		}
		if err == nil {
			x.pace.Succeeded()
			return attempts, nil
		}
		var ce *crm.Error
		if !errors.As(err, &ce) {
			return attempts, kind.UnknownOutcome(uncertain, err)
		}
		next := decide(ce, strict)
		if (next == throttle || next == backOff) && x.maxWait > 0 && ce.RetryAfter > x.maxWait {
			// The server asks for a longer wait than the user allows: stop,
			// saying when to come back, rather than hold the run silently.
			werr := &waitError{wait: ce.RetryAfter, max: x.maxWait, until: x.pace.Now().Add(ce.RetryAfter), err: ce}
			x.fail(werr)
			return attempts, kind.UnknownOutcome(uncertain, fmt.Errorf("%w: %w", pacer.ErrStopped, werr))
		}
		if next != throttle {
			budget++
		}
		switch next {
		case giveUp:
			return attempts, kind.UnknownOutcome(uncertain, err)
		case stopRun:
			x.fail(err)
			return attempts, kind.UnknownOutcome(uncertain, fmt.Errorf("%w: %w", pacer.ErrStopped, err))
		case throttle:
			x.throttled.Add(1)
			x.progress.Throttled()
			x.pace.Throttled(x.pace.Backoff(budget+1, ce.RetryAfter))
			continue // the next attempt waits in the client's Wait, the pacer's
		case readBack:
			if onAmbiguous == nil {
				uncertain = true // idempotent: the resend tells
				break
			}
			// Read back even after the last attempt: a row applied is never
			// reported failed (its failures-report rerun would apply it again).
			applied, rerr := onAmbiguous(ctx)
			switch {
			case rerr != nil:
				return attempts, &kind.UnknownError{Err: fmt.Errorf("%w; reading it back failed: %w", err, rerr)}
			case applied:
				return attempts, nil
			}
			uncertain = false // read back: not applied
		}
		if budget >= x.attempts {
			if ce.HTTPStatus == 0 && !uncertain && next == backOff {
				// Not a single answer from the server: the endpoint is unreachable.
				x.fail(err)
				return attempts, fmt.Errorf("%w: %w", pacer.ErrStopped, err)
			}
			return attempts, kind.UnknownOutcome(uncertain, err)
		}
		if err := pacer.Sleep(ctx, x.pace.Backoff(budget, ce.RetryAfter)); err != nil {
			return attempts, kind.UnknownOutcome(uncertain, fmt.Errorf("%w: %w", pacer.ErrStopped, err))
		}
	}
}

// send makes the call of a chunk. When a call of several rows is refused as a
// whole with a non-OK answer, one bad row may have spoiled it: the rows are split
// in halves and sent again, down to the row at fault, so that the good rows do
// not fail with it. When the first half is accepted, the second holds the row at
// fault: it is not sent whole but split at once (a single row fails with the
// refusal). When both halves are refused, the refusal is about the call or
// about rows in both halves: every row fails with the answer its half got,
// without more calls (3 calls when every row is refused, at most 2·log2(n)+1
// for one bad row).
func (x *executor) send(ctx context.Context, k *kind.Kind, items []kind.Item) []kind.Result {
	if x.claim == nil {
		res, attempts, err := x.call(ctx, k, items)
		if err == nil {
			return res
		}
		return x.isolate(ctx, k, items, attempts, err)
	}
	held, err := x.claim(ctx, items)
	if err != nil {
		x.fail(err)
		return make([]kind.Result, len(items)) // not sent
	}
	var free []kind.Item
	for i, it := range items {
		if _, ok := held[i]; !ok {
			free = append(free, it)
		}
	}
	var res []kind.Result
	if len(free) > 0 {
		r, attempts, err := x.call(ctx, k, free)
		if err != nil {
			r = x.isolate(ctx, k, free, attempts, err)
		}
		res = r
	}
	out := make([]kind.Result, len(items))
	for i := range items {
		if r, ok := held[i]; ok {
			out[i] = r
			continue
		}
		out[i], res = res[0], res[1:]
	}
	return out
}

// intent is the intent of one call: recorded once, by begin, before its first send.
type intent struct {
	items    []kind.Item
	ref      string
	recorded bool
}

type intentKey struct{}

// call makes one call of k with items, under an intent of its own.
func (x *executor) call(ctx context.Context, k *kind.Kind, items []kind.Item) ([]kind.Result, int, error) {
	ctx = context.WithValue(withChunk(ctx, items), intentKey{}, &intent{items: items})
	return k.Call(ctx, x, items)
}

// Begin records the intent of the call in ctx, once, before it is first sent,
// and returns its transaction reference. A kind's call calls it first.
func (x *executor) Begin(ctx context.Context, note string) (string, error) {
	in, _ := ctx.Value(intentKey{}).(*intent)
	if in == nil {
		return "", errors.New("a call without an intent")
	}
	if in.recorded {
		return in.ref, nil
	}
	if x.intend == nil {
		in.recorded = true
		return note, nil
	}
	ref, err := x.intend(in.items, note)
	if err != nil {
		x.fail(err)
		return "", fmt.Errorf("%w: %w", pacer.ErrStopped, err)
	}
	in.ref, in.recorded = ref, true
	return ref, nil
}

func (x *executor) isolate(ctx context.Context, k *kind.Kind, items []kind.Item, attempts int, err error) []kind.Result {
	return x.split(ctx, k, items, attempts, err, false)
}

// split is isolate of items whose call ended in err; inferred says that err
// was not the answer to items alone but to a call that carried them with
// rows since proven good: then a single row is sent alone rather than blamed
// (a row is failed for a refusal only once it was refused on its own or with
// a half that was refused).
func (x *executor) split(ctx context.Context, k *kind.Kind, items []kind.Item, attempts int, err error, inferred bool) []kind.Result {
	if inferred && len(items) == 1 {
		if ctx.Err() != nil {
			return make([]kind.Result, 1) // never sent alone: not recorded, a resume sends it
		}
		res, n, err := x.call(ctx, k, items)
		if err != nil {
			return failAll(items, attempts+n, err)
		}
		for j := range res {
			res[j].Attempts += attempts
		}
		return res
	}
	if len(items) < 2 || !refusedWhole(err) || ctx.Err() != nil {
		if inferred && refusedWhole(err) {
			return make([]kind.Result, len(items)) // stopping before they were sent apart
		}
		return failAll(items, attempts, err)
	}
	halves := [2][]kind.Item{items[:len(items)/2], items[len(items)/2:]}
	var (
		res       [2][]kind.Result
		n         [2]int
		errs      [2]error
		inferred2 [2]bool
	)
	res[0], n[0], errs[0] = x.call(ctx, k, halves[0])
	if errs[0] == nil {
		errs[1], inferred2[1] = err, true // the second half holds the row at fault: not sent whole
	} else {
		res[1], n[1], errs[1] = x.call(ctx, k, halves[1])
	}
	bothRefused := refusedWhole(errs[0]) && refusedWhole(errs[1]) && !inferred2[1]
	var out []kind.Result
	for i, h := range halves {
		r := res[i]
		switch {
		case errs[i] == nil:
		case bothRefused:
			r = failAll(h, n[i], errs[i])
		default:
			r = x.split(ctx, k, h, n[i], errs[i], inferred2[i])
		}
		for j := range r {
			r[j].Attempts += attempts
		}
		out = append(out, r...)
	}
	return out
}

// failAll gives every row the failure of their call.
func failAll(items []kind.Item, attempts int, err error) []kind.Result {
	r := kind.FailedResult(err)
	r.Attempts = attempts
	out := make([]kind.Result, len(items))
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
	return errors.As(err, &ce) && ce.Class == crm.Permanent && ce.Code != "" && !kind.ReferenceUsed(ce)
}

type chunkKey struct{}

// withChunk names the rows a call carries, for the log lines of its attempts.
func withChunk(ctx context.Context, items []kind.Item) context.Context {
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
	if x.log == nil || errors.Is(err, pacer.ErrStopped) {
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

// Client is the run's logged-in client.
func (x *executor) Client() *crm.Client { return x.client }

// Now is the run's clock.
func (x *executor) Now() time.Time { return x.pace.Now() }

// ReadBefore says to read a customer's subscription before its row when the
// run does not know it (--read-before).
func (x *executor) ReadBefore() bool { return x.readBefore }

// Resent counts a call sent once more outside Retry, as a call and a retry.
func (x *executor) Resent() {
	x.calls.Add(1)
	x.retried.Add(1)
}

// Memory is what the run knows of the server between calls.
func (x *executor) Memory() *kind.Memory { return &x.memory }
