package fault

import "strings"

// Hinter is an error that says what to do about it: the command line shows
// the hint on a line of its own ("hint: ..."), or as the "hint" field of a
// JSON log line. An error's text never carries its hint.
type Hinter interface {
	Hint() string
}

// WithHint returns err with hint, what to do about it; nil stays nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}

type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }
func (e *hinted) Hint() string  { return e.hint }

// HintOf is what to do about err: the hints of the errors along its chain,
// the innermost (the cause's) first, each once, joined by "; "; "" if none.
func HintOf(err error) string {
	var hints []string
	collectHints(err, &hints)
	return strings.Join(hints, "; ")
}

func collectHints(err error, hints *[]string) {
	if err == nil {
		return
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		collectHints(u.Unwrap(), hints)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			collectHints(e, hints)
		}
	}
	h, ok := err.(Hinter)
	if !ok || h.Hint() == "" {
		return
	}
	for _, have := range *hints {
		if have == h.Hint() {
			return
		}
	}
	*hints = append(*hints, h.Hint())
}

// Describe is err's text and, on a line of its own, its hint: the one string
// for a place that keeps an error whole (a summary's "stopped").
func Describe(err error) string {
	if err == nil {
		return ""
	}
	if h := HintOf(err); h != "" {
		return err.Error() + "\nhint: " + h
	}
	return err.Error()
}
