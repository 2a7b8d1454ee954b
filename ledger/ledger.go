// Package ledger is crmbatch's durable run journal: for every run, the outcome of
// every row that was sent, kept in an embedded SQLite database (WAL, synchronous
// FULL) in the state folder. Reports are built from it, so a run's memory does not
// grow with its file, and what was done survives a crash.
package ledger

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crmbatch/crmbatch/fault"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
)

// FileName is the ledger's database file inside the state folder.
const FileName = "ledger.db"

// Ledger is an open ledger. It is safe for concurrent use; writes are serialised.
type Ledger struct {
	db *sql.DB
	mu sync.Mutex
	id string
	// lanesFrom is the newest call whose lanes are not recorded: the ledger
	// was written by a crmbatch that did not record them (layout 3 or older).
	lanesFrom int64
	// inserts are the prepared INSERTs of outcomes, by shape and number of
	// rows (see insertOf): parsing the SQL cost a third of recording a
	// call's outcomes. Guarded by mu.
	inserts map[insertShape]*sql.Stmt
	path    string       // the database file
	files   []openedFile // the database and its WAL as opened (see check)
}

// schemaVersion is the ledger's layout, kept in SQLite's user_version.
const schemaVersion = 5

const schema = `
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
	fingerprint  BLOB,
	flags        TEXT NOT NULL DEFAULT '',
	results      TEXT NOT NULL DEFAULT '',
	failures     TEXT NOT NULL DEFAULT '',
	abandoned    TEXT NOT NULL DEFAULT ''
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
` + laneCallsTable

// laneCallsTable holds, for each call of a row on a lane (a customer of a
// CRM.COM), the call's intent: a read-back of a row whose answer was lost
// proves something only if no call of its lanes that may have changed them
// came after its own (MovedSince).
const laneCallsTable = `
CREATE TABLE IF NOT EXISTS lane_calls (
	lane   INTEGER NOT NULL, -- LaneKey of the endpoint and the lane
	intent INTEGER NOT NULL, -- intents.id of the call
	run_id TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	ekey   INTEGER NOT NULL,
	at     INTEGER NOT NULL, -- unix milliseconds, when the call was intended
	moved  INTEGER NOT NULL, -- 1: the row was sent again after a call of its lanes had moved them
	PRIMARY KEY (lane, intent, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lane_calls_moved ON lane_calls(run_id) WHERE moved = 1;
`

// upgrades bring a ledger of an older layout to schemaVersion; index i upgrades
// version i+1. Columns added to an existing table come here, not in schema.
var upgrades = []string{
	`ALTER TABLE runs ADD COLUMN lineage TEXT NOT NULL DEFAULT '';
	 ALTER TABLE runs ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
	 ALTER TABLE runs ADD COLUMN input_name TEXT NOT NULL DEFAULT '';
	 ALTER TABLE runs ADD COLUMN fingerprint BLOB;
	 ALTER TABLE intents ADD COLUMN ekeys BLOB;
	 ALTER TABLE intents ADD COLUMN reference TEXT NOT NULL DEFAULT '';
	 ALTER TABLE outcomes ADD COLUMN ekey INTEGER NOT NULL DEFAULT 0;`,
	`ALTER TABLE runs ADD COLUMN flags TEXT NOT NULL DEFAULT '';
	 ALTER TABLE runs ADD COLUMN results TEXT NOT NULL DEFAULT '';
	 ALTER TABLE runs ADD COLUMN failures TEXT NOT NULL DEFAULT '';
	 ALTER TABLE runs ADD COLUMN abandoned TEXT NOT NULL DEFAULT '';`,
	// Layout 4 kept a table of rows passed, which layout 5's lane_calls
	// replaces.
	`SELECT 1;`,
	// Layouts 4 and older recorded no lanes: their calls are older than
	// meta's lanes_from (set in migrate), and a call that old may have been
	// followed by any.
	// (A layout 4 build kept lane_calls without their times: they go, and
	// lanes_from is set again, past them.)
	`DROP TABLE IF EXISTS passed; DROP TABLE IF EXISTS lane_calls;
	 CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	 DELETE FROM meta WHERE key = 'lanes_from';` + laneCallsTable,
}

// ErrDamaged is returned by Open for a ledger file that exists but holds no
// ledger: empty (truncated) or not a database.
var ErrDamaged = errors.New("the ledger is damaged")

// ErrReadOnly is returned by Open for a ledger that cannot be written: the
// file or its folder read-only (by its mode, its permissions or its file
// system). A run records what it sends before sending it.
var ErrReadOnly = errors.New("the ledger is read-only")

// ErrGone is returned by Open for a state folder that held a ledger (its
// locks, its journal or its marker are there) whose ledger file is gone: a new
// ledger would know nothing of what was sent. Options.NewLedger starts one
// anyway.
var ErrGone = errors.New("the ledger is gone")

// ErrVanished is the error of a write to a ledger whose file was removed or
// replaced while it was open: what is written would be lost.
var ErrVanished = errors.New("the ledger was removed or replaced while crmbatch was using it")

// MarkerName is the file beside the ledger that says a ledger lives in the
// folder (it holds the ledger's id): with it, a missing ledger file is gone,
// not new.
const MarkerName = "ledger.id"

// Options tune how a ledger is opened. The zero value is what a run needs.
type Options struct {
	// NewLedger starts a new ledger in a state folder whose ledger is gone
	// (see ErrGone): the user chose to forget what it knew.
	NewLedger bool
	// GrowthPages, when positive, lets the database grow by at most this
	// many pages from its size at Open: writes past it fail as on a full
	// disk ("database or disk is full"). It is a write budget for tests.
	GrowthPages int
}

