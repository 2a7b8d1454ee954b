package batch

import (
	"sync"

	"github.com/crmbatch/crmbatch/ledger"
)

// stream hands the outcomes of a run to its reports as they come, so that the
// reports are written while the calls are made rather than after: finish waits,
// row by row in file order, for the outcome of each row sent. It holds only the
// outcomes not yet written (rows done out of order), a few chunks' worth.
type stream struct {
	mu     sync.Mutex
	cond   *sync.Cond
	outs   map[int]ledger.Outcome
	closed bool // no more outcomes: a row without one was not sent
}

func newStream() *stream {
	st := &stream{outs: map[int]ledger.Outcome{}}
	st.cond = sync.NewCond(&st.mu)
	return st
}

// put adds outcomes, once they are in the ledger.
func (st *stream) put(outs []ledger.Outcome) {
	st.mu.Lock()
	for _, o := range outs {
		st.outs[o.Seq] = o
	}
	st.mu.Unlock()
	st.cond.Broadcast()
}

// close says that no outcome will come any more.
func (st *stream) close() {
	st.mu.Lock()
	st.closed = true
	st.mu.Unlock()
	st.cond.Broadcast()
}

// wait returns the outcome of row seq once it has one, or false when the run
// ended without one (the row was not sent).
func (st *stream) wait(seq int) (ledger.Outcome, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for {
		if o, ok := st.outs[seq]; ok {
			delete(st.outs, seq)
			return o, true
		}
		if st.closed {
			return ledger.Outcome{}, false
		}
		st.cond.Wait()
	}
}

// ended waits until the run has sent all it will: then its summary's calls and
// times are final.
func (st *stream) ended() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for !st.closed {
		st.cond.Wait()
	}
}
