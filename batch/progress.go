package batch

import "github.com/crmbatch/crmbatch/report"

// Progress is told how far a run is; the command line shows it as a bar on a
// terminal or as a log line every few seconds elsewhere. Its methods are called
// from every worker at once.
//
// A run calls Begin with the job's rows and those done before (by the run it
// resumes), then for each row that gets an outcome either Outcome (with its
// status) or Advance (without), Retried for each attempt after a call's first,
// Throttled for each answer HTTP 429, and End once the calls are over.
type Progress interface {
	Begin(rows, done int)
	Advance(rows int)
	Outcome(st report.Status, rows int)
	Retried()
	Throttled()
	End()
}

type silent struct{}

func (silent) Begin(int, int)             {}
func (silent) Advance(int)                {}
func (silent) Outcome(report.Status, int) {}
func (silent) Retried()                   {}
func (silent) Throttled()                 {}
func (silent) End()                       {}
