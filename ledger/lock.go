//go:build unix

package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrLocked is returned by Lock when another process runs the same job.
var ErrLocked = errors.New("another crmbatch is running this job")

// Lock holds a job's lock until Release. The operating system releases it when
// the process dies, even by SIGKILL, so a crash never leaves a stale lock.
type Lock struct{ f *os.File }

// Lock takes the lock of a job in the state folder, or fails with ErrLocked.
func (l *Ledger) Lock(dir, jobKey string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Join(dir, "locks"), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return LockFile(filepath.Join(dir, "locks", jobKey+".lock"))
}

// LockFile takes the lock of the file at path (created if need be), or of
// the folder at path, or fails with ErrLocked while another process, or
// another open of it, holds it.
func LockFile(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, syscall.EISDIR) {
		f, err = os.Open(path) // a folder is locked as it is, making no file
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("ledger: lock: %w", err)
	}
	return &Lock{f: f}, nil
}

// Release lets another run of the job start.
func (k *Lock) Release() error { return k.f.Close() }
