package jobfile

import (
	"io"
	"slices"

	"github.com/crmbatch/crmbatch/formats"
)

// readAhead reads a job file's records in a goroutine of its own, a batch at
// a time, while the pass validates (and sends) the records before: on two
// cores a pass takes about the longer of reading and validating, not their
// sum. Records come in file order; one is valid until the next is asked for.
type readAhead struct {
	full chan *recordBatch
	free chan *recordBatch
	stop chan struct{}
	done chan struct{}
	cur  *recordBatch
	i    int
}

// recordBatch is records read ahead; their fields and kinds are copied into
// the batch's own slices, which the reader reuses.
type recordBatch struct {
	recs   []formats.Record
	fields []string
	kinds  []formats.CellKind
	err    error // what ended the batch early: io.EOF at the end, or the reader's error
}

const (
	readAheadRows    = 512
	readAheadBatches = 4
)

// startReadAhead reads rd up to limit records (0 = all) in the background.
func startReadAhead(rd formats.Reader, limit int) *readAhead {
	a := &readAhead{full: make(chan *recordBatch, readAheadBatches), free: make(chan *recordBatch, readAheadBatches),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range readAheadBatches {
		a.free <- &recordBatch{}
	}
	go a.fill(rd, limit)
	return a
}

func (a *readAhead) fill(rd formats.Reader, limit int) {
	defer close(a.done)
	n := 0
	for {
		var b *recordBatch
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		b.recs, b.fields, b.kinds, b.err = b.recs[:0], b.fields[:0], b.kinds[:0], nil
		for len(b.recs) < readAheadRows {
			if limit > 0 && n >= limit {
				b.err = io.EOF
				break
			}
			rec, err := rd.Next()
			if err != nil {
				b.err = err
				break
			}
			n++
			start := len(b.fields)
			b.fields = append(b.fields, rec.Fields...)
			b.kinds = append(b.kinds, rec.Kinds...)
			rec.Fields = b.fields[start:len(b.fields):len(b.fields)]
			rec.Kinds = b.kinds[start:len(b.kinds):len(b.kinds)]
			rec.Problems = slices.Clone(rec.Problems)
			b.recs = append(b.recs, rec)
		}
		select {
		case a.full <- b:
		case <-a.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// next returns the next record, io.EOF after the last, or the reader's error.
func (a *readAhead) next() (formats.Record, error) {
	for {
		if a.cur != nil && a.i < len(a.cur.recs) {
			a.i++
			return a.cur.recs[a.i-1], nil
		}
		if a.cur != nil {
			if a.cur.err != nil {
				return formats.Record{}, a.cur.err
			}
			a.free <- a.cur // never blocks: there are only so many batches
		}
		a.cur, a.i = <-a.full, 0
	}
}

// close stops the reading and waits for it: the reader can then be closed.
func (a *readAhead) close() {
	close(a.stop)
	<-a.done
}
