package ledger_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

// TestLayout4Upgrades: user_version 4 ledgers were written by two builds:
// those that kept a passed table, and those (7450511) that recorded
// lane_calls without the time each call was intended. Both must open with
// today's code and record a call of a customer, and a read-back's question
// must be answered.
func TestLayout4Upgrades(t *testing.T) {
	t.Parallel()
	passed := `CREATE TABLE IF NOT EXISTS passed (
	run_id TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;`
	lanes := `CREATE TABLE IF NOT EXISTS lane_calls (
	lane   INTEGER NOT NULL,
	intent INTEGER NOT NULL,
	run_id TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	ekey   INTEGER NOT NULL,
	moved  INTEGER NOT NULL,
	PRIMARY KEY (lane, intent, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lane_calls_moved ON lane_calls(run_id) WHERE moved = 1;
INSERT INTO meta (key, value) VALUES ('lanes_from', 0);`
	for _, tc := range []struct{ name, extra string }{
		{"passed table", passed},
		{"lane_calls without at (7450511)", lanes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, ledger.FileName)
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(schema3 + tc.extra + `PRAGMA user_version = 4;`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			ctx := context.Background()
			l, err := ledger.Open(dir)
			if err != nil {
				t.Fatalf("opening a layout 4 ledger: %v", err)
			}
			defer l.Close()
			r, err := l.StartRun(ctx, ledger.Run{JobKey: "a", Job: "subscriptions", Input: "a.csv", InputSHA256: "a", Started: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			c1 := ledger.LaneKey("https://crm.example/api", "customer\x00C1")
			if _, err := l.Intend(ctx, r.ID, []int{0}, []uint64{1000}, "", ledger.Lanes{Keys: [][]uint64{{c1}}, At: time.Now()}); err != nil {
				t.Fatalf("recording a call of a customer in an upgraded layout 4 ledger: %v", err)
			}
			p, err := l.RunProgress(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if moved, err := l.MovedSince(ctx, []uint64{c1}, p.Since[0], 0, 0); err != nil || moved {
				t.Errorf("MovedSince of the only call: %v (%v), want false", moved, err)
			}
		})
	}
}
