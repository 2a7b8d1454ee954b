package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

func TestOutcomesComeBackInRowOrder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	l, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	run, err := l.StartRun(ctx, ledger.Run{JobKey: "k1", Job: "devices", Input: "x.csv", InputSHA256: "abc", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.StartRun(ctx, ledger.Run{JobKey: "k1", Job: "devices", Input: "x.csv", InputSHA256: "abc", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != "k1-1" || again.ID != "k1-2" {
		t.Fatalf("run ids %q %q, want k1-1 k1-2", run.ID, again.ID)
	}

	// Outcomes arrive out of order from concurrent calls, through the writer.
	w := l.NewWriter(run.ID)
	for _, seqs := range [][]int{{5, 6, 7}, {0, 1}, {9}, {2, 3, 4, 8}} {
		var outs []ledger.Outcome
		for _, s := range seqs {
			o := ledger.Outcome{Seq: s, Row: s + 2, Status: "ok", Attempts: 1, Recorded: time.UnixMilli(1700000000000)}
			if s == 3 {
				o.Status, o.Code, o.Message = "failed", "1", "not issued for the customer"
			}
			if s == 8 {
				o.Outputs = map[string]string{"subscription_number": "S1"}
			}
			outs = append(outs, o)
		}
		if err := w.Add(outs); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cur, err := l.Outcomes(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	n := 0
	for o, ok := cur.Next(); ok; o, ok = cur.Next() {
		if o.Seq != n || o.Row != n+2 {
			t.Fatalf("outcome %d has seq %d row %d", n, o.Seq, o.Row)
		}
		switch n {
		case 3:
			if o.Status != "failed" || o.Code != "1" || o.Message != "not issued for the customer" {
				t.Fatalf("seq 3 = %+v", o)
			}
		case 8:
			if o.Outputs["subscription_number"] != "S1" {
				t.Fatalf("seq 8 outputs = %v", o.Outputs)
			}
		}
		if !o.Recorded.Equal(time.UnixMilli(1700000000000)) {
			t.Fatalf("recorded %v", o.Recorded)
		}
		n++
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Fatalf("%d outcomes, want 10", n)
	}
	info, err := os.Stat(filepath.Join(dir, ledger.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("ledger mode %v, want 0600", perm)
	}
}

func TestProgressOfAStoppedRun(t *testing.T) {
	t.Parallel()
	l, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for _, seqs := range [][]int{{0, 1, 2}, {7, 3, 900000}, {5}} {
		if _, err := l.Intend(ctx, "r", seqs, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Record(ctx, "r", []ledger.Outcome{{Seq: 0, Status: "ok"}, {Seq: 2, Status: "failed"}, {Seq: 7, Status: "ok"}, {Seq: 5, Status: "unknown"}}); err != nil {
		t.Fatal(err)
	}
	p, err := l.RunProgress(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		seq             int
		done, uncertain bool
	}{{0, true, false}, {1, false, true}, {2, true, false}, {3, false, true}, {5, false, true}, {7, true, false}, {900000, false, true}, {4, false, false}} {
		_, uncertain := p.Uncertain[tc.seq]
		if p.Done[tc.seq] != tc.done || uncertain != tc.uncertain {
			t.Errorf("seq %d: done %v uncertain %v, want %v %v", tc.seq, p.Done[tc.seq], uncertain, tc.done, tc.uncertain)
		}
	}
}
