package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
		if _, err := l.Intend(ctx, "r", seqs, nil, "", ledger.Lanes{}); err != nil {
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
		if p.Done.Has(tc.seq) != tc.done || uncertain != tc.uncertain {
			t.Errorf("seq %d: done %v uncertain %v, want %v %v", tc.seq, p.Done.Has(tc.seq), uncertain, tc.done, tc.uncertain)
		}
	}
}

// TestRecordKeepsEveryOutcome records calls of every size around the INSERT
// pieces (uniform stretches, outcomes with outputs among them, a row recorded
// twice in one call) and reads each outcome back whole.
func TestRecordKeepsEveryOutcome(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1700000000000)
	ok := func(seq int) ledger.Outcome {
		return ledger.Outcome{Seq: seq, Row: seq + 2, Status: "ok", Attempts: 1, Recorded: at, EKey: uint64(seq) + 1<<63}
	}
	for _, tc := range []struct {
		name string
		outs func() []ledger.Outcome
	}{
		{"one", func() []ledger.Outcome { return []ledger.Outcome{ok(0)} }},
		{"63", func() []ledger.Outcome { return upTo(63, ok) }},
		{"64", func() []ledger.Outcome { return upTo(64, ok) }},
		{"65", func() []ledger.Outcome { return upTo(65, ok) }},
		{"1000", func() []ledger.Outcome { return upTo(1000, ok) }},
		{"outputs and failures among them", func() []ledger.Outcome {
			outs := upTo(300, ok)
			for i := range outs {
				switch {
				case i%7 == 0:
					outs[i].Outputs = map[string]string{"netflix_token": "T" + string(rune('a'+i%26))}
				case i%11 == 0:
					outs[i].Status, outs[i].Code, outs[i].Message, outs[i].Attempts = "failed", "E1", "refused", 2
				case i%13 == 0:
					outs[i].Recorded = at.Add(time.Duration(i) * time.Millisecond)
				}
			}
			return outs
		}},
		{"a row recorded twice: the later outcome is kept", func() []ledger.Outcome {
			outs := upTo(100, ok)
			again := ok(40)
			again.Status, again.Code, again.Message = "unknown", "LOST", "answer lost"
			return append(outs, again)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := ledger.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			outs := tc.outs()
			if err := l.Record(ctx, "r", outs); err != nil {
				t.Fatal(err)
			}
			want := map[int]ledger.Outcome{}
			for _, o := range outs {
				want[o.Seq] = o
			}
			cur, err := l.Outcomes(ctx, "r")
			if err != nil {
				t.Fatal(err)
			}
			defer cur.Close()
			n := 0
			for got, more := cur.Next(); more; got, more = cur.Next() {
				w := want[got.Seq]
				if got.Row != w.Row || got.Status != w.Status || got.Code != w.Code || got.Message != w.Message ||
					got.Attempts != w.Attempts || !got.Recorded.Equal(w.Recorded) || len(got.Outputs) != len(w.Outputs) ||
					got.Outputs["netflix_token"] != w.Outputs["netflix_token"] {
					t.Fatalf("seq %d: got %+v, want %+v", got.Seq, got, w)
				}
				n++
			}
			if err := cur.Err(); err != nil {
				t.Fatal(err)
			}
			if n != len(want) {
				t.Fatalf("%d outcomes read back, want %d", n, len(want))
			}
		})
	}
}

func upTo(n int, outcome func(seq int) ledger.Outcome) []ledger.Outcome {
	outs := make([]ledger.Outcome, n)
	for i := range outs {
		outs[i] = outcome(i)
	}
	return outs
}

// TestPreparedLedger builds a ledger aside, as a run does while it reads its
// file: discarded, it leaves neither file nor the folders made for it; opened,
// it is the folder's ledger, unless another process put one there first.
func TestPreparedLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		open    bool
		another bool // a ledger is put in place between Prepare and Open
	}{
		{name: "discarded"},
		{name: "opened", open: true},
		{name: "another came first", open: true, another: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dir := filepath.Join(base, "state", "crmbatch")
			p, err := ledger.Prepare(dir, ledger.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, ledger.FileName)); err == nil {
				t.Fatal("a prepared ledger is in place before Open")
			}
			if !tc.open {
				p.Discard()
				if entries, _ := os.ReadDir(base); len(entries) != 0 {
					t.Fatalf("discarded, it left %v", entries)
				}
				return
			}
			var first string
			if tc.another {
				l, err := ledger.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				first = l.ID()
				if _, err := l.StartRun(ctx, ledger.Run{JobKey: "k", Job: "devices", Input: "x.csv", InputSHA256: "s", Started: time.Now()}); err != nil {
					t.Fatal(err)
				}
				l.Close()
			}
			l, err := p.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			runs, err := l.Runs(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if tc.another && (l.ID() != first || len(runs) != 1) {
				t.Fatalf("ledger %s with %d runs, want the first one, %s, with its run", l.ID(), len(runs), first)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) == 0 || entries[0].Name() != ledger.FileName {
				t.Fatalf("the folder holds %v", entries)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".ledger-") {
					t.Fatalf("the temporary ledger %s was left", e.Name())
				}
			}
		})
	}
}

// TestSeqs holds the set of rows a resumed run skips at the edges of its
// words: a row is in it once added, whatever else is.
func TestSeqs(t *testing.T) {
	t.Parallel()
	var s ledger.Seqs
	in := []int{0, 63, 64, 65, 127, 128, 10_000_000, 63}
	for _, seq := range in {
		s.Add(seq)
	}
	want := map[int]bool{0: true, 63: true, 64: true, 65: true, 127: true, 128: true, 10_000_000: true}
	for _, seq := range []int{-1, 0, 1, 62, 63, 64, 65, 66, 126, 127, 128, 129, 9_999_999, 10_000_000, 10_000_001, 1 << 40} {
		if got := s.Has(seq); got != want[seq] {
			t.Errorf("Has(%d) = %v, want %v", seq, got, want[seq])
		}
	}
	if s.Len() != len(want) {
		t.Errorf("Len = %d, want %d", s.Len(), len(want))
	}
}
