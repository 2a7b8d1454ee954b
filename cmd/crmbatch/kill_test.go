package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
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

// TestKilledRunsResumeExactlyOnce kills the real binary with SIGKILL at 20
// random moments of a job against a sandbox with latency, re-running the same
// command each time, and then checks that the final reports account for every
// row once and that the sandbox applied every effect exactly once.
func TestKilledRunsResumeExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it 40 times")
	}
	t.Parallel()
	bin := binary(t)
	for _, tc := range []struct {
		name   string
		rows   [][]string
		args   []string
		effect func(r []string) sandbox.Effect
	}{
		{
			name: "devices 100000",
			rows: func() [][]string {
				rows := [][]string{{"esn", "group_name"}}
				for i := range 100000 {
					rows = append(rows, []string{fmt.Sprintf("K%07d", i), "OPERATOR1"})
				}
				return rows
			}(),
			args: []string{"--chunk-size", "250", "--concurrency", "4", "--rate", "400"},
			effect: func(r []string) sandbox.Effect {
				return sandbox.Effect{Method: "netflix/operators/register_devices", Key: r[0]}
			},
		},
		{
			name: "subscriptions 5000",
			rows: func() [][]string {
				rows := [][]string{{"action", "billing_system_customer_identifier", "promotion_code"}}
				for i := range 2500 {
					c := fmt.Sprintf("KC%05d", i)
					rows = append(rows, []string{"create", c, "14"}, []string{"suspend", c, ""})
				}
				return rows
			}(),
			args: []string{"--concurrency", "8", "--rate", "1000"},
			effect: func(r []string) sandbox.Effect {
				return sandbox.Effect{Method: "netflix/subscriptions/" + r[0], Key: r[1]}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.Options{Latency: 3 * time.Millisecond})
			srv := httptest.NewServer(sb)
			defer srv.Close()
			dir := t.TempDir()
			path := filepath.Join(dir, "job.csv")
			writeRows(t, path, tc.rows)
			args := append([]string{"run", "--no-progress", "--quiet"}, tc.args...)
			args = append(args, path)
			env := append(os.Environ(),
				"CRMBATCH_ENDPOINT="+srv.URL+sandbox.BasePath,
				"CRMBATCH_USERNAME="+sandbox.DemoUsername, "CRMBATCH_PASSWORD="+sandbox.DemoPassword,
				"CRMBATCH_ORGANISATION="+sandbox.DemoOrganisation, "CRMBATCH_STATE="+filepath.Join(dir, "state"))
			rng := rand.New(rand.NewPCG(1, 2))
			kills := 0
			for kills < 20 {
				cmd := exec.Command(bin, args...)
				cmd.Env = env
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case err := <-done:
					t.Fatalf("the run ended (%v) before kill %d: make the job longer", err, kills+1)
				case <-time.After(time.Duration(50+rng.IntN(700)) * time.Millisecond):
				}
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-done
				kills++
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("final run exit %d:\n%s", code, out)
			}
			summary, err := os.ReadFile(filepath.Join(dir, "job.summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(summary), `"resumed": true`) {
				t.Fatalf("the final run did not resume the killed one:\n%s", summary)
			}
			res := readRows(t, filepath.Join(dir, "job.results.csv"))
			if len(res) != len(tc.rows) {
				t.Fatalf("results has %d lines, want %d", len(res), len(tc.rows))
			}
			status := indexOf(res[0], "status")
			applied := sb.Applied()
			for i, r := range res[1:] {
				if r[status] != "ok" {
					t.Fatalf("row %d: %v", i+2, r)
				}
				if n := applied[tc.effect(tc.rows[i+1])]; n != 1 {
					t.Fatalf("row %d %v applied %d times, want 1", i+2, tc.rows[i+1], n)
				}
			}
		})
	}
}

func writeRows(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := csv.NewWriter(f).WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func indexOf(header []string, col string) int {
	for i, h := range header {
		if h == col {
			return i
		}
	}
	return -1
}
