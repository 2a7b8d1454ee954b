// Package tempfile creates the temporary files that reports are written to
// before they are renamed into place. Unlike os.CreateTemp, which makes every
// file 0600, it takes the mode, so that the process's umask decides who may
// read a report (the colleague on call, under umask 027), as it does for any
// file a program creates; what must stay private (the ledger, secrets) is
// created elsewhere with 0600.
package tempfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Create creates a new file in dir, named by pattern with its last "*"
// replaced by a unique string (as os.CreateTemp does), opened for writing
// with mode perm before the umask.
func Create(dir, pattern string, perm fs.FileMode) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	var err error
	for range 10000 {
		// A random name; O_EXCL makes a clash an error, retried with another.
		name := prefix + strconv.FormatUint(rand.Uint64(), 36) + suffix
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}
