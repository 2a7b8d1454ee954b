package batch

import (
	"container/list"
	"context"
	"sync"
)

// chunk is the rows of one call (or, for a sequential kind, of one worker's turn).
type chunk struct {
	key     string
	items   []Item
	tickets []ticket // sequential kinds: one per item; others: at most one for the chunk
}

// ticket keeps the rows of one lane (customer, subscription) in file order: the
// holder waits for prev to close, runs, then closes done.
type ticket struct {
	prev <-chan struct{}
	done chan struct{}
	lane string
}

// lanes hands out tickets in file order.
type lanes struct {
	mu   sync.Mutex
	tail map[string]chan struct{}
}

func newLanes() *lanes { return &lanes{tail: map[string]chan struct{}{}} }

func (l *lanes) enter(lane string) ticket {
	if lane == "" {
		return ticket{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := ticket{prev: l.tail[lane], done: make(chan struct{}), lane: lane}
	l.tail[lane] = t.done
	return t
}

// wait blocks until every earlier row of the ticket's lane is done.
func (t ticket) wait(ctx context.Context) error {
	if t.prev == nil {
		return nil
	}
	select {
	case <-t.prev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *lanes) leave(t ticket) {
	if t.done == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	close(t.done)
	if l.tail[t.lane] == t.done {
		delete(l.tail, t.lane)
	}
}

// planner groups valid rows into chunks as they are read, emitting a chunk when
// it is full. At most maxOpen chunks are open at once (the oldest is emitted
// early), so memory stays bounded whatever the file's size or number of keys.
type planner struct {
	size       int
	sequential bool
	maxOpen    int
	lanes      *lanes
	emit       func(*chunk) error

	open     map[string]*list.Element // key → element of order holding *chunk
	order    *list.List
	laneOpen map[string]string // lane → key of its open chunk (non-sequential kinds)
}

func newPlanner(size int, sequential bool, maxOpen int, ln *lanes, emit func(*chunk) error) *planner {
	return &planner{size: size, sequential: sequential, maxOpen: maxOpen, lanes: ln, emit: emit,
		open: map[string]*list.Element{}, order: list.New(), laneOpen: map[string]string{}}
}

// add places one valid row in its chunk.
func (p *planner) add(it Item) error {
	if !p.sequential && it.Lane != "" {
		// One open chunk per lane: a row of another call for the same lane first
		// sends what is open, so the lane's calls go out in file order.
		if k, ok := p.laneOpen[it.Lane]; ok && k != it.Key {
			if err := p.send(k); err != nil {
				return err
			}
		}
		p.laneOpen[it.Lane] = it.Key
	}
	e, ok := p.open[it.Key]
	if !ok {
		if p.order.Len() >= p.maxOpen {
			if err := p.send(p.order.Front().Value.(*chunk).key); err != nil {
				return err
			}
		}
		e = p.order.PushBack(&chunk{key: it.Key})
		p.open[it.Key] = e
	}
	c := e.Value.(*chunk)
	c.items = append(c.items, it)
	if p.sequential {
		c.tickets = append(c.tickets, p.lanes.enter(it.Lane))
	}
	if len(c.items) >= p.size {
		return p.send(it.Key)
	}
	return nil
}

// send emits the open chunk of a key.
func (p *planner) send(key string) error {
	e, ok := p.open[key]
	if !ok {
		return nil
	}
	c := e.Value.(*chunk)
	p.order.Remove(e)
	delete(p.open, key)
	if !p.sequential && len(c.items) > 0 && c.items[0].Lane != "" {
		lane := c.items[0].Lane
		if p.laneOpen[lane] == key {
			delete(p.laneOpen, lane)
		}
		c.tickets = []ticket{p.lanes.enter(lane)}
	}
	return p.emit(c)
}

// flush emits every open chunk, oldest first.
func (p *planner) flush() error {
	for p.order.Len() > 0 {
		if err := p.send(p.order.Front().Value.(*chunk).key); err != nil {
			return err
		}
	}
	return nil
}
