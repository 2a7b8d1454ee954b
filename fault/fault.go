// Package fault holds the errors a run ends with, one type for each class
// its caller treats differently: nothing was sent (UsageError, FileError:
// exit 2) or the run could not finish (FatalError: exit 3). Every room of
// crmbatch returns them, from the job file's reader to the drop folder, and
// the command line maps them to exit codes in one place: they live below
// them all.
package fault

// UsageError is a problem with the command line or the configuration: nothing
// was sent. Err, when set, is the cause, kept for a caller to tell apart
// (ledger.ErrLocked: another crmbatch runs the job now); Msg, when set, says
// it in the user's words, else Err does.
type UsageError struct {
	Msg string
	Err error
}

func (e *UsageError) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

func (e *UsageError) Unwrap() error { return e.Err }

// FileError is a problem with the job file as a whole: nothing was sent. Err,
// when set, is the cause; Msg, when set, says it in the user's words, else Err
// does.
type FileError struct {
	File string
	Msg  string
	Err  error
	Hint string
}

func (e *FileError) Unwrap() error { return e.Err }

func (e *FileError) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	s := e.File + ": " + msg
	if e.Hint != "" {
		s += "\nhint: " + e.Hint
	}
	return s
}

// FatalError stops a run: authentication refused, the endpoint unreachable after
// every retry, or an interruption. What was done is journaled; a re-run resumes.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "the run could not finish: " + e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }
