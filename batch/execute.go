package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmbatch/crmbatch/ledger"
)

// execute is pass 2: the rows pass 1 validated are read again, those done
// before are skipped, the others planned into chunks as they come, and the
// chunks run under errgroup with at most Concurrency in flight. Every outcome is
// recorded in the ledger as it comes.
func execute(parent context.Context, cfg Config, j *job, led *ledger.Ledger, h history, rows int, s *Summary) error {
	ctx, stop := context.WithCancel(parent)
	defer stop()
	sendStart := cfg.Now()
	defer func() { s.SendSeconds = cfg.Now().Sub(sendStart).Seconds() }()
	x, err := login(ctx, cfg)
	if err != nil {
		return err
	}
	runID := h.run.ID
	x.runID, x.stop = runID, stop
	x.intend = func(items []Item, note string) (string, error) {
		seqs := make([]int, len(items))
		keys := make([]uint64, len(items))
		for i, it := range items {
			seqs[i], keys[i] = it.Seq, it.EKey
		}
		return led.Intend(context.WithoutCancel(parent), runID, seqs, keys, note)
	}
	if j.kind.rows.claims() {
		x.claim = claimer(cfg, led, j.kind, runID, canonicalEndpoint(endpointOf(cfg)))
	}
	cfg.Progress.Begin(s.Rows - len(h.progress.Done))
	defer cfg.Progress.End()

	g, gctx := errgroup.WithContext(ctx)
	if !j.kind.Sequential {
		g.SetLimit(cfg.Concurrency) // rowScheduler bounds its calls itself
	}
	journal := led.NewWriter(runID)
	record := func(items []Item, res []result) error {
		outs := make([]ledger.Outcome, 0, len(items))
		now := cfg.Now()
		for i, it := range items {
			r := res[i]
			if r.Status == "" {
				continue // not sent: the report says NOT_SENT and a resume sends it
			}
			o := ledger.Outcome{Seq: it.Seq, Row: it.Row, Status: string(r.Status), Code: r.Code,
				Message: r.Message, Attempts: r.Attempts, Outputs: r.Outputs, Recorded: now, EKey: it.EKey}
			if j.kind.rows.claims() && r.Code != codeClaimed {
				o.Scope, o.Action = claimScope(j.kind, endpointOf(cfg)), it.Action
				o.Key, o.Detail = j.kind.rows.claimKey(it)
			}
			outs = append(outs, o)
		}
		// A sequential kind's outcome is durable before the next row of its lane
		// is intended, so after a crash at most one row per lane is uncertain and
		// reading its subscription back tells what came of it.
		add := journal.Add
		if j.kind.Sequential || j.kind.rows.claims() {
			add = func(outs []ledger.Outcome) error { return led.Record(context.WithoutCancel(gctx), runID, outs) }
		}
		if err := add(outs); err != nil {
			x.fail(err)
			return err
		}
		for _, o := range outs {
			cfg.Progress.Outcome(Status(o.Status), 1)
		}
		return nil
	}
	ln := newLanes()
	var add func(it Item) error
	flush := func() error { return nil }
	if j.kind.Sequential {
		add = rowScheduler(gctx, g, x, j.kind, ln, cfg.Concurrency, record)
		s.Chunks = 0
	} else {
		plan := newPlanner(j.chunkSize, 4*cfg.Concurrency+16, ln, func(c *chunk) error {
			if gctx.Err() != nil {
				for _, t := range c.tickets {
					ln.leave(t)
				}
				return gctx.Err()
			}
			s.Chunks++
			g.Go(func() error { return runChunk(gctx, x, j.kind, ln, c, record) })
			return nil
		})
		add, flush = plan.add, plan.flush
	}
	feedErr := j.scan(rows, func(r row) error {
		if r.err != nil || h.progress.Done[r.seq] {
			return nil // invalid, or done before the run stopped
		}
		it := r.item
		if note, ok := h.progress.Uncertain[r.seq]; ok {
			it.Uncertain, it.Note = true, note
		}
		if d, ok := h.earlier.Done[it.EKey]; ok {
			return record([]Item{it}, []result{doneEarlier(d)})
		}
		if note, ok := h.earlier.Uncertain[it.EKey]; ok {
			it.Uncertain, it.Note = true, note
		}
		if it.Uncertain && it.Note != "" && !j.kind.Sequential {
			it.Key = "replay\x00" + it.Note // the rows of one earlier call go again together
		}
		if j.kind.Sequential {
			s.Chunks++
		}
		return add(it)
	})
	if feedErr == nil {
		feedErr = flush()
	}
	waitErr := g.Wait()
	if err := journal.Close(); err != nil {
		x.fail(err)
	}
	s.Calls, s.Retries, s.Throttled = x.calls.Load(), x.retried.Load(), x.throttled.Load()
	switch {
	case x.fatal != nil:
		return x.fatal
	case parent.Err() != nil:
		return &FatalError{Err: fmt.Errorf("interrupted: %w", context.Cause(parent))}
	case feedErr != nil && !errors.Is(feedErr, context.Canceled):
		return &FatalError{Err: feedErr}
	case waitErr != nil && !errors.Is(waitErr, context.Canceled):
		return &FatalError{Err: waitErr}
	}
	return nil
}

