package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/crmbatch/crmbatch/fault"
)

// ErrNoLedger is returned by OpenReadOnly when the folder holds no ledger.
var ErrNoLedger = errors.New("no ledger")

// OpenReadOnly opens the ledger in dir to read what it remembers (crmbatch
// history): it creates nothing, neither the folder nor an empty ledger (which
// a mistyped folder would otherwise get, showing "no runs" where there were
// some), and writes nothing. A folder without a ledger is ErrNoLedger.
func OpenReadOnly(dir string) (*Ledger, error) {
	path := filepath.Join(dir, FileName)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w in %s", ErrNoLedger, dir)
	case err != nil:
		return nil, fmt.Errorf("ledger: %w", err)
	case info.Size() == 0:
		return nil, damaged(path, "it is empty (0 bytes): truncated, or not written by crmbatch")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	db.SetMaxOpenConns(1)
	l := &Ledger{db: db, inserts: map[insertShape]*sql.Stmt{}}
	var version, tables int
	err = db.QueryRow(`PRAGMA user_version`).Scan(&version)
	if err == nil {
		err = db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).Scan(&tables)
	}
	switch {
	case err != nil:
		err = damaged(path, err.Error())
	case tables == 0 || version == 0:
		err = damaged(path, "it holds no crmbatch ledger")
	case version > schemaVersion:
		err = fault.WithHint(fmt.Errorf("ledger %s was written by a newer crmbatch (schema %d, this one knows %d)", path, version, schemaVersion), "use that crmbatch")
	case version < schemaVersion:
		err = fault.WithHint(fmt.Errorf("ledger %s was written by an older crmbatch (schema %d)", path, version), "the next run upgrades it; then it can be read")
	}
	if err == nil {
		err = db.QueryRow(`SELECT value FROM meta WHERE key = 'ledger_id'`).Scan(&l.id)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}
