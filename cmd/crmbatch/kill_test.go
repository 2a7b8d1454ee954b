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

// TestKilledRunsResumeExactlyOnce kills the real binary with SIGKILL at random
// moments of a job against a sandbox with latency; then edits the file (rows
// appended, a value fixed) and kills it ten more times with another chunk size,
// concurrency and spelling of the endpoint, together with a copy of the edited
// file in another folder (one row more) run at the same time. Then both run to
// the end: every row of both reports is ok or skipped as done, and the sandbox
// applied every effect exactly once.
func TestKilledRunsResumeExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it 40 times")
	}
	t.Parallel()
	bin := binary(t)
	for _, tc := range []struct {
		name   string
		rows   func(from, n int) [][]string // rows without header
		header []string
		fix    func(r []string) // edits a row without changing its effect
		args   [2][]string      // before and after the edit
		effect func(r []string) sandbox.Effect
	}{
		{
			name:   "devices",
			header: []string{"esn", "group_name", "note"},
			rows: func(from, n int) [][]string {
				var rows [][]string
				for i := from; i < from+n; i++ {
					rows = append(rows, []string{fmt.Sprintf("K%07d", i), "OPERATOR1", ""})
				}
				return rows
			},
			fix:  func(r []string) { r[2] = "checked" },
			args: [2][]string{{"--chunk-size", "250", "--concurrency", "4", "--rate", "400"}, {"--chunk-size", "100", "--concurrency", "2", "--rate", "300"}},
			effect: func(r []string) sandbox.Effect {
				return sandbox.Effect{Method: "netflix/operators/register_devices", Key: r[0]}
			},
		},
		{
			name:   "subscriptions",
			header: []string{"action", "billing_system_customer_identifier", "promotion_code"},
			rows: func(from, n int) [][]string {
				var rows [][]string
				for i := from; i < from+n/2; i++ {
					rows = append(rows, []string{"create", fmt.Sprintf("KC%05d", i), "14"})
				}
				for i := from; i < from+n/2; i++ {
					rows = append(rows, []string{"suspend", fmt.Sprintf("KC%05d", i), ""})
				}
				return rows
			},
			fix: func(r []string) { r[2] = "15" },
			// A row killed in flight is read back when resumed: proven only
			// when the state before it was read (without --read-before, a
			// create read back cannot tell the customer's subscription from
			// one it had before, and the row is unknown).
			args: [2][]string{{"--concurrency", "8", "--rate", "1000", "--read-before"}, {"--concurrency", "3", "--rate", "800", "--read-before"}},
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
			n := 60000
			if tc.name == "subscriptions" {
				n = 3000
			}
			rows := append([][]string{tc.header}, tc.rows(0, n)...)
			path := filepath.Join(dir, "job.csv")
			writeRows(t, path, rows)
			endpoints := [2]string{srv.URL + sandbox.BasePath,
				strings.Replace(srv.URL, "http://", "HTTP://", 1) + "/crmapi/rest/v2"}
			command := func(edit int, path string, more ...string) *exec.Cmd {
				args := append([]string{"run", "--no-progress", "--quiet"}, tc.args[edit]...)
				args = append(append(args, more...), path)
				cmd := exec.Command(bin, args...)
				cmd.Env = append(os.Environ(),
					"CRMBATCH_ENDPOINT="+endpoints[edit],
					"CRMBATCH_USERNAME="+sandbox.DemoUsername, "CRMBATCH_PASSWORD="+sandbox.DemoPassword,
					"CRMBATCH_ORGANISATION="+sandbox.DemoOrganisation, "CRMBATCH_STATE="+filepath.Join(dir, "state"))
				return cmd
			}
			rng := rand.New(rand.NewPCG(1, 2))
			kill := func(cmds ...*exec.Cmd) {
				var done []chan error
				for _, cmd := range cmds {
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					ch := make(chan error, 1)
					go func() { ch <- cmd.Wait() }()
					done = append(done, ch)
				}
				time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
				for i, cmd := range cmds {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					<-done[i]
				}
			}
			for range 10 {
				kill(command(0, path))
			}
			// The file is edited: rows appended, a value fixed in rows not
			// yet sent and in rows sent. A copy in another folder has one more.
			for _, i := range []int{1, len(rows) / 2, len(rows) - 1} {
				tc.fix(rows[i])
			}
			rows = append(rows, tc.rows(n, 400)...)
			writeRows(t, path, rows)
			copyRows := append(append([][]string{}, rows...), tc.rows(n+400, 2)...)
			copyPath := filepath.Join(dir, "copy", "job.csv")
			if err := os.MkdirAll(filepath.Dir(copyPath), 0o700); err != nil {
				t.Fatal(err)
			}
			writeRows(t, copyPath, copyRows)
			for range 10 {
				kill(command(1, path), command(1, copyPath))
			}
			for _, f := range []struct {
				path string
				rows [][]string
				more []string
			}{{path, rows, nil}, {copyPath, copyRows, []string{"--skip-done"}}} {
				cmd := command(1, f.path, f.more...)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if err != nil && !errors.As(err, &exit) {
					t.Fatal(err)
				}
				if code := cmd.ProcessState.ExitCode(); code != 0 {
					t.Fatalf("%s: final run exit %d:\n%s", f.path, code, out)
				}
				res := readRows(t, strings.TrimSuffix(f.path, ".csv")+".results.csv")
				if len(res) != len(f.rows) {
					t.Fatalf("%s: results has %d lines, want %d", f.path, len(res), len(f.rows))
				}
				status, code := indexOf(res[0], "status"), indexOf(res[0], "error_code")
				for i, r := range res[1:] {
					if r[status] != "ok" && !(r[status] == "skipped" && r[code] == "ALREADY_DONE") {
						t.Fatalf("%s row %d: %v", f.path, i+2, r)
					}
				}
			}
			applied := sb.Applied()
			for i, r := range copyRows[1:] {
				if got := applied[tc.effect(r)]; got != 1 {
					t.Fatalf("row %d %v applied %d times, want 1", i+2, r, got)
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
