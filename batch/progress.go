package batch

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crmbatch/crmbatch/report"
)

// Progress is told how far a run is; the command line shows it as a bar on a
// terminal or as a log line every few seconds elsewhere. Its methods are called
// from every worker at once.
//
// A run calls Begin with the rows it is about to send, then for each row that
// gets an outcome either Outcome (with its status) or Advance (without), Retried
// for each attempt after a call's first, Throttled for each answer HTTP 429, and
// End once the calls are over.
type Progress interface {
	Begin(rows int)
	Advance(rows int)
	Outcome(st report.Status, rows int)
	Retried()
	Throttled()
	End()
}

type silent struct{}

func (silent) Begin(int)                  {}
func (silent) Advance(int)                {}
func (silent) Outcome(report.Status, int) {}
func (silent) Retried()                   {}
func (silent) Throttled()                 {}
func (silent) End()                       {}

// tally counts what a Progress was told.
type tally struct {
	mu        sync.Mutex
	total     int
	done      int
	by        map[report.Status]int
	retries   int
	throttled int
	counting  bool // the run reports statuses, retries and 429s: show their counts
}

func (t *tally) begin(rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total, t.done, t.by = rows, 0, map[report.Status]int{}
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

// counts are the live counts in the order shown: ok and failed always, then
// the other statuses that occurred, then retries and 429s; none when the run
// reports rows done without their status (Advance) and no retry.
func (t *tally) counts() []count {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.counting {
		return nil
	}
	c := []count{{"ok", t.by[report.StatusOK]}, {"failed", t.by[report.StatusFailed]}}
	var other []count
	for st, n := range t.by {
		if st != report.StatusOK && st != report.StatusFailed && n > 0 {
			other = append(other, count{string(st), n})
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i].name < other[j].name })
	c = append(c, other...)
	return append(c, count{"retries", t.retries}, count{"429", t.throttled})
}

type count struct {
	name string
	n    int
}

// Bar draws a one-line progress bar on a terminal: rows done of the rows to
// send, the live ok/failed/retry/429 counts, the rate and the time left. Lines
// written to the Bar (the log) appear above it and never on its line: the bar
// is cleared, the line written, and the bar drawn again below it.
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
}

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

// Begin shows the bar for rows rows.
func (b *Bar) Begin(rows int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.begin(rows)
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

// End removes the bar: what follows is the run's summary.
func (b *Bar) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		_, _ = io.WriteString(b.w, clearLine)
		b.drawn = false
	}
	b.active = false
}

func (b *Bar) changed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active && !b.midline && b.now().Sub(b.last) >= b.every {
		_ = b.draw()
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

// line is the bar's text for now, at most width-1 columns wide (the last
// column would wrap on some terminals).
func (b *Bar) line(now time.Time) string {
	b.t.mu.Lock()
	total, done := b.t.total, b.t.done
	b.t.mu.Unlock()
	var tail strings.Builder
	fmt.Fprintf(&tail, " %d/%d rows", done, total)
	for _, c := range b.t.counts() {
		fmt.Fprintf(&tail, " · %s %d", c.name, c.n)
	}
	if el := now.Sub(b.start); el > 0 && done > 0 {
		rate := float64(done) / el.Seconds()
		left := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(&tail, " · %.0f rows/s · %s left", rate, left.Round(time.Second))
	}
	pct := 100
	if total > 0 {
		pct = min(100, done*100/total)
	}
	head := fmt.Sprintf("%3d%%", pct)
	room := b.width - 1 - len([]rune(head)) - len([]rune(tail.String())) - 3
	if room >= 10 {
		fill := room * pct / 100
		head += " [" + strings.Repeat("=", fill) + strings.Repeat(" ", room-fill) + "]"
	}
	line := []rune(head + tail.String())
	if len(line) > b.width-1 {
		line = line[:b.width-1]
	}
	return string(line)
}

// NewLogProgress logs a line with rows done, the ok/failed/retry/429 counts,
// rate and time left every period, for runs whose stderr is a log file rather
// than a terminal.
func NewLogProgress(log *slog.Logger, every time.Duration) Progress {
	return &logProgress{log: log, every: every}
}

type logProgress struct {
	log   *slog.Logger
	every time.Duration
	t     tally
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func (p *logProgress) Begin(rows int) {
	p.t.begin(rows)
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

func (p *logProgress) line() {
	p.t.mu.Lock()
	total, done := p.t.total, p.t.done
	p.t.mu.Unlock()
	el := time.Since(p.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	left := 0.0
	if rate > 0 {
		left = float64(total-done) / rate
	}
	attrs := []any{"rows_done", done, "rows", total}
	for _, c := range p.t.counts() {
		name := c.name
		if name == "429" {
			name = "throttled"
		}
		attrs = append(attrs, name, c.n)
	}
	p.log.Info("progress", append(attrs, "rows_per_second", int(rate), "seconds_left", int(left))...)
}

func (p *logProgress) Advance(rows int)                   { p.t.advance("", rows) }
func (p *logProgress) Outcome(st report.Status, rows int) { p.t.advance(st, rows) }
func (p *logProgress) Retried()                           { p.t.retried() }
func (p *logProgress) Throttled()                         { p.t.throttle() }

func (p *logProgress) End() {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
	}
}
