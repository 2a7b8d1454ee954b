package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/lineage"
	"github.com/crmbatch/crmbatch/report"
)

// execute is pass 2: the rows pass 1 validated are read again, those done
// before are skipped, the others scheduled as they come (chunks of calls, or
// rows one by one for a sequential kind) with at most Concurrency calls in
// flight. Every outcome is recorded in the ledger as it comes.
func execute(parent context.Context, cfg Config, j *jobfile.File, led *ledger.Ledger, h lineage.History, rows int, st *stream) (done sent, err error) {
	ctx, stop := context.WithCancel(parent)
	defer stop()
	sendStart := cfg.Now()
	defer func() { done.seconds = cfg.Now().Sub(sendStart).Seconds() }()
	x, err := login(ctx, cfg, h.Run.ID)
	if err != nil {
		return done, err
	}
	x.stop, x.readBefore = stop, cfg.ReadBefore
	keepCallsIn(context.WithoutCancel(parent), cfg, led, h.Run.ID, x)
	if j.Kind.Claims() {
		x.claim = claimer(cfg, led, j.Kind, h.Run, lineage.CanonicalEndpoint(endpointOf(cfg)))
	}
	cfg.Progress.Begin(rows, h.Progress.Done.Len())
	defer cfg.Progress.End()

	g, gctx := errgroup.WithContext(ctx)
	rec := newRecorder(gctx, cfg, j.Kind, led, h.Run.ID, x)
	rec.stream = st
	add, expire, flush := schedule(gctx, g, cfg, j, x, rec.record, &done.chunks)
	feedErr := j.ScanToSend(rows, func(r *jobfile.Row) error {
		if r.Err != nil {
			cfg.Progress.Outcome(report.StatusInvalid, 1)
			return nil
		}
		if h.Progress.Done.Has(r.Seq) {
			return nil // done before the run stopped
		}
		// The reading waits for the reports (their stream holds what is
		// read ahead of them), after sending what it would hold back.
		if err := expire(r.Seq); err != nil {
			return err
		}
		if err := st.admit(gctx, r.Seq); err != nil {
			if gctx.Err() == nil {
				x.fail(fmt.Errorf("writing the reports: %w", err))
			}
			return err
		}
		it, done := h.Item(r, j.Kind)
		if done != nil {
			return rec.record([]kind.Item{it}, []kind.Result{*done})
		}
		return add(it)
	})
	if feedErr == nil {
		feedErr = flush()
	}
	waitErr := g.Wait()
	if err := rec.close(); err != nil {
		x.fail(err)
	}
	done.calls, done.retries, done.throttled = x.calls.Load(), x.retried.Load(), x.throttled.Load()
	switch {
	case x.fatal != nil:
		return done, x.fatal
	case parent.Err() != nil:
		return done, &fault.FatalError{Err: fmt.Errorf("interrupted: %w", context.Cause(parent))}
	case feedErr != nil && !errors.Is(feedErr, context.Canceled):
		return done, &fault.FatalError{Err: feedErr}
	case waitErr != nil && !errors.Is(waitErr, context.Canceled):
		return done, &fault.FatalError{Err: waitErr}
	}
	return done, nil
}

// sent is what pass 2 did: its calls, retries, answers 429, the chunks it
// scheduled and how long it took from the login to the last outcome.
type sent struct {
	calls, retries, throttled int64
	chunks                    int
	seconds                   float64
}

// recorder records outcomes in the ledger: in the background, many calls to a
// transaction, or at once where the next call depends on it (a sequential
// kind's next row, a charge's claim). The reports are given an outcome only
// once it is in the ledger: a write that fails stops the run at once, and the
// rows it could not record are reported unknown (they were sent), never as
// not sent.
type recorder struct {
	ctx     context.Context
	cfg     Config
	kind    *kind.Kind
	led     *ledger.Ledger
	runID   string
	x       *executor
	journal *ledger.Writer
	stream  *stream // the reports being written meanwhile (nil = none)
}

