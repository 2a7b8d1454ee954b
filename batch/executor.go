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
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/pacer"
)

// executor makes the calls of a run: it owns the client and the pacer shared
// by every worker, records each call's intent before the kind sends it, and
// counts calls and retries.
type executor struct {
	client *crm.Client
	pace   *pacer.Pacer
	runID  string // the same when a stopped run is resumed
	// intend records durably that items are about to be sent, with a note
	// (see Item.Note), and returns the call's transaction reference.
	intend func(items []kind.Item, note string) (string, int64, error)
	// moved says whether a call of the item's lanes may have changed them
	// since the call of intent since (nil = never: a session's reads).
	moved func(it kind.Item, since, now int64) bool
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

func (x *executor) fail(err error) {
	x.fatalOnce.Do(func() {
		x.fatal = &fault.FatalError{Err: err}
		if x.stop != nil {
			x.stop()
		}
	})
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

// call makes one call of k with items: it records the call's intent (the
// rows, their effect keys and what the kind notes of the call: a replayed
// transaction reference, a subscription's state before) before the first
// send, then hands the call to the kind with that intent. A kind never
// records it itself: no call is sent without one.
func (x *executor) call(ctx context.Context, k *kind.Kind, items []kind.Item) ([]kind.Result, int, error) {
	ctx = withChunk(ctx, items)
	note, err := k.Note(ctx, x, items)
	if err != nil {
		return nil, 0, err
	}
	in, err := x.recordIntent(items, note)
	if err != nil {
		return nil, 0, err
	}
	return k.Send(ctx, x, in, items)
}

// recordIntent records durably that items are about to be sent, with note,
// and returns the call's transaction reference (the note where nothing is
// recorded: a session's reads).
func (x *executor) recordIntent(items []kind.Item, note string) (kind.Intent, error) {
	if x.intend == nil {
		return kind.Intent{Ref: note, Note: note}, nil
	}
	ref, id, err := x.intend(items, note)
	if err != nil {
		x.fail(err)
		return kind.Intent{}, fmt.Errorf("%w: %w", pacer.ErrStopped, err)
	}
	return kind.Intent{Ref: ref, Note: note, ID: id}, nil
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
	var attrs []any
	if x.runID != "" {
		attrs = append(attrs, "run_id", x.runID)
	}
	attrs = append(attrs, "chunk", chunk, "attempt", attempt, "elapsed_ms", latency.Milliseconds())
	if err == nil {
		x.log.DebugContext(ctx, "call ok", attrs...)
		return
	}
	var ce *crm.Error
	if errors.As(err, &ce) {
		attrs = append(attrs, "method", ce.Method, "http_status", ce.HTTPStatus, "error_class", ce.Class.String(), "error_code", ce.Code)
	}
	attrs = append(attrs, "error", err.Error())
	if h := fault.HintOf(err); h != "" {
		attrs = append(attrs, "hint", h)
	}
	x.log.WarnContext(ctx, "call failed", attrs...)
}

// Client is the run's logged-in client.
func (x *executor) Client() *crm.Client { return x.client }

// Now is the run's clock.
func (x *executor) Now() time.Time { return x.pace.Now() }

// ReadBefore says to read a customer's subscription before its row when the
// run does not know it (--read-before).
func (x *executor) ReadBefore() bool { return x.readBefore }

// Call makes one call through the run's pacer: its pace, its retries and its
// lost answers (see pacer.Pacer.Call).
func (x *executor) Call(ctx context.Context, a pacer.Attempt) (int, error) {
	return x.pace.Call(ctx, a)
}

// Attempted counts an attempt that went out, and logs it.
func (x *executor) Attempted(ctx context.Context, attempt int, elapsed time.Duration, err error) {
	if !errors.Is(err, pacer.ErrStopped) {
		x.calls.Add(1)
	}
	x.logAttempt(ctx, attempt, elapsed, err)
}

// Retried counts a retry, and tells the progress.
func (x *executor) Retried() {
	x.retried.Add(1)
	x.progress.Retried()
}

// Throttled counts an answer HTTP 429, and tells the progress.
func (x *executor) Throttled() {
	x.throttled.Add(1)
	x.progress.Throttled()
}

// Memory is what the run knows of the server between calls.
func (x *executor) Memory() *kind.Memory { return &x.memory }

// markMoved is told of each row as it is about to be sent, after the earlier
// rows of its lanes: an uncertain row whose lanes a call of any run may have
// changed since its own is marked MovedOn.
func (x *executor) markMoved(it *kind.Item) {
	if it.Uncertain && !it.MovedOn && x.Moved(context.Background(), *it, it.Since, 0) {
		it.MovedOn = true
	}
}

// Moved says whether a call of the item's lanes, of any run, may have changed them
// since the call of intent since.
func (x *executor) Moved(_ context.Context, it kind.Item, since, now int64) bool {
	return x.moved != nil && len(it.Lanes) > 0 && x.moved(it, since, now)
}
