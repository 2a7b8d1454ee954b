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
	"time"

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
	run := func() (exitCode, string) {
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

// dropFile writes a file into a drop folder, settled a minute ago.
func dropFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	return path
}

// held is a sandbox whose first call of method waits, once it has come,
// until release is closed: a run caught while it sends.
type held struct {
	sb       *sandbox.Server
	method   string
	once     sync.Once
	sending  chan struct{} // closed when the first call came
	release  chan struct{}
	released sync.Once
}

func holdFirst(method string) *held {
	return &held{sb: sandbox.New(sandbox.Options{}), method: method, sending: make(chan struct{}), release: make(chan struct{})}
}

func (h *held) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, h.method) {
		h.once.Do(func() {
			close(h.sending)
			<-h.release
		})
	}
	h.sb.ServeHTTP(w, r)
}

func (h *held) let() { h.released.Do(func() { close(h.release) }) }

// glob lists what matches pattern in dir.
func glob(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOverlappingWatchRuns starts a second "run --watch DIR --once" (the next
// cron run) while the first sends a file of the folder, and a watch while a
// run by hand sends a file of it: the second says busy and leaves the file,
// which is never moved to failed/; the first's reports land.
func TestOverlappingWatchRuns(t *testing.T) {
	t.Parallel()
	var rows strings.Builder
	rows.WriteString("esn,group_name\n")
	for i := range 3000 {
		fmt.Fprintf(&rows, "O%06d,OPERATOR1\n", i)
	}
	for _, tc := range []struct {
		name  string
		first func(drop string) []string // the command line of the run caught sending
	}{
		{"two cron runs", func(drop string) []string { return []string{"run", "--watch", drop, "--once", "--no-progress"} }},
		{"a run by hand, then a cron run", func(drop string) []string {
			return []string{"run", "--no-progress", "--out", filepath.Join(filepath.Dir(drop), "out"), filepath.Join(drop, "big.csv")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := holdFirst("register_devices")
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			t.Cleanup(h.let)
			base := t.TempDir()
			drop := filepath.Join(base, "drop")
			if err := os.Mkdir(drop, 0o700); err != nil {
				t.Fatal(err)
			}
			dropFile(t, drop, "big.csv", rows.String())
			getenv := env(map[string]string{
				"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
				"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
				"CRMBATCH_STATE": filepath.Join(base, "state"),
			})
			type ran struct {
				code   exitCode
				stderr string
			}
			first := make(chan ran, 1)
			go func() {
				var stderr bytes.Buffer
				code := Main(tc.first(drop), getenv, onBuffers(&bytes.Buffer{}, &stderr))
				first <- ran{code, stderr.String()}
			}()
			select {
			case <-h.sending:
			case r := <-first:
				t.Fatalf("the first run ended before it sent: exit %d\n%s", r.code, r.stderr)
			}

			var stderr bytes.Buffer
			code := Main([]string{"run", "--watch", drop, "--once", "--no-progress"}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
			if code != exitOK || !strings.Contains(stderr.String(), "busy") {
				t.Errorf("the second run: exit %d, want 0 and busy:\n%s", code, stderr.String())
			}
			if _, err := os.Stat(filepath.Join(drop, "big.csv")); err != nil {
				t.Errorf("the second run moved the file the first sends: %v", err)
			}
			if m := glob(t, drop, "failed/*"); len(m) != 0 {
				t.Errorf("in failed/: %v", m)
			}

			h.let()
			r := <-first
			if r.code != exitOK {
				t.Fatalf("the first run: exit %d\n%s", r.code, r.stderr)
			}
			if m := glob(t, drop, "failed/*"); len(m) != 0 {
				t.Errorf("in failed/: %v", m)
			}
			results := filepath.Join(base, "out", "big.results.csv")
			if tc.name == "two cron runs" {
				results = filepath.Join(drop, "processed", "*-big", "big.results.csv")
			}
			if m, _ := filepath.Glob(results); len(m) != 1 {
				t.Errorf("the first run's results %s: %v", results, m)
			}
			if n := len(h.sb.Applied()); n != 3000 {
				t.Errorf("%d devices registered, want 3000", n)
			}
			for e, n := range h.sb.Applied() {
				if n != 1 {
					t.Errorf("%v applied %d times", e, n)
				}
			}
		})
	}
}

// TestDropFolderLockFilesAndEmptyNights drops, two nights running, the
// billing system's header-only "nothing tonight" file beside a spreadsheet's
// lock and temporary files: each night is nothing to do (exit 0, the file in
// processed/), and the lock and temporary files are no jobs: left alone, never
// filed under failed/.
func TestDropFolderLockFilesAndEmptyNights(t *testing.T) {
	t.Parallel()
	sb, getenv := sandboxEnv(t, filepath.Join(t.TempDir(), "state"))
	drop := t.TempDir()
	others := map[string]string{
		"~$charges.xlsx":       "\x00lock of Excel\x00",
		".~lock.charges.xlsx#": "LibreOffice lock,host,1;",
		".devices.csv":         "esn,group_name\nH-1,OPERATOR1\n",
		"devices.csv.tmp":      "esn,group_name\nT-1,OPERATOR1\n",
		"~WRL0001.tmp":         "\x00",
		"charges export.xlsx~": "backup",
		"readme.txt":           "not a job",
	}
	for name, content := range others {
		dropFile(t, drop, name, content)
	}
	for night := 1; night <= 2; night++ {
		dropFile(t, drop, "nightly.csv", "esn,group_name\n")
		var stderr bytes.Buffer
		code := Main([]string{"run", "--watch", drop, "--once", "--no-progress"}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
		out := stderr.String()
		if code != exitOK || !strings.Contains(out, "nothing to do") {
			t.Fatalf("night %d: exit %d, want 0 and nothing to do:\n%s", night, code, out)
		}
		if m := glob(t, drop, "processed/*-nightly*/nightly.csv"); len(m) != night {
			t.Errorf("night %d: in processed/: %v, want %d", night, m, night)
		}
		if m := glob(t, drop, "failed/*"); len(m) != 0 {
			t.Errorf("night %d: in failed/: %v", night, m)
		}
		for name, content := range others {
			if b, err := os.ReadFile(filepath.Join(drop, name)); err != nil || string(b) != content {
				t.Errorf("night %d: %s was touched: %v", night, name, err)
			}
			if strings.Contains(out, name) {
				t.Errorf("night %d: the run speaks of %s:\n%s", night, name, out)
			}
		}
	}
	if calls := sb.Calls(); len(calls) != 0 {
		t.Errorf("calls made for nothing to do: %v", calls)
	}
}

// TestExportKeepsAnExistingFile exports the pending charges over a workbook
// reviewed by hand: refused (exit 2) before the endpoint is asked, the file
// untouched, unless --force.
func TestExportKeepsAnExistingFile(t *testing.T) {
	t.Parallel()
	const reviewed = "number,billing_system_customer_identifier,reference_number,action\nI00000001,pci001,REF-REVIEWED,accept\n"
	for _, tc := range []struct {
		name     string
		force    bool
		exists   bool
		wantCode exitCode
		wantKept bool
	}{
		{"a new file", false, false, exitOK, false},
		{"an existing file", false, true, exitUsage, true},
		{"an existing file with --force", true, true, exitOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, getenv := sandboxEnv(t, filepath.Join(t.TempDir(), "state"))
			out := filepath.Join(t.TempDir(), "mywork.csv")
			if tc.exists {
				if err := os.WriteFile(out, []byte(reviewed), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"charges", "export", out}
			if tc.force {
				args = []string{"charges", "export", "--force", out}
			}
			var stderr bytes.Buffer
			code := Main(args, getenv, onBuffers(&bytes.Buffer{}, &stderr))
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, stderr.String())
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if kept := string(b) == reviewed; kept != tc.wantKept {
				t.Errorf("the file kept: %v, want %v:\n%s", kept, tc.wantKept, stderr.String())
			}
			if tc.wantKept && (len(sb.Calls()) != 0 || !strings.Contains(stderr.String(), "--force")) {
				t.Errorf("calls %v; want none, and the hint naming --force:\n%s", sb.Calls(), stderr.String())
			}
		})
	}
}

// TestStateFolderWithoutHome runs where neither --state, CRMBATCH_STATE,
// XDG_STATE_HOME nor HOME is set (a cron job, a service): refused with the
// fix (exit 2, nothing sent), never a ledger in a fixed folder under /tmp;
// and history never makes the ledger it is asked to read.
func TestStateFolderWithoutHome(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	job := filepath.Join(dir, "job.csv")
	if err := os.WriteFile(job, []byte("esn,group_name\nH-1,OPERATOR1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	connection := map[string]string{
		"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
		"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
	}
	with := func(k, v string) func(string) string {
		m := map[string]string{k: v}
		for k, v := range connection {
			m[k] = v
		}
		return env(m)
	}
	home, xdg := filepath.Join(dir, "home"), filepath.Join(dir, "xdg")
	for _, tc := range []struct {
		name     string
		args     []string
		getenv   func(string) string
		wantCode exitCode
		want     string // in stderr or stdout
		ledger   string // where the ledger must be after; "" = nowhere made
	}{
		{"run without a state folder", []string{"run", "--no-progress", job}, env(connection), exitUsage,
			"neither --state, CRMBATCH_STATE, XDG_STATE_HOME nor HOME is set", ""},
		{"watch without a state folder", []string{"run", "--watch", dir, "--once"}, env(connection), exitUsage,
			"hint: pass --state DIR, or set CRMBATCH_STATE", ""},
		{"history without a state folder", []string{"history"}, env(nil), exitUsage, "nor HOME is set", ""},
		{"run with HOME", []string{"run", "--no-progress", job}, with("HOME", home), exitOK,
			"1 ok", filepath.Join(home, ".local", "state", "crmbatch", "ledger.db")},
		{"history with HOME", []string{"history"}, with("HOME", home), exitOK, "job.csv",
			filepath.Join(home, ".local", "state", "crmbatch", "ledger.db")},
		{"history of a mistyped --state", []string{"history", "--state", filepath.Join(dir, "stat")}, with("HOME", home), exitUsage,
			"no ledger in " + filepath.Join(dir, "stat"), ""},
		{"run with XDG_STATE_HOME", []string{"run", "--no-progress", "--rerun", job}, with("XDG_STATE_HOME", xdg), exitOK,
			"1 ok", filepath.Join(xdg, "crmbatch", "ledger.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := len(sb.Calls())
			// The files of dir, but SQLite's own -wal and -shm beside a
			// ledger, which a reader of a ledger in WAL mode makes.
			files := func() string {
				var out []string
				for _, f := range listTree(t, dir) {
					if !strings.Contains(f, ".db-wal ") && !strings.Contains(f, ".db-shm ") {
						out = append(out, f)
					}
				}
				return strings.Join(out, "\n")
			}
			before := files()
			var stdout, stderr bytes.Buffer
			code := Main(tc.args, tc.getenv, onBuffers(&stdout, &stderr))
			if code != tc.wantCode || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s%s", code, tc.wantCode, tc.want, stdout.String(), stderr.String())
			}
			if tc.ledger != "" {
				if _, err := os.Stat(tc.ledger); err != nil {
					t.Errorf("no ledger where it belongs: %v", err)
				}
			}
			if after := files(); (tc.ledger == "" || tc.args[0] == "history") && after != before {
				t.Errorf("files made or changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			if tc.ledger == "" && len(sb.Calls()) != calls {
				t.Errorf("calls made: %v", sb.Calls())
			}
		})
	}
}
