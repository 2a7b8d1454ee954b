// Package ledger is crmbatch's durable run journal: for every run, the outcome of
// every row that was sent, kept in an embedded SQLite database (WAL, synchronous
// FULL) in the state folder. Reports are built from it, so a run's memory does not
// grow with its file, and what was done survives a crash.
package ledger

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
)

// FileName is the ledger's database file inside the state folder.
const FileName = "ledger.db"

// Ledger is an open ledger. It is safe for concurrent use; writes are serialised.
type Ledger struct {
	db *sql.DB
	mu sync.Mutex
}

// schemaVersion is the ledger's layout, kept in SQLite's user_version.
const schemaVersion = 1

const schema = `
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

// Open opens (creating if needed) the ledger in dir, which is created readable by
// its owner only.
func Open(dir string) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	f.Close()
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	if version > schemaVersion {
		db.Close()
		return nil, fmt.Errorf("ledger %s was written by a newer crmbatch (schema %d, this one knows %d)\nhint: use that crmbatch, or another --state folder", path, version, schemaVersion)
	}
	if _, err := db.Exec(schema + fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion)); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	return &Ledger{db: db}, nil
}

// Close closes the database.
func (l *Ledger) Close() error { return l.db.Close() }

// Run is one run of a job file.
type Run struct {
	ID          string
	JobKey      string // what identifies "the same job": input sha256, kind and options that change what is sent
	Job         string
	Input       string
	InputSHA256 string
	Started     time.Time
	Finished    time.Time // zero while unfinished
	Summary     json.RawMessage
}

// StartRun records a new run. Its ID is JobKey followed by a generation number,
// so runs of the same job are told apart.
func (l *Ledger) StartRun(ctx context.Context, r Run) (Run, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE job_key = ?`, r.JobKey).Scan(&n); err != nil {
		return r, fmt.Errorf("ledger: %w", err)
	}
	r.ID = fmt.Sprintf("%s-%d", r.JobKey, n+1)
	_, err := l.db.ExecContext(ctx, `INSERT INTO runs (id, job_key, job, input, input_sha256, started) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.JobKey, r.Job, r.Input, r.InputSHA256, r.Started.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return r, fmt.Errorf("ledger: %w", err)
	}
	return r, nil
}

// FinishRun marks a run finished with its summary.
func (l *Ledger) FinishRun(ctx context.Context, id string, finished time.Time, summary []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.db.ExecContext(ctx, `UPDATE runs SET finished = ?, summary = ? WHERE id = ?`,
		finished.UTC().Format(time.RFC3339Nano), string(summary), id)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Outcome is what happened to one row that was sent.
type Outcome struct {
	Seq      int // 0-based ordinal of the row in its file
	Row      int // source row number
	Status   string
	Code     string
	Message  string
	Attempts int
	Outputs  map[string]string
	Recorded time.Time
	// Key, when set on an ok outcome, is an entity that must not be done twice
	// across runs (a charge number); Kind, Action and Detail go with it.
	Kind, Key, Action, Detail string
}

// Record stores the outcomes of one call in a single durable transaction.
func (l *Ledger) Record(ctx context.Context, runID string, outs []Outcome) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	// Many rows per INSERT: the per-statement cost dominates a row's.
	const perInsert = 100
	const cols = 9
	args := make([]any, 0, perInsert*cols)
	var q strings.Builder
	for start := 0; start < len(outs); start += perInsert {
		batch := outs[start:min(start+perInsert, len(outs))]
		q.Reset()
		q.WriteString(`INSERT OR REPLACE INTO outcomes (run_id, seq, row, status, code, message, attempts, outputs, recorded) VALUES `)
		args = args[:0]
		for i, o := range batch {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?)")
			outputs := ""
			if len(o.Outputs) > 0 {
				b, err := json.Marshal(o.Outputs)
				if err != nil {
					return fmt.Errorf("ledger: %w", err)
				}
				outputs = string(b)
			}
			args = append(args, runID, o.Seq, o.Row, o.Status, o.Code, o.Message, o.Attempts, outputs, o.Recorded.UnixMilli())
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	for _, o := range outs {
		if o.Key == "" || o.Status != "ok" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO done_keys (kind, key, run_id, action, detail, recorded) VALUES (?, ?, ?, ?, ?, ?)`,
			o.Kind, o.Key, runID, o.Action, o.Detail, o.Recorded.UnixMilli()); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Intend records, durably and before a call is sent, the rows it carries: after
// a crash, rows with an intent and no outcome may have been applied. One call's
// rows are one record, so that a call of 1000 rows costs one small write.
func (l *Ledger) Intend(ctx context.Context, runID string, seqs []int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	blob := make([]byte, 0, 2*len(seqs))
	prev := 0
	for _, seq := range seqs {
		blob = binary.AppendVarint(blob, int64(seq-prev))
		prev = seq
	}
	if _, err := l.db.ExecContext(ctx, `INSERT INTO intents (run_id, seqs) VALUES (?, ?)`, runID, blob); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Progress is what a run did before it stopped: the rows with an outcome and the
// rows sent (an intent) without one.
type Progress struct {
	Done      map[int]bool
	Uncertain map[int]bool
}

// RunProgress reads what an unfinished run did, to resume it.
func (l *Ledger) RunProgress(ctx context.Context, runID string) (Progress, error) {
	p := Progress{Done: map[int]bool{}, Uncertain: map[int]bool{}}
	rows, err := l.db.QueryContext(ctx, `SELECT seq FROM outcomes WHERE run_id = ?`, runID)
	if err != nil {
		return p, fmt.Errorf("ledger: %w", err)
	}
	for rows.Next() {
		var seq int
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return p, fmt.Errorf("ledger: %w", err)
		}
		p.Done[seq] = true
	}
	rows.Close()
	rows, err = l.db.QueryContext(ctx, `SELECT seqs FROM intents WHERE run_id = ?`, runID)
	if err != nil {
		return p, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return p, fmt.Errorf("ledger: %w", err)
		}
		seq := 0
		for len(blob) > 0 {
			d, n := binary.Varint(blob)
			if n <= 0 {
				return p, fmt.Errorf("ledger: a damaged intent of run %s", runID)
			}
			blob = blob[n:]
			seq += int(d)
			if !p.Done[seq] {
				p.Uncertain[seq] = true
			}
		}
	}
	return p, rows.Err()
}

// DoneKey is an entity done by an earlier run.
type DoneKey struct {
	RunID, Action, Detail string
	Recorded              time.Time
}

// Done says whether an entity (a charge number) was done by a run.
func (l *Ledger) Done(ctx context.Context, kind, key string) (DoneKey, bool, error) {
	var d DoneKey
	var rec int64
	err := l.db.QueryRowContext(ctx, `SELECT run_id, action, detail, recorded FROM done_keys WHERE kind = ? AND key = ?`, kind, key).
		Scan(&d.RunID, &d.Action, &d.Detail, &rec)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("ledger: %w", err)
	}
	d.Recorded = time.UnixMilli(rec)
	return d, true, nil
}

// LatestRun returns the most recent run of a job.
func (l *Ledger) LatestRun(ctx context.Context, jobKey string) (Run, bool, error) {
	runs, err := l.runs(ctx, `WHERE job_key = ? ORDER BY started DESC, id DESC LIMIT 1`, jobKey)
	if err != nil || len(runs) == 0 {
		return Run{}, false, err
	}
	return runs[0], true, nil
}

// Runs lists runs, the newest first; with id, only that run.
func (l *Ledger) Runs(ctx context.Context, id string) ([]Run, error) {
	if id != "" {
		return l.runs(ctx, `WHERE id = ?`, id)
	}
	return l.runs(ctx, `ORDER BY started DESC, id DESC`)
}

func (l *Ledger) runs(ctx context.Context, where string, args ...any) ([]Run, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, job_key, job, input, input_sha256, started, COALESCE(finished, ''), COALESCE(summary, '') FROM runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, finished, summary string
		if err := rows.Scan(&r.ID, &r.JobKey, &r.Job, &r.Input, &r.InputSHA256, &started, &finished, &summary); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		r.Started, _ = time.Parse(time.RFC3339Nano, started)
		if finished != "" {
			r.Finished, _ = time.Parse(time.RFC3339Nano, finished)
		}
		if summary != "" {
			r.Summary = json.RawMessage(summary)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Cursor walks a run's outcomes in row order.
type Cursor struct {
	rows *sql.Rows
	err  error
}

// Outcomes opens a cursor over a run's outcomes, ordered by Seq.
func (l *Ledger) Outcomes(ctx context.Context, runID string) (*Cursor, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT seq, row, status, code, message, attempts, outputs, recorded FROM outcomes WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &Cursor{rows: rows}, nil
}

// Next returns the next outcome, or false at the end (then Err says why).
func (c *Cursor) Next() (Outcome, bool) {
	if c.err != nil || !c.rows.Next() {
		return Outcome{}, false
	}
	var o Outcome
	var outputs string
	var recorded int64
	if err := c.rows.Scan(&o.Seq, &o.Row, &o.Status, &o.Code, &o.Message, &o.Attempts, &outputs, &recorded); err != nil {
		c.err = err
		return Outcome{}, false
	}
	if outputs != "" {
		if err := json.Unmarshal([]byte(outputs), &o.Outputs); err != nil {
			c.err = err
			return Outcome{}, false
		}
	}
	o.Recorded = time.UnixMilli(recorded)
	return o, true
}

// Err is the error that ended the walk, if any.
func (c *Cursor) Err() error {
	if c.err != nil {
		return fmt.Errorf("ledger: %w", c.err)
	}
	if err := c.rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Close releases the cursor.
func (c *Cursor) Close() error { return c.rows.Close() }
