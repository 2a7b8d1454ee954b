package termbar

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/internal/termscreen"
	"github.com/crmbatch/crmbatch/report"
)

// TestSentences: each record a run logs is one plain sentence at a terminal.
func TestSentences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		level slog.Level
		msg   string
		attrs []any
		want  string // "" = not told
	}{
		{"lost answer", slog.LevelWarn, "call failed", []any{"run_id", "r-1", "chunk", "3", "attempt", 2, "method", "netflix/operators/register_devices",
			"http_status", 0, "error_class", "ambiguous", "error", "crm: netflix/operators/register_devices: ambiguous error: EOF (the call may have been applied)"},
			"crmbatch: operators/register_devices: answer lost, checking it"},
		{"HTTP 500", slog.LevelWarn, "call failed", []any{"attempt", 1, "method", "netflix/charges/acknowledge", "http_status", 500, "error_class", "transient",
			"error", "crm: netflix/charges/acknowledge: transient error: http 500: INTERNAL_ERROR: boom"},
			"crmbatch: charges/acknowledge: HTTP 500, nothing applied"},
		{"no answer", slog.LevelWarn, "call failed", []any{"attempt", 3, "method", "authentication/token", "http_status", 0, "error_class", "transient",
			"error", "crm: authentication/token: transient error: dial tcp 127.0.0.1:9: connect: connection refused"},
			"crmbatch: authentication/token: no answer (dial tcp 127.0.0.1:9: connect: connection refused), nothing applied"},
		{"429: the bar counts it", slog.LevelWarn, "call failed", []any{"http_status", 429, "error_class", "transient"}, ""},
		{"resume", slog.LevelWarn, "resuming a run that stopped", []any{"run_id", "abc-1", "started", "2026-12-07T04:00:00Z", "rows_done", 73000, "rows_uncertain", 4},
			"crmbatch: resuming a stopped run: 73000 rows done, 4 to check first"},
		{"any other, hint on one line", slog.LevelWarn, "something odd", []any{"error", "it broke\nhint: do this"},
			"crmbatch: warning: something odd (error it broke; hint: do this)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			slog.New(NewHandler(&out, slog.LevelWarn)).Log(t.Context(), tc.level, tc.msg, tc.attrs...)
			got := strings.TrimSuffix(out.String(), "\n")
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if strings.Count(out.String(), "\n") > 1 || (strings.Contains(tc.msg, "call failed") && len(got) > 69 && !strings.Contains(got, "dial")) {
				t.Errorf("more than one line: %q", out.String())
			}
		})
	}
}

// TestBurstOfWarningsAboveTheBar: warnings from many workers at once, as
// sentences through the bar, each whole on its own line above it.
func TestBurstOfWarningsAboveTheBar(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	bar := NewBar(&out, 70, ticking(time.Millisecond))
	log := slog.New(NewHandler(bar, slog.LevelWarn))
	bar.Begin(400, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				bar.Retried()
				log.Warn("call failed", "attempt", i+1, "method", "netflix/operators/register_devices", "http_status", 0,
					"error_class", "ambiguous", "error", "crm: x: ambiguous error: EOF (the call may have been applied)")
				bar.Outcome(report.StatusOK, 2)
			}
		}()
	}
	wg.Wait()
	log.Warn("call failed", "method", "m", "error_class", "transient", "http_status", 503)
	lines, current := termscreen.Screen(out.String())
	if len(lines) != 201 {
		t.Errorf("%d lines, want the 201 warnings", len(lines))
	}
	lines = lines[:200]
	for i, l := range lines {
		if l != "crmbatch: operators/register_devices: answer lost, checking it" {
			t.Fatalf("line %d is not one whole sentence: %q", i+1, l)
		}
	}
	if !strings.Contains(current, "400/400 rows") || len([]rune(current)) > 69 {
		t.Errorf("the bar %q", current)
	}
}
