package ledger

import (
	"context"
	"sync"
)

// Writer records the outcomes of a run in the background, many calls' outcomes
// to a transaction (group commit), so that workers never wait on the disk one
// call at a time. Close flushes what is pending and reports the first error.
// After a write fails, nothing more is written.
type Writer struct {
	l        *Ledger
	runID    string
	in       chan []Outcome
	done     chan struct{}
	recorded func(outs []Outcome, err error)

	mu  sync.Mutex
	err error
}

// maxGroup is the most outcomes one transaction takes.
const maxGroup = 1000

// queued is how many calls' outcomes wait for the writer before Add blocks:
// a server faster than the ledger is slowed to the ledger's pace rather than
// the outcomes piling up in memory (256 calls of 1,000 rows were ~40 MB).
const queued = 16

// NewWriter starts a background writer for a run.
func (l *Ledger) NewWriter(runID string) *Writer { return l.NewWriterNotify(runID, nil) }

// NewWriterNotify starts a background writer for a run that calls recorded
// with every group of outcomes once its write is over: err nil when they are
// in the ledger, else the error that kept them out (the first failed write's,
// for every group after it). The caller relies on an outcome only then.
func (l *Ledger) NewWriterNotify(runID string, recorded func(outs []Outcome, err error)) *Writer {
	w := &Writer{l: l, runID: runID, in: make(chan []Outcome, queued), done: make(chan struct{}), recorded: recorded}
	go w.loop()
	return w
}

// Add queues outcomes; it blocks only when the queue is full. It returns the
// writer's first error, after which nothing more is recorded (the outcomes
// still go to the writer's recorded function, with that error).
func (w *Writer) Add(outs []Outcome) error {
	if len(outs) > 0 {
		w.in <- outs
	}
	return w.Err()
}

// Err is the first error met while writing.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close writes what is queued and stops the writer.
func (w *Writer) Close() error {
	close(w.in)
	<-w.done
	return w.Err()
}

func (w *Writer) loop() {
	defer close(w.done)
	for outs := range w.in {
		group := append([]Outcome(nil), outs...)
	more:
		for len(group) < maxGroup {
			select {
			case next, ok := <-w.in:
				if !ok {
					break more
				}
				group = append(group, next...)
			default:
				break more
			}
		}
		err := w.Err()
		if err == nil { // a failed ledger records nothing more
			if err = w.l.Record(context.Background(), w.runID, group); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
			}
		}
		if w.recorded != nil {
			w.recorded(group, err)
		}
	}
}
