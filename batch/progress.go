package batch

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress is told how far a run is; the command line shows it as a bar on a
// terminal or as a log line every few seconds elsewhere.
type Progress interface {
	Begin(rows int)
	Advance(rows int)
	End()
}

type silent struct{}

func (silent) Begin(int)   {}
func (silent) Advance(int) {}
func (silent) End()        {}

// NewBarProgress draws a progress bar (rows done, rate, time left) on w, which
// must be a terminal: the caller checks, progressbar does not.
func NewBarProgress(w io.Writer) Progress { return &barProgress{w: w} }

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Begin(rows int) {
	p.bar = progressbar.NewOptions(rows,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("rows"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Advance(rows int) {
	if p.bar != nil {
		_ = p.bar.Add(rows)
	}
}

func (p *barProgress) End() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// NewLogProgress logs a line with rows done, rate and time left every period,
// for runs whose stderr is a log file rather than a terminal.
func NewLogProgress(log *slog.Logger, every time.Duration) Progress {
	return &logProgress{log: log, every: every}
}

type logProgress struct {
	log   *slog.Logger
	every time.Duration
	total int
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func (p *logProgress) Begin(rows int) {
	p.total, p.start, p.stop = rows, time.Now(), make(chan struct{})
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
	done := p.done.Load()
	el := time.Since(p.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	left := 0.0
	if rate > 0 {
		left = float64(int64(p.total)-done) / rate
	}
	p.log.Info("progress", "rows_done", done, "rows", p.total, "rows_per_second", int(rate), "seconds_left", int(left))
}

func (p *logProgress) Advance(rows int) { p.done.Add(int64(rows)) }

func (p *logProgress) End() {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
	}
}
