package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmbatch/crmbatch/sandbox"
)

// testFactory is a factory on buffers, with an empty environment.
func testFactory() *factory {
	ios, _, _, _ := Test()
	return &factory{io: ios, getenv: env(nil), stderr: ios.ErrOut}
}

// parse runs cmd on args as cobra does, with streams on buffers.
func parse(cmd *cobra.Command, args ...string) error {
	if args == nil {
		args = []string{} // not os.Args
	}
	ios, _, _, _ := Test()
	cmd.SetArgs(args)
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	return cmd.Execute()
}

// usageMsg is the message of a *usageError, else the error's text.
func usageMsg(err error) string {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg
	}
	if err == nil {
		return ""
	}
	return "not a usage error: " + err.Error()
}

// TestNewCmdRun checks how run's flags and argument become RunOptions, apart
// from running anything.
func TestNewCmdRun(t *testing.T) {
	t.Parallel()
	defaults := func(o *RunOptions) {
		o.ConnOptions = ConnOptions{Timeout: 30 * time.Second, Attempts: 5, Rate: 10}
		o.Concurrency, o.LogFormat, o.Settle, o.MaxWait, o.Done = 4, "text", 10*time.Second, 5*time.Minute, "refuse"
	}
	for _, tc := range []struct {
		name     string
		validate bool
		args     []string
		want     func(*RunOptions) // on top of the defaults
		err      string            // the usage error's message
	}{
		{name: "defaults", args: []string{"f.csv"}, want: func(o *RunOptions) { o.File = "f.csv" }},
		{name: "flags first", args: []string{"--sandbox", "--rate", "3", "f.csv"},
			want: func(o *RunOptions) { o.File, o.Sandbox, o.Rate = "f.csv", true, 3 }},
		{name: "flags after the file", args: []string{"f.csv", "--sandbox", "--rate=3"},
			want: func(o *RunOptions) { o.File, o.Sandbox, o.Rate = "f.csv", true, 3 }},
		{name: "-- ends the flags", args: []string{"--out", "o", "--", "--sandbox"},
			want: func(o *RunOptions) { o.File, o.Out = "--sandbox", "o" }},
		{name: "- is an argument", args: []string{"-"}, want: func(o *RunOptions) { o.File = "-" }},
		{name: "a value that starts with -", args: []string{"--out", "-dir", "f.csv"},
			want: func(o *RunOptions) { o.File, o.Out = "f.csv", "-dir" }},
		{name: "bool with a value", args: []string{"--sandbox=false", "--strict=true", "f.csv"},
			want: func(o *RunOptions) { o.File, o.Strict = "f.csv", true }},
		{name: "--retries is --attempts", args: []string{"--retries", "2", "f.csv"},
			want: func(o *RunOptions) { o.File, o.Attempts = "f.csv", 2 }},
		{name: "column flags", args: []string{"--job", "devices", "--action", "unregister", "--group-name", "OPERATOR1", "--group-id", "7", "--group-alternative-code", "OP1", "f.xlsx", "--sheet", "Devices"},
			want: func(o *RunOptions) {
				o.File, o.Job, o.Action, o.GroupName, o.GroupID, o.GroupAlternativeCode, o.Sheet = "f.xlsx", "devices", "unregister", "OPERATOR1", "7", "OP1", "Devices"
			}},
		{name: "ledger flags", args: []string{"--state", "st", "--fresh", "--rerun", "--skip-done", "--force", "f.csv"},
			want: func(o *RunOptions) {
				o.File, o.State, o.Fresh, o.Rerun, o.SkipDone, o.Force = "f.csv", "st", true, true, true, true
			}},
		{name: "ledger and pacing", args: []string{"--new-ledger", "--max-wait", "1h", "--read-before", "f.csv"},
			want: func(o *RunOptions) { o.File, o.NewLedger, o.MaxWait, o.ReadBefore = "f.csv", true, time.Hour, true }},
		{name: "--max-wait 0s", args: []string{"--max-wait", "0s", "f.csv"}, err: "--max-wait must be positive, e.g. 5m"},
		{name: "--decimal-mark ,", args: []string{"--decimal-mark", ",", "f.xlsx"},
			want: func(o *RunOptions) { o.File, o.DecimalMark = "f.xlsx", "," }},
		{name: "validate --decimal-mark .", validate: true, args: []string{"--decimal-mark=.", "f.xlsx"},
			want: func(o *RunOptions) { o.File, o.Validate, o.DecimalMark = "f.xlsx", true, "." }},
		{name: "--decimal-mark x", args: []string{"--decimal-mark", "x", "f.csv"}, err: `--decimal-mark "x": give "," or "."`},
		{name: "watch", args: []string{"--watch", "drop", "--once", "--settle", "1m", "--log-format", "json"},
			want: func(o *RunOptions) { o.Watch, o.Once, o.Settle, o.LogFormat = "drop", true, time.Minute, "json" }},
		{name: "no file", args: nil, err: "run needs a job file"},
		{name: "two files", args: []string{"a.csv", "b.csv"}, err: "run takes one job file, got 2 arguments: a.csv b.csv"},
		{name: "a file under --watch", args: []string{"--watch", "drop", "a.csv"}, err: "--watch takes a folder, not a job file (got a.csv)"},
		{name: "--out under --watch", args: []string{"--watch", "drop", "--out", "o"}, err: "--watch puts the reports beside each file in processed/ or failed/: drop --out"},
		{name: "--log-format xml", args: []string{"--log-format", "xml", "f.csv"}, err: `--log-format "xml": text or json`},
		{name: "--format pdf", args: []string{"--format", "pdf", "f.csv"}, err: `--format "pdf": csv or xlsx`},
		{name: "--timeout 0s", args: []string{"--timeout", "0s", "f.csv"}, err: "--timeout must be positive, e.g. 30s"},
		{name: "--attempts 0", args: []string{"--attempts", "0", "f.csv"}, err: "--attempts (or --retries) must be at least 1: the first attempt counts (1 = no retry)"},
		{name: "validate", validate: true, args: []string{"f.csv"},
			want: func(o *RunOptions) { o.File, o.Validate = "f.csv", true }},
		{name: "validate takes a run's flags", validate: true, args: []string{"--concurrency", "8", "--state", "st", "--no-progress", "--dry-run", "f.csv"},
			want: func(o *RunOptions) {
				o.File, o.Validate, o.Concurrency, o.State, o.NoProgress, o.DryRun = "f.csv", true, 8, "st", true, true
			}},
		{name: "validate without a file", validate: true, err: "validate needs a job file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *RunOptions
			newCmd := NewCmdRun
			if tc.validate {
				newCmd = NewCmdValidate
			}
			cmd := newCmd(testFactory(), func(o *RunOptions) error { got = o; return nil })
			err := parse(cmd, tc.args...)
			if tc.err != "" {
				if msg := usageMsg(err); msg != tc.err {
					t.Fatalf("error %q, want %q", msg, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := &RunOptions{}
			defaults(want)
			if tc.validate {
				want.Validate, want.Settle, want.Done = true, 0, "" // validate has no --settle, no --done
			}
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestValidateHasNoWatch: validate neither takes nor shows --watch.
func TestValidateHasNoWatch(t *testing.T) {
	t.Parallel()
	cmd := NewCmdValidate(testFactory(), func(*RunOptions) error { return nil })
	if err := parse(cmd, "--watch", "drop"); err == nil {
		t.Fatal("validate took --watch")
	}
	for _, name := range runOnly {
		if fl := cmd.Flags().Lookup(name); fl == nil || !fl.Hidden {
			t.Errorf("--%s: not a hidden flag of validate", name)
		}
	}
}

// TestNewCmdOthers checks the flags and arguments of the other commands.
func TestNewCmdOthers(t *testing.T) {
	t.Parallel()
	conn := ConnOptions{Timeout: 30 * time.Second, Attempts: 5, Rate: 10}
	for _, tc := range []struct {
		name string
		cmd  func(got *any) *cobra.Command
		args []string
		want any
		err  string
	}{
		{name: "charges export", args: []string{"--sandbox", "pending.xlsx"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdChargesExport(testFactory(), func(o *ChargesExportOptions) error { *got = *o; return nil })
			},
			want: ChargesExportOptions{ConnOptions: ConnOptions{Sandbox: true, Timeout: 30 * time.Second, Attempts: 5, Rate: 10}, Status: "NOT_PROCESSED", Out: "pending.xlsx"}},
		{name: "charges export --status", args: []string{"pending.csv", "--status", "PROCESSED", "--retries", "3"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdChargesExport(testFactory(), func(o *ChargesExportOptions) error { *got = *o; return nil })
			},
			want: ChargesExportOptions{ConnOptions: ConnOptions{Timeout: 30 * time.Second, Attempts: 3, Rate: 10}, Status: "PROCESSED", Out: "pending.csv"}},
		{name: "charges export without a file", args: nil,
			cmd: func(got *any) *cobra.Command {
				return NewCmdChargesExport(testFactory(), func(o *ChargesExportOptions) error { *got = *o; return nil })
			},
			err: "charges export takes one output file, .xlsx or .csv"},
		{name: "promotions", args: []string{"--format", "csv"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdPromotions(testFactory(), func(o *PromotionsOptions) error { *got = *o; return nil })
			},
			want: PromotionsOptions{ConnOptions: conn, Format: "csv"}},
		{name: "promotions --format xlsx", args: []string{"--format", "xlsx"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdPromotions(testFactory(), func(o *PromotionsOptions) error { *got = *o; return nil })
			},
			err: `--format "xlsx": table or csv`},
		{name: "promotions with an argument", args: []string{"x"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdPromotions(testFactory(), func(o *PromotionsOptions) error { *got = *o; return nil })
			},
			err: "promotions takes no arguments"},
		{name: "show", args: []string{"pci001", "--timeout", "5s", "pci002"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdShow(testFactory(), func(o *ShowOptions) error { *got = *o; return nil })
			},
			want: ShowOptions{ConnOptions: ConnOptions{Timeout: 5 * time.Second, Attempts: 5, Rate: 10}, Customers: []string{"pci001", "pci002"}}},
		{name: "show nobody", args: nil,
			cmd: func(got *any) *cobra.Command {
				return NewCmdShow(testFactory(), func(o *ShowOptions) error { *got = *o; return nil })
			},
			err: "show takes one or more billing_system_customer_identifier values"},
		{name: "history", args: []string{"--state", "st", "--charge", "I00002707"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdHistory(testFactory(), func(o *HistoryOptions) error { *got = *o; return nil })
			},
			want: HistoryOptions{State: "st", Charge: "I00002707"}},
		{name: "history with an argument", args: []string{"x"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdHistory(testFactory(), func(o *HistoryOptions) error { *got = *o; return nil })
			},
			err: "history takes no arguments"},
		{name: "sandbox", args: []string{"--listen", "127.0.0.1:0", "--latency", "20ms", "--rate-limit", "50", "--drop-rate", "0.1", "--seed", "7"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdSandbox(testFactory(), func(o *SandboxOptions) error { *got = *o; return nil })
			},
			want: SandboxOptions{Listen: "127.0.0.1:0", Options: sandbox.Options{Latency: 20 * time.Millisecond, RateLimit: 50, DropRate: 0.1,
				TokenTTL: 2 * time.Hour, Seed: 7, Charges: 300}}},
		{name: "completion", args: []string{"powershell"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdCompletion(testFactory(), func(o *CompletionOptions) error { *got = *o; return nil })
			},
			want: CompletionOptions{Shell: "powershell"}},
		{name: "completion tcsh", args: []string{"tcsh"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdCompletion(testFactory(), func(o *CompletionOptions) error { *got = *o; return nil })
			},
			err: `completion "tcsh": the shells are bash, zsh, fish and powershell`},
		{name: "completion of two shells", args: []string{"bash", "zsh"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdCompletion(testFactory(), func(o *CompletionOptions) error { *got = *o; return nil })
			},
			err: "completion takes one shell: bash, zsh, fish or powershell"},
		{name: "version with an argument", args: []string{"x"},
			cmd: func(got *any) *cobra.Command {
				return NewCmdVersion(testFactory(), func() error { *got = "ran"; return nil })
			},
			err: "version takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got any
			err := parse(tc.cmd(&got), tc.args...)
			if tc.err != "" {
				if msg := usageMsg(err); msg != tc.err {
					t.Fatalf("error %q, want %q", msg, tc.err)
				}
				if got != nil {
					t.Errorf("ran with %+v after a usage error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestCommandLineErrors runs mistyped command lines through Main: each exits
// 2 and says what is wrong in two lines, the nearest command or flag named.
func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	const runHint = `hint: nothing was sent; "crmbatch run -h" lists its flags`
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string // exactly
	}{
		{"mistyped command", []string{"rnu", "f.csv"}, "crmbatch: unknown command \"rnu\" (did you mean run?)\nhint: \"crmbatch help\" lists the commands\n"},
		{"unknown command", []string{"frobnicate"}, "crmbatch: unknown command \"frobnicate\"\nhint: \"crmbatch help\" lists the commands\n"},
		{"mistyped subcommand", []string{"charges", "exprot", "x.csv"}, "crmbatch: unknown command \"charges exprot\" (did you mean charges export?)\nhint: the charges commands: export\n"},
		{"a group alone", []string{"charges"}, "crmbatch: charges needs a subcommand: export\nhint: \"crmbatch charges export -h\" for its usage\n"},
		{"help of nothing known", []string{"help", "frobnicate"}, "crmbatch: unknown command \"frobnicate\"\nhint: \"crmbatch help\" lists the commands\n"},
		{"help of two", []string{"help", "run", "validate"}, "crmbatch: help takes one command, got \"run validate\"\nhint: crmbatch help run\n"},
		{"mistyped flag", []string{"run", "--chunksize", "5", "f.csv"}, "crmbatch: run: unknown flag --chunksize (did you mean --chunk-size?)\n" + runHint + "\n"},
		{"a swap of letters", []string{"run", "--jbo", "devices", "f.csv"}, "crmbatch: run: unknown flag --jbo (did you mean --job?)\n" + runHint + "\n"},
		{"the start of a flag", []string{"run", "--chunk", "5", "f.csv"}, "crmbatch: run: unknown flag --chunk (did you mean --chunk-size?)\n" + runHint + "\n"},
		{"nothing near", []string{"run", "--colour", "f.csv"}, "crmbatch: run: unknown flag --colour\n" + runHint + "\n"},
		{"mistyped with one dash", []string{"run", "-sandbx", "f.csv"}, "crmbatch: run: unknown flag -sandbx (did you mean --sandbox?)\n" + runHint + "\n"},
		{"validate offers none of run's hidden flags", []string{"validate", "--concurency", "2", "f.csv"}, "crmbatch: validate: unknown flag --concurency\nhint: nothing was sent; \"crmbatch validate -h\" lists its flags\n"},
		{"a subcommand's flag", []string{"charges", "export", "--stauts", "PROCESSED", "x.csv"}, "crmbatch: charges export: unknown flag --stauts (did you mean --status?)\nhint: nothing was sent; \"crmbatch charges export -h\" lists its flags\n"},
		{"no value", []string{"run", "f.csv", "--out"}, "crmbatch: run: --out needs a value: --out DIR\n" + runHint + "\n"},
		{"not a number", []string{"run", "--rate", "fast", "f.csv"}, "crmbatch: run: invalid value \"fast\" for --rate: not a number\n" + runHint + "\n"},
		{"not a whole number", []string{"run", "--concurrency", "2.5", "f.csv"}, "crmbatch: run: invalid value \"2.5\" for --concurrency: not a whole number, or too large\n" + runHint + "\n"},
		{"not a duration", []string{"run", "--timeout", "30", "f.csv"}, "crmbatch: run: invalid value \"30\" for --timeout: not a duration like 30s or 5m\n" + runHint + "\n"},
		{"not a bool", []string{"run", "--sandbox=yes", "f.csv"}, "crmbatch: run: invalid value \"yes\" for --sandbox: true or false\n" + runHint + "\n"},
		{"bad syntax", []string{"run", "---x", "f.csv"}, "crmbatch: run: bad flag syntax ---x\n" + runHint + "\n"},
		{"a flag of no command", []string{"--sandbox"}, "crmbatch: unknown flag --sandbox\nhint: \"crmbatch -h\" lists the commands\n"},
		{"--retries only where --attempts is", []string{"sandbox", "--retries", "2"}, "crmbatch: sandbox: unknown flag --retries\nhint: nothing was sent; \"crmbatch sandbox -h\" lists its flags\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ios, _, stdout, stderr := Test()
			if code := Main(tc.args, env(nil), ios); code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tc.stderr)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
}

// TestFlagErrorAsJSON: under --log-format json a flag error is one JSON line,
// wherever --log-format stands.
func TestFlagErrorAsJSON(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"run", "--log-format", "json", "--setle", "0s", "--watch", "drop"},
		{"run", "--setle", "0s", "--watch", "drop", "--log-format=json"},
		{"run", "--rate", "fast", "f.csv", "--log-format", "json"},
	} {
		ios, _, _, stderr := Test()
		if code := Main(args, env(nil), ios); code != exitUsage {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		line := stderr.String()
		if !strings.HasPrefix(line, `{"time":`) || !strings.Contains(line, `"level":"ERROR"`) || strings.Count(line, "\n") != 1 {
			t.Errorf("%q: stderr is not one JSON error line:\n%s", args, line)
		}
	}
}

func TestOneDashLongFlags(t *testing.T) {
	t.Parallel()
	root := NewCmdRoot(testFactory())
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"long flags", []string{"run", "-sandbox", "f.csv", "-out", "o", "-rate=3"}, []string{"run", "--sandbox", "f.csv", "--out", "o", "--rate=3"}},
		{"a value that looks like a flag", []string{"run", "-out", "-sandbox", "f.csv"}, []string{"run", "--out", "-sandbox", "f.csv"}},
		{"after --", []string{"run", "--", "-sandbox"}, []string{"run", "--", "-sandbox"}},
		{"not a flag of the command", []string{"sandbox", "-rerun"}, []string{"sandbox", "-rerun"}},
		{"one letter", []string{"run", "-h"}, []string{"run", "-h"}},
		{"-help", []string{"run", "-help"}, []string{"run", "--help"}},
		{"-version", []string{"-version"}, []string{"--version"}},
		{"-retries, the former name", []string{"run", "-retries", "2", "f.csv"}, []string{"run", "--retries", "2", "f.csv"}},
		{"- alone", []string{"run", "-"}, []string{"run", "-"}},
		{"a subcommand", []string{"charges", "export", "-status", "PROCESSED", "x.csv"}, []string{"charges", "export", "--status", "PROCESSED", "x.csv"}},
	} {
		if got := oneDashLongFlags(root, tc.args); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	t.Parallel()
	flags := []string{"chunk-size", "concurrency", "sandbox", "settle", "state", "job", "out", "attempts"}
	for _, tc := range []struct{ typed, want string }{
		{"chunksize", "chunk-size"},
		{"chunk_size", "chunk-size"},
		{"sandbx", "sandbox"},
		{"setle", "settle"},
		{"jbo", "job"},
		{"atempts", "attempts"},
		{"chunk", "chunk-size"},
		{"Sandbox", "sandbox"},
		{"verbose", ""},
		{"x", ""},
		{"ch", ""},
		{"tcsh", ""},
	} {
		if got := nearest(tc.typed, flags); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.typed, got, tc.want)
		}
	}
}
