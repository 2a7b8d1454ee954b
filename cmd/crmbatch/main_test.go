package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"crmbatch": func() {
			ios := System()
			// A script can say that stderr is a terminal (of so many columns):
			// the progress bar and the terminal's log level are then what it sees.
			if cols := os.Getenv("TEST_STDERR_TTY"); cols != "" {
				ios.SetStderrTTY(true)
				if n, err := strconv.Atoi(cols); err == nil {
					ios.SetTerminalWidth(n)
				}
			}
			os.Exit(int(Main(os.Args[1:], os.Getenv, ios)))
		},
	})
}

// onBuffers are streams on out and errOut, neither of them a terminal.
func onBuffers(out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
}

// noExitSleep is GORACE for the crmbatch a script runs: a race-enabled
// program sleeps 1 s before it exits (atexit_sleep_ms), for its last reports;
// a script of 50 commands spent most of its time asleep so.
func noExitSleep() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// bashCompletion is the bash-completion package's script where Debian puts it.
const bashCompletion = "/usr/share/bash-completion/bash_completion"

// TestScripts runs the command-line scenarios in testdata/script/*.txtar: each
// runs crmbatch lines and checks stdout, stderr, exit codes and files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CRMBATCH_STATE", env.WorkDir+"/state")
			samples, err := filepath.Abs("../../samples")
			env.Setenv("SAMPLES", samples)
			env.Setenv("BASH_COMPLETION", bashCompletion)
			env.Setenv("GORACE", noExitSleep())
			return err
		},
		// [bash-completion]: bash has the bash-completion package, which
		// cobra's bash script needs ($BASH_COMPLETION is its script).
		Condition: func(cond string) (bool, error) {
			if cond != "bash-completion" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := os.Stat(bashCompletion)
			return err == nil, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     cmdExits,
			"jsonlines": cmdJSONLines,
		},
	})
}

// cmdExits is "exits N PROGRAM ARGS...": PROGRAM exits with code N.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var ee *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Logf("[stdout]\n%s[stderr]\n%s", ts.ReadFile("stdout"), ts.ReadFile("stderr"))
		ts.Fatalf("exit %d, want %d", got, want)
	}
}

// cmdJSONLines is "jsonlines stdout|stderr|FILE": every line of it is a JSON
// object, and there is at least one.
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonlines stdout|stderr|FILE")
	}
	text := ts.ReadFile(args[0])
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		ts.Fatalf("%s is empty", args[0])
	}
	for i, l := range lines {
		var v map[string]any
		if err := json.NewDecoder(bytes.NewReader([]byte(l))).Decode(&v); err != nil || !json.Valid([]byte(l)) {
			ts.Fatalf("%s line %d is not a JSON object: %q", args[0], i+1, l)
		}
	}
}
