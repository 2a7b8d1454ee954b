package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestExitCodesFromRealCauses runs a job against real servers on loopback,
// each failing as one in the field does, and checks the exit code and the
// JSON log: a "run finished" line with the code and its word, and the run id
// on every line once the run has one (a failed login's lines included).
// SIGTERM mid-run (exit 3) is TestSIGTERMFinishesAndExits3, on the binary.
func TestExitCodesFromRealCauses(t *testing.T) {
	t.Parallel()
	sb := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(sb.Close)
	page := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + sandbox.BasePath
	}
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + sandbox.BasePath
	}()
	const good = "esn,group_name\nX-1,OPERATOR1\nX-2,OPERATOR1\n"
	for _, tc := range []struct {
		name     string
		endpoint string
		password string
		job      string // "" = no file
		want     exitCode
		word     string
		hint     string // in the error line's hint
	}{
		{"every row ok", sb.URL + sandbox.BasePath, sandbox.DemoPassword, good, exitOK, "ok", ""},
		{"a row invalid", sb.URL + sandbox.BasePath, sandbox.DemoPassword, "esn,group_name\nX-3,OPERATOR1\n,OPERATOR1\n", exitRows, "rows_not_done", ""},
		{"no such file", sb.URL + sandbox.BasePath, sandbox.DemoPassword, "", exitUsage, "usage", "job file"},
		{"nothing listens", closed, sandbox.DemoPassword, good, exitStopped, "stopped", "run the same command again"},
		{"a web server answering 501", page(http.StatusNotImplemented, "<html><body><h1>Error response</h1><p>Error code: 501</p></body></html>"), sandbox.DemoPassword, good, exitAct, "act", "no Web API method answers at this path"},
		{"a web server answering a page", page(http.StatusOK, "<!DOCTYPE html><html><title>Welcome to nginx!</title></html>"), sandbox.DemoPassword, good, exitAct, "act", "not a CRM.COM Web API"},
		{"https to an http port", strings.Replace(sb.URL, "http://", "https://", 1) + sandbox.BasePath, sandbox.DemoPassword, good, exitAct, "act", "plain http, not https"},
		{"password refused", sb.URL + sandbox.BasePath, "wrong", good, exitAct, "act", "check the credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			job := filepath.Join(dir, "job.csv")
			if tc.job != "" {
				if err := os.WriteFile(job, []byte(tc.job), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			getenv := env(map[string]string{"CRMBATCH_USERNAME": sandbox.DemoUsername, "CRMBATCH_PASSWORD": tc.password,
				"CRMBATCH_ORGANISATION": sandbox.DemoOrganisation, "CRMBATCH_STATE": filepath.Join(dir, "state")})
			var stderr bytes.Buffer
			code := Main([]string{"run", "--log-format", "json", "--attempts", "1", "--endpoint", tc.endpoint, job}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
			if code != tc.want {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.want, stderr.String())
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("stderr line %q is no JSON: %v", l, err)
				}
				lines = append(lines, m)
			}
			last := lines[len(lines)-1]
			if tc.job != "" && last["msg"] != "run finished" {
				t.Errorf("last line %v, want run finished", last)
			}
			if last["exit_code"] != float64(tc.want) || last["exit"] != tc.word {
				t.Errorf("last line says exit_code %v, exit %v; want %d, %s", last["exit_code"], last["exit"], tc.want, tc.word)
			}
			runID := ""
			for _, l := range lines {
				if id, _ := l["run_id"].(string); id != "" {
					runID = id
				}
				if runID != "" && l["run_id"] != runID {
					t.Errorf("line %v: run_id %q, want %q as on the lines before", l["msg"], l["run_id"], runID)
				}
				if h, ok := l["hint"].(string); ok && tc.hint != "" && !strings.Contains(h, tc.hint) {
					t.Errorf("hint %q does not say %q", h, tc.hint)
				}
			}
			if tc.want == exitAct || tc.want == exitStopped {
				if runID == "" {
					t.Errorf("no line carries the run id:\n%s", stderr.String())
				}
			}
		})
	}
}
