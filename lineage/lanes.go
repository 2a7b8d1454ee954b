package lineage

import (
	"context"
	"slices"
	"sync"

	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
)

// LanesPast knows, lane by lane (a lane is a customer), where this run has
// moved a lane past what a row's call knew of it, so that a read-back of the
// row is not taken for proof: a row ended unknown whose lane the run then
// sends a later call of, and an uncertain row (sent by an earlier run, with
// no answer) whose lane this run changed first, such as a failures report's
// fixed earlier row of the same customer. The intent of the call that moves
// past a row records it as passed, in the same write, before the call is
// sent; when that call then certainly applied nothing (every row of the lane
// failed), it moved nothing, and the pass is taken back. A lane's calls run
// one after the other, each recorded before the next is intended.
type LanesPast struct {
	mu      sync.Mutex
	unknown map[string][]pending // lane → rows ended unknown that no later call has passed yet
	passing map[string][]pending // lane → rows the lane's call in flight passed
	sent    map[string]bool      // lanes a call of which may have applied (at most maxLanesSent)
	forgot  bool                 // sent outgrew maxLanesSent and was emptied: every lane counts as sent
	ctx     context.Context
	led     *ledger.Ledger
	runID   string
}

// pending is a row ended unknown; lanes is how many lanes it is on.
type pending struct{ seq, lanes int }

// maxLanesSent bounds what LanesPast remembers of the lanes sent (~10 MB);
// past it, every uncertain row counts as moved past, as if all were sent.
const maxLanesSent = 100_000

// NewLanesPast is what run runID of led knows of its lanes; ctx is the one
// of its ledger writes.
func NewLanesPast(ctx context.Context, led *ledger.Ledger, runID string) *LanesPast {
	return &LanesPast{unknown: map[string][]pending{}, passing: map[string][]pending{}, sent: map[string]bool{},
		ctx: ctx, led: led, runID: runID}
}

// Visit is told of each row as it is about to be sent, after the earlier
// rows of its lanes: an uncertain row whose lanes a call of this run may have
// changed before is marked MovedOn.
func (l *LanesPast) Visit(it *kind.Item) {
	if !it.Uncertain {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lane := range it.Lanes {
		if l.forgot || l.sent[lane] {
			it.MovedOn = true
		}
	}
}

// Ended takes the results of a call: a lane with a row ok or unknown may
// have changed, and its rows ended unknown wait for the lane's next call; a
// lane whose rows all failed changed nothing, and the rows its call passed
// are not passed after all.
func (l *LanesPast) Ended(items []kind.Item, res []kind.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	moved := map[string]bool{}
	failed := map[string]bool{}
	for i, it := range items {
		for _, lane := range it.Lanes {
			switch res[i].Status {
			case report.StatusOK, report.StatusUnknown:
				moved[lane] = true
			case report.StatusFailed:
				failed[lane] = true
			}
		}
		if res[i].Status == report.StatusUnknown {
			for _, lane := range it.Lanes {
				l.unknown[lane] = append(l.unknown[lane], pending{it.Seq, len(it.Lanes)})
			}
		}
	}
	var unpassed []int
	for lane := range moved {
		if len(l.sent) >= maxLanesSent {
			l.sent, l.forgot = map[string]bool{}, true
		}
		l.sent[lane] = true
		delete(l.passing, lane)
	}
	for lane := range failed {
		if moved[lane] {
			continue
		}
		for _, p := range l.passing[lane] {
			if p.lanes == 1 { // a row on two lanes stays passed: the other may have moved
				unpassed = append(unpassed, p.seq)
				l.unknown[lane] = append(l.unknown[lane], p)
			}
		}
		delete(l.passing, lane)
	}
	if len(unpassed) > 0 {
		// Not taken back, a pass only keeps the row unknown: the safe side.
		_ = l.led.Unpass(l.ctx, l.runID, unpassed)
	}
}

// PassedBy is what the intent of a call of items records as passed: the rows
// ended unknown earlier in its lanes, and its own uncertain rows moved past.
func (l *LanesPast) PassedBy(items []kind.Item) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var passed []int
	add := func(seq int) bool {
		if slices.Contains(passed, seq) {
			return false
		}
		passed = append(passed, seq)
		return true
	}
	for _, it := range items {
		if it.Uncertain && it.MovedOn {
			add(it.Seq)
		}
		for _, lane := range it.Lanes {
			var kept []pending
			for _, p := range l.unknown[lane] {
				if p.seq == it.Seq {
					kept = append(kept, p) // the row itself, sent again
					continue
				}
				add(p.seq)
				l.passing[lane] = append(l.passing[lane], p)
			}
			if l.unknown[lane] = kept; len(kept) == 0 {
				delete(l.unknown, lane)
			}
		}
	}
	return passed
}
