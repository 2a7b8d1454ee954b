package ledger_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

// Run `go test ./ledger -run TestSchemaUpgrade -update` to write the fixture
// ledgers in testdata/ again from the old layouts below.
var update = flag.Bool("update", false, "rewrite the fixture ledgers in testdata/")

// schema1 is the ledger's layout 1, as crmbatch 7f2e7d4 ("One intent record
// per call ..., and a schema version in the ledger") created it: no meta and
// no claims, intents without an id, effect keys or references.
const schema1 = `
CREATE TABLE IF NOT EXISTS runs (
	id           TEXT PRIMARY KEY,
	job_key      TEXT NOT NULL,
	job          TEXT NOT NULL,
	input        TEXT NOT NULL,
	input_sha256 TEXT NOT NULL,
	started      TEXT NOT NULL,
	finished     TEXT,
	summary      TEXT
);
CREATE INDEX IF NOT EXISTS runs_job_key ON runs(job_key);
CREATE TABLE IF NOT EXISTS intents (
	run_id TEXT NOT NULL,
	seqs   BLOB NOT NULL -- the rows of one call: varint deltas of their seq numbers
);
CREATE INDEX IF NOT EXISTS intents_run ON intents(run_id);
CREATE TABLE IF NOT EXISTS done_keys (
	kind     TEXT NOT NULL,
	key      TEXT NOT NULL,
	run_id   TEXT NOT NULL,
	action   TEXT NOT NULL,
	detail   TEXT NOT NULL,
	recorded INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (
	run_id   TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	row      INTEGER NOT NULL,
	status   TEXT NOT NULL,
	code     TEXT NOT NULL,
	message  TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	outputs  TEXT NOT NULL,
	recorded INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
`

