package ledger_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

// BenchmarkRecordCall records the outcomes of one devices call of 1,000 rows,
// every one ok, as a run does after each call:
//
//	go test -run '^$' -bench RecordCall ./ledger
func BenchmarkRecordCall(b *testing.B) {
	l, err := ledger.Open(filepath.Join(b.TempDir(), "state"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	run, err := l.StartRun(ctx, ledger.Run{JobKey: "1699f7e8e8c6dce9", Job: "devices", Input: "devices.csv", InputSHA256: "abc", Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	outs := make([]ledger.Outcome, rows)
	seq := 0
	for b.Loop() {
		now := time.Now()
		for i := range outs {
			outs[i] = ledger.Outcome{Seq: seq, Row: seq + 2, Status: "ok", Attempts: 1, Recorded: now, EKey: uint64(seq)*0x9E3779B97F4A7C15 + 1}
			seq++
		}
		if err := l.Record(ctx, run.ID, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