func newRecorder(ctx context.Context, cfg Config, k *kind.Kind, led *ledger.Ledger, runID string, x *executor) *recorder {
	rc := &recorder{ctx: ctx, cfg: cfg, kind: k, led: led, runID: runID, x: x}
	rc.journal = led.NewWriterNotify(runID, rc.recorded)
	return rc
}

// record records the results of items; a result without a status (a row not
// sent) is not recorded: the report says NOT_SENT and a resume sends it.
func (rc *recorder) record(items []kind.Item, res []kind.Result) error {
	outs := make([]ledger.Outcome, 0, len(items))
	var unsent []int
	now := rc.cfg.Now()
	for i, it := range items {
		r := res[i]
		if r.Status == "" {
			unsent = append(unsent, it.Seq)
			continue
		}
		o := ledger.Outcome{Seq: it.Seq, Row: it.Row, Status: string(r.Status), Code: r.Code,
			Message: r.Message, Attempts: r.Attempts, Outputs: r.Outputs, Recorded: now, EKey: it.EKey}
		if rc.kind.Claims() && r.Code != codeClaimed {
			o.Scope, o.Action = claimScope(rc.kind, endpointOf(rc.cfg)), it.Action
			o.Key, o.Detail = rc.kind.ClaimKey(it)
			if r.Kept != nil {
				o.Detail = *r.Kept
			}
		}
		outs = append(outs, o)
	}
	if rc.stream != nil && len(unsent) > 0 {
		rc.stream.put(nil, unsent) // the reports say NOT_SENT without waiting for the run's end
	}
	// A sequential kind's outcome is durable before the next row of its lane
	// is intended, so after a crash at most one row per lane is uncertain and
	// reading its subscription back tells what came of it.
	if rc.kind.Sequential || rc.kind.Claims() {
		err := rc.led.Record(context.WithoutCancel(rc.ctx), rc.runID, outs)
		rc.recorded(outs, err)
		return err
	}
	rc.journal.Add(outs)
	return rc.journal.Err()
}

// recorded takes outcomes once their write is over: in the ledger (err nil),
// or not, when the run stops at once and the rows are reported unknown.
func (rc *recorder) recorded(outs []ledger.Outcome, err error) {
	if err != nil {
		rc.x.fail(err)
		outs = notRecorded(outs, err)
	}
	if rc.stream != nil {
		rc.stream.put(outs, nil)
	}
	for _, o := range outs {
		rc.cfg.Progress.Outcome(report.Status(o.Status), 1)
	}
}

// codeNotRecorded is the code of a row that was sent and whose outcome the
// ledger could not record: unknown until the same command reads it back.
const codeNotRecorded = "NOT_RECORDED"

// notRecorded turns the outcomes of rows sent into unknown ones that say what
// the server answered: the ledger does not know it, so the same command reads
// them back. Rows skipped were not sent and stay so.
func notRecorded(outs []ledger.Outcome, err error) []ledger.Outcome {
	cause := err.Error()
	out := make([]ledger.Outcome, len(outs))
	for i, o := range outs {
		out[i] = o
		if report.Status(o.Status) == report.StatusSkipped {
			continue
		}
		answer := o.Status
		if o.Code != "" {
			answer += " " + o.Code
		}
		if o.Message != "" {
			answer += " (" + o.Message + ")"
		}
		out[i].Status, out[i].Code = string(report.StatusUnknown), codeNotRecorded
		out[i].Message = fmt.Sprintf("sent, and the answer was %s, but the ledger could not record it (%s); run the same command once the ledger can be written: it reads this row back", answer, cause)
	}
	return out
}

func (rc *recorder) close() error { return rc.journal.Close() }

