package termbar

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Handler is the log of a run at a terminal: each record at its level or
// above is one plain sentence on a line of its own ("crmbatch: warning:
// ..."), never a key=value line wrapping across the bar. The details stay in
// the text and JSON logs written elsewhere (--log-format, or stderr not a
// terminal). Answers HTTP 429 are not told one by one: the bar counts them.
type Handler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr
}

// NewHandler writes to w (the Bar, so that lines pass above it) the records
// at level or above.
func NewHandler(w io.Writer, level slog.Leveler) *Handler {
	return &Handler{mu: &sync.Mutex{}, w: w, level: level}
}

// Enabled reports whether a record at l is told.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs returns a Handler whose records carry attrs too.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &h2
}

// WithGroup returns h: the sentences name no groups.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// Handle writes r as one sentence.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	a := map[string]slog.Value{}
	for _, at := range h.attrs {
		a[at.Key] = at.Value.Resolve()
	}
	r.Attrs(func(at slog.Attr) bool {
		a[at.Key] = at.Value.Resolve()
		return true
	})
	s, ok := Sentence(r.Level, r.Message, a)
	if !ok {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, s+"\n")
	return err
}

// Sentence is the line a person reads for a log record with message msg and
// attributes a; false when the record is not told at a terminal.
func Sentence(level slog.Level, msg string, a map[string]slog.Value) (string, bool) {
	prefix := "crmbatch: "
	switch {
	case level >= slog.LevelError:
		prefix += "error: "
	case level >= slog.LevelWarn:
		prefix += "warning: "
	}
	str := func(k string) string {
		v, ok := a[k]
		if !ok {
			return ""
		}
		return oneLine(v.String())
	}
	num := func(k string) int64 {
		v, ok := a[k]
		if !ok || v.Kind() != slog.KindInt64 {
			return 0
		}
		return v.Int64()
	}
	switch msg {
	case "call failed":
		if num("http_status") == 429 {
			return "", false
		}
		// A retry is no warning to act on: the bar counts them.
		return "crmbatch: " + callFailed(str("method"), str("error_class"), num("http_status"), str("error_code"), str("error")), true
	case "resuming a run that stopped":
		// The run id and its start are in the log files and history.
		s := fmt.Sprintf("crmbatch: resuming a stopped run: %d rows done", num("rows_done"))
		if n := num("rows_uncertain"); n > 0 {
			s += fmt.Sprintf(", %d to check first", n)
		}
		return s, true
	}
	var parts []string
	for k, v := range a {
		if k == "run_id" {
			continue
		}
		parts = append(parts, k+" "+oneLine(v.String()))
	}
	sort.Strings(parts)
	s := prefix + oneLine(msg)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s, true
}

// callFailed says what became of one attempt of a call, short enough for a
// line of 70 columns: the bar counts the retries, the log file has the rest.
func callFailed(method, class string, status int64, code, err string) string {
	if parts := strings.Split(method, "/"); len(parts) > 2 {
		method = strings.Join(parts[len(parts)-2:], "/") // operators/register_devices
	}
	if method == "" {
		method = "a call"
	}
	var what string
	switch class {
	case "ambiguous":
		what = "answer lost, checking it"
	case "transient":
		if status != 0 {
			what = fmt.Sprintf("HTTP %d, nothing applied", status)
		} else {
			what = "no answer (" + cause(err) + "), nothing applied"
		}
	case "auth":
		what = "credentials refused"
	case "endpoint":
		what = "no Web API there (" + cause(err) + ")"
	default:
		what = "refused"
		if code != "" {
			what += " (" + code + ")"
		}
	}
	return method + ": " + what
}

// cause is the end of a client error's first line: what went wrong, without
// the method and class the sentence says already.
func cause(err string) string {
	err, _, _ = strings.Cut(err, "\n")
	err = strings.TrimSuffix(err, " (the call may have been applied)")
	if i := strings.Index(err, " error: "); i >= 0 {
		err = err[i+len(" error: "):]
	}
	return err
}

// oneLine puts a value's lines on one: a hint's "\nhint: " becomes "; hint: ".
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}
