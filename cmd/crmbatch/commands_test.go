package main

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		pos     []string
		rate    float64
		sandbox bool
		out     string
		err     string // "" = none, "help" = flag.ErrHelp
	}{
		{name: "flags first", args: []string{"--sandbox", "--rate", "3", "f.csv"}, pos: []string{"f.csv"}, rate: 3, sandbox: true},
		{name: "flags after the file", args: []string{"f.csv", "--sandbox", "--rate=3"}, pos: []string{"f.csv"}, rate: 3, sandbox: true},
		{name: "single dash", args: []string{"-sandbox", "f.csv", "-out", "o"}, pos: []string{"f.csv"}, rate: 10, sandbox: true, out: "o"},
		{name: "-- ends the flags", args: []string{"--out", "o", "--", "--sandbox"}, pos: []string{"--sandbox"}, rate: 10, out: "o"},
		{name: "- is an argument", args: []string{"-"}, pos: []string{"-"}, rate: 10},
		{name: "a value that starts with -", args: []string{"--out", "-dir", "f.csv"}, pos: []string{"f.csv"}, rate: 10, out: "-dir"},
		{name: "bool with a value", args: []string{"--sandbox=false", "f.csv"}, pos: []string{"f.csv"}, rate: 10},
		{name: "help anywhere", args: []string{"f.csv", "-h"}, err: "help"},
		{name: "--help", args: []string{"--help"}, err: "help"},
		{name: "did you mean", args: []string{"f.csv", "--sandbx"}, err: "t: unknown flag --sandbx (did you mean --sandbox?)"},
		{name: "nothing near", args: []string{"--colour"}, err: "t: unknown flag --colour"},
		{name: "missing value", args: []string{"f.csv", "--out"}, err: "t: --out needs a value: --out DIR"},
		{name: "bad number", args: []string{"--rate", "fast"}, err: `t: invalid value "fast" for --rate: not a number (or a duration like 30s, or true|false)`},
		{name: "bad syntax", args: []string{"---x"}, err: "t: bad flag syntax ---x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			rate := fs.Float64("rate", 10, "")
			sandbox := fs.Bool("sandbox", false, "")
			out := fs.String("out", "", "")
			pos, err := parseArgs(&command{name: "t"}, fs, tc.args)
			switch {
			case tc.err == "help":
				if !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("err %v, want flag.ErrHelp", err)
				}
				return
			case tc.err != "":
				var ue *usageError
				if !errors.As(err, &ue) || ue.msg != tc.err {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tc.pos) || *rate != tc.rate || *sandbox != tc.sandbox || *out != tc.out {
				t.Errorf("got %q rate %v sandbox %v out %q", pos, *rate, *sandbox, *out)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	flags := []string{"chunk-size", "concurrency", "sandbox", "settle", "state", "job", "out", "retries", "attempts"}
	for _, tc := range []struct{ typed, want string }{
		{"chunksize", " (did you mean --chunk-size?)"},
		{"chunk_size", " (did you mean --chunk-size?)"},
		{"sandbx", " (did you mean --sandbox?)"},
		{"setle", " (did you mean --settle?)"},
		{"jbo", " (did you mean --job?)"},
		{"atempts", " (did you mean --attempts?)"},
		{"chunk", " (did you mean --chunk-size?)"},
		{"Sandbox", " (did you mean --sandbox?)"},
		{"verbose", ""},
		{"x", ""},
	} {
		if got := didYouMean(tc.typed, flags, "--"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.typed, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"run", "run", 0}, {"rnu", "run", 1}, {"run", "ru", 1}, {"kitten", "sitting", 3}, {"", "abc", 3},
	} {
		if got := batch.EditDistance(tc.a, tc.b); got != tc.want {
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

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"rows", &rowsError{3}, exitRows},
		{"rows, reported", &reported{&rowsError{3}}, exitRows},
		{"usage", &usageError{msg: "x"}, exitUsage},
		{"batch usage", &batch.UsageError{Msg: "x"}, exitUsage},
		{"file", &batch.FileError{File: "f", Msg: "x"}, exitUsage},
		{"input", fmt.Errorf("reading: %w", &formats.InputError{}), exitUsage},
		{"fatal", &batch.FatalError{Err: errors.New("x")}, exitStopped},
		{"login refused", &batch.FatalError{Err: &crm.Error{Class: crm.Auth}}, exitStopped},
		{"fatal, reported", &reported{&batch.FatalError{Err: errors.New("x")}}, exitStopped},
		{"unforeseen", errors.New("x"), exitStopped},
	} {
		if got := exitCode(tc.err); got != tc.want {
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
		{"hint in the text", &batch.UsageError{Msg: "locked\nhint: wait for it"}, "crmbatch: locked\nhint: wait for it\n"},
		{"file, default hint", &batch.FileError{File: "f.csv", Msg: "empty"}, "crmbatch: f.csv: empty\nhint: nothing was sent; fix the file or the flags and run again\n"},
		{"stopped", &batch.FatalError{Err: errors.New("endpoint down")}, "crmbatch: the run could not finish: endpoint down\nhint: what was done is recorded; run the same command again to resume\n"},
		{"login refused", &batch.FatalError{Err: &crm.Error{Class: crm.Auth, Message: "wrong password"}}, "hint: check the credentials"},
		{"rows: already said", &rowsError{2}, ""},
		{"reported", &reported{&usageError{msg: "x"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _, stderr := Test()
			a := &app{io: ios, stderr: ios.ErrOut}
			a.report(tc.err, exitCode(tc.err))
			got := stderr.String()
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}