// schedule returns how rows are handed to the workers: planned into chunks, each
// run by a worker of g after the earlier calls of its lanes; or, for a
// sequential kind, one by one (rowScheduler). chunks counts what is scheduled.
func schedule(ctx context.Context, g *errgroup.Group, cfg Config, j *jobfile.File, x *executor, record func([]kind.Item, []kind.Result) error, chunks *int) (add func(kind.Item) error, expire func(seq int) error, flush func() error) {
	k, ln := j.Kind, newLanes()
	if k.Sequential {
		send := rowScheduler(ctx, g, x, k, ln, cfg.Concurrency, record)
		return func(it kind.Item) error { *chunks++; return send(it) }, func(int) error { return nil }, func() error { return nil }
	}
	g.SetLimit(cfg.Concurrency)
	plan := newPlanner(j.ChunkSize, 4*cfg.Concurrency+16, ln, func(c *chunk) error {
		if ctx.Err() != nil {
			for _, t := range c.tickets {
				ln.leave(t)
			}
			return ctx.Err()
		}
		*chunks++
		g.Go(func() error { return runChunk(ctx, x, k, ln, c, record) })
		return nil
	})
	plan.maxAge = reportWindow(j, cfg.Concurrency) / 2
	return plan.add, plan.expire, plan.flush
}

func endpointOf(cfg Config) string {
	if cfg.Endpoint != "" {
		return cfg.Endpoint
	}
	return cfg.API.BaseURL
}

// runChunk runs the call of one chunk, after the earlier calls of its lanes.
func runChunk(ctx context.Context, x *executor, k *kind.Kind, ln *lanes, c *chunk, record func([]kind.Item, []kind.Result) error) error {
	defer func() {
		for _, t := range c.tickets {
			ln.leave(t)
		}
	}()
	if len(c.tickets) > 0 {
		if err := c.tickets[0].wait(ctx); err != nil {
			return nil // stopping: the chunk is not sent
		}
	}
	for i := range c.items {
		x.markMoved(&c.items[i])
	}
	return record(c.items, x.send(ctx, k, c.items))
}

// seqWindow is how many rows of a sequential kind may be read ahead of the
// oldest row not yet done: rows waiting for the earlier rows of their lanes.
const seqWindow = 2048

