package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crmbatch/crmbatch/internal/termscreen"

	"github.com/crmbatch/crmbatch/report"
)

// ticking is a clock that moves on by step at each reading.
func ticking(step time.Duration) func() time.Time {
	var n atomic.Int64
	start := time.Date(2026, 3, 15, 2, 0, 0, 0, time.UTC)
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * step) }
}

func TestBarLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		width int
		want  []string
		not   []string
	}{
		{"wide", 160, []string{" 50% [", "] 500/1000 rows · ok 480 · failed 15 · invalid 5 · retries 7 · 429 2 · "}, nil},
		{"narrow: no bar, counts first", 60, []string{" 50% 500/1000 rows · ok 480"}, []string{"["}},
		{"tiny: cut to the width", 20, []string{" 50% 500/1000 rows"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			b := NewBar(&out, tc.width, ticking(time.Second))
			b.Begin(1000)
			b.Outcome(report.StatusOK, 480)
			b.Outcome(report.StatusFailed, 15)
			b.Outcome(report.StatusInvalid, 5)
			for range 7 {
				b.Retried()
			}
			b.Throttled()
			b.Throttled()
			line := b.line(b.now())
			if n := utf8.RuneCountInString(line); n > tc.width-1 {
				t.Errorf("%d columns on a terminal of %d: %q", n, tc.width, line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q lacks %q", line, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(line, w) {
					t.Errorf("%q has %q", line, w)
				}
			}
		})
	}
}

// TestBarWithoutCounts: a run that says only how many rows are done gets a
// bar without counts, not counts that stay at 0.
func TestBarWithoutCounts(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	b := NewBar(&out, 100, ticking(time.Second))
	b.Begin(10)
	b.Advance(5)
	if line := b.line(b.now()); !strings.Contains(line, " 5/10 rows · ") || strings.Contains(line, "ok") || strings.Contains(line, "retries") {
		t.Errorf("%q", line)
	}
}

// TestBarLogLinesPassAbove writes a burst of retry warnings from many
// goroutines while the bar counts: every log line stays whole on a line of
// its own, the bar is only ever on the last line, and End clears it.
func TestBarLogLinesPassAbove(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	bar := NewBar(&out, 120, ticking(time.Millisecond))
	log := slog.New(slog.NewTextHandler(bar, nil))
	bar.Begin(800)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				bar.Retried()
				if i%5 == 0 {
					bar.Throttled()
				}
				log.Warn("call failed", "worker", w, "attempt", i, "error", "HTTP 503: the server is busy")
				bar.Outcome(report.StatusOK, 2)
			}
		}()
	}
	wg.Wait()
	log.Warn("last")
	lines, current := termscreen.Screen(out.String())
	if len(lines) != 401 {
		t.Errorf("%d lines on the screen, want the 401 log lines", len(lines))
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "time=") || strings.Count(l, "time=") != 1 || strings.Contains(l, "rows ·") {
			t.Fatalf("line %d is not one whole log line: %q", i+1, l)
		}
	}
	for _, want := range []string{"800/800 rows · ok 800 · failed 0 · retries 400 · 429 80"} {
		if !strings.Contains(current, want) {
			t.Errorf("the bar %q does not say %q", current, want)
		}
	}
	bar.End()
	if _, current := termscreen.Screen(out.String()); current != "" {
		t.Errorf("the bar is still shown after End: %q", current)
	}
	// After End, what is written passes as it is.
	fmt.Fprintf(bar, "crmbatch: ran it\n")
	if lines, _ := termscreen.Screen(out.String()); lines[len(lines)-1] != "crmbatch: ran it" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

// TestBarWaitsForTheEndOfALine: a line written in pieces is not cut by the bar.
func TestBarWaitsForTheEndOfALine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	bar := NewBar(&out, 80, ticking(time.Second))
	bar.Begin(10)
	fmt.Fprint(bar, "crmbatch: warning: ")
	bar.Outcome(report.StatusOK, 5) // no redraw in the middle of the line
	fmt.Fprint(bar, "the password file can be read by others\n")
	lines, current := termscreen.Screen(out.String())
	if len(lines) != 1 || lines[0] != "crmbatch: warning: the password file can be read by others" {
		t.Errorf("lines %q", lines)
	}
	if !strings.Contains(current, "5/10 rows · ok 5") {
		t.Errorf("the bar %q", current)
	}
}

// TestLogProgressCounts: the progress line of a log file carries the counts.
func TestLogProgressCounts(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := NewLogProgress(slog.New(slog.NewJSONHandler(&out, nil)), time.Hour).(*logProgress)
	p.Begin(10)
	p.Outcome(report.StatusOK, 6)
	p.Outcome(report.StatusFailed, 1)
	p.Advance(1)
	p.Retried()
	p.Throttled()
	p.line()
	p.End()
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	for k, want := range map[string]float64{"rows_done": 8, "rows": 10, "ok": 6, "failed": 1, "retries": 1, "throttled": 1} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}
