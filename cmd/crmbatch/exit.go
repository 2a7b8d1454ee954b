package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
)

// exitCode is what crmbatch exits with: one of the contract's codes.
type exitCode int

// Exit codes of the contract.
const (
	exitOK      exitCode = 0 // every row ok or skipped
	exitRows    exitCode = 1 // some rows failed or invalid; reports written
	exitUsage   exitCode = 2 // usage, config or input-file error; nothing sent
	exitStopped exitCode = 3 // stopped for a reason that passes; the same command resumes
	exitAct     exitCode = 4 // a person must act (credentials, endpoint) before a re-run can help
)

// word is the exit code's meaning in one word, for the "run finished" line.
func (c exitCode) word() string {
	switch c {
	case exitOK:
		return "ok"
	case exitRows:
		return "rows_not_done"
	case exitUsage:
		return "usage"
	case exitStopped:
		return "stopped"
	case exitAct:
		return "act"
	}
	return "unknown"
}

// usageError is a command line that cannot be run as given: nothing was sent.
type usageError struct {
	msg  string
	hint string // what to do; "" = the general one
	err  error  // the cause, if any
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Hint() string  { return e.hint }
func (e *usageError) Unwrap() error { return e.err }

// rowsError says that some rows (or customers, for show) were not done; the
// command has already said which, so it is not printed again.
type rowsError struct{ n int }

func (e *rowsError) Error() string { return fmt.Sprintf("%d rows were not done", e.n) }

// reported wraps an error that was already shown to the user: its exit code
// counts, its text is not printed again.
type reported struct{ err error }

func (e *reported) Error() string { return e.err.Error() }
func (e *reported) Unwrap() error { return e.err }

// resolveExitCode maps a command's error to the contract's exit code. It is
// the one place that does (rclone's cmd.resolveExitCode): flag and argument
// errors are *usageError, whatever cobra or pflag found wrong.
func resolveExitCode(err error) exitCode {
	var (
		rows    *rowsError
		usage   *usageError
		bUsage  *fault.UsageError
		file    *fault.FileError
		input   *formats.InputError
		stopped *fault.FatalError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &rows):
		return exitRows
	case errors.As(err, &usage), errors.As(err, &bUsage), errors.As(err, &file), errors.As(err, &input):
		return exitUsage
	case mustAct(err):
		return exitAct
	case errors.As(err, &stopped):
		return exitStopped
	}
	return exitStopped // unforeseen: the run may not have finished
}

// mustAct reports whether err is one that no re-run can get past until a
// person acts: credentials refused, or an endpoint that is not the Web API.
func mustAct(err error) bool {
	var ce *crm.Error
	return errors.As(err, &ce) && (ce.Class == crm.Auth || ce.Class == crm.Endpoint)
}

// report shows a command's error on stderr, as a "crmbatch: ..." line and a
// hint line, or as one JSON line under --log-format json.
func (f *factory) report(err error, code exitCode) {
	var (
		done *reported
		rows *rowsError
	)
	if err == nil || errors.As(err, &done) || errors.As(err, &rows) {
		return
	}
	msg, hint := explain(err, code)
	var stopped *fault.FatalError
	if errors.As(err, &stopped) && errors.Is(err, context.Canceled) {
		// Ctrl-C or SIGTERM: said plainly, not as the signal's Go text.
		msg = "stopped when asked (Ctrl-C or SIGTERM): the calls in flight finished and the reports are written"
	}
	if f.json && f.log != nil {
		attrs := []any{"exit_code", int(code)}
		if hint != "" {
			attrs = append(attrs, "hint", hint)
		}
		attrs = append(attrs, "exit", code.word())
		f.log.Error(msg, attrs...)
		return
	}
	w := f.stderr
	if w == nil {
		w = f.io.ErrOut
	}
	fmt.Fprintf(w, "crmbatch: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
}

// explain is what an error with exit code code says: its text, and what to
// do about it (the hints along its chain, else the general one for code).
func explain(err error, code exitCode) (msg, hint string) {
	hint = fault.HintOf(err)
	if h := endpointHint(err); h != "" {
		hint = h
	}
	if hint == "" {
		hint = defaultHint(err, code)
	}
	return err.Error(), hint
}

// endpointHint is the hint for a login answered 404: no Web API answers at
// the endpoint's path, whatever the credentials; else "".
func endpointHint(err error) string {
	var ce *crm.Error
	if errors.As(err, &ce) && ce.HTTPStatus == http.StatusNotFound && strings.HasPrefix(ce.Method, "authentication/") {
		return "the endpoint answered 404 (not found) to the login: it is not the Web API's address; " +
			"CRM.COM serves it under /crmapi/rest/v2/, so set --endpoint (or CRMBATCH_ENDPOINT) to https://HOST/crmapi/rest/v2/"
	}
	return ""
}

// defaultHint says what to do about an error that brings no hint of its own.
func defaultHint(err error, code exitCode) string {
	var (
		usage *usageError
		ce    *crm.Error
	)
	switch {
	case errors.As(err, &usage):
		return `nothing was sent; "crmbatch help" lists the commands, "crmbatch COMMAND -h" their flags`
	case code == exitUsage:
		return "nothing was sent; fix the file or the flags and run again"
	case errors.As(err, &ce) && ce.Class == crm.Auth:
		return "the login was refused: check CRMBATCH_USERNAME, CRMBATCH_PASSWORD and CRMBATCH_ORGANISATION (or CRMBATCH_API_KEY), then run the same command again; what was done is recorded"
	case code == exitAct:
		return "fix the endpoint, then run the same command again; what was done is recorded"
	case code == exitStopped:
		return "what was done is recorded; run the same command again to resume"
	}
	return ""
}

// logLevel is the level of a line about an outcome with exit code code.
func logLevel(code exitCode) slog.Level {
	switch code {
	case exitOK:
		return slog.LevelInfo
	case exitRows:
		return slog.LevelWarn
	}
	return slog.LevelError
}