// rowScheduler schedules the rows of a sequential kind one by one: a row waits
// for the earlier rows of its lanes (its customer) without holding a worker,
// and takes one of the concurrency slots only to be sent, so rows of other
// customers go on meanwhile. A row's outcome is recorded before the next row of
// its lanes starts. At most seqWindow rows are in flight or waiting.
func rowScheduler(ctx context.Context, g *errgroup.Group, x *executor, k *kind.Kind, ln *lanes, concurrency int, record func([]kind.Item, []kind.Result) error) func(kind.Item) error {
	slots := make(chan struct{}, concurrency)
	window := make(chan struct{}, seqWindow)
	return func(it kind.Item) error {
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		t := ln.enter(it.Lanes)
		g.Go(func() error {
			defer func() { <-window }()
			defer ln.leave(t)
			if t.wait(ctx) != nil {
				return nil // stopping: the row is not sent
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			x.markMoved(&it)
			res := x.send(ctx, k, []kind.Item{it})
			<-slots
			return record([]kind.Item{it}, res)
		})
		return nil
	}
}

// codeClaimed is the code of a row whose entity another run holds now.
const codeClaimed = "CLAIMED_BY_ANOTHER_RUN"

func claimScope(k *kind.Kind, endpoint string) string {
	return k.Name + "@" + lineage.CanonicalEndpoint(endpoint)
}

// claimer claims the entities of a call's rows in the ledger before they are
// sent, atomically, so that two runs on one ledger never send the same charge.
// A row whose entity another run holds is not sent: skipped when that run did
// it (unless --force) or is sending it now, and read back before anything is
// sent when that run stopped without knowing what came of it. An earlier run
// of this run's own lineage (the file this one is an edit of) is stopped: this
// run holds its lineage's lock.
func claimer(cfg Config, led *ledger.Ledger, k *kind.Kind, run ledger.Run, endpoint string) func(ctx context.Context, items []kind.Item) (map[int]kind.Result, error) {
	scope, runID := claimScope(k, endpoint), run.ID
	return func(ctx context.Context, items []kind.Item) (map[int]kind.Result, error) {
		claims := make([]ledger.Claim, len(items))
		for i, it := range items {
			key, detail := k.ClaimKey(it)
			claims[i] = ledger.Claim{Key: key, Action: it.Action, Detail: detail}
		}
		taken := map[int]ledger.Holder{}
		held, err := led.ClaimAll(context.WithoutCancel(ctx), scope, runID, claims, cfg.Now(), func(i int, h ledger.Holder) bool {
			if h.State == "done" {
				return cfg.Force
			}
			if h.Lineage != run.Lineage && led.Running(cfg.StateDir, h.Lineage) {
				return false
			}
			taken[i] = h // it stopped: its call may have been applied
			return true
		})
		if err != nil {
			return nil, err
		}
		out := map[int]kind.Result{}
		for i, h := range held {
			when := h.Recorded.Local().Format(time.DateTime)
			if h.State == "done" {
				msg := fmt.Sprintf("%s already by run %s on %s", kind.Past(h.Action), h.RunID, when)
				if h.Detail != "" {
					msg += " with reference " + h.Detail
				}
				out[i] = kind.Result{Status: report.StatusSkipped, Code: "ALREADY_DONE", Message: msg + "; pass --force to send it again"}
				continue
			}
			out[i] = kind.Result{Status: report.StatusSkipped, Code: codeClaimed,
				Message: fmt.Sprintf("another crmbatch run (%s) is sending this %s now; see its reports", h.RunID, k.Name)}
		}
		for i, h := range taken {
			if h.RunID == runID {
				continue
			}
			items[i].Uncertain = true // read back before it is sent
			items[i].Taken = &h
		}
		return out, nil
	}
}

// laneKeys are the ledger's keys of the lanes of each item (nil when none has
// any): a read-back of a row is proof only if no call of its lanes came
// after its own (ledger.MovedSince).
func laneKeys(endpoint string, items []kind.Item) [][]uint64 {
	var keys [][]uint64
	for i, it := range items {
		if len(it.Lanes) == 0 {
			continue
		}
		if keys == nil {
			keys = make([][]uint64, len(items))
		}
		for _, lane := range it.Lanes {
			keys[i] = append(keys[i], ledger.LaneKey(endpoint, lane))
		}
	}
	return keys
}

// keepCallsIn has x record each call's intent in led, for run runID, with its
// rows' lanes, and ask led whether a row's lanes moved since its call.
func keepCallsIn(ctx context.Context, cfg Config, led *ledger.Ledger, runID string, x *executor) {
	endpoint := lineage.CanonicalEndpoint(endpointOf(cfg))
	x.intend = func(items []kind.Item, note string) (string, int64, error) {
		seqs := make([]int, len(items))
		keys := make([]uint64, len(items))
		for i, it := range items {
			seqs[i], keys[i] = it.Seq, it.EKey
		}
		lanes := ledger.Lanes{Keys: laneKeys(endpoint, items), At: cfg.Now()}
		if lanes.Keys != nil {
			lanes.Moved = make([]bool, len(items))
			for i, it := range items {
				lanes.Moved[i] = it.Uncertain && it.MovedOn
			}
		}
		return led.IntendCall(ctx, runID, seqs, keys, note, lanes)
	}
	x.moved = func(it kind.Item, since, now int64) bool {
		// A failed read of the ledger counts as moved: the safe side.
		moved, err := led.MovedSince(ctx, laneKeys(endpoint, []kind.Item{it})[0], since, now, it.EKey)
		return moved || err != nil
	}
}
