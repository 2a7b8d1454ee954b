// Package watch is crmbatch's drop folder: a billing system drops job files
// into a folder, and each is run once it has settled, then moved with its
// reports into processed/ or failed/. It stands above the pipeline (batch),
// which knows nothing of folders: a dropped file is one more run.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/pacer"
	"github.com/crmbatch/crmbatch/report"
)

// Options say which folder Watch watches and what it tells of it.
type Options struct {
	Dir    string        // the drop folder; it must exist
	Once   bool          // scan once and return (for cron)
	Settle time.Duration // a file is run once it has not changed for this long
	Poll   time.Duration // the wait between scans

	Done     func(Watched)        // after each file's run
	Settling func(files []string) // a scan left these files, still being written; told once per set
	// Busy is told that another crmbatch holds the folder: its files are
	// left to it (once; without Once, the folder is tried again at each poll).
	Busy func()
}

// Watched is what became of one file of a watched folder.
type Watched struct {
	Input   string          // where the file was dropped
	File    string          // where the file is now
	To      string          // "processed", "failed", or "" when it was left to be resumed, or is busy
	Busy    bool            // left in place: another crmbatch runs this job now
	Dir     string          // the run's own folder in processed/ or failed/, holding the file and its reports
	Reason  string          // in failed/: the file beside it that says why
	Summary *report.Summary // nil when the run did not get to its reports
	Err     error
}

// Watch processes the job files dropped into o.Dir: each .csv or .xlsx whose
// last change is at least o.Settle old (so a file still being written is left
// alone) is run, then moved with its reports into a folder of its own,
// processed/STAMP-NAME (every row ok or skipped) or failed/STAMP-NAME (rows
// failed or invalid, or a broken or refused file, with NAME.reason.txt saying
// why). STAMP is the run's start, and a folder is never reused: a file dropped
// again under the same name never overwrites an earlier one or its reports. A
// run that could not finish leaves the file where it is, to be resumed at the
// next scan. A file dropped again is refused by the ledger and moved to failed.
//
// One crmbatch at a time runs a folder's files: Watch holds the folder's lock
// (the folder itself is locked) while it scans and runs them. Another, started meanwhile
// (an overlapping cron run), is told Busy and leaves every file alone, and a
// file whose job another crmbatch runs by hand is left where it is: a run never
// moves, renames or reports into a file another run holds. Spreadsheet lock
// and temporary files (~$X.xlsx, .~lock.X.xlsx#, dot files, *.tmp) are not
// jobs; a file with a header and no rows is nothing to do, however often it
// comes.
//
// A missing folder is a *UsageError: it is not created, as a mistyped path
// would then be watched forever with nothing ever dropped into it.
func Watch(ctx context.Context, cfg batch.Config, o Options) error {
	info, err := os.Stat(o.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &fault.UsageError{Msg: fmt.Sprintf("--watch %s: no such folder", o.Dir), Fix: "check the path, or create the folder first: crmbatch does not create the folder it watches"}
	case err != nil:
		return &fault.UsageError{Msg: fmt.Sprintf("--watch: %v", err), Err: err}
	case !info.IsDir():
		return &fault.UsageError{Msg: fmt.Sprintf("--watch %s is a file, not a folder", o.Dir), Fix: "crmbatch run FILE runs one file"}
	}
	for _, sub := range []string{"processed", "failed", ".reports"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, sub), 0o777); err != nil { // the umask says who reads them
			return &fault.UsageError{Msg: fmt.Sprintf("--watch: %v", err), Err: err}
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	told := ""
	var held *ledger.Lock
	defer func() {
		if held != nil {
			held.Release()
		}
	}()
	toldBusy := false
	for {
		if held == nil {
			l, err := ledger.LockFile(o.Dir)
			switch {
			case errors.Is(err, ledger.ErrLocked):
				if !toldBusy && o.Busy != nil {
					o.Busy()
				}
				toldBusy = true
				if o.Once {
					return nil
				}
				if err := pacer.Sleep(ctx, o.Poll); err != nil {
					return nil
				}
				continue
			case err != nil:
				return &fault.UsageError{Msg: fmt.Sprintf("--watch: %v", err), Err: err}
			}
			held = l
		}
		files, settling, err := scan(o.Dir, o.Settle, now())
		if err != nil {
			return &fault.UsageError{Msg: fmt.Sprintf("--watch: %v", err), Err: err}
		}
		if key := strings.Join(settling, "\x00"); key != told && o.Settling != nil {
			if len(settling) > 0 {
				o.Settling(settling)
			}
			told = key
		}
		for _, f := range files {
			if ctx.Err() != nil {
				return nil
			}
			w := runDropped(ctx, cfg, o.Dir, f, now)
			if o.Done != nil {
				o.Done(w)
			}
		}
		if o.Once {
			return nil
		}
		if err := pacer.Sleep(ctx, o.Poll); err != nil {
			return nil
		}
	}
}

