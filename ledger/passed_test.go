package ledger_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

// TestPassedRows: a row is passed once the intent of a later call records it
// so, whether its own call ended unknown or never answered, until the pass is
// taken back; a row whose call ended otherwise, or that no later call went
// past, is not. The next run of the lineage knows the passed rows by their
// effect keys.
func TestPassedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	run, err := l.StartRun(ctx, ledger.Run{JobKey: "k", Job: "subscriptions", Input: "job.csv", InputSHA256: "aa", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1765000000000)
	intend := func(seq int, passed ...int) {
		t.Helper()
		if _, err := l.Intend(ctx, run.ID, []int{seq}, []uint64{uint64(100 + seq)}, "", passed); err != nil {
			t.Fatal(err)
		}
	}
	outcome := func(seq int, status string) {
		t.Helper()
		if err := l.Record(ctx, run.ID, []ledger.Outcome{{Seq: seq, Row: seq + 2, Status: status, Attempts: 1, EKey: uint64(100 + seq), Recorded: at}}); err != nil {
			t.Fatal(err)
		}
	}
	intend(0)
	outcome(0, "unknown") // passed by row 1's call
	intend(1, 0)
	outcome(1, "ok")
	intend(2)
	outcome(2, "unknown") // the last of its lane: not passed
	intend(3)
	outcome(3, "failed")
	intend(4, 3) // a failed row passed: it is done, not uncertain
	intend(5, 5) // sent after a call of its lane, and no answer
	p, err := l.RunProgress(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]bool{0: true, 5: true}; !reflect.DeepEqual(p.Passed, want) {
		t.Errorf("passed rows %v, want %v", p.Passed, want)
	}
	if len(p.Uncertain) != 4 { // 0, 2, 4, 5
		t.Errorf("uncertain rows %v, want 0, 2, 4 and 5", p.Uncertain)
	}
	// The call that passed row 0 failed after all: the pass is taken back.
	if err := l.Unpass(ctx, run.ID, []int{0}); err != nil {
		t.Fatal(err)
	}
	if p, err = l.RunProgress(ctx, run.ID); err != nil || !reflect.DeepEqual(p.Passed, map[int]bool{5: true}) {
		t.Errorf("passed rows %v (%v) once row 0's pass is taken back, want row 5 alone", p.Passed, err)
	}
	if _, err := l.Intend(ctx, run.ID, []int{6}, []uint64{106}, "", []int{0}); err != nil {
		t.Fatal(err)
	}
	e, err := l.LineageProgress(ctx, run.Lineage, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[uint64]bool{100: true, 105: true}; !reflect.DeepEqual(e.Passed, want) {
		t.Errorf("passed effects of the lineage %v, want %v", e.Passed, want)
	}
}
