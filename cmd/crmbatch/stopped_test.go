package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestStoppedRunSaysWhyFirst runs against endpoints where no call can be
// made: the cause is printed before the rows, with the hint that fits it,
// and the rows never sent are counted apart, not as failed. Neither can pass
// by itself: crmbatch exits 4, a person must act.
func TestStoppedRunSaysWhyFirst(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()
	for _, tc := range []struct {
		name, endpoint, password string
		hint                     string // the hint, which comes after the cause and before the rows
		notHint                  string
	}{
		{"endpoint without the Web API's path", srv.URL + "/", sandbox.DemoPassword,
			"hint: the endpoint answered 404 (not found) to the login: it is not the Web API's address; CRM.COM serves it under /crmapi/rest/v2/", "check the credentials"},
		{"wrong password", srv.URL + sandbox.BasePath, "wrong", "hint: check the credentials", "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			job := filepath.Join(dir, "job.csv")
			if err := os.WriteFile(job, []byte("esn,group_name\nS-1,OPERATOR1\nS-2,OPERATOR1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			getenv := env(map[string]string{"CRMBATCH_USERNAME": sandbox.DemoUsername, "CRMBATCH_PASSWORD": tc.password,
				"CRMBATCH_ORGANISATION": sandbox.DemoOrganisation, "CRMBATCH_STATE": filepath.Join(dir, "state")})
			var stderr bytes.Buffer
			code := Main([]string{"run", "--no-progress", "--quiet", "--attempts", "1", "--endpoint", tc.endpoint, job}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
			out := stderr.String()
			if code != exitAct {
				t.Fatalf("exit %d, want %d:\n%s", code, exitAct, out)
			}
			cause := strings.Index(out, "crmbatch: the run could not finish")
			if cause < 0 {
				t.Fatalf("no cause told:\n%s", out)
			}
			told := out[cause:] // what the user is told, after the log lines
			hint := strings.Index(told, tc.hint)
			summary := strings.Index(told, "crmbatch: ran ")
			if hint < 0 || summary < hint {
				t.Errorf("want the cause, then %q, then the summary:\n%s", tc.hint, out)
			}
			if _, hintLine, _ := strings.Cut(told, "\nhint: "); strings.Contains(strings.SplitN(hintLine, "\n", 2)[0], tc.notHint) {
				t.Errorf("the hint says %q:\n%s", tc.notHint, out)
			}
			for _, want := range []string{"2 rows, 2 not sent;", "2 rows not sent: the run stopped before them"} {
				if !strings.Contains(out, want) {
					t.Errorf("stderr lacks %q:\n%s", want, out)
				}
			}
			if ran := told[max(summary, 0):]; strings.Contains(ran, "failed") || strings.Contains(ran, "error NOT_SENT") {
				t.Errorf("rows never sent are told as failed, one by one:\n%s", out)
			}
		})
	}
}
