package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds crmbatch once for the tests that run the real program.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crmbatch-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "crmbatch")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = &exec.ExitError{Stderr: out}
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return builtBin
}

// TestSecretsNeverWritten runs the binary with a password, then an API key, then
// a wrong password, with debug logging on, through runs that fail rows and
// retry, and greps stdout, stderr, every report, the summary and the ledger for
// the secrets and for any token (a JWT starts with "eyJ").
func TestSecretsNeverWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := binary(t)
	srv := httptest.NewServer(sandbox.New(sandbox.Options{FailRate: 0.2, DropRate: 0.1, Seed: 5}))
	defer srv.Close()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	secretFile := filepath.Join(dir, "password")
	if err := os.WriteFile(secretFile, []byte(sandbox.DemoPassword+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"CRMBATCH_ENDPOINT=" + srv.URL + sandbox.BasePath, "CRMBATCH_STATE=" + state, "CRMBATCH_DEBUG=1", "PATH=" + os.Getenv("PATH")}
	job := "esn,group_name,note\nS-1,OPERATOR1,x\nBLOCKED-2,OPERATOR1,y\nS-3,NOPE,z\n"
	var output bytes.Buffer
	for i, creds := range [][]string{
		{"CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD=" + sandbox.DemoPassword, "CRMBATCH_ORGANISATION=DEMO"},
		{"CRMBATCH_API_KEY=" + sandbox.DemoAPIKey},
		{"CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD_FILE=" + secretFile, "CRMBATCH_ORGANISATION=DEMO"},
		{"CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD=" + sandbox.DemoPassword + "-wrong", "CRMBATCH_ORGANISATION=DEMO"},
		{"CRMBATCH_API_KEY=" + sandbox.DemoAPIKey + "-wrong"},
	} {
		path := filepath.Join(dir, string(rune('a'+i))+".csv")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(job, "S-", string(rune('A'+i))+"-")), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"run", "--log-format", "json", "--retries", "8", path}, {"promotions"}, {"show", "pci001", "nobody"}} {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(append([]string{}, base...), creds...)
			cmd.Stdout, cmd.Stderr = &output, &output
			_ = cmd.Run()
		}
	}
	secrets := []string{sandbox.DemoPassword, sandbox.DemoAPIKey, "eyJ"}
	check := func(what string, b []byte) {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}
	check("stdout and stderr", output.Bytes())
	if !strings.Contains(output.String(), "call failed") || !strings.Contains(output.String(), "AUTHENTICATION_FAILED") {
		t.Fatalf("the runs did not log what the test looks at:\n%s", output.String())
	}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || path == secretFile {
			return err
		}
		b, err := os.ReadFile(path)
		check(path, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
