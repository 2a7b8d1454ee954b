package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/pacer"
)

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"run", "run", 0}, {"rnu", "run", 1}, {"run", "ru", 1}, {"kitten", "sitting", 3}, {"", "abc", 3},
	} {
		if got := jobfile.EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("%q %q: %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDescribeVersion(t *testing.T) {
	t.Parallel()
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"linker flag", "v1.2.0", &debug.BuildInfo{Main: debug.Module{Version: "v9"}}, "v1.2.0"},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0"},
		{"a checkout, stamped", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "3844bd0c9a1d2e3f4a5b", "vcs.time", "2026-03-15T02:00:00Z", "vcs.modified", "true")},
			"dev (3844bd0c9a1d with changes, 2026-03-15T02:00:00Z, go1.26.8)"},
		{"no VCS stamping", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "dev (go1.26.8)"},
		{"nothing known", "", &debug.BuildInfo{}, "dev"},
		{"no build info", "", nil, "dev"},
	} {
		if got := describeVersion(tc.linked, tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestResolveExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want exitCode
	}{
		{"nil", nil, exitOK},
		{"rows", &rowsError{3}, exitRows},
		{"rows, reported", &reported{&rowsError{3}}, exitRows},
		{"usage", &usageError{msg: "x"}, exitUsage},
		{"batch usage", &fault.UsageError{Msg: "x"}, exitUsage},
		{"file", &fault.FileError{File: "f", Msg: "x"}, exitUsage},
		{"input", fmt.Errorf("reading: %w", &formats.InputError{}), exitUsage},
		{"fatal", &fault.FatalError{Err: errors.New("x")}, exitStopped},
		{"login refused", &fault.FatalError{Err: &crm.Error{Class: crm.Auth}}, exitAct},
		{"not the Web API", &fault.FatalError{Err: fmt.Errorf("login: %w", &crm.Error{Class: crm.Endpoint})}, exitAct},
		{"unreachable", &fault.FatalError{Err: &crm.Error{Class: crm.Transient}}, exitStopped},
		{"fatal, reported", &reported{&fault.FatalError{Err: errors.New("x")}}, exitStopped},
		{"unforeseen", errors.New("x"), exitStopped},
	} {
		if got := resolveExitCode(tc.err); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"usage", &usageError{msg: "no endpoint", hint: "pass --endpoint URL"}, "crmbatch: no endpoint\nhint: pass --endpoint URL\n"},
		{"hint in the text", &fault.UsageError{Msg: "locked\nhint: wait for it"}, "crmbatch: locked\nhint: wait for it\n"},
		{"file, default hint", &fault.FileError{File: "f.csv", Msg: "empty"}, "crmbatch: f.csv: empty\nhint: nothing was sent; fix the file or the flags and run again\n"},
		{"stopped", &fault.FatalError{Err: errors.New("endpoint down")}, "crmbatch: the run could not finish: endpoint down\nhint: what was done is recorded; run the same command again to resume\n"},
		{"login refused", &fault.FatalError{Err: &crm.Error{Class: crm.Auth, Message: "wrong password"}}, "hint: check the credentials"},
		{"rows: already said", &rowsError{2}, ""},
		{"reported", &reported{&usageError{msg: "x"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _, stderr := Test()
			f := &factory{io: ios, stderr: ios.ErrOut}
			f.report(tc.err, resolveExitCode(tc.err))
			got := stderr.String()
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}

// TestCauseThroughEveryWrapper: an error keeps its cause through every
// wrapper crmbatch puts around it, and is classed by the wrapper.
func TestCauseThroughEveryWrapper(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("%w: /state/ledger.db: not a database", ledger.ErrDamaged)
	for _, tc := range []struct {
		name string
		err  error
		want exitCode
	}{
		{"usage error", &fault.UsageError{Msg: "the ledger cannot be opened", Err: cause}, exitUsage},
		{"usage error in the cause's words", &fault.UsageError{Err: cause}, exitUsage},
		{"file error", &fault.FileError{File: "jobs.csv", Err: cause}, exitUsage},
		{"fatal error", &fault.FatalError{Err: cause}, exitStopped},
		{"unknown outcome", &fault.FatalError{Err: &pacer.UnknownError{Err: cause}}, exitStopped},
		{"a command line's usage error", &usageError{msg: cause.Error(), err: cause}, exitUsage},
		{"an error already reported", &reported{&fault.FatalError{Err: cause}}, exitStopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, ledger.ErrDamaged) {
				t.Errorf("errors.Is(%v, ledger.ErrDamaged) = false", tc.err)
			}
			if got := resolveExitCode(tc.err); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
		})
	}
}
