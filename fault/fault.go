// Package fault holds the errors a run ends with, one type for each class
// its caller treats differently: nothing was sent (UsageError, FileError:
// exit 2) or the run could not finish (FatalError: exit 3). Every room of
// crmbatch returns them, from the job file's reader to the drop folder, and
// the command line maps them to exit codes in one place: they live below
// them all.
//
// What to do about an error is its hint (Hinter, WithHint, HintOf), never a
// part of its text: the command line shows it on a line of its own, or as the
// "hint" field of a JSON log line.
package fault

// UsageError is a problem with the command line or the configuration: nothing
// was sent. Err, when set, is the cause, kept for a caller to tell apart
// (ledger.ErrLocked: another crmbatch runs the job now); Msg, when set, says
// it in the user's words, else Err does.
type UsageError struct {
	Msg string
	Err error
	Fix string // what to do about it, if the cause does not say
}

// Hint says what to do about the problem.
func (e *UsageError) Hint() string { return e.Fix }

func (e *UsageError) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

func (e *UsageError) Unwrap() error { return e.Err }

// FileError is a problem with the job file as a whole: nothing was sent. Err,
// when set, is the cause; Msg, when set, says it in the user's words, else Err
// does; Fix, when set, says what to do about it.
type FileError struct {
	File string
	Msg  string
	Err  error
	Fix  string
}

// Hint says what to do about the problem.
func (e *FileError) Hint() string { return e.Fix }

func (e *FileError) Unwrap() error { return e.Err }

func (e *FileError) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	return e.File + ": " + msg
}

// FatalError stops a run: authentication refused, the endpoint unreachable after
// every retry, or an interruption. What was done is journaled; a re-run resumes.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "the run could not finish: " + e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }
