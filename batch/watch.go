package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Watched is what became of one file of a watched folder.
type Watched struct {
	File    string   // where the file is now
	Summary *Summary // nil when the run did not get to its reports
	Err     error
}

// Watch processes the job files dropped into dir: each .csv or .xlsx whose last
// change is at least settle old (so a file still being written is left alone)
// is run, then moved with its reports into dir/processed (every row ok or
// skipped) or dir/failed (rows failed or invalid, or a broken file). A run that
// could not finish leaves the file where it is, to be resumed at the next scan.
// A file dropped again is refused by the ledger and moved to failed. With once,
// it scans once (for cron); otherwise it scans every poll until ctx ends.
func Watch(ctx context.Context, cfg Config, dir string, once bool, settle, poll time.Duration, done func(Watched)) error {
	for _, sub := range []string{"processed", "failed", ".reports"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return &UsageError{Msg: fmt.Sprintf("--watch: %v", err)}
		}
	}
	for {
		files, err := settled(dir, settle, time.Now())
		if err != nil {
			return &UsageError{Msg: fmt.Sprintf("--watch: %v", err)}
		}
		for _, f := range files {
			if ctx.Err() != nil {
				return nil
			}
			done(runDropped(ctx, cfg, dir, f))
		}
		if once {
			return nil
		}
		if err := sleep(ctx, poll); err != nil {
			return nil
		}
	}
}

// settled lists the job files of dir that have not changed for settle.
func settled(dir string, settle time.Duration, now time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || (ext != ".csv" && ext != ".xlsx") {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < settle {
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	sort.Strings(files)
	return files, nil
}

func runDropped(ctx context.Context, cfg Config, dir, file string) Watched {
	c := cfg
	c.Path = file
	c.OutDir = filepath.Join(dir, ".reports")
	s, err := Run(ctx, c)
	w := Watched{File: file, Summary: s, Err: err}
	var fatal *FatalError
	if errors.As(err, &fatal) {
		return w // resumed at the next scan
	}
	to := "processed"
	if err != nil || s.Problems() > 0 {
		to = "failed"
	}
	moved := filepath.Join(dir, to, filepath.Base(file))
	if mvErr := os.Rename(file, moved); mvErr != nil {
		w.Err = errors.Join(err, mvErr)
		return w
	}
	w.File = moved
	if s != nil {
		for _, p := range []*string{&s.Reports.Results, &s.Reports.Failures, &s.Reports.Summary} {
			dst := filepath.Join(dir, to, filepath.Base(*p))
			if os.Rename(*p, dst) == nil {
				*p = dst
			}
		}
		if err := writeSummary(s); err != nil { // with the reports' new paths
			w.Err = errors.Join(w.Err, err)
		}
	}
	return w
}
