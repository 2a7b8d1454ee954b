package main

import (
	"time"

	"github.com/crmbatch/crmbatch/internal/textfile"
	"github.com/crmbatch/crmbatch/report"
)

// writeMetrics writes --metrics-file at the end of a run or a watch folder's
// scan, which ended with err: the figures of the runs made, the exit code and
// when it ended. Failing to write it is a warning: the run's outcome is what
// it was.
func (f *factory) writeMetrics(o *RunOptions, err error) {
	file := textfile.File{Job: o.Job, Input: o.File, ExitCode: int(resolveExitCode(err)), End: time.Now()}
	if o.Watch != "" {
		file.Input = o.Watch
	}
	kinds := map[string]bool{}
	for _, s := range f.ran {
		file.Runs = append(file.Runs, metricsRun(s))
		kinds[s.Job] = true
	}
	if len(kinds) == 1 && file.Job == "" {
		file.Job = file.Runs[0].Job
	}
	if werr := textfile.Write(o.MetricsFile, file); werr != nil {
		f.warn(werr)
	}
}

// metricsRun is a summary's figures for the metrics file: rows per status,
// those never sent apart, as the summary counts them.
func metricsRun(s *report.Summary) textfile.Run {
	r := textfile.Run{Job: s.Job, Rows: map[string]int{}, Calls: s.Calls, Retries: s.Retries,
		Throttled: s.Throttled, DurationSeconds: s.DurationSeconds}
	for st, n := range s.Counts {
		r.Rows[string(st)] += n
	}
	r.Rows["not_sent"] = s.NotSent // apart from the statuses
	return r
}
