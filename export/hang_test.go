package export_test

import (
	"testing"
	"time"
)

// beforeDeadline fires shortly before the test binary's -timeout, so that a
// wait that never ends fails naming what it waited for instead of in the
// binary's panic; with no deadline (-timeout 0) it never fires. It is no
// time budget: a slow machine makes a test late, never failed.
func beforeDeadline(t *testing.T) <-chan time.Time {
	deadline, ok := t.Deadline()
	if !ok {
		return nil
	}
	left := time.Until(deadline)
	return time.After(left - min(left/10, 30*time.Second))
}
