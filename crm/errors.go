package crm

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Class says what a caller should do about a failed call.
type Class int

const (
	// Permanent: the server refused the call; resending it gives the same answer.
	Permanent Class = iota
	// Transient: the call was not applied and may be retried after a backoff.
	Transient
	// Auth: the credentials (or every token obtained with them) were refused.
	Auth
	// Ambiguous: the request was sent but no usable answer came back; it may have
	// been applied, so check the state before resending a state-changing call.
	Ambiguous
	// Endpoint: the endpoint is not where this Web API answers as configured (it
	// redirected elsewhere); no call can succeed until the endpoint is fixed, so
	// the run must stop.
	Endpoint
)

// String returns "permanent", "transient", "auth", "ambiguous" or "endpoint".
func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Auth:
		return "auth"
	case Ambiguous:
		return "ambiguous"
	case Endpoint:
		return "endpoint"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Error is a failed call of the Web API. It never holds the request's URL,
// parameters or token.
type Error struct {
	Method     string        // API method path, e.g. "netflix/operators/register_devices"
	Class      Class         // what the caller should do about it
	HTTPStatus int           // 0 when no response came back
	Code       string        // status.code of a non-OK envelope
	Message    string        // status.message, or status.description when the message is empty
	RetryAfter time.Duration // from the Retry-After header of a 429 or 503
	Err        error         // the underlying transport error, if any
	Fix        string        // what to do about it, when the client knows (Endpoint errors)
}

// retrier and fataler are the behaviours rclone's fserrors checks for; Error opts in.
type retrier interface{ Retry() bool }
type fataler interface{ Fatal() bool }

var (
	_ retrier = (*Error)(nil)
	_ fataler = (*Error)(nil)
)

// Error describes the failure in one line; Hint says what to do about it.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("crm: ")
	b.WriteString(e.Method)
	b.WriteString(": ")
	b.WriteString(e.Class.String())
	b.WriteString(" error")
	if e.HTTPStatus != 0 && e.HTTPStatus != http.StatusOK {
		fmt.Fprintf(&b, ": http %d", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Class == Ambiguous {
		b.WriteString(" (the call may have been applied)")
	}
	return b.String()
}

// Hint says what to do about the failure: check the credentials (Auth), and
// what the client knows (Fix).
func (e *Error) Hint() string {
	var hints []string
	if e.Class == Auth {
		hints = append(hints, "check the credentials ("+EnvUsername+", "+EnvPassword+", "+
			EnvOrganisation+", "+EnvUnit+" or "+EnvAPIKey+") and the endpoint")
	}
	if e.Fix != "" {
		hints = append(hints, e.Fix)
	}
	return strings.Join(hints, "; ")
}

// Unwrap returns the underlying transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Retry reports whether the call may simply be sent again (Transient).
func (e *Error) Retry() bool { return e.Class == Transient }

// Fatal reports whether the whole run must stop (Auth, Endpoint).
func (e *Error) Fatal() bool { return e.Class == Auth || e.Class == Endpoint }

// ClassOf returns the class of err: that of the *Error it is or wraps, else
// Permanent (which includes the caller's own context errors: nothing to retry).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Permanent
}

// IsRetryable reports whether err is Transient: the call was not applied and may
// be sent again after a backoff.
func IsRetryable(err error) bool { return err != nil && ClassOf(err) == Transient }

// IsAmbiguous reports whether err is Ambiguous: the call may have been applied.
func IsAmbiguous(err error) bool { return err != nil && ClassOf(err) == Ambiguous }

// tokenCodes are status codes, other than ones naming a token, that mean the
// call was refused for its credentials. No list of codes is published; the
// sandbox says INVALID_TOKEN. Only the code is read, never the message: a row
// refused because "the promotion has expired" is about the row, not the token.
var tokenCodes = []string{"UNAUTHORIZED", "UNAUTHORISED", "NOT_AUTHENTICATED", "AUTHENTICATION_FAILED",
	"AUTHENTICATION_REQUIRED", "SESSION_EXPIRED", "INVALID_SESSION"}

// isAuthFailure reports whether err means that the token was refused: HTTP 401
// or 403, or a status code naming the token or the session. Then nothing was
// applied and the call may be replayed with a fresh token.
func isAuthFailure(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Class != Permanent {
		return false
	}
	if e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusForbidden {
		return true
	}
	code := strings.ToUpper(strings.TrimSpace(e.Code))
	if strings.Contains(code, "TOKEN") {
		return true
	}
	for _, c := range tokenCodes {
		if code == c {
			return true
		}
	}
	return false
}
