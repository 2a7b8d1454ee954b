package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

// TestMovedSince: a row's read-back is proof only if no call of its lanes
// that may have changed them came after its own, in any run: one answered ok
// or unknown, or never answered, counts; one whose rows all failed does not.
func TestMovedSince(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c1, c2, other := ledger.LaneKey("https://crm.example/api", "customer\x00C1"), ledger.LaneKey("https://crm.example/api", "customer\x00C2"),
		ledger.LaneKey("https://other.example/api", "customer\x00C1")
	if c1 == other || c1 == c2 {
		t.Fatal("lane keys of other customers or endpoints are equal")
	}
	run := func(key string) string {
		t.Helper()
		r, err := l.StartRun(ctx, ledger.Run{JobKey: key, Job: "subscriptions", Input: key + ".csv", InputSHA256: key, Started: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	clock := time.UnixMilli(1765000000000)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	// call records a call of one row on lane and, a second later, its
	// outcome ("" = none yet), and returns the call's intent.
	call := func(runID string, seq int, lane uint64, status string) int64 {
		t.Helper()
		if _, err := l.Intend(ctx, runID, []int{seq}, []uint64{uint64(1000 + seq)}, "", ledger.Lanes{Keys: [][]uint64{{lane}}, At: tick()}); err != nil {
			t.Fatal(err)
		}
		if status != "" {
			if err := l.Record(ctx, runID, []ledger.Outcome{{Seq: seq, Row: seq + 2, Status: status, Attempts: 1, EKey: uint64(1000 + seq), Recorded: tick()}}); err != nil {
				t.Fatal(err)
			}
		}
		if status == "ok" || status == "failed" {
			return 0
		}
		p, err := l.RunProgress(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Since[seq]
	}
	r1, r2 := run("a"), run("b")
	lost := call(r1, 0, c1, "unknown") // C1's suspend: the answer lost
	if lost == 0 {
		t.Fatal("no intent for the uncertain row")
	}
	check := func(what string, lane uint64, since int64, want bool) {
		t.Helper()
		got, err := l.MovedSince(ctx, []uint64{lane}, since, 0, 0)
		if err != nil || got != want {
			t.Errorf("%s: moved %v (%v), want %v", what, got, err, want)
		}
	}
	check("nothing since", c1, lost, false)
	// The same effect sent by another run (its action, its customer) is no
	// other call: the subscription's state refuses it twice.
	same := run("same")
	if _, err := l.Intend(ctx, same, []int{0}, []uint64{1000}, "", ledger.Lanes{Keys: [][]uint64{{c1}}, At: tick()}); err != nil {
		t.Fatal(err)
	}
	if got, err := l.MovedSince(ctx, []uint64{c1}, lost, 0, 1000); err != nil || got {
		t.Errorf("a call of the row's own effect: moved %v (%v), want false", got, err)
	}
	if got, err := l.MovedSince(ctx, []uint64{c1}, lost, 0, 0); err != nil || !got {
		t.Errorf("another effect's call in flight: moved %v (%v), want true", got, err)
	}
	if err := l.Record(ctx, same, []ledger.Outcome{{Seq: 0, Row: 2, Status: "failed", Attempts: 1, EKey: 1000, Recorded: tick()}}); err != nil {
		t.Fatal(err)
	}
	call(r1, 1, c1, "failed") // the next row refused: it moved nothing
	call(r1, 2, c2, "ok")     // another customer
	check("a refused call and another customer's", c1, lost, false)
	elsewhere := call(r2, 5, other, "unknown") // the same name at another endpoint
	call(r1, 4, c1, "ok")
	check("another endpoint's customer of the same name", other, elsewhere, false)
	check("a later call of the same run", c1, lost, true)
	inflight := call(r2, 1, c2, "") // C2: no answer yet
	check("its own call is not after it", c2, inflight, false)
	call(r1, 3, c2, "") // a later call of C2 without an answer
	check("a later call without an answer", c2, inflight, true)
	check("a call of no known intent", c1, 0, true)

	// Another process's call, intended before a row's and answered after it
	// was intended (or never), may have reached the server after it.
	r3 := run("c")
	c3 := ledger.LaneKey("https://crm.example/api", "customer\x00C3")
	if _, err := l.Intend(ctx, r3, []int{0}, []uint64{3000}, "", ledger.Lanes{Keys: [][]uint64{{c3}}, At: tick()}); err != nil {
		t.Fatal(err)
	}
	row := call(r1, 6, c3, "unknown")
	check("another process's call in flight", c3, row, true)
	if err := l.Record(ctx, r3, []ledger.Outcome{{Seq: 0, Row: 2, Status: "ok", Attempts: 1, EKey: 3000, Recorded: tick()}}); err != nil {
		t.Fatal(err)
	}
	check("another process's call answered after the row's", c3, row, true)
	c4 := ledger.LaneKey("https://crm.example/api", "customer\x00C4")
	call(r3, 1, c4, "ok") // answered before the next row was intended
	row = call(r1, 7, c4, "unknown")
	check("another process's call answered before", c4, row, false)

	// A row sent again once moved stays moved, in its run and its lineage.
	if _, err := l.Intend(ctx, r2, []int{9}, []uint64{1009}, "", ledger.Lanes{Keys: [][]uint64{{c1}}, Moved: []bool{true}}); err != nil {
		t.Fatal(err)
	}
	if p, err := l.RunProgress(ctx, r2); err != nil || !p.Moved[9] || p.Moved[1] {
		t.Errorf("moved rows of the run %v (%v), want row 9 alone", p.Moved, err)
	}
	runs, err := l.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.ID == r2 {
			if e, err := l.LineageProgress(ctx, r.Lineage, ""); err != nil || !e.Moved[1009] {
				t.Errorf("moved effects of the lineage %v (%v), want 1009", e.Moved, err)
			}
		}
	}
}
