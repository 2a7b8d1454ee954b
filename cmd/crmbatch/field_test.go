package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// sandboxEnv serves a sandbox over HTTP and returns it with the environment
// of a run against it, its ledger in state.
func sandboxEnv(t *testing.T, state string) (*sandbox.Server, func(string) string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, env(map[string]string{
		"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
		"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
		"CRMBATCH_STATE": state,
	})
}

// TestXLSXReportTooLargeIsRefusedFirst runs and validates a CSV job of
// 1,048,576 rows with --format xlsx: its results would need 1,048,577 sheet
// rows with the header, one more than Excel's. Both are refused before
// anything is sent or written (exit 2, naming --format csv), never after
// every row was sent (exit 3, reports lost).
func TestXLSXReportTooLargeIsRefusedFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job := filepath.Join(dir, "big.csv")
	f, err := os.Create(job)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("esn,group_name\n")
	for i := range 1 << 20 {
		fmt.Fprintf(w, "X%07d,OPERATOR1\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	sb, getenv := sandboxEnv(t, filepath.Join(dir, "state"))
	for _, cmd := range []string{"run", "validate"} {
		t.Run(cmd, func(t *testing.T) {
			var stderr bytes.Buffer
			code := Main([]string{cmd, "--no-progress", "--format", "xlsx", job}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
			out := stderr.String()
			if code != exitUsage {
				t.Fatalf("exit %d, want %d:\n%s", code, exitUsage, out)
			}
			for _, want := range []string{"1048576 rows", "at most 1048575 rows", "hint: pass --format csv"} {
				if !strings.Contains(out, want) {
					t.Errorf("stderr lacks %q:\n%s", want, out)
				}
			}
			for _, not := range []string{"plan:", "results:", "summary:"} {
				if strings.Contains(out, not) {
					t.Errorf("stderr names a report that was not written (%q):\n%s", not, out)
				}
			}
			if calls := sb.Calls(); len(calls) != 0 {
				t.Errorf("calls made: %v", calls)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "big.*"))
			if len(left) != 1 {
				t.Errorf("files beside the job: %v, want none", left)
			}
		})
	}
}

// TestReportsWrittenAgainByTheSameCommand takes the report folder away while
// the run sends (as a disk that fills or a share that goes read-only): the
// reports cannot be put in place, the run says so and exits 3; the same
// command, once the folder is back, writes every row's outcome from the
// ledger without sending anything again.
func TestReportsWrittenAgainByTheSameCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job := filepath.Join(dir, "job.csv")
	var b strings.Builder
	b.WriteString("esn,group_name\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "R%06d,OPERATOR1\n", i)
	}
	if err := os.WriteFile(job, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	sb := sandbox.New(sandbox.Options{})
	var take sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "register_devices") {
			take.Do(func() {
				if err := os.Rename(out, out+".gone"); err != nil {
					t.Error(err)
				}
				if err := os.WriteFile(out, nil, 0o600); err != nil {
					t.Error(err)
				}
			})
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	getenv := env(map[string]string{
		"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
		"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
		"CRMBATCH_STATE": filepath.Join(dir, "state"),
	})
	run := func() (int, string) {
		var stderr bytes.Buffer
		code := Main([]string{"run", "--no-progress", "--concurrency", "1", "--out", out, job}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
		return code, stderr.String()
	}
	code, stderr := run()
	t.Logf("the first run:\n%s", stderr)
	if code != exitStopped || !strings.Contains(stderr, "writing the reports") || !strings.Contains(stderr, "run the same command again") {
		t.Fatalf("exit %d, want %d saying the reports could not be written and what to do:\n%s", code, exitStopped, stderr)
	}
	calls := sb.Calls()["netflix/operators/register_devices"]
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	code, stderr = run()
	if code != exitOK || !strings.Contains(stderr, "resuming") {
		t.Fatalf("the same command again: exit %d, want 0, resuming:\n%s", code, stderr)
	}
	if again := sb.Calls()["netflix/operators/register_devices"]; again != calls {
		t.Errorf("%d calls more: rows done were sent again", again-calls)
	}
	rows := readRows(t, filepath.Join(out, "job.results.csv"))
	ok := 0
	for _, r := range rows[1:] {
		if r[indexOf(rows[0], "status")] == "ok" {
			ok++
		}
	}
	if ok != 3000 {
		t.Errorf("the results written again: %d rows ok, want 3000", ok)
	}
	for e, n := range sb.Applied() {
		if n != 1 {
			t.Errorf("%v applied %d times", e, n)
		}
	}
}
