package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestNightlyDropRecipe is the README's nightly recipe: cron runs
// "crmbatch run --watch DROP --once" on a folder the billing system drops files
// into. Settled files are run once and moved with their reports to processed/
// or failed/; a file still being written waits; the same file dropped again is
// refused without a call.
func TestNightlyDropRecipe(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	drop := t.TempDir()
	old := time.Now().Add(-time.Minute)
	write := func(name, content string, mtime time.Time) {
		path := filepath.Join(drop, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	good := "esn,group_name\nN-1,OPERATOR1\nN-2,OPERATOR1\n"
	write("good.csv", good, old)
	write("some-failed.csv", "esn,group_name\nN-3,OPERATOR1\nBLOCKED-4,OPERATOR1\n", old)
	write("broken.csv", "group_name\nOPERATOR1\n", old)
	write("still-writing.csv", "esn,group_name\nN-5,OPER", time.Now())
	env := env(map[string]string{
		"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
		"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
		"CRMBATCH_STATE": filepath.Join(t.TempDir(), "state"),
	})
	run := func() (exitCode, string) {
		var stderr bytes.Buffer
		code := Main([]string{"run", "--watch", drop, "--once", "--settle", "10s", "--no-progress"}, env, onBuffers(&bytes.Buffer{}, &stderr))
		return code, stderr.String()
	}
	code, stderr := run()
	if code != exitUsage {
		t.Fatalf("exit %d, want 2 (the worst: a broken file)\n%s", code, stderr)
	}
	glob := func(pattern string) string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(drop, pattern))
		if len(m) != 1 {
			t.Errorf("%s: %d files, want 1", pattern, len(m))
			return ""
		}
		return m[0]
	}
	for _, want := range []string{
		"processed/*-good/good.csv", "processed/*-good/good.results.csv", "processed/*-good/good.summary.json",
		"failed/*-some-failed/some-failed.csv", "failed/*-some-failed/some-failed.failures.csv",
		"failed/*-some-failed/some-failed.reason.txt", "failed/*-broken/broken.csv", "failed/*-broken/broken.reason.txt",
		"still-writing.csv",
	} {
		glob(want)
	}
	// The reason beside a broken file says what is wrong and what to do.
	if why := glob("failed/*-broken/broken.reason.txt"); why != "" {
		if b, _ := os.ReadFile(why); !strings.Contains(string(b), "fits no job kind") || !strings.Contains(string(b), "\nhint: ") {
			t.Errorf("broken.reason.txt does not say what is wrong and what to do:\n%s", b)
		}
	}
	for _, gone := range []string{"good.csv", "some-failed.csv", "broken.csv"} {
		if _, err := os.Stat(filepath.Join(drop, gone)); err == nil {
			t.Errorf("%s is still in the drop folder", gone)
		}
	}
	if sum := glob("processed/*-good/good.summary.json"); sum != "" {
		if b, _ := os.ReadFile(sum); !strings.Contains(string(b), filepath.Join(filepath.Dir(sum), "good.results.csv")) {
			t.Errorf("the summary does not name the moved reports:\n%s", b)
		}
	}

	// The billing system drops the same file again, under another name.
	write("good-again.csv", good, old)
	calls := sb.Calls()["netflix/operators/register_devices"]
	code, stderr = run()
	if code != exitUsage || !strings.Contains(stderr, "already ran to the end") {
		t.Fatalf("exit %d, want 2 and the file refused:\n%s", code, stderr)
	}
	glob("failed/*-good-again/good-again.csv")
	if sb.Calls()["netflix/operators/register_devices"] != calls {
		t.Errorf("the refused file was sent")
	}
	// The refusal names the folder where the earlier run's reports are now,
	// and a hint a watched folder can follow.
	if dir := filepath.Dir(glob("processed/*-good/good.csv")); !strings.Contains(stderr, "its reports are in "+dir+" (good.results.csv, good.failures.csv)\n") {
		t.Errorf("the refusal does not name %s:\n%s", dir, stderr)
	}
	if !strings.Contains(stderr, "--done skip") || strings.Contains(stderr, "pass --skip-done") {
		t.Errorf("the hint is not the watched folder's:\n%s", stderr)
	}

	// --done skip: the same file again is done work, its rows skipped.
	write("good-third.csv", good, old)
	var errOut bytes.Buffer
	code = Main([]string{"run", "--watch", drop, "--once", "--settle", "10s", "--no-progress", "--done", "skip"}, env, onBuffers(&bytes.Buffer{}, &errOut))
	if code != exitOK || !strings.Contains(errOut.String(), "2 rows, 2 skipped") {
		t.Fatalf("--done skip: exit %d, want 0 and the rows skipped:\n%s", code, errOut.String())
	}
	glob("processed/*-good-third/good-third.csv")
	if sb.Calls()["netflix/operators/register_devices"] != calls {
		t.Errorf("the done file was sent")
	}
	for _, esn := range []string{"N-1", "N-2", "N-3"} {
		if n := sb.Applied()[sandbox.Effect{Method: "netflix/operators/register_devices", Key: esn}]; n != 1 {
			t.Errorf("%s registered %d times", esn, n)
		}
	}
}