// Open opens the ledger in dir, creating it (and dir, readable by its owner
// only) when there is none. A ledger file that is there but empty or unreadable
// is refused with ErrDamaged, never recreated: it would forget what was sent.
func Open(dir string) (*Ledger, error) { return OpenOptions(dir, Options{}) }

// OpenOptions is Open with options.
func OpenOptions(dir string, o Options) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	info, err := os.Stat(path)
	switch {
	case err == nil && info.Size() == 0:
		return nil, damaged(path, "it is empty (0 bytes): truncated, or not written by crmbatch")
	case err == nil:
		if err := writable(path); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := gone(dir, o.NewLedger); err != nil {
			return nil, err
		}
		if err := create(path); err != nil {
			return nil, err
		}
		info = nil
	default:
		return nil, fmt.Errorf("ledger: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
	l := &Ledger{db: db, inserts: map[insertShape]*sql.Stmt{}, path: path}
	if err := l.migrate(path, true); err != nil {
		db.Close()
		if readOnly(err) {
			return nil, readOnlyError(path, err.Error())
		}
		return nil, err
	}
	if o.GrowthPages > 0 {
		var pages int
		err := db.QueryRow(`PRAGMA page_count`).Scan(&pages)
		if err == nil {
			_, err = db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+o.GrowthPages))
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	// The files whose identity every write checks: the database and its WAL.
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			l.files = append(l.files, openedFile{p, fi})
		}
	}
	marker := filepath.Join(dir, MarkerName)
	if _, err := os.Stat(marker); errors.Is(err, fs.ErrNotExist) {
		_ = os.WriteFile(marker, []byte(l.id+"\n"), 0o600) // best effort: the locks and journal say it too
	}
	return l, nil
}

// gone refuses to create a ledger in a folder that held one: its marker, its
// journal or its locks are there. With newLedger, the journal of the ledger
// that is gone is removed (a new database must not replay it).
func gone(dir string, newLedger bool) error {
	base := filepath.Join(dir, FileName)
	var signs []string
	for _, p := range []string{filepath.Join(dir, MarkerName), base + "-wal", base + "-shm", base + "-journal"} {
		if _, err := os.Stat(p); err == nil {
			signs = append(signs, p)
		}
	}
	if locks, err := os.ReadDir(filepath.Join(dir, "locks")); err == nil && len(locks) > 0 {
		signs = append(signs, filepath.Join(dir, "locks"))
	}
	switch {
	case len(signs) == 0:
		return nil
	case !newLedger:
		return fault.WithHint(fmt.Errorf("%w: %s is not there, but the state folder held a ledger (%s): a new ledger would know nothing of what was sent and send it again",
			ErrGone, base, strings.Join(signs, ", ")),
			"nothing was sent; put the ledger back (from a backup), or pass --new-ledger to start a new one that knows nothing of earlier runs")
	}
	for _, p := range []string{base + "-wal", base + "-shm", base + "-journal", filepath.Join(dir, MarkerName)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	return nil
}

// writable checks that the ledger at path and its folder can be written:
// not by the mode a person gave them (which root ignores), not by the
// permissions, not by the file system.
func writable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return readOnlyError(path, fmt.Sprintf("its mode is %v", fi.Mode().Perm()))
	}
	dir := filepath.Dir(path)
	if di, err := os.Stat(dir); err == nil && di.Mode().Perm()&0o200 == 0 {
		return readOnlyError(path, fmt.Sprintf("its folder's mode is %v (the ledger writes its journal beside it)", di.Mode().Perm()))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return readOnlyError(path, err.Error())
		}
		return fmt.Errorf("ledger: %w", err)
	}
	return f.Close()
}

// readOnly reports whether err is SQLite's or the system's "read-only".
func readOnly(err error) bool {
	msg := strings.ToLower(err.Error())
	return errors.Is(err, syscall.EROFS) || strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only")
}

func readOnlyError(path, why string) error {
	return fault.WithHint(fmt.Errorf("%w: %s: %s; crmbatch records what it sends before sending it", ErrReadOnly, path, why),
		"nothing was sent; make the ledger and its folder writable by this user (chmod u+w), or give the --state folder of a ledger that can be written")
}

// WriteError is a write to the ledger that failed: the run must stop
// sending, since what it sends next could not be recorded.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string {
	return "the ledger " + e.Path + " could not be written: " + e.Err.Error()
}

// Hint says what to do about the failed write.
func (e *WriteError) Hint() string {
	return "the rows sent whose outcome it could not record are unknown in the reports; make the ledger writable again (free space on its disk, or put it back from a backup), then run the same command: it reads them back"
}

func (e *WriteError) Unwrap() error { return e.Err }

// openedFile is a file of the ledger as it was when opened.
type openedFile struct {
	path string
	info os.FileInfo
}

// check fails with ErrVanished when a file of the ledger was removed or
// replaced since it was opened: writes would go to a file no one will open
// again.
func (l *Ledger) check() error {
	for _, f := range l.files {
		now, err := os.Stat(f.path)
		if err != nil || !os.SameFile(now, f.info) {
			return &WriteError{Path: l.path, Err: fmt.Errorf("%w (%s)", ErrVanished, f.path)}
		}
	}
	return nil
}

// written wraps the error of a write (without its "ledger: " prefix: the
// WriteError names the ledger).
func (l *Ledger) written(err error) error {
	var we *WriteError
	if err == nil || errors.As(err, &we) {
		return err
	}
	if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "ledger: ") {
		err = inner
	}
	return &WriteError{Path: l.path, Err: err}
}

// create makes a new ledger at path atomically: built under a temporary name,
// then linked into place, so that another process never sees it half made (and
// one that lost the race opens the winner's).
func create(path string) error {
	name, err := build(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer os.Remove(name)
	return place(name, path)
}

// build makes a new, empty ledger under a temporary name in dir and returns
// that name.
func build(dir string) (string, error) {
	tmp, err := os.CreateTemp(dir, ".ledger-*.db")
	if err != nil {
		return "", fmt.Errorf("ledger: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	fail := func(err error) (string, error) {
		os.Remove(name)
		return "", err
	}
	if err := os.Chmod(name, 0o600); err != nil {
		return fail(fmt.Errorf("ledger: %w", err))
	}
	db, err := sql.Open("sqlite", "file:"+name)
	if err != nil {
		return fail(fmt.Errorf("ledger: %w", err))
	}
	l := &Ledger{db: db}
	err = l.migrate(name, false)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	return name, nil
}

// place links the ledger built at name into path, unless a ledger is there
// already (another process made it first: that one is kept).
func place(name, path string) error {
	if err := os.Link(name, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Prepared is a new ledger built ahead, under a temporary name in its state
// folder: a run builds it while it reads its file, and puts it in place only
// once the file proved good, so that a run of a broken file leaves no ledger.
type Prepared struct {
	dir, name string
	made      string // the outermost folder made for it, "" = none
	opts      Options
}

// Prepare builds a new ledger for dir, which has none, under a temporary
// name. Either Open or Discard must follow.
func Prepare(dir string, o Options) (*Prepared, error) {
	if err := gone(dir, o.NewLedger); err != nil {
		return nil, err
	}
	p := &Prepared{dir: filepath.Clean(dir), opts: o}
	for d := p.dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		p.made = d
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	name, err := build(dir)
	if err != nil {
		p.name = ""
		p.Discard()
		return nil, err
	}
	p.name = name
	return p, nil
}

// Open puts the prepared ledger in place (unless another process made one
// meanwhile) and opens the ledger of the folder.
func (p *Prepared) Open() (*Ledger, error) {
	err := place(p.name, filepath.Join(p.dir, FileName))
	os.Remove(p.name)
	if err != nil {
		return nil, err
	}
	return OpenOptions(p.dir, p.opts)
}

// Discard removes the prepared ledger, and the folders made for it as long
// as they hold nothing else.
func (p *Prepared) Discard() {
	if p.name != "" {
		os.Remove(p.name)
	}
	for d := p.dir; p.made != ""; d = filepath.Dir(d) {
		if os.Remove(d) != nil || d == p.made {
			break // not empty (as it should fail then), or the last made
		}
	}
}

func damaged(path, why string) error {
	return fault.WithHint(fmt.Errorf("%w: %s: %s", ErrDamaged, path, why),
		"nothing was sent; restore the ledger from a backup, or give another --state folder to start a new ledger (which knows nothing of earlier runs)")
}

// migrate checks the layout of the database, creates or upgrades it, and reads
// the ledger's id. existed says the file was there before this Open.
func (l *Ledger) migrate(path string, existed bool) error {
	var version int
	if err := l.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return damaged(path, err.Error())
	}
	if existed {
		var tables int
		if err := l.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).Scan(&tables); err != nil {
			return damaged(path, err.Error())
		}
		if tables == 0 || version == 0 {
			return damaged(path, "it holds no crmbatch ledger")
		}
	}
	if version > schemaVersion {
		return fault.WithHint(fmt.Errorf("ledger %s was written by a newer crmbatch (schema %d, this one knows %d)", path, version, schemaVersion),
			"use that crmbatch, or another --state folder")
	}
	for v := max(version, 1); version != 0 && v < schemaVersion; v++ {
		if _, err := l.db.Exec(upgrades[v-1]); err != nil {
			return fmt.Errorf("ledger %s: upgrading from schema %d: %w", path, v, err)
		}
	}
	if _, err := l.db.Exec(schema + fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion) +
		`INSERT OR IGNORE INTO meta (key, value) SELECT 'lanes_from', COALESCE(MAX(rowid), 0) FROM intents;`); err != nil {
		return fmt.Errorf("ledger %s: %w", path, err)
	}
	if err := l.db.QueryRow(`SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'lanes_from'`).Scan(&l.lanesFrom); err != nil {
		return fmt.Errorf("ledger %s: %w", path, err)
	}
	err := l.db.QueryRow(`SELECT value FROM meta WHERE key = 'ledger_id'`).Scan(&l.id)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		l.id = strings.ToUpper(hex.EncodeToString(b))
		_, err = l.db.Exec(`INSERT INTO meta (key, value) VALUES ('ledger_id', ?)`, l.id)
	}
	if err != nil {
		return fmt.Errorf("ledger %s: %w", path, err)
	}
	return nil
}

// ID is the ledger's own random id: it makes the transaction references of
// two ledgers differ.
func (l *Ledger) ID() string { return l.id }

// Close closes the database.
func (l *Ledger) Close() error {
	l.mu.Lock()
	for _, st := range l.inserts {
		st.Close()
	}
	l.mu.Unlock()
	return l.db.Close()
}

// maxInsert is the most outcomes one INSERT takes; a group of outcomes is
// inserted in pieces of powers of two up to it, so that a handful of
// statements, each prepared once, serve every size of call.
const maxInsert = 64

// insertShape is the form of an INSERT of outcomes: n rows, each with all its
// values (full), or sharing all but seq, row and effect key (uniform: the
// outcomes of a call that went one way, by far the most common, bind three
// integers a row instead of ten values).
type insertShape struct {
	n       int
	uniform bool
}

// sql is the INSERT of the shape. A uniform INSERT binds the run, status,
// code, message, attempts and time once for all its rows. (Only anonymous
// parameters: SQLite finds a numbered one's name by a linear search.)
func (s insertShape) sql() string {
	var q strings.Builder
	q.WriteString(`INSERT OR REPLACE INTO outcomes (run_id, status, code, message, attempts, recorded, outputs, seq, row, ekey) `)
	if s.uniform {
		q.WriteString(`SELECT c.*, '', v.* FROM (SELECT ?, ?, ?, ?, ?, ?) c, (VALUES `)
	} else {
		q.WriteString(`VALUES `)
	}
	for i := range s.n {
		if i > 0 {
			q.WriteByte(',')
		}
		if s.uniform {
			q.WriteString("(?,?,?)")
		} else {
			q.WriteString("(?,?,?,?,?,?,?,?,?,?)")
		}
	}
	if s.uniform {
		q.WriteString(`) v`)
	}
	return q.String()
}

// insertOf returns the prepared INSERT of the shape, preparing it on first
// use; l.mu is held and no transaction is open (the ledger has one
// connection, which a transaction would hold).
func (l *Ledger) insertOf(s insertShape) (*sql.Stmt, error) {
	if st, ok := l.inserts[s]; ok {
		return st, nil
	}
	st, err := l.db.Prepare(s.sql())
	if err != nil {
		return nil, err
	}
	l.inserts[s] = st
	return st, nil
}

// insertPiece is one INSERT of a Record: outs[from:from+n] in the shape.
type insertPiece struct {
	from  int
	shape insertShape
}

// uniformWith says whether b can share a uniform INSERT with a.
func uniformWith(a, b *Outcome) bool {
	return len(b.Outputs) == 0 && a.Status == b.Status && a.Code == b.Code && a.Message == b.Message &&
		a.Attempts == b.Attempts && a.Recorded.UnixMilli() == b.Recorded.UnixMilli()
}

// insertPieces cuts outs into INSERTs, in their order (a later outcome of
// the same row replaces an earlier one): each stretch of outcomes that can
// share a uniform INSERT, and each stretch of the others, in pieces of
// powers of two up to maxInsert.
func insertPieces(outs []Outcome) []insertPiece {
	var pieces []insertPiece
	for i := 0; i < len(outs); {
		uniform := len(outs[i].Outputs) == 0
		j := i + 1
		for j < len(outs) && (uniform && uniformWith(&outs[i], &outs[j]) || !uniform && len(outs[j].Outputs) > 0) {
			j++
		}
		for i < j {
			n := maxInsert
			for n > j-i {
				n /= 2
			}
			pieces = append(pieces, insertPiece{from: i, shape: insertShape{n: n, uniform: uniform}})
			i += n
		}
	}
	return pieces
}

// Run is one run of a job file.
type Run struct {
	ID          string
	JobKey      string // what identifies "the same job": input sha256, kind, sheet, column flags and endpoint
	Job         string
	Input       string
	InputSHA256 string
	Started     time.Time
	Finished    time.Time // zero while unfinished
	Summary     json.RawMessage
	// Lineage names the runs of one job file and its edits: a run of an edited
	// file goes on with the lineage of the run it continues.
	Lineage string
	// Endpoint is the canonical endpoint the run sent to.
	Endpoint string
	// InputName is the job file's base name.
	InputName string
	// Fingerprint is a sample of the effect keys of the file's valid rows (see
	// batch), for telling an edit of this run's file from another file.
	Fingerprint []uint64
	// Flags are the command line's flags that made the job what it is
	// (--sheet, --group-name, ...), as a person would type them.
	Flags string
	// Results and Failures are the absolute paths of the run's reports.
	Results, Failures string
	// Abandoned names the run that abandoned this unfinished one ("" = none):
	// it is neither resumed nor refused as done any more.
	Abandoned string
}

// StartRun records a new run. Its ID is JobKey followed by a generation number,
// so runs of the same job are told apart; its lineage is r.Lineage, or its ID.
func (l *Ledger) StartRun(ctx context.Context, r Run) (_ Run, err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return r, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE job_key = ?`, r.JobKey).Scan(&n); err != nil {
		return r, fmt.Errorf("ledger: %w", err)
	}
	r.ID = fmt.Sprintf("%s-%d", r.JobKey, n+1)
	if r.Lineage == "" {
		r.Lineage = r.ID
	}
	_, err = l.db.ExecContext(ctx, `INSERT INTO runs (id, job_key, job, input, input_sha256, started, lineage, endpoint, input_name, fingerprint,
		flags, results, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.JobKey, r.Job, r.Input, r.InputSHA256, r.Started.UTC().Format(time.RFC3339Nano), r.Lineage, r.Endpoint, r.InputName, packKeys(r.Fingerprint),
		r.Flags, r.Results, r.Failures)
	if err != nil {
		return r, fmt.Errorf("ledger: %w", err)
	}
	return r, nil
}

// FinishRun marks a run finished with its summary.
func (l *Ledger) FinishRun(ctx context.Context, id string, finished time.Time, summary []byte) (err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err = l.db.ExecContext(ctx, `UPDATE runs SET finished = ?, summary = ? WHERE id = ?`,
		finished.UTC().Format(time.RFC3339Nano), string(summary), id)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// SaveSummary keeps the summary of a run that stopped (or left rows unknown)
// without marking it finished: history tells its counts, and a resume goes on.
func (l *Ledger) SaveSummary(ctx context.Context, id string, summary []byte) (err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.db.ExecContext(ctx, `UPDATE runs SET summary = ? WHERE id = ? AND finished IS NULL`, string(summary), id); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Abandon marks an unfinished run abandoned by run by: a run with other flags
// that starts over, by the user's choice, where its reports were.
func (l *Ledger) Abandon(ctx context.Context, id, by string) (err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.db.ExecContext(ctx, `UPDATE runs SET abandoned = ? WHERE id = ? AND finished IS NULL`, by, id); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Unfinished are the unfinished runs (stopped, or with rows whose outcome is
// unknown) that are not abandoned and whose results report is results: a run
// writing there would overwrite the reports that list what they left to do.
func (l *Ledger) Unfinished(ctx context.Context, results string) ([]Run, error) {
	return l.runs(ctx, `WHERE finished IS NULL AND abandoned = '' AND results = ? ORDER BY started DESC, id DESC`, results)
}

// WroteFailures returns the newest run whose failures report is the file at
// path, else the newest whose failures report had its base name: the run a
// failures report fed back in comes from.
func (l *Ledger) WroteFailures(ctx context.Context, path, name string) (Run, bool, error) {
	runs, err := l.runs(ctx, `WHERE failures = ? ORDER BY started DESC, id DESC LIMIT 1`, path)
	if err == nil && len(runs) == 0 {
		runs, err = l.runs(ctx, `WHERE failures LIKE ? ESCAPE '\' ORDER BY started DESC, id DESC LIMIT 1`, "%/"+likeEscape(name))
	}
	if err != nil || len(runs) == 0 {
		return Run{}, false, err
	}
	return runs[0], true, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// RetriedRows returns, for a run, the effect key of each row whose outcome is
// unknown or failed, by the row's number (Outcome.Row): what a failures report
// of the run, which carries each row's number, needs to send its rows as the
// run's own (a repeated action counted in the first file, not in the report,
// whose own count would name an earlier repeat, done) and to read back those
// that may have been applied.
func (l *Ledger) RetriedRows(ctx context.Context, runID string) (map[int]uint64, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT row, ekey FROM outcomes WHERE run_id = ? AND status IN ('unknown', 'failed') AND ekey != 0`, runID)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	out := map[int]uint64{}
	for rows.Next() {
		var row int
		var key int64
		if err := rows.Scan(&row, &key); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		out[row] = uint64(key)
	}
	return out, rows.Err()
}

// packKeys and unpackKeys store effect keys as 8 bytes each.
func packKeys(keys []uint64) []byte {
	b := make([]byte, 0, 8*len(keys))
	for _, k := range keys {
		b = binary.BigEndian.AppendUint64(b, k)
	}
	return b
}

func unpackKeys(b []byte) []uint64 {
	keys := make([]uint64, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		keys = append(keys, binary.BigEndian.Uint64(b))
	}
	return keys
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
	// EKey is the row's effect key: what it does, the same in an edit of the file.
	EKey uint64
	// Scope and Key, when set, name the claim the row holds on an entity that
	// must not be done twice across runs (a charge number): an ok outcome makes
	// the claim done, an unknown one keeps it, any other releases it. Action
	// and Detail are kept with a done claim.
	Scope, Key, Action, Detail string
}

// Record stores the outcomes of one call in a single durable transaction.
func (l *Ledger) Record(ctx context.Context, runID string, outs []Outcome) (err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	pieces := insertPieces(outs)
	stmts := make([]*sql.Stmt, len(pieces))
	for i, p := range pieces {
		st, err := l.insertOf(p.shape)
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		stmts[i] = st
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	// Many rows per INSERT: the per-statement cost dominates a row's.
	args := make([]any, 0, 10*maxInsert)
	for i, p := range pieces {
		args = args[:0]
		batch := outs[p.from : p.from+p.shape.n]
		if p.shape.uniform {
			o := &batch[0]
			args = append(args, runID, o.Status, o.Code, o.Message, o.Attempts, o.Recorded.UnixMilli())
			for _, o := range batch {
				args = append(args, o.Seq, o.Row, int64(o.EKey))
			}
		} else {
			for _, o := range batch {
				b, err := json.Marshal(o.Outputs)
				if err != nil {
					return fmt.Errorf("ledger: %w", err)
				}
				args = append(args, runID, o.Status, o.Code, o.Message, o.Attempts, o.Recorded.UnixMilli(), string(b), o.Seq, o.Row, int64(o.EKey))
			}
		}
		if _, err := tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	for _, o := range outs {
		if o.Key == "" {
			continue
		}
		var err error
		switch o.Status {
		case "ok":
			_, err = tx.ExecContext(ctx, `UPDATE claims SET state = 'done', action = ?, detail = ?, recorded = ? WHERE scope = ? AND key = ? AND run_id = ?`,
				o.Action, o.Detail, o.Recorded.UnixMilli(), o.Scope, o.Key, runID)
		case "unknown":
			_, err = tx.ExecContext(ctx, `UPDATE claims SET state = 'unknown', recorded = ? WHERE scope = ? AND key = ? AND run_id = ?`,
				o.Recorded.UnixMilli(), o.Scope, o.Key, runID)
		default:
			_, err = tx.ExecContext(ctx, `DELETE FROM claims WHERE scope = ? AND key = ? AND run_id = ? AND state != 'done'`, o.Scope, o.Key, runID)
		}
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Intend records, durably and before a call is sent, the rows it carries (their
// seq numbers and effect keys): after a crash, rows with an intent and no
// outcome may have been applied. One call's rows are one record, so that a call
// of 1000 rows costs one small write. It returns the call's transaction
// reference: reference when the call replays an earlier intent, else one made
// of the ledger's id and the intent's number, unique across ledgers. lanes are
// the call's rows' lanes, recorded with it for MovedSince.
func (l *Ledger) Intend(ctx context.Context, runID string, seqs []int, ekeys []uint64, reference string, lanes Lanes) (string, error) {
	ref, _, err := l.IntendCall(ctx, runID, seqs, ekeys, reference, lanes)
	return ref, err
}

// IntendCall is Intend, and returns the intent's number too (see MovedSince).
func (l *Ledger) IntendCall(ctx context.Context, runID string, seqs []int, ekeys []uint64, reference string, lanes Lanes) (_ string, id int64, err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return "", 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	blob := make([]byte, 0, 2*len(seqs))
	prev := 0
	for _, seq := range seqs {
		blob = binary.AppendVarint(blob, int64(seq-prev))
		prev = seq
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return "", 0, fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO intents (run_id, seqs, ekeys, reference) VALUES (?, ?, ?, ?) RETURNING rowid`,
		runID, blob, packKeys(ekeys), reference).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("ledger: %w", err)
	}
	for i, keys := range lanes.Keys {
		var ekey uint64
		if i < len(ekeys) {
			ekey = ekeys[i]
		}
		moved := i < len(lanes.Moved) && lanes.Moved[i]
		for _, lane := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO lane_calls (lane, intent, run_id, seq, ekey, at, moved) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				int64(lane), id, runID, seqs[i], int64(ekey), lanes.At.UnixMilli(), moved); err != nil {
				return "", 0, fmt.Errorf("ledger: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return "", 0, fmt.Errorf("ledger: %w", err)
	}
	if reference == "" {
		reference = l.reference(id)
	}
	return reference, id, nil
}

// Lanes are the lanes of a call's rows: Keys[i] the LaneKeys of row i (nil =
// none), Moved[i] whether row i, uncertain, was sent again although a call of
// its lanes had moved them since its own (MovedSince): once moved, a row stays
// so (Progress.Moved). At is when the call is intended, on the clock of the
// outcomes' Recorded.
type Lanes struct {
	Keys  [][]uint64
	Moved []bool
	At    time.Time
}

// LaneKey is the key of a lane (a customer) of the CRM.COM at endpoint (its
// canonical form) in lane_calls: FNV-1a of both.
func LaneKey(endpoint, lane string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(endpoint))
	h.Write([]byte{0})
	h.Write([]byte(lane))
	return h.Sum64()
}

// MovedSince reports whether a call of the lanes may have changed them after
// the call of intent since (a row's call whose answer was lost): a call of
// any run intended after it, or one of another process intended before it and
// answered after it was intended, or never (the order of intents is not the
// order in which calls reach the server), unless the call failed (certainly
// applied nothing). A call older than the ledger's record of lanes (since 0,
// or a call a crmbatch of layout 4 or older made) may have been followed by
// any: it counts as moved. The call of intent except, the row's own now (a
// read-back of it), does not count, nor does a call of the row's own effect
// (ekey: the same action on the same customer, sent by another run of it),
// which a subscription's state refuses to apply twice.
func (l *Ledger) MovedSince(ctx context.Context, lanes []uint64, since, except int64, ekey uint64) (bool, error) {
	if since <= l.lanesFrom {
		return true, nil
	}
	for _, lane := range lanes {
		var run string
		var at int64
		err := l.db.QueryRowContext(ctx, `SELECT run_id, at FROM lane_calls WHERE lane = ? AND intent = ? LIMIT 1`, int64(lane), since).Scan(&run, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return true, nil // the call recorded no such lane: nothing proves the lane still
		}
		if err != nil {
			return true, fmt.Errorf("ledger: %w", err)
		}
		var n int
		err = l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM lane_calls c LEFT JOIN outcomes o ON o.run_id = c.run_id AND o.seq = c.seq
			WHERE c.lane = ? AND c.intent != ? AND c.ekey != ? AND (o.status IS NULL OR o.status != 'failed')
			AND (c.intent > ? OR (c.intent < ? AND c.run_id != ? AND (o.recorded IS NULL OR o.recorded >= ?)))`,
			int64(lane), except, int64(ekey), since, since, run, at).Scan(&n)
		if err != nil {
			return true, fmt.Errorf("ledger: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

func (l *Ledger) reference(intent int64) string {
	return fmt.Sprintf("CRMB-%s-%d", l.id, intent)
}

// Progress is what a run did before it stopped: the rows with a final outcome,
// and the rows that may have been applied (sent, an intent, without an outcome,
// or with an unknown one), each with the transaction reference of its call.
type Progress struct {
	Done      Seqs
	Uncertain map[int]string
	// Since is the intent of each uncertain row's last call: a read-back of
	// the row is proof only if no call of its lanes came after (MovedSince),
	// and it never was moved so before (Moved).
	Since map[int]int64
	Moved map[int]bool
}

// Seqs is a set of rows (their seq), a bit a row: what a run of 10 million
// rows did holds in 1.25 MB (a map of them took ~400 MB).
type Seqs struct {
	bits []uint64
	n    int
}

// Add adds row seq (>= 0).
func (s *Seqs) Add(seq int) {
	i := seq / 64
	if i >= len(s.bits) {
		s.bits = append(s.bits, make([]uint64, i+1-len(s.bits))...)
	}
	if bit := uint64(1) << (seq % 64); s.bits[i]&bit == 0 {
		s.bits[i] |= bit
		s.n++
	}
}

// Has reports whether row seq is in the set.
func (s *Seqs) Has(seq int) bool {
	i := seq / 64
	return seq >= 0 && i < len(s.bits) && s.bits[i]&(uint64(1)<<(seq%64)) != 0
}

// Len is the number of rows in the set.
func (s *Seqs) Len() int { return s.n }

// RunProgress reads what an unfinished run did, to resume it.
func (l *Ledger) RunProgress(ctx context.Context, runID string) (Progress, error) {
	p := Progress{Uncertain: map[int]string{}, Since: map[int]int64{}, Moved: map[int]bool{}}
	rows, err := l.db.QueryContext(ctx, `SELECT seq, status FROM outcomes WHERE run_id = ?`, runID)
	if err != nil {
		return p, fmt.Errorf("ledger: %w", err)
	}
	var unknown []int
	for rows.Next() {
		var seq int
		var status string
		if err := rows.Scan(&seq, &status); err != nil {
			rows.Close()
			return p, fmt.Errorf("ledger: %w", err)
		}
		if status == "unknown" {
			unknown = append(unknown, seq)
		} else {
			p.Done.Add(seq)
		}
	}
	rows.Close()
	err = l.intents(ctx, `WHERE run_id = ?`, []any{runID}, func(id int64, _ string, seqs []int, _ []uint64, ref string) {
		for _, seq := range seqs {
			if !p.Done.Has(seq) {
				p.Uncertain[seq], p.Since[seq] = ref, id
			}
		}
	})
	if err != nil {
		return p, err
	}
	for _, seq := range unknown {
		if _, ok := p.Uncertain[seq]; !ok {
			p.Uncertain[seq] = ""
		}
	}
	moved, err := l.db.QueryContext(ctx, `SELECT DISTINCT seq FROM lane_calls WHERE run_id = ? AND moved = 1`, runID)
	if err != nil {
		return p, fmt.Errorf("ledger: %w", err)
	}
	defer moved.Close()
	for moved.Next() {
		var seq int
		if err := moved.Scan(&seq); err != nil {
			return p, fmt.Errorf("ledger: %w", err)
		}
		p.Moved[seq] = true
	}
	return p, moved.Err()
}

// intents calls fn with the rows and reference of each intent that matches where.
func (l *Ledger) intents(ctx context.Context, where string, args []any, fn func(id int64, run string, seqs []int, ekeys []uint64, ref string)) error {
	rows, err := l.db.QueryContext(ctx, `SELECT rowid, run_id, seqs, COALESCE(ekeys, x''), reference FROM intents `+where+` ORDER BY rowid`, args...)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var run, ref string
		var blob, keys []byte
		if err := rows.Scan(&id, &run, &blob, &keys, &ref); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		var seqs []int
		seq := 0
		for len(blob) > 0 {
			d, n := binary.Varint(blob)
			if n <= 0 {
				return fmt.Errorf("ledger: a damaged intent of run %s", run)
			}
			blob = blob[n:]
			seq += int(d)
			seqs = append(seqs, seq)
		}
		if ref == "" {
			ref = l.reference(id)
		}
		fn(id, run, seqs, unpackKeys(keys), ref)
	}
	return rows.Err()
}

// Earlier is what the runs of a lineage did, by effect key: the rows they
// applied (or skipped as done before) and the rows that may have been applied.
type Earlier struct {
	Done      map[uint64]DoneKey
	Uncertain map[uint64]string // effect key → transaction reference of its call
	// Since is the intent of each uncertain effect's last call, and Moved
	// the effects once sent again after a call of their lanes had moved them
	// (see Progress).
	Since map[uint64]int64
	Moved map[uint64]bool
}

// LineageProgress reads what the runs of a lineage did, but the run except
// (the run being resumed, whose rows RunProgress reads: holding them twice
// took ~100 bytes a row).
func (l *Ledger) LineageProgress(ctx context.Context, lineage, except string) (Earlier, error) {
	e := Earlier{Done: map[uint64]DoneKey{}, Uncertain: map[uint64]string{}, Since: map[uint64]int64{}, Moved: map[uint64]bool{}}
	rows, err := l.db.QueryContext(ctx, `SELECT o.ekey, o.status, o.run_id, o.recorded, o.message, o.row FROM outcomes o JOIN runs r ON r.id = o.run_id
		WHERE r.lineage = ? AND o.run_id != ? AND o.ekey != 0 ORDER BY o.recorded`, lineage, except)
	if err != nil {
		return e, fmt.Errorf("ledger: %w", err)
	}
	final := map[uint64]bool{}
	for rows.Next() {
		var key int64
		var status, run, msg string
		var rec int64
		var row int
		if err := rows.Scan(&key, &status, &run, &rec, &msg, &row); err != nil {
			rows.Close()
			return e, fmt.Errorf("ledger: %w", err)
		}
		k := uint64(key)
		switch status {
		case "ok":
			e.Done[k] = DoneKey{RunID: run, Recorded: time.UnixMilli(rec), Row: row}
			delete(e.Uncertain, k)
		case "failed":
			// Sent again after a read-back showed it not applied, and
			// refused: certainly not applied, it is uncertain no more.
			delete(e.Uncertain, k)
			delete(e.Since, k)
		case "skipped":
			if _, ok := e.Done[k]; !ok {
				e.Done[k] = DoneKey{RunID: run, Recorded: time.UnixMilli(rec), Detail: msg, Row: row}
			}
		case "unknown":
			if _, ok := e.Uncertain[k]; !ok {
				e.Uncertain[k] = "" // no intent note known yet; an intent below may give one
			}
		}
		final[k] = status != "unknown"
	}
	rows.Close()
	err = l.intents(ctx, `WHERE run_id IN (SELECT id FROM runs WHERE lineage = ? AND id != ?)`, []any{lineage, except}, func(id int64, _ string, _ []int, keys []uint64, ref string) {
		for _, k := range keys {
			if _, done := e.Done[k]; !done && !final[k] {
				e.Uncertain[k], e.Since[k] = ref, id
			}
		}
	})
	if err != nil {
		return e, err
	}
	moved, err := l.db.QueryContext(ctx, `SELECT DISTINCT ekey FROM lane_calls
		WHERE moved = 1 AND run_id IN (SELECT id FROM runs WHERE lineage = ? AND id != ?)`, lineage, except)
	if err != nil {
		return e, fmt.Errorf("ledger: %w", err)
	}
	defer moved.Close()
	for moved.Next() {
		var k int64
		if err := moved.Scan(&k); err != nil {
			return e, fmt.Errorf("ledger: %w", err)
		}
		if _, ok := e.Uncertain[uint64(k)]; ok {
			e.Moved[uint64(k)] = true
		}
	}
	return e, moved.Err()
}

// Candidates are the runs on endpoint of job kind job whose input had this path
// or this base name, the newest first: the runs a job file may be an edit of.
func (l *Ledger) Candidates(ctx context.Context, endpoint, job, input, name string) ([]Run, error) {
	return l.runs(ctx, `WHERE endpoint = ? AND job = ? AND (input = ? OR input_name = ?) ORDER BY started DESC, id DESC LIMIT 50`,
		endpoint, job, input, name)
}

// LatestOfLineage returns the newest run of a lineage.
func (l *Ledger) LatestOfLineage(ctx context.Context, lineage string) (Run, error) {
	runs, err := l.runs(ctx, `WHERE lineage = ? ORDER BY started DESC, id DESC LIMIT 1`, lineage)
	if err != nil || len(runs) == 0 {
		return Run{}, err
	}
	return runs[0], nil
}

// Claim is a row's claim on an entity that must not be done twice: its key,
// the action, and the detail sent with it (a charge's reference number), kept
// while it is sent so that a run that takes the claim over knows it.
type Claim struct {
	Key    string
	Action string
	Detail string
}

// Holder is the run that holds a claim another run asked for.
type Holder struct {
	DoneKey
	State   string // sending, done, unknown
	Lineage string // of the holding run: see Running
}

// ClaimAll claims, in one transaction, the entities of a call's rows for runID
// in scope. A claim that runID holds already, or that is free, is taken (state
// sending); a claim held by another run is left and returned in holders (by
// index), unless take says the run may take claim i over.
func (l *Ledger) ClaimAll(ctx context.Context, scope, runID string, claims []Claim, now time.Time, take func(i int, h Holder) bool) (_ map[int]Holder, err error) {
	defer func() { err = l.written(err) }()
	if err := l.check(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	holders := map[int]Holder{}
	for i, c := range claims {
		var h Holder
		var rec int64
		err := tx.QueryRowContext(ctx, `SELECT c.run_id, c.state, c.action, c.detail, c.recorded, COALESCE(r.lineage, '')
			FROM claims c LEFT JOIN runs r ON r.id = c.run_id WHERE c.scope = ? AND c.key = ?`, scope, c.Key).
			Scan(&h.RunID, &h.State, &h.Action, &h.Detail, &rec, &h.Lineage)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("ledger: %w", err)
		case h.RunID != runID:
			h.Recorded = time.UnixMilli(rec)
			if !take(i, h) {
				holders[i] = h
				continue
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO claims (scope, key, run_id, state, action, detail, recorded) VALUES (?, ?, ?, 'sending', ?, ?, ?)`,
			scope, c.Key, runID, c.Action, c.Detail, now.UnixMilli()); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return holders, nil
}

// DoneKey is an entity done by an earlier run.
type DoneKey struct {
	RunID, Action, Detail string
	Recorded              time.Time
	Row                   int // the row's number in that run's file (0 = not known)
}

// Done says whether an entity (a charge number) of a kind was done by a run,
// on any endpoint: the newest such claim.
func (l *Ledger) Done(ctx context.Context, kind, key string) (DoneKey, bool, error) {
	var d DoneKey
	var rec int64
	err := l.db.QueryRowContext(ctx, `SELECT run_id, action, detail, recorded FROM claims WHERE scope LIKE ? AND key = ? AND state = 'done'
		UNION ALL SELECT run_id, action, detail, recorded FROM done_keys WHERE kind = ? AND key = ? ORDER BY 4 DESC LIMIT 1`,
		kind+"@%", key, kind, key).Scan(&d.RunID, &d.Action, &d.Detail, &rec)
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
	rows, err := l.db.QueryContext(ctx, `SELECT id, job_key, job, input, input_sha256, started, COALESCE(finished, ''), COALESCE(summary, ''),
		lineage, endpoint, input_name, COALESCE(fingerprint, x''), flags, results, failures, abandoned FROM runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, finished, summary string
		var fp []byte
		if err := rows.Scan(&r.ID, &r.JobKey, &r.Job, &r.Input, &r.InputSHA256, &started, &finished, &summary,
			&r.Lineage, &r.Endpoint, &r.InputName, &fp, &r.Flags, &r.Results, &r.Failures, &r.Abandoned); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		r.Started, _ = time.Parse(time.RFC3339Nano, started)
		if finished != "" {
			r.Finished, _ = time.Parse(time.RFC3339Nano, finished)
		}
		if summary != "" {
			r.Summary = json.RawMessage(summary)
		}
		if r.Lineage == "" {
			r.Lineage = r.ID
		}
		r.Fingerprint = unpackKeys(fp)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Cursor walks a run's outcomes in row order.
type Cursor struct {
	rows *sql.Rows
	err  error
	db   *sql.DB // its own connection, closed with it (nil: the ledger's)
}

// OutcomesApart is Outcomes on a connection of its own, so that the ledger
// goes on recording while the cursor is open (a resumed run writes its
// reports while it sends). The cursor sees the outcomes as they were when it
// was opened.
func (l *Ledger) OutcomesApart(ctx context.Context, runID string) (*Cursor, error) {
	db, err := sql.Open("sqlite", "file:"+l.path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, `SELECT seq, row, status, code, message, attempts, outputs, recorded FROM outcomes WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &Cursor{rows: rows, db: db}, nil
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
func (c *Cursor) Close() error {
	err := c.rows.Close()
	if c.db != nil {
		if cerr := c.db.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Running reports whether a process holds the lock of a lineage now: its run
// is going on, not stopped.
func (l *Ledger) Running(dir, lineage string) bool {
	if lineage == "" {
		return false
	}
	k, err := l.Lock(dir, lineage)
	if err != nil {
		return errors.Is(err, ErrLocked)
	}
	k.Release()
	return false
}
