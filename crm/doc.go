// Package crm is a typed client for the CRM.COM Web API methods crmbatch drives
// (shared/API.md): one method per API method, the response envelope, login and
// token renewal, and errors classified by what the caller must do about them.
//
// Every failure the client returns is, or wraps, an *Error whose Class says how to
// treat it:
//
//   - Transient: nothing was applied (HTTP 429 or 5xx, connection refused, a
//     timeout of a read-only call); retry after a backoff, honouring RetryAfter.
//   - Permanent: the server refused the call (a non-OK status, HTTP 4xx); retrying
//     the same call gives the same answer.
//   - Ambiguous: a state-changing request was sent but no usable answer came back
//     (timeout, dropped connection, unreadable answer); it may have been applied,
//     so read the state back before resending.
//   - Auth: the credentials were refused, or a token refused even after a fresh
//     login; the run cannot go on.
//
// The one exception is the caller's own context: when it is cancelled or its
// deadline passes, the client returns an error wrapping ctx.Err() (errors.Is works)
// that is not an *Error.
//
// The client logs in on first use, renews its token before the exp claim of a JWT
// token (Config.RenewBefore) and, when a call is answered with an authentication
// failure, logs in again once for all concurrent callers and replays the call once.
// Passwords, API keys and tokens never appear in errors or log lines.
package crm
