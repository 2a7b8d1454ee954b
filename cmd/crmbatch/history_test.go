package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestHistoryOfTwoRuns runs one job to its end (a row invalid) and another
// whose login is refused: history tells each run's start, file, kind, rows
// per status and outcome.
func TestHistoryOfTwoRuns(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	monday := write("monday.csv", "esn,group_name\nH-1,OPERATOR1\nH-2,OPERATOR1\n,OPERATOR1\n")
	tuesday := write("tuesday.csv", "number,billing_system_customer_identifier\nI00000001,pci001\nI00000002,pci002\n")
	for _, r := range []struct {
		file, password string
		want           exitCode
	}{
		{monday, sandbox.DemoPassword, exitRows},
		{tuesday, "not-the-password", exitAct},
	} {
		getenv := env(map[string]string{"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
			"CRMBATCH_PASSWORD": r.password, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation, "CRMBATCH_STATE": state})
		var stderr bytes.Buffer
		if code := Main([]string{"run", "--no-progress", r.file}, getenv, onBuffers(&bytes.Buffer{}, &stderr)); code != r.want {
			t.Fatalf("%s: exit %d, want %d:\n%s", r.file, code, r.want, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"history", "--state", state}, env(nil), onBuffers(&stdout, &stderr)); code != exitOK {
		t.Fatalf("history: exit %d:\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	for i, want := range []string{
		`^RUN +STARTED +JOB +INPUT +OK +FAILED +INVALID +UNKNOWN +SKIPPED +NOT SENT +OUTCOME$`,
		// The latest first.
		`^\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +charges +\S*tuesday.csv +0 +0 +0 +0 +0 +2 +stopped: the same command resumes it$`,
		`^\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +devices +\S*monday.csv +2 +0 +1 +0 +0 +0 +done, rows not ok: see its failures report$`,
	} {
		if i >= len(lines) || !regexp.MustCompile(want).MatchString(lines[i]) {
			t.Errorf("history line %d does not match %s:\n%s", i+1, want, stdout.String())
		}
	}
	if len(lines) != 3 {
		t.Errorf("history has %d lines, want 3:\n%s", len(lines), stdout.String())
	}
}