// schema2 is layout 2, as crmbatch b78c377 ("Truthful outcomes: ...
// lineages in the ledger, charge claims, per-intent transaction
// references") created it, unchanged until layout 3 (1913e85).
const schema2 = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
	id           TEXT PRIMARY KEY,
	job_key      TEXT NOT NULL,
	job          TEXT NOT NULL,
	input        TEXT NOT NULL,
	input_sha256 TEXT NOT NULL,
	started      TEXT NOT NULL,
	finished     TEXT,
	summary      TEXT,
	lineage      TEXT NOT NULL DEFAULT '',
	endpoint     TEXT NOT NULL DEFAULT '',
	input_name   TEXT NOT NULL DEFAULT '',
	fingerprint  BLOB
);
CREATE INDEX IF NOT EXISTS runs_job_key ON runs(job_key);
CREATE TABLE IF NOT EXISTS intents (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id    TEXT NOT NULL,
	seqs      BLOB NOT NULL, -- the rows of one call: varint deltas of their seq numbers
	ekeys     BLOB,          -- the effect key of each row, 8 bytes each, same order
	reference TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS intents_run ON intents(run_id);
CREATE TABLE IF NOT EXISTS done_keys (
	kind     TEXT NOT NULL,
	key      TEXT NOT NULL,
	run_id   TEXT NOT NULL,
	action   TEXT NOT NULL,
	detail   TEXT NOT NULL,
	recorded INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
	scope    TEXT NOT NULL, -- the kind and canonical endpoint whose entities are final (charges)
	key      TEXT NOT NULL, -- the entity (a charge number)
	run_id   TEXT NOT NULL, -- the run that holds it
	state    TEXT NOT NULL, -- sending, done, unknown
	action   TEXT NOT NULL,
	detail   TEXT NOT NULL,
	recorded INTEGER NOT NULL,
	PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (
	run_id   TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	row      INTEGER NOT NULL,
	status   TEXT NOT NULL,
	code     TEXT NOT NULL,
	message  TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	outputs  TEXT NOT NULL,
	recorded INTEGER NOT NULL, -- unix milliseconds
	ekey     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
`

// schema3 is layout 3, as crmbatch 1913e85 created it, unchanged until
// layout 4 (the passed table): layout 2 and the runs' flags and reports.
var schema3 = strings.Replace(schema2, "\tfingerprint  BLOB\n);", "\tfingerprint  BLOB,\n"+
	"\tflags        TEXT NOT NULL DEFAULT '',\n"+
	"\tresults      TEXT NOT NULL DEFAULT '',\n"+
	"\tfailures     TEXT NOT NULL DEFAULT '',\n"+
	"\tabandoned    TEXT NOT NULL DEFAULT ''\n);", 1)

// The fixtures' two runs: a devices run that finished, and a charges run
// that stopped with row 3 unknown and row 4 sent without an answer.
const (
	fxStarted1  = "2026-11-20T22:00:01.5Z"
	fxFinished1 = "2026-11-20T22:00:09Z"
	fxStarted2  = "2026-11-21T02:30:00Z"
	fxRecorded  = 1763676005000 // unix ms
	fxLedgerID  = "A1B2C3D4E5F6"
)

// fixtureSQL fills a ledger of the given layout as that crmbatch wrote it:
// the same INSERTs, with the columns it knew.
func fixtureSQL(version int) []string {
	seqs := func(s ...int) string { // varint deltas, as Intend wrote them
		var b []byte
		prev := 0
		for _, x := range s {
			b = binary.AppendVarint(b, int64(x-prev))
			prev = x
		}
		return fmt.Sprintf("x'%x'", b)
	}
	outcome := func(run string, seq, row int, status, code, msg string, outputs string) string {
		cols, vals := "run_id, seq, row, status, code, message, attempts, outputs, recorded", fmt.Sprintf("'%s', %d, %d, '%s', '%s', '%s', 1, '%s', %d", run, seq, row, status, code, msg, outputs, fxRecorded+int64(seq))
		if version >= 2 {
			cols, vals = cols+", ekey", vals+fmt.Sprintf(", %d", 1000+seq)
		}
		return "INSERT OR REPLACE INTO outcomes (" + cols + ") VALUES (" + vals + ")"
	}
	stmts := []string{
		outcome("k1-1", 0, 2, "ok", "", "", `{"device_id":"D-1"}`),
		outcome("k1-1", 1, 3, "failed", "INVALID_ESN", "the ESN is not 12 characters", ""),
		outcome("k1-1", 2, 5, "ok", "", "", `{"device_id":"D-3"}`),
		outcome("k2-1", 0, 2, "ok", "", "", ""),
		outcome("k2-1", 1, 3, "unknown", "TIMEOUT", "no answer in time", ""),
		fmt.Sprintf(`INSERT OR REPLACE INTO done_keys (kind, key, run_id, action, detail, recorded) VALUES ('charges', 'CH-1001', 'k2-1', 'accept', '', %d)`, fxRecorded),
	}
	if version == 1 {
		return append(stmts,
			`INSERT INTO runs (id, job_key, job, input, input_sha256, started) VALUES ('k1-1', 'k1', 'devices', '/jobs/devices.csv', 'aa11', '`+fxStarted1+`')`,
			`UPDATE runs SET finished = '`+fxFinished1+`', summary = '{"ok":2,"failed":1}' WHERE id = 'k1-1'`,
			`INSERT INTO runs (id, job_key, job, input, input_sha256, started) VALUES ('k2-1', 'k2', 'charges', '/jobs/charges.xlsx', 'bb22', '`+fxStarted2+`')`,
			`INSERT INTO intents (run_id, seqs) VALUES ('k1-1', `+seqs(0, 1, 2)+`)`,
			`INSERT INTO intents (run_id, seqs) VALUES ('k2-1', `+seqs(0, 1, 2)+`)`,
		)
	}
	return append(stmts,
		`INSERT INTO meta (key, value) VALUES ('ledger_id', '`+fxLedgerID+`')`,
		`INSERT INTO runs (id, job_key, job, input, input_sha256, started, lineage, endpoint, input_name, fingerprint) VALUES
			('k1-1', 'k1', 'devices', '/jobs/devices.csv', 'aa11', '`+fxStarted1+`', 'k1-1', 'https://crm.example/api', 'devices.csv', NULL)`,
		`UPDATE runs SET finished = '`+fxFinished1+`', summary = '{"ok":2,"failed":1}' WHERE id = 'k1-1'`,
		`INSERT INTO runs (id, job_key, job, input, input_sha256, started, lineage, endpoint, input_name, fingerprint) VALUES
			('k2-1', 'k2', 'charges', '/jobs/charges.xlsx', 'bb22', '`+fxStarted2+`', 'k0-1', 'https://crm.example/api', 'charges.xlsx', x'0000000000000001')`,
		`INSERT INTO intents (run_id, seqs, ekeys, reference) VALUES ('k1-1', `+seqs(0, 1, 2)+`, NULL, '')`,
		`INSERT INTO intents (run_id, seqs, ekeys, reference) VALUES ('k2-1', `+seqs(0, 1, 2)+`, NULL, 'CRMB-OLD-7')`,
		fmt.Sprintf(`INSERT OR REPLACE INTO claims (scope, key, run_id, state, action, detail, recorded) VALUES
			('charges@https://crm.example/api', 'CH-2002', 'k2-1', 'done', 'accept', 'accepted', %d)`, fxRecorded+1),
	)
}

// writeFixture creates path as crmbatch of layout version did: its schema,
// its user_version, its rows; checkpointed, so the file is the whole ledger.
func writeFixture(t *testing.T, path string, version int) {
	t.Helper()
	os.Remove(path)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	layout := map[int]string{1: schema1, 2: schema2, 3: schema3}[version]
	if _, err := db.Exec(layout + fmt.Sprintf("PRAGMA user_version = %d;", version)); err != nil {
		t.Fatal(err)
	}
	for _, s := range fixtureSQL(version) {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE`); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaUpgrade opens a ledger written by crmbatch of layout 1, 2 and 3
// (testdata/schema1.db, schema2.db, schema3.db) with today's code: it is
// upgraded in place, what the old runs did reads as it was written (runs,
// outcomes, the rows a stopped run may have sent, the charges done), and
// new runs are recorded beside them.
func TestSchemaUpgrade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		version int
		file    string
		// What layout 1 could not hold reads as its default.
		lineage2, endpoint, name2 string
		uncertainRef              func(id string) string
		claim                     bool // a charge done through a claim (layout 2)
	}{
		{name: "layout 1", version: 1, file: "schema1.db", lineage2: "k2-1",
			uncertainRef: func(id string) string { return "CRMB-" + id + "-2" }},
		{name: "layout 2", version: 2, file: "schema2.db", lineage2: "k0-1", endpoint: "https://crm.example/api", name2: "charges.xlsx",
			uncertainRef: func(string) string { return "CRMB-OLD-7" }, claim: true},
		{name: "layout 3", version: 3, file: "schema3.db", lineage2: "k0-1", endpoint: "https://crm.example/api", name2: "charges.xlsx",
			uncertainRef: func(string) string { return "CRMB-OLD-7" }, claim: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fixture := filepath.Join("testdata", tc.file)
			if *update {
				writeFixture(t, fixture, tc.version)
			}
			body, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, ledger.FileName), body, 0o600); err != nil {
				t.Fatal(err)
			}
			if v := userVersion(t, filepath.Join(dir, ledger.FileName)); v != tc.version {
				t.Fatalf("fixture has user_version %d, want %d", v, tc.version)
			}

			l, err := ledger.Open(dir)
			if err != nil {
				t.Fatalf("open a layout %d ledger: %v", tc.version, err)
			}
			if tc.version >= 2 && l.ID() != fxLedgerID {
				t.Errorf("ledger id %q, want the one it had, %q", l.ID(), fxLedgerID)
			}
			checkOldRuns(t, l, tc.lineage2, tc.endpoint, tc.name2)
			checkOldOutcomes(t, l)
			ctx := context.Background()
			p, err := l.RunProgress(ctx, "k2-1")
			if err != nil {
				t.Fatal(err)
			}
			ref := tc.uncertainRef(l.ID())
			if want := map[int]string{1: ref, 2: ref}; !reflect.DeepEqual(p.Uncertain, want) || !p.Done.Has(0) || p.Done.Len() != 1 {
				t.Errorf("progress of the stopped run: done %d rows (has 0: %v), uncertain %v; want 1 row (0), uncertain %v",
					p.Done.Len(), p.Done.Has(0), p.Uncertain, want)
			}
			// Older layouts recorded no lanes: a call of theirs may have
			// been followed by any, and its read-back proves nothing.
			if moved, err := l.MovedSince(ctx, []uint64{ledger.LaneKey("https://crm.example/api", "customer\x00C1")}, p.Since[1], 0, 0); !moved || err != nil {
				t.Errorf("a call of the old layout: moved %v (%v), want true", moved, err)
			}
			done, ok, err := l.Done(ctx, "charges", "CH-1001")
			if err != nil || !ok || done.RunID != "k2-1" || done.Action != "accept" || done.Recorded.UnixMilli() != fxRecorded {
				t.Errorf("charge CH-1001 done: %+v, %v, %v; want by k2-1, accept", done, ok, err)
			}
			if _, ok, err := l.Done(ctx, "charges", "CH-2002"); ok != tc.claim || err != nil {
				t.Errorf("charge CH-2002 done: %v, %v; want %v", ok, err, tc.claim)
			}
			recordNewRun(t, l)
			id := l.ID()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			if v := userVersion(t, filepath.Join(dir, ledger.FileName)); v != 5 {
				t.Errorf("user_version %d after the upgrade, want 5", v)
			}
			// Opened again: nothing to upgrade, the same ledger.
			l, err = ledger.Open(dir)
			if err != nil {
				t.Fatalf("open the upgraded ledger: %v", err)
			}
			if l.ID() != id {
				t.Errorf("ledger id %q on the second open, was %q", l.ID(), id)
			}
			checkOldOutcomes(t, l)
			l.Close()
			ro, err := ledger.OpenReadOnly(dir)
			if err != nil {
				t.Fatalf("history of the upgraded ledger: %v", err)
			}
			defer ro.Close()
			runs, err := ro.Runs(ctx, "")
			if err != nil || len(runs) != 3 {
				t.Fatalf("read-only: %d runs, %v; want 3", len(runs), err)
			}
		})
	}
}

