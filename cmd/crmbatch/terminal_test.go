package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/internal/termscreen"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestRunOnATerminal runs a migration-sized devices job against a sandbox
// that fails one request in three, so that retry warnings come in bursts while
// the bar is drawn. On a terminal the bar is drawn, the warnings stay whole on
// lines of their own above it, info lines are left to log files, and the bar
// is gone before the summary. Elsewhere there is no bar and the log says all.
func TestRunOnATerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		terminal bool
		flags    []string
		bar      bool
		info     bool // "run started" and the other info lines shown
	}{
		{name: "terminal", terminal: true, bar: true},
		{name: "terminal, --no-progress", terminal: true, flags: []string{"--no-progress"}},
		{name: "terminal, JSON log", terminal: true, flags: []string{"--log-format", "json"}, info: true},
		{name: "log file", terminal: false, info: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(sandbox.New(sandbox.Options{FailRate: 0.35, Seed: 7}))
			defer srv.Close()
			dir := t.TempDir()
			var job strings.Builder
			job.WriteString("esn,group_name\n")
			for i := range 200 {
				fmt.Fprintf(&job, "TTY-%04d,OPERATOR1\n", i)
			}
			file := filepath.Join(dir, "migration.csv")
			if err := os.WriteFile(file, []byte(job.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			ios, _, _, stderr := Test()
			ios.SetStderrTTY(tc.terminal)
			ios.SetTerminalWidth(100)
			args := append([]string{"run", file, "--chunk-size", "5", "--rate", "1000", "--attempts", "8"}, tc.flags...)
			code := Main(args, env(map[string]string{
				"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
				"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
				"CRMBATCH_STATE": filepath.Join(dir, "state"),
			}), ios)
			raw := stderr.String()
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, raw)
			}
			if drawn := strings.Contains(raw, "/200 rows"); drawn != tc.bar {
				t.Errorf("bar drawn: %v, want %v", drawn, tc.bar)
			}
			if !tc.bar && strings.Contains(raw, "\x1b[K") {
				t.Errorf("terminal control sequences without a bar")
			}
			if shown := strings.Contains(raw, "run started"); shown != tc.info {
				t.Errorf("info lines shown: %v, want %v", shown, tc.info)
			}
			lines, current := termscreen.Screen(raw)
			if current != "" {
				t.Errorf("the last line is left unfinished: %q", current)
			}
			warnings := 0
			for i, l := range lines {
				if strings.Contains(l, "/200 rows") {
					t.Errorf("line %d: a bar left on the screen: %q", i+1, l)
				}
				if n := strings.Count(l, "call failed"); n > 0 {
					warnings += n
					if n > 1 || !(strings.HasPrefix(l, "time=") || strings.HasPrefix(l, `{"time":`)) {
						t.Errorf("line %d: a warning glued to something: %q", i+1, l)
					}
				}
			}
			if warnings == 0 {
				t.Errorf("no retry warnings: the sandbox was meant to fail calls\n%s", raw)
			}
			json := len(tc.flags) > 0 && tc.flags[len(tc.flags)-1] == "json"
			for i, l := range lines {
				if json && !strings.HasPrefix(l, "{") {
					t.Errorf("line %d is not JSON: %q", i+1, l)
				}
			}
			if !json && !strings.Contains(raw, "200 rows, 200 ok") {
				t.Errorf("no summary:\n%s", raw)
			}
		})
	}
}