func endpointOf(cfg Config) string {
	if cfg.Endpoint != "" {
		return cfg.Endpoint
	}
	return cfg.API.BaseURL
}

// runChunk runs the call of one chunk, after the earlier calls of its lanes.
func runChunk(ctx context.Context, x *executor, k *Kind, ln *lanes, c *chunk, record func([]Item, []result) error) error {
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
func rowScheduler(ctx context.Context, g *errgroup.Group, x *executor, k *Kind, ln *lanes, concurrency int, record func([]Item, []result) error) func(Item) error {
	slots := make(chan struct{}, concurrency)
	window := make(chan struct{}, seqWindow)
	return func(it Item) error {
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
			res := x.send(ctx, k, []Item{it})
			<-slots
			return record([]Item{it}, res)
		})
		return nil
	}
}

// codeClaimed is the code of a row whose entity another run holds now.
const codeClaimed = "CLAIMED_BY_ANOTHER_RUN"

func claimScope(k *Kind, endpoint string) string { return k.Name + "@" + canonicalEndpoint(endpoint) }

// claimer claims the entities of a call's rows in the ledger before they are
// sent, atomically, so that two runs on one ledger never send the same charge.
// A row whose entity another run holds is not sent: skipped when that run did
// it (unless --force) or is sending it now, and read back before anything is
// sent when that run stopped without knowing what came of it.
func claimer(cfg Config, led *ledger.Ledger, k *Kind, runID, endpoint string) func(ctx context.Context, items []Item) (map[int]result, error) {
	scope := claimScope(k, endpoint)
	return func(ctx context.Context, items []Item) (map[int]result, error) {
		claims := make([]ledger.Claim, len(items))
		for i, it := range items {
			key, _ := k.rows.claimKey(it)
			claims[i] = ledger.Claim{Key: key, Action: it.Action}
		}
		takenOver := map[string]bool{}
		held, err := led.ClaimAll(context.WithoutCancel(ctx), scope, runID, claims, cfg.Now(), func(h ledger.Holder) bool {
			if h.State == "done" {
				return cfg.Force
			}
			if led.Running(cfg.StateDir, h.Lineage) {
				return false
			}
			takenOver[h.RunID] = true // it stopped: its call may have been applied
			return true
		})
		if err != nil {
			return nil, err
		}
		out := map[int]result{}
		for i, h := range held {
			when := h.Recorded.Local().Format(time.DateTime)
			if h.State == "done" {
				msg := fmt.Sprintf("%s already by run %s on %s", Past(h.Action), h.RunID, when)
				if h.Detail != "" {
					msg += " with reference " + h.Detail
				}
				out[i] = result{Status: StatusSkipped, Code: "ALREADY_DONE", Message: msg + "; pass --force to send it again"}
				continue
			}
			out[i] = result{Status: StatusSkipped, Code: codeClaimed,
				Message: fmt.Sprintf("another crmbatch run (%s) is sending this %s now; see its reports", h.RunID, k.Name)}
		}
		for i := range items {
			if _, ok := held[i]; !ok && len(takenOver) > 0 {
				items[i].Uncertain = true // read back before it is sent
			}
		}
		return out, nil
	}
}