// checkOldRuns compares the fixture's runs, read through today's code.
func checkOldRuns(t *testing.T, l *ledger.Ledger, lineage2, endpoint, name2 string) {
	t.Helper()
	runs, err := l.Runs(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	name1 := ""
	if endpoint != "" {
		name1 = "devices.csv"
	}
	want := []ledger.Run{
		{ID: "k2-1", JobKey: "k2", Job: "charges", Input: "/jobs/charges.xlsx", InputSHA256: "bb22", Started: at(fxStarted2),
			Lineage: lineage2, Endpoint: endpoint, InputName: name2, Fingerprint: []uint64{}},
		{ID: "k1-1", JobKey: "k1", Job: "devices", Input: "/jobs/devices.csv", InputSHA256: "aa11", Started: at(fxStarted1),
			Finished: at(fxFinished1), Summary: []byte(`{"ok":2,"failed":1}`), Lineage: "k1-1", Endpoint: endpoint, InputName: name1, Fingerprint: []uint64{}},
	}
	if endpoint != "" {
		want[0].Fingerprint = []uint64{1}
	}
	if !reflect.DeepEqual(runs, want) {
		t.Errorf("runs:\n got %+v\nwant %+v", runs, want)
	}
}

// checkOldOutcomes reads the finished run's outcomes back for its reports.
func checkOldOutcomes(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	c, err := l.Outcomes(context.Background(), "k1-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	for o, ok := c.Next(); ok; o, ok = c.Next() {
		got = append(got, fmt.Sprintf("%d row %d %s %s %q %d %v %d", o.Seq, o.Row, o.Status, o.Code, o.Message, o.Attempts, o.Outputs, o.Recorded.UnixMilli()-fxRecorded))
	}
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`0 row 2 ok  "" 1 map[device_id:D-1] 0`,
		`1 row 3 failed INVALID_ESN "the ESN is not 12 characters" 1 map[] 1`,
		`2 row 5 ok  "" 1 map[device_id:D-3] 2`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes of k1-1:\n got %q\nwant %q", got, want)
	}
}