// scan lists the job files of dir that have not changed for settle, and the
// names of those that have.
func scan(dir string, settle time.Duration, now time.Time) (files, settling []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !jobName(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone since the listing
		}
		if now.Sub(info.ModTime()) < settle {
			settling = append(settling, name)
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	sort.Strings(files)
	sort.Strings(settling)
	return files, settling, nil
}

// jobName reports whether a file of a drop folder named name is a job file:
// a .csv or .xlsx that is not a dot file (LibreOffice's .~lock.X.xlsx#, a
// hidden or partial copy) nor Excel's lock file ~$X.xlsx. A temporary file
// (X.tmp) is not a .csv or .xlsx.
func jobName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return (ext == ".csv" || ext == ".xlsx") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "~$")
}

// runDropped runs one dropped file with its reports in .reports/NAME (a run
// that stops writes them there, and its resumption replaces them), then moves
// the file and its reports into a new folder of processed/ or failed/.
func runDropped(ctx context.Context, cfg batch.Config, dir, file string, now func() time.Time) Watched {
	started := now()
	name := filepath.Base(file)
	c := cfg
	c.Path = file
	c.OutDir = filepath.Join(dir, ".reports", name)
	if c.DoneHint == "" {
		c.DoneHint = "nothing was sent; the file is moved to failed/. To send only the rows that run did not apply, " +
			"let the folder skip done work (--done skip), or run the file by hand: crmbatch run --skip-done FILE " +
			"(--rerun sends every row again)"
	}
	if c.Log != nil {
		// The reports move once the run is over: the paths it would log are
		// stale by then, and Done tells the final ones.
		c.Log = slog.New(withoutAttrs{c.Log.Handler(), "results"})
	}
	s, err := batch.Run(ctx, c)
	w := Watched{Input: file, File: file, Summary: s, Err: err}
	var fatal *fault.FatalError
	switch {
	case errors.As(err, &fatal):
		return w // resumed at the next scan
	case errors.Is(err, ledger.ErrLocked):
		// Another crmbatch runs this job now: its file, its reports.
		return Watched{Input: file, File: file, Busy: true}
	}
	w.To = "processed"
	if err != nil || s.Problems() > 0 {
		w.To = "failed"
	}
	runDir, mkErr := newRunDir(filepath.Join(dir, w.To), started, name)
	if mkErr != nil {
		w.To, w.Err = "", errors.Join(err, mkErr)
		return w
	}
	moved := filepath.Join(runDir, name)
	if mvErr := os.Rename(file, moved); mvErr != nil {
		w.To, w.Err = "", errors.Join(err, mvErr)
		_ = os.Remove(runDir)
		return w
	}
	w.File, w.Dir = moved, runDir
	if s != nil {
		for _, p := range []*string{&s.Reports.Results, &s.Reports.Failures, &s.Reports.Summary} {
			dst := filepath.Join(runDir, filepath.Base(*p))
			if os.Rename(*p, dst) == nil {
				*p = dst
			}
		}
		if err := report.WriteSummary(s); err != nil { // with the reports' new paths
			w.Err = errors.Join(w.Err, err)
		}
	}
	_ = os.RemoveAll(c.OutDir) // what an earlier, stopped run of this name left
	if w.To == "failed" {
		w.Reason = filepath.Join(runDir, strings.TrimSuffix(name, filepath.Ext(name))+".reason.txt")
		if err := os.WriteFile(w.Reason, []byte(reason(name, s, err)), 0o666); err != nil {
			w.Reason, w.Err = "", errors.Join(w.Err, err)
		}
	}
	return w
}

// newRunDir makes a new folder in parent for one run of the file name that
// started at t: STAMP-STEM, or STAMP-STEM-2, -3, ... when that exists.
func newRunDir(parent string, t time.Time, name string) (string, error) {
	base := filepath.Join(parent, t.Format("20060102-150405")+"-"+strings.TrimSuffix(name, filepath.Ext(name)))
	for i := 1; ; i++ {
		d := base
		if i > 1 {
			d = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(d, 0o777)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
}

// reason is the text of the file beside a file moved to failed/.
func reason(name string, s *report.Summary, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "%s was not run: %s\n", name, fault.Describe(err))
		if s == nil {
			fmt.Fprintf(&b, "nothing was sent\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %d of %d rows were not done:", name, s.Problems(), s.Rows)
	var sts []string
	for st, n := range s.Counts {
		if st != report.StatusOK && st != report.StatusSkipped && n > 0 {
			sts = append(sts, fmt.Sprintf(" %d %s", n, st))
		}
	}
	sort.Strings(sts)
	fmt.Fprintf(&b, "%s\n", strings.Join(sts, ","))
	for _, p := range s.FirstProblems {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	fmt.Fprintf(&b, "every row and why: %s\n", filepath.Base(s.Reports.Failures))
	fmt.Fprintf(&b, "to send those rows again once fixed: crmbatch run %s\n", filepath.Base(s.Reports.Failures))
	return b.String()
}

// withoutAttrs is a log handler that leaves out the attributes named key.
type withoutAttrs struct {
	slog.Handler
	key string
}

func (h withoutAttrs) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != h.key {
			out.AddAttrs(a)
		}
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h withoutAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return withoutAttrs{h.Handler.WithAttrs(as), h.key}
}

func (h withoutAttrs) WithGroup(name string) slog.Handler {
	return withoutAttrs{h.Handler.WithGroup(name), h.key}
}
