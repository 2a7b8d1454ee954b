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
//   - Endpoint: the endpoint is not the Web API as configured: it redirected
//     (code REDIRECTED), answered a page rather than the JSON envelope or HTTP
//     404, 405 or 501 on a method's path (NOT_WEB_API), or no TLS conversation
//     could be had with it (TLS). No retry can help: the run stops until a
//     person fixes --endpoint (crmbatch exits 4). A redirect's message names
//     where it pointed, without the query; the hint says what to set.
//
// No redirect is followed, to any host or scheme: a POST's body holds the password
// or the token, a GET's query the token, an API key login's Basic auth the key,
// and net/http would resend them to the Location of a 307 or 308, another host or
// plain http included. The client uses a copy of Config.HTTPClient whose
// CheckRedirect hands the 3xx answer back.
//
// Answers are read through a limit, MaxResponse (8 MiB, far above any documented
// answer). A larger OK answer is not read (code ANSWER_TOO_LARGE): Permanent for a
// read or a login, since reading it again gives the same; Ambiguous for a
// state-changing call, which may have been applied.
//
// Every text that comes from the server is redacted before it leaves the package:
// the status code, message and description of a refusal, and every string (and
// key) of the data of an answer (failed_charges_set, failed_devices_set, the
// subscription action of an installed-items call, ...). The password, the API key
// and the latest tokens are replaced by Redacted, JSON escapes included. A
// failed_charges_set error_code (or any of its fields) may be a JSON string or
// number: it is read as its text.
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
