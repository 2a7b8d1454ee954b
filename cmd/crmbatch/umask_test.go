package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestUmaskDecidesWhoReadsReports runs the binary under umask 027, as a site
// whose on-call colleagues share a group would: the report folders and
// reports are group-readable (0750, 0640), a watch folder's processed/ run
// too, while the ledger stays the owner's alone (0600 in a 0700 folder).
func TestUmaskDecidesWhoReadsReports(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	job := filepath.Join(dir, "job.csv")
	if err := os.WriteFile(job, []byte("esn,group_name\nU-1,OPERATOR1\nU-2,OPERATOR1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(dir, "drop")
	if err := os.Mkdir(drop, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drop, "night.csv"), []byte("esn,group_name\nW-1,OPERATOR1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	out := filepath.Join(dir, "reports", "today")
	for _, args := range [][]string{
		{"run", "--sandbox", "--no-progress", "--state", state, "--out", out, job},
		{"run", "--sandbox", "--no-progress", "--state", state, "--watch", drop, "--once", "--settle", "1ns"},
	} {
		cmd := exec.Command("sh", append([]string{"-c", `umask 027 && exec "$0" "$@"`, bin}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, b)
		}
	}
	processed, _ := filepath.Glob(filepath.Join(drop, "processed", "*night*"))
	if len(processed) != 1 {
		t.Fatalf("processed/ holds %v, want the night's folder", processed)
	}
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Join(dir, "reports"), 0o750},
		{out, 0o750},
		{filepath.Join(out, "job.results.csv"), 0o640},
		{filepath.Join(out, "job.failures.csv"), 0o640},
		{filepath.Join(out, "job.summary.json"), 0o640},
		{filepath.Join(drop, "processed"), 0o750},
		{processed[0], 0o750},
		{filepath.Join(processed[0], "night.results.csv"), 0o640},
		{filepath.Join(processed[0], "night.summary.json"), 0o640},
		{state, 0o700},
		{filepath.Join(state, "ledger.db"), 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("%s: mode %o, want %o", tc.path, got, tc.want)
		}
	}
}
