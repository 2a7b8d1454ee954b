package batch

import (
	"container/list"
	"context"
	"sync"

	"github.com/crmbatch/crmbatch/kind"
)

// chunk is the rows of one call.
type chunk struct {
	key     string
	first   int         // the seq of its first row
	n       int         // rows
	lanes   []string    // the lanes of its rows, which share its key
	items   []kind.Item // the rows; nil when the planner only counts
	tickets []ticket    // at most one: the chunk's place in its lanes
}

// ticket keeps the rows of its lanes (customer, subscription) in file order: the
// holder waits for every prev to close, runs, then closes done. Tickets are
// handed out by one goroutine in file order and wait only on earlier ones, so
// a row on two lanes cannot deadlock.
type ticket struct {
	prev  []<-chan struct{}
	done  chan struct{}
	lanes []string
}

// lanes hands out tickets in file order.
type lanes struct {
	mu   sync.Mutex
	tail map[string]chan struct{}
}

func newLanes() *lanes { return &lanes{tail: map[string]chan struct{}{}} }

func (l *lanes) enter(lanes []string) ticket {
	if len(lanes) == 0 {
		return ticket{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := ticket{done: make(chan struct{}), lanes: lanes}
	for _, lane := range lanes {
		if prev := l.tail[lane]; prev != nil {
			t.prev = append(t.prev, prev)
		}
		l.tail[lane] = t.done
	}
	return t
}

// wait blocks until every earlier row of the ticket's lanes is done.
func (t ticket) wait(ctx context.Context) error {
	for _, prev := range t.prev {
		select {
		case <-prev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (l *lanes) leave(t ticket) {
	if t.done == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	close(t.done)
	for _, lane := range t.lanes {
		if l.tail[lane] == t.done {
			delete(l.tail, lane)
		}
	}
}

// planner groups valid rows into chunks as they are read, emitting a chunk when
// it is full. At most maxOpen chunks are open at once (the oldest is emitted
// early), so memory stays bounded whatever the file's size or number of keys;
// and a chunk is emitted once its first row is maxAge rows behind the reading
// (expire), so that the reports, written in file order, never wait for a row
// the reading holds back while it waits for the reports.
type planner struct {
	size    int
	maxOpen int
	maxAge  int  // 0 = chunks do not age
	count   bool // count the rows of each chunk, keep none (a plan, not a run)
	lanes   *lanes
	emit    func(*chunk) error

	open     map[string]*list.Element // key → element of order holding *chunk
	order    *list.List
	laneOpen map[string]string // lane → key of its open chunk
}

// newPlanner plans the chunks of a kind that is not sequential (the rows of a
// sequential kind are scheduled one by one: see rowScheduler).
func newPlanner(size int, maxOpen int, ln *lanes, emit func(*chunk) error) *planner {
	return &planner{size: size, maxOpen: maxOpen, lanes: ln, emit: emit,
		open: map[string]*list.Element{}, order: list.New(), laneOpen: map[string]string{}}
}

// expire emits the open chunks whose first row is more than maxAge rows
// before row seq, oldest first.
func (p *planner) expire(seq int) error {
	for p.maxAge > 0 && p.order.Len() > 0 {
		c := p.order.Front().Value.(*chunk)
		if seq-c.first <= p.maxAge {
			return nil
		}
		if err := p.send(c.key); err != nil {
			return err
		}
	}
	return nil
}

// add places one valid row in its chunk.
func (p *planner) add(it kind.Item) error {
	if err := p.expire(it.Seq); err != nil {
		return err
	}
	// One open chunk per lane: a row of another call for the same lane first
	// sends what is open, so the lane's calls go out in file order.
	for _, lane := range it.Lanes {
		if k, ok := p.laneOpen[lane]; ok && k != it.Key {
			if err := p.send(k); err != nil {
				return err
			}
		}
	}
	for _, lane := range it.Lanes {
		p.laneOpen[lane] = it.Key
	}
	e, ok := p.open[it.Key]
	if !ok {
		if p.order.Len() >= p.maxOpen {
			if err := p.send(p.order.Front().Value.(*chunk).key); err != nil {
				return err
			}
		}
		e = p.order.PushBack(&chunk{key: it.Key, first: it.Seq})
		p.open[it.Key] = e
	}
	c := e.Value.(*chunk)
	if c.n == 0 {
		c.lanes = it.Lanes
	}
	c.n++
	if !p.count {
		c.items = append(c.items, it)
	}
	if c.n >= p.size {
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
	if lanes := c.lanes; len(lanes) > 0 {
		for _, lane := range lanes {
			if p.laneOpen[lane] == key {
				delete(p.laneOpen, lane)
			}
		}
		c.tickets = []ticket{p.lanes.enter(lanes)}
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
