package main

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the standard streams of a command and what is known of them:
// whether each is a terminal and how wide the terminal is. Commands never look
// at os.Stdout or os.Stderr themselves, so tests run them on buffers and can
// say that a buffer is a terminal (the pattern of cli/cli's pkg/iostreams).
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	width                 int // columns of the terminal; 0 = not known
}

// System is the process's own standard streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		inTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		outTTY: term.IsTerminal(int(os.Stdout.Fd())),
		errTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if s.errTTY {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
			s.width = w
		}
	}
	return s
}

// Test is a set of streams on buffers, none of them a terminal until said.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal: then a run draws
// a progress bar there and keeps its text log to warnings.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetStdinTTY says whether standard input is to be taken as a terminal.
func (s *IOStreams) SetStdinTTY(tty bool) { s.inTTY = tty }

// SetStdoutTTY says whether standard output is to be taken as a terminal.
func (s *IOStreams) SetStdoutTTY(tty bool) { s.outTTY = tty }

// SetStderrTTY says whether standard error is to be taken as a terminal.
func (s *IOStreams) SetStderrTTY(tty bool) { s.errTTY = tty }

// TerminalWidth is the width of the terminal in columns, 80 when not known.
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	return 80
}

// SetTerminalWidth sets the width that TerminalWidth reports.
func (s *IOStreams) SetTerminalWidth(columns int) { s.width = columns }
