package main

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestTLSIsVerified runs against a sandbox served over TLS with a certificate of
// its own: refused without --ca-file, accepted with it.
func TestTLSIsVerified(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(dir, "job.csv")
	if err := os.WriteFile(job, []byte("esn,group_name\nTLS-1,OPERATOR1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"CRMBATCH_USERNAME": "demo", "CRMBATCH_PASSWORD": sandbox.DemoPassword,
		"CRMBATCH_ORGANISATION": "DEMO", "CRMBATCH_STATE": filepath.Join(dir, "state")})
	endpoint := srv.URL + sandbox.BasePath
	for _, tc := range []struct {
		name string
		args []string
		code exitCode
		want string
	}{
		{"unknown certificate authority", []string{"--retries", "2"}, exitStopped, "certificate"},
		{"with --ca-file", []string{"--ca-file", ca}, exitOK, "1 ok"},
		{"--ca-file without a certificate", []string{"--ca-file", job}, exitUsage, "holds no PEM certificate"},
	} {
		var stderr bytes.Buffer
		args := append(append([]string{"run", "--no-progress", "--endpoint", endpoint}, tc.args...), job)
		if code := Main(args, getenv, onBuffers(&bytes.Buffer{}, &stderr)); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s", tc.name, code, tc.code, tc.want, stderr.String())
		}
	}
}

// TestSIGTERMFinishesAndExits3 sends SIGTERM to the binary mid-run: the calls
// in flight finish, the reports are written with every row, and it exits 3.
func TestSIGTERMFinishesAndExits3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	dir := t.TempDir()
	var rows strings.Builder
	rows.WriteString("esn,group_name\n")
	for i := range 2000 {
		fmt.Fprintf(&rows, "TERM-%04d,OPERATOR1\n", i)
	}
	job := filepath.Join(dir, "job.csv")
	if err := os.WriteFile(job, []byte(rows.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "run", "--no-progress", "--chunk-size", "10", "--concurrency", "2", job)
	cmd.Env = append(os.Environ(), "CRMBATCH_ENDPOINT="+srv.URL+sandbox.BasePath, "CRMBATCH_USERNAME=demo",
		"CRMBATCH_PASSWORD="+sandbox.DemoPassword, "CRMBATCH_ORGANISATION=DEMO", "CRMBATCH_STATE="+filepath.Join(dir, "state"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hang := beforeDeadline(t)
	for sb.Calls()["netflix/operators/register_devices"] < 5 {
		select {
		case <-hang:
			_ = cmd.Process.Kill()
			t.Fatalf("no five device calls before the test's deadline:\n%s", stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := exitCode(cmd.ProcessState.ExitCode()); code != exitStopped {
		t.Fatalf("exit %d, want 3:\n%s", code, stderr.String())
	}
	res := readRows(t, filepath.Join(dir, "job.results.csv"))
	if len(res) != 2001 {
		t.Fatalf("results has %d lines, want 2001", len(res))
	}
	if !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Errorf("no hint to resume:\n%s", stderr.String())
	}
}
