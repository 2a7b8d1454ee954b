// Package termbar shows a run's progress to the person who started it: a
// one-line bar redrawn in place on a terminal, with the log's warnings as
// plain sentences above it, or a progress line every few seconds in a log
// file. It implements batch.Progress; batch knows nothing of terminals.
package termbar

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/report"
)

// tally counts what a Progress was told.
type tally struct {
	mu        sync.Mutex
	total     int
	before    int // rows done by the runs this one resumes
	done      int // rows done, before included
	by        map[report.Status]int
	retries   int
	throttled int
	counting  bool // the run reports statuses, retries and 429s: show their counts
}

func (t *tally) begin(rows, done int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total, t.before, t.done, t.by = rows, done, done, map[report.Status]int{}
}

func (t *tally) advance(st report.Status, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done += rows
	if st != "" {
		t.counting = true
		if t.by == nil {
			t.by = map[report.Status]int{}
		}
		t.by[st] += rows
	}
}

func (t *tally) retried() {
	t.mu.Lock()
	t.retries++
	t.counting = true
	t.mu.Unlock()
}

func (t *tally) throttle() {
	t.mu.Lock()
	t.throttled++
	t.counting = true
	t.mu.Unlock()
}

// snapshot is a tally's figures at one moment.
type snapshot struct {
	total, before, done int
	counts              []count // in the order shown; none when not counting
}

// snap reads the tally: the counts in the order shown are ok and failed
// always, then the other statuses that occurred, then retries and 429s; none
// when the run reports rows done without their status (Advance) and no retry.
func (t *tally) snap() snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := snapshot{total: t.total, before: t.before, done: t.done}
	if !t.counting {
		return s
	}
	s.counts = []count{{"ok", t.by[report.StatusOK]}, {"failed", t.by[report.StatusFailed]}}
	var other []count
	for st, n := range t.by {
		if st != report.StatusOK && st != report.StatusFailed && n > 0 {
			other = append(other, count{string(st), n})
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i].name < other[j].name })
	s.counts = append(s.counts, other...)
	s.counts = append(s.counts, count{"retries", t.retries}, count{"429", t.throttled})
	return s
}

type count struct {
	name string
	n    int
}

// Bar draws a one-line progress bar on a terminal: rows done of the job's
// rows (a resumed run's included), the live ok/failed/retry/429 counts, the
// rate and the time left. Lines written to the Bar (the log) appear above it
// and never on its line: the bar is cleared, the line written, and the bar
// drawn again below it.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	width   int
	now     func() time.Time
	every   time.Duration // redraws for counts alone at most this often
	t       tally
	start   time.Time
	last    time.Time // of the last draw
	active  bool      // between Begin and End
	drawn   bool      // the bar is on the screen's last line
	midline bool      // a write ended within a line: the bar waits for its end
	late    bool      // a change not drawn is drawn after every (RedrawLate)
	pending *time.Timer
}

// RedrawLate makes the bar draw a change it held back (changes are drawn at
// most every 100 ms) once that time has passed, so that the bar at rest shows
// the last count rather than one before it. Off in tests of the bar's lines,
// which run on a fake clock.
func (b *Bar) RedrawLate() {
	b.mu.Lock()
	b.late = true
	b.mu.Unlock()
}

var _ batch.Progress = (*Bar)(nil)

// NewBar draws on w, a terminal width columns wide; now is the clock of the
// rate and the time left (time.Now outside tests).
func NewBar(w io.Writer, width int, now func() time.Time) *Bar {
	if width <= 0 {
		width = 80
	}
	return &Bar{w: w, width: width, now: now, every: 100 * time.Millisecond}
}

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// Write writes p above the bar. Everything a command writes to the terminal
// while the bar may be shown goes through Write.
func (b *Bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if b.drawn {
		if _, err := io.WriteString(b.w, clearLine); err != nil {
			return 0, err
		}
		b.drawn = false
	}
	n, err := b.w.Write(p)
	b.midline = p[len(p)-1] != '\n'
	if err == nil && b.active && !b.midline {
		err = b.draw()
	}
	return n, err
}

// Begin shows the bar for a job of rows rows, done of them done before.
func (b *Bar) Begin(rows, done int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.begin(rows, done)
	b.start, b.active = b.now(), true
	if !b.midline {
		_ = b.draw()
	}
}

// Advance counts rows done, their status not said.
func (b *Bar) Advance(rows int) { b.t.advance("", rows); b.changed() }

// Outcome counts rows done with status st.
func (b *Bar) Outcome(st report.Status, rows int) { b.t.advance(st, rows); b.changed() }

// Retried counts an attempt after a call's first.
func (b *Bar) Retried() { b.t.retried(); b.changed() }

// Throttled counts an answer HTTP 429.
func (b *Bar) Throttled() { b.t.throttle(); b.changed() }

// Done returns the rows done (a resumed run's earlier ones included) and the
// job's rows, as last told.
func (b *Bar) Done() (done, rows int) {
	s := b.t.snap()
	return s.done, s.total
}

// End removes the bar: what follows is the run's summary.
func (b *Bar) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		_, _ = io.WriteString(b.w, clearLine)
		b.drawn = false
	}
	if b.pending != nil {
		b.pending.Stop()
		b.pending = nil
	}
	b.active = false
}

