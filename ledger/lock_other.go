//go:build !unix

package ledger

import "errors"

// ErrLocked is returned by Lock when another process runs the same job.
var ErrLocked = errors.New("another crmbatch is running this job")

// Lock is a job's lock. Where the system has no advisory file locks, there is
// no exclusion: do not run the same job twice at once there.
type Lock struct{}

// Lock takes the lock of a job (a no-op on this system).
func (l *Ledger) Lock(dir, jobKey string) (*Lock, error) { return &Lock{}, nil }

// LockFile takes the lock of the file or folder at path (a no-op on this system).
func LockFile(path string) (*Lock, error) { return &Lock{}, nil }

// Release lets another run of the job start.
func (k *Lock) Release() error { return nil }
