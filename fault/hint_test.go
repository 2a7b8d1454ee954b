package fault_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/crmbatch/crmbatch/fault"
)

func TestHintOf(t *testing.T) {
	t.Parallel()
	cause := fault.WithHint(errors.New("ledger is read-only"), "make it writable")
	for _, tc := range []struct {
		name     string
		err      error
		hint     string
		describe string
	}{
		{"none", io.EOF, "", "EOF"},
		{"nil", nil, "", ""},
		{"its own", fault.WithHint(io.EOF, "save it again"), "save it again", "EOF\nhint: save it again"},
		{"through %w", fmt.Errorf("reading: %w", cause), "make it writable", "reading: ledger is read-only\nhint: make it writable"},
		{"the cause's first", &fault.UsageError{Err: cause, Fix: "or give another --state"},
			"make it writable; or give another --state", "ledger is read-only\nhint: make it writable; or give another --state"},
		{"each once", fault.WithHint(cause, "make it writable"), "make it writable", "ledger is read-only\nhint: make it writable"},
		{"file error", &fault.FileError{File: "a.csv", Msg: "no header", Fix: "add one"}, "add one", "a.csv: no header\nhint: add one"},
		{"through a fatal error", &fault.FatalError{Err: cause}, "make it writable", "the run could not finish: ledger is read-only\nhint: make it writable"},
		{"joined", errors.Join(fault.WithHint(io.EOF, "one"), fault.WithHint(io.ErrUnexpectedEOF, "two")), "one; two",
			"EOF\nunexpected EOF\nhint: one; two"},
		{"empty hint", fault.WithHint(io.EOF, ""), "", "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fault.HintOf(tc.err); got != tc.hint {
				t.Errorf("HintOf = %q, want %q", got, tc.hint)
			}
			if got := fault.Describe(tc.err); got != tc.describe {
				t.Errorf("Describe = %q, want %q", got, tc.describe)
			}
		})
	}
	if !errors.Is(fault.WithHint(io.EOF, "x"), io.EOF) {
		t.Error("WithHint hides its error from errors.Is")
	}
	if fault.WithHint(nil, "x") != nil {
		t.Error("WithHint(nil) is not nil")
	}
}