// recordNewRun records a run with what layout 3 added (flags, reports) on
// the upgraded ledger, and reads it back.
func recordNewRun(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	ctx := context.Background()
	run, err := l.StartRun(ctx, ledger.Run{JobKey: "k2", Job: "charges", Input: "/jobs/charges.xlsx", InputSHA256: "bb22",
		Started: time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC), Flags: "--sheet Charges", Results: "/out/charges.results.xlsx"})
	if err != nil {
		t.Fatalf("a new run on the upgraded ledger: %v", err)
	}
	if run.ID != "k2-2" {
		t.Errorf("new run %q, want k2-2 (the job's second)", run.ID)
	}
	ref, err := l.Intend(ctx, run.ID, []int{0}, []uint64{7}, "", ledger.Lanes{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, "CRMB-"+l.ID()+"-") {
		t.Errorf("reference %q", ref)
	}
	if err := l.Record(ctx, run.ID, []ledger.Outcome{{Seq: 0, Row: 2, Status: "ok", Attempts: 1, EKey: 7, Recorded: time.UnixMilli(fxRecorded)}}); err != nil {
		t.Fatal(err)
	}
	unfinished, err := l.Unfinished(ctx, "/out/charges.results.xlsx")
	if err != nil || len(unfinished) != 1 || unfinished[0].ID != "k2-2" || unfinished[0].Flags != "--sheet Charges" {
		t.Errorf("unfinished runs writing there: %+v, %v; want k2-2 with its flags", unfinished, err)
	}
}

// userVersion reads the layout a ledger file says it has.
func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
