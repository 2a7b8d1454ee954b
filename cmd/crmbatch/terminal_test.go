package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
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
		width    int // 100 unless said
		flags    []string
		bar      bool
		info     bool // "run started" and the other info lines shown
	}{
		{name: "terminal", terminal: true, bar: true},
		{name: "terminal of 70 columns", terminal: true, width: 70, bar: true},
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
			width := tc.width
			if width == 0 {
				width = 100
			}
			ios.SetTerminalWidth(width)
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
			sentence := tc.terminal && len(tc.flags) == 0 // or --no-progress: a person reads it
			if tc.terminal && len(tc.flags) > 0 && tc.flags[0] == "--no-progress" {
				sentence = true
			}
			for i, l := range lines {
				if strings.Contains(l, "/200 rows") {
					t.Errorf("line %d: a bar left on the screen: %q", i+1, l)
				}
				if sentence {
					if strings.Contains(l, "call failed") || strings.Contains(l, "level=") {
						t.Errorf("line %d: a log line rather than a sentence at a terminal: %q", i+1, l)
					}
					if n := strings.Count(l, "HTTP 500"); n > 0 {
						warnings += n
						if n > 1 || !strings.HasPrefix(l, "crmbatch: ") || !strings.HasSuffix(l, ": HTTP 500, nothing applied") || len(l) > 69 {
							t.Errorf("line %d: a warning glued to something: %q", i+1, l)
						}
					}
					continue
				}
				if n := strings.Count(l, "call failed"); n > 0 {
					warnings += n
					if n > 1 || !(strings.HasPrefix(l, "time=") || strings.HasPrefix(l, `{"time":`)) {
						t.Errorf("line %d: a warning glued to something: %q", i+1, l)
					}
				}
			}
			if tc.bar {
				// Every bar drawn fits the width, its fields whole.
				for _, draw := range strings.Split(raw, "\r\x1b[K") {
					draw, _, _ = strings.Cut(draw, "\n")
					if strings.Contains(draw, "/200 rows") && len([]rune(draw)) > width-1 {
						t.Errorf("a bar of %d columns on a terminal of %d: %q", len([]rune(draw)), width, draw)
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

// TestResumeOnATerminal stops a run when its endpoint goes away (exit 3),
// then runs the same command at a terminal: the resume is one sentence, and
// the bar counts the whole job, the rows done before included.
func TestResumeOnATerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var job strings.Builder
	job.WriteString("esn,group_name\n")
	for i := range 200 {
		fmt.Fprintf(&job, "RES-%04d,OPERATOR1\n", i)
	}
	file := filepath.Join(dir, "migration.csv")
	if err := os.WriteFile(file, []byte(job.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	sb := sandbox.New(sandbox.Options{})
	var calls atomic.Int32
	var closing sync.Once
	first := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "register_devices") && calls.Add(1) > 6 {
			// The endpoint goes away: this answer is the last on any connection.
			w.Header().Set("Connection", "close")
			closing.Do(func() { l.Close() })
		}
		sb.ServeHTTP(w, r)
	})}}
	first.Start()
	getenv := env(map[string]string{
		"CRMBATCH_ENDPOINT": "http://" + addr + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
		"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
		"CRMBATCH_STATE": filepath.Join(dir, "state"),
	})
	ios, _, _, stderr := Test()
	if code := Main([]string{"run", file, "--chunk-size", "5", "--concurrency", "1", "--attempts", "1", "--no-progress"}, getenv, ios); code != exitStopped {
		t.Fatalf("first run: exit %d, want 3:\n%s", code, stderr.String())
	}
	first.Close()
	before := regexp.MustCompile(`rows, (\d+) ok`).FindStringSubmatch(stderr.String())
	if before == nil || before[1] == "0" || before[1] == "200" {
		t.Fatalf("the first run did not stop midway:\n%s", stderr.String())
	}
	// The endpoint is back, at the same address.
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the address %s cannot be listened on again: %v", addr, err)
	}
	second := &httptest.Server{Listener: l2, Config: &http.Server{Handler: sandbox.New(sandbox.Options{})}}
	second.Start()
	defer second.Close()
	ios, _, _, stderr = Test()
	ios.SetStderrTTY(true)
	ios.SetTerminalWidth(100)
	if code := Main([]string{"run", file, "--chunk-size", "5"}, getenv, ios); code != exitOK {
		t.Fatalf("resumed run: exit %d:\n%s", code, stderr.String())
	}
	raw := stderr.String()
	lines, _ := termscreen.Screen(raw)
	if len(lines) == 0 || !regexp.MustCompile(`^crmbatch: resuming a stopped run: `+before[1]+` rows done(, \d+ to check first)?$`).MatchString(lines[0]) {
		t.Errorf("the resume is not told as one sentence first:\n%q", lines)
	}
	if want := " " + before[1] + "/200 rows"; !strings.Contains(raw, want) || !strings.Contains(raw, before[1]+" done before") {
		t.Errorf("the bar does not start at %q with the rows done before:\n%q", want, raw)
	}
	if strings.Contains(raw, "/"+fmt.Sprint(200-atoi(t, before[1]))+" rows") {
		t.Errorf("the bar counts only the rest of the job:\n%q", raw)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
