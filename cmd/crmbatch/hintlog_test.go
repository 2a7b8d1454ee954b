package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestCallFailedLogLineKeepsItsHint: under --log-format json, the "call
// failed" warning of a login refused says what to do, as it did when the
// hint was a line of the error's text.
func TestCallFailedLogLineKeepsItsHint(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()
	dir := t.TempDir()
	job := filepath.Join(dir, "job.csv")
	if err := os.WriteFile(job, []byte("esn,group_name\nS-1,OPERATOR1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"CRMBATCH_USERNAME": sandbox.DemoUsername, "CRMBATCH_PASSWORD": "wrong",
		"CRMBATCH_ORGANISATION": sandbox.DemoOrganisation, "CRMBATCH_STATE": filepath.Join(dir, "state")})
	var stderr bytes.Buffer
	Main([]string{"run", "--no-progress", "--log-format", "json", "--attempts", "1", "--endpoint", srv.URL + sandbox.BasePath, job}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
	found := false
	for _, l := range strings.Split(stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["msg"] != "call failed" {
			continue
		}
		found = true
		e, _ := m["error"].(string)
		h, _ := m["hint"].(string)
		if !strings.Contains(e+h, "check the credentials") {
			t.Errorf("call failed line without its hint: %s", l)
		}
	}
	if !found {
		t.Fatalf("no call failed line:\n%s", stderr.String())
	}
}