func (b *Bar) changed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.active || b.midline {
		return
	}
	if b.now().Sub(b.last) >= b.every {
		_ = b.draw()
		return
	}
	if b.late && b.pending == nil {
		b.pending = time.AfterFunc(b.every, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.pending = nil
			if b.active && !b.midline {
				_ = b.draw()
			}
		})
	}
}

// draw puts the bar on the current line; b.mu is held.
func (b *Bar) draw() error {
	now := b.now()
	b.last = now
	line := b.line(now)
	_, err := io.WriteString(b.w, clearLine+line)
	b.drawn = err == nil
	return err
}

// field is one part of the bar's line: its text, and its rank when the
// terminal is too narrow for all (lower ranks stay longest).
type field struct {
	text string
	rank int
}

// line is the bar's text for now, at most width-1 columns wide (the last
// column would wrap on some terminals). When the terminal is narrow, whole
// fields are left out, the least needed first, rather than words cut.
func (b *Bar) line(now time.Time) string {
	s := b.t.snap()
	fields := []field{{fmt.Sprintf("%d/%d rows", s.done, s.total), 0}}
	rank := map[string]int{"ok": 1, "failed": 2, "retries": 6, "429": 7}
	for _, c := range s.counts {
		r, ok := rank[c.name]
		if !ok {
			r = 3 // invalid, unknown, skipped: rare, and they matter
		}
		fields = append(fields, field{fmt.Sprintf("%s %d", c.name, c.n), r})
	}
	if s.before > 0 {
		fields = append(fields, field{fmt.Sprintf("%d done before", s.before), 4})
	}
	if el := now.Sub(b.start); el > 0 && s.done > s.before {
		rate := float64(s.done-s.before) / el.Seconds()
		left := time.Duration(float64(s.total-s.done) / rate * float64(time.Second))
		fields = append(fields, field{fmt.Sprintf("%.0f rows/s", rate), 8}, field{left.Round(time.Second).String() + " left", 5})
	}
	pct := 100
	if s.total > 0 {
		pct = min(100, s.done*100/s.total)
	}
	head := fmt.Sprintf("%3d%%", pct)
	room := b.width - 1 - len(head)
	// Keep fields by rank while they fit.
	keep := make([]bool, len(fields))
	used := 0
	for r := 0; r <= 8; r++ {
		for i, f := range fields {
			if f.rank != r {
				continue
			}
			need := len([]rune(f.text)) + 3 // " · " (the first field's " " is 1: a margin)
			if r == 0 || used+need <= room {
				keep[i], used = true, used+need
			}
		}
	}
	var tail strings.Builder
	first := true
	for i, f := range fields {
		if !keep[i] {
			continue
		}
		if first {
			tail.WriteString(" ")
			first = false
		} else {
			tail.WriteString(" · ")
		}
		tail.WriteString(f.text)
	}
	if bar := room - len([]rune(tail.String())) - 3; bar >= 10 {
		fill := bar * pct / 100
		head += " [" + strings.Repeat("=", fill) + strings.Repeat(" ", bar-fill) + "]"
	}
	line := []rune(head + tail.String())
	if len(line) > b.width-1 {
		line = line[:b.width-1] // narrower than the rows alone
	}
	return string(line)
}

// LogProgress logs a line with rows done, the ok/failed/retry/429 counts,
// rate and time left every period, for runs whose stderr is a log file rather
// than a terminal.
type LogProgress struct {
	log   *slog.Logger
	every time.Duration
	t     tally
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

var _ batch.Progress = (*LogProgress)(nil)

// NewLogProgress logs to log every period.
func NewLogProgress(log *slog.Logger, every time.Duration) *LogProgress {
	return &LogProgress{log: log, every: every}
}

// Begin starts the progress lines of a job of rows rows, done of them done before.
func (p *LogProgress) Begin(rows, done int) {
	p.t.begin(rows, done)
	p.start, p.stop = time.Now(), make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.line()
			}
		}
	}()
}

func (p *LogProgress) line() {
	s := p.t.snap()
	el := time.Since(p.start).Seconds()
	rate := float64(s.done-s.before) / max(el, 1e-9)
	left := 0.0
	if rate > 0 {
		left = float64(s.total-s.done) / rate
	}
	attrs := []any{"rows_done", s.done, "rows", s.total}
	for _, c := range s.counts {
		name := c.name
		if name == "429" {
			name = "throttled"
		}
		attrs = append(attrs, name, c.n)
	}
	p.log.Info("progress", append(attrs, "rows_per_second", int(rate), "seconds_left", int(left))...)
}

// Advance counts rows done, their status not said.
func (p *LogProgress) Advance(rows int) { p.t.advance("", rows) }

// Outcome counts rows done with status st.
func (p *LogProgress) Outcome(st report.Status, rows int) { p.t.advance(st, rows) }

// Retried counts an attempt after a call's first.
func (p *LogProgress) Retried() { p.t.retried() }

// Throttled counts an answer HTTP 429.
func (p *LogProgress) Throttled() { p.t.throttle() }

// Done returns the rows done (a resumed run's earlier ones included) and the job's rows.
func (p *LogProgress) Done() (done, rows int) {
	s := p.t.snap()
	return s.done, s.total
}

// End stops the progress lines.
func (p *LogProgress) End() {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
	}
}
