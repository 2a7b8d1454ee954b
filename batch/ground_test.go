package batch_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/sandbox"
)

// The tests of this file hold the statuses true when something a run relies
// on changes under it or between its runs (issue 25): the job file, the
// ledger, the failures report fed back, the server's ways of answering.

// writeExcelCSV writes rows as Excel's "CSV UTF-8" does: a byte order mark
// and CRLF line ends.
func writeExcelCSV(t *testing.T, dir, name string, rows [][]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("\ufeff")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\r\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSameRowsReSavedAreTheSameJob: a job's identity is its rows as read, not
// its bytes. The rows of a finished job re-saved by a spreadsheet under
// another name (a byte order mark, CRLF line ends, "toggle (excel).csv") are
// refused as done; an unfinished job's re-saved copy resumes it. Nothing is
// applied twice.
func TestSameRowsReSavedAreTheSameJob(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"action", "billing_system_customer_identifier"},
		{"suspend", "pci011"}, {"unsuspend", "pci011"}, {"suspend", "pci012"}, {"unsuspend", "pci012"}}
	t.Run("finished", func(t *testing.T) {
		t.Parallel()
		sb, api := startSandbox(t, sandbox.Options{})
		dir := t.TempDir()
		cfg := runConfig(t, writeCSV(t, dir, "toggle.csv", rows), api)
		if s := mustRun(t, cfg); s.Counts[batch.StatusOK] != 4 {
			t.Fatalf("first run: %v", s.Counts)
		}
		for _, name := range []string{"toggle (excel).csv", "toggle.csv"} {
			again := cfg
			again.Path = writeExcelCSV(t, dir, name, rows)
			_, err := batch.Run(context.Background(), again)
			var fe *batch.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "ran to the end") {
				t.Fatalf("%s, the same rows re-saved: %v, want them refused as done", name, err)
			}
		}
		checkApplied(t, sb, []string{"pci011", "pci012"}, map[string]int{"suspend": 1, "unsuspend": 1})
	})
	t.Run("unfinished", func(t *testing.T) {
		t.Parallel()
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		sb, api := startBehind(t, sandbox.Options{}, func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if apiMethod(r) == "netflix/subscriptions/suspend" {
				stop() // interrupted once a suspend was applied
			}
		})
		dir := t.TempDir()
		cfg := runConfig(t, writeCSV(t, dir, "toggle.csv", rows), api)
		cfg.Concurrency = 1
		if _, err := batch.Run(ctx, cfg); err == nil {
			t.Fatal("the interrupted run ended without an error")
		}
		again := cfg
		again.Path = writeExcelCSV(t, dir, "toggle (excel).csv", rows)
		s := mustRun(t, again)
		if !s.Resumed || s.Counts[batch.StatusOK]+s.Counts[batch.StatusSkipped] != 4 {
			t.Fatalf("the re-saved copy: resumed %v, counts %v; want the first run resumed, every row ok", s.Resumed, s.Counts)
		}
		checkApplied(t, sb, []string{"pci011", "pci012"}, map[string]int{"suspend": 1, "unsuspend": 1})
	})
}
