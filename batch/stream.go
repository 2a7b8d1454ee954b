package batch

import (
	"context"
	"sync"

	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/ledger"
)

// stream hands the outcomes of a run to its reports as they come, so that the
// reports are written while the calls are made rather than after: finish
// waits, row by row in file order, for the outcome of each valid row. The
// sending waits for the reports in turn (admit): it takes a row only while the
// row is less than window rows ahead of the one the reports wait for, so the
// stream holds at most window outcomes, whatever the server's pace, the
// writer's, or the rows the sending never takes (invalid rows). A writer that
// fails stops the sending (fail).
type stream struct {
	mu     sync.Mutex
	came   *sync.Cond // an outcome came, or the run ended: for the reports
	room   *sync.Cond // the reports moved to need, or failed: for the sending
	outs   map[int]streamed
	window int
	at     int   // the row the reports wait for: every row before it is written
	need   int   // the row the sending waits for the reports to reach (0 = none)
	err    error // the reports failed: the sending stops
	done   bool  // the reports are over: nothing waits for outcomes any more
	closed bool  // no more outcomes: a row without one was not sent
	most   int   // the most outcomes held at once
	waits  int   // how many times the sending waited for the reports
}

// streamed is a row's outcome, or, with sent false, the word that the row
// came back from its call without one (the run stopped before sending it).
type streamed struct {
	o    ledger.Outcome
	sent bool
}

func newStream(window int) *stream {
	st := &stream{outs: map[int]streamed{}, window: max(window, 4)}
	st.came, st.room = sync.NewCond(&st.mu), sync.NewCond(&st.mu)
	return st
}

// admit waits until row seq is less than the window ahead of the reports; it
// returns the reports' error when they failed, or ctx's when it is done. A
// sending that waits is let go once the reports made a quarter window of room,
// not row by row. A nil stream admits every row.
func (st *stream) admit(ctx context.Context, seq int) error {
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if (seq < st.at+st.window || st.done) && st.err == nil {
		return nil
	}
	st.waits++
	stop := context.AfterFunc(ctx, func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.room.Broadcast()
	})
	defer stop()
	st.need = seq - st.window + 1 + st.window/4
	for st.at < st.need && !st.done && st.err == nil && ctx.Err() == nil {
		st.room.Wait()
	}
	st.need = 0
	if st.err != nil {
		return st.err
	}
	return ctx.Err()
}

// put adds outcomes, once they are in the ledger, and marks the rows in
// unsent as come back without one. Once the reports failed, nothing is kept.
func (st *stream) put(outs []ledger.Outcome, unsent []int) {
	st.mu.Lock()
	if st.err == nil && !st.done {
		for _, o := range outs {
			st.outs[o.Seq] = streamed{o: o, sent: true}
		}
		for _, seq := range unsent {
			st.outs[seq] = streamed{}
		}
		st.most = max(st.most, len(st.outs))
	}
	st.mu.Unlock()
	st.came.Broadcast()
}

// close says that no outcome will come any more.
func (st *stream) close() {
	st.mu.Lock()
	st.closed = true
	st.mu.Unlock()
	st.came.Broadcast()
}

// fail says that the reports cannot be written: the sending stops taking rows
// and the outcomes are no longer kept (they are in the ledger, from which the
// same command writes the reports).
func (st *stream) fail(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	clear(st.outs)
	st.mu.Unlock()
	st.room.Broadcast()
}

// over says that the reports are written, every row or those before a row
// that changed in the file: the sending no longer waits for them, and what
// it sends is no longer kept for them.
func (st *stream) over() {
	st.mu.Lock()
	st.done = true
	clear(st.outs)
	st.mu.Unlock()
	st.room.Broadcast()
}

// wait returns the outcome of row seq once it has one, or false when the run
// ended without one (the row was not sent). The reports are then done with
// every row before seq.
func (st *stream) wait(seq int) (ledger.Outcome, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if seq > st.at {
		if st.at = seq; st.need > 0 && st.at >= st.need {
			st.room.Signal() // one sending waits: the reading
		}
	}
	for {
		if s, ok := st.outs[seq]; ok {
			delete(st.outs, seq)
			return s.o, s.sent
		}
		if st.closed {
			return ledger.Outcome{}, false
		}
		st.came.Wait()
	}
}

// ended waits until the run has sent all it will: then its summary's calls and
// times are final.
func (st *stream) ended() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for !st.closed {
		st.came.Wait()
	}
}

// held is the most outcomes the stream held at once.
func (st *stream) held() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.most
}

// reportWindow is how many rows the sending may read ahead of the reports: a
// few times the rows in flight (concurrency × chunk size, or the rows a
// sequential kind schedules ahead), so that in the steady state neither waits
// for the other, and memory is bounded by them rather than by the file.
func reportWindow(j *jobfile.File, concurrency int) int {
	if j.Kind.Sequential {
		return 2 * seqWindow
	}
	return max(4*concurrency*j.ChunkSize, 4096)
}

// waited is how many times the sending waited for the reports.
func (st *stream) waited() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.waits
}
