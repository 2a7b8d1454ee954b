package ledger

import (
	"context"
	"sync"
)

// Writer records the outcomes of a run in the background, many calls' outcomes
// to a transaction (group commit), so that workers never wait on the disk one
// call at a time. Close flushes what is pending and reports the first error.
type Writer struct {
	l     *Ledger
	runID string
	in    chan []Outcome
	done  chan struct{}

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
func (l *Ledger) NewWriter(runID string) *Writer {
	w := &Writer{l: l, runID: runID, in: make(chan []Outcome, queued), done: make(chan struct{})}
	go w.loop()
	return w
}

// Add queues outcomes; it blocks only when the queue is full. It returns the
// writer's first error, after which nothing more is recorded.
func (w *Writer) Add(outs []Outcome) error {
	if err := w.Err(); err != nil {
		return err
	}
	if len(outs) > 0 {
		w.in <- outs
	}
	return nil
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
		if w.Err() != nil {
			continue // drain: a failed ledger records nothing more
		}
		if err := w.l.Record(context.Background(), w.runID, group); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
		}
	}
}
