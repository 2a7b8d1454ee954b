package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/report"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() {
	// The help lists the commands in the order they are added: the main job first.
	cobra.EnableCommandSorting = false
}

// factory is what every command is handed (cli/cli's cmdutil.Factory): the
// streams, the environment, and the logger its errors are reported with.
type factory struct {
	io     *IOStreams
	getenv func(string) string
	stderr io.Writer         // io.ErrOut, or the progress bar while a run may show one
	log    *slog.Logger      // set by run and validate, or for an error under --log-format json
	json   bool              // --log-format json: stderr carries JSON lines only
	args   []string          // the command line, without "crmbatch"
	ran    []*report.Summary // the summaries of the runs so far, for --metrics-file

	// mu guards stderr, log and progress for the signal watcher, which reads
	// them from its own goroutine; the command's goroutine sets them under mu.
	mu       sync.Mutex
	progress rowsDone // the run's progress, for a second Ctrl-C; nil before
	logJSON  bool     // f.json as of the last setOutput
}

// rowsDone is a run's progress as the signal watcher asks for it.
type rowsDone interface{ Done() (done, rows int) }

// setOutput makes stderr and log what the command writes and logs through.
func (f *factory) setOutput(stderr io.Writer, log *slog.Logger) {
	f.mu.Lock()
	f.stderr, f.log, f.logJSON = stderr, log, f.json
	f.mu.Unlock()
}

// setProgress makes p the progress a second Ctrl-C tells.
func (f *factory) setProgress(p rowsDone) {
	f.mu.Lock()
	f.progress = p
	f.mu.Unlock()
}

// Main runs the command line args on the streams ios and returns the exit code.
func Main(args []string, getenv func(string) string, ios *IOStreams) exitCode {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	f := &factory{io: ios, getenv: getenv, stderr: ios.ErrOut, args: args}
	// After the first signal the run winds down; a second one stops it at
	// once, saying what was left and how to resume.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ended := make(chan struct{})
	defer close(ended)
	go f.watchSignals(sigs, ended)
	root := NewCmdRoot(f)
	root.SetArgs(oneDashLongFlags(root, args))
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	code := resolveExitCode(err)
	f.report(err, code)
	return code
}

// watchSignals tells, at the first signal, that the run winds down, and at
// the second, what was left and how to resume; then it ends the process, exit
// 3. The ledger is safe against a stop at any moment (a claim precedes each
// send); the calls in flight are read back by the resume.
func (f *factory) watchSignals(sigs <-chan os.Signal, ended <-chan struct{}) {
	select {
	case <-sigs:
		f.notice("finishing the calls in flight; Ctrl-C again to stop at once", "", "stopping", nil)
	case <-ended:
		return
	}
	select {
	case <-sigs:
	case <-ended:
		return
	}
	f.mu.Lock()
	p := f.progress
	f.mu.Unlock()
	msg := "stopped at once"
	attrs := []any{}
	if p != nil {
		done, rows := p.Done()
		msg += fmt.Sprintf(": %d of %d rows done, %d left", done, rows, rows-done)
		attrs = append(attrs, "rows_done", done, "rows", rows)
	}
	f.notice(msg, "run the same command again to resume: it checks the calls that were in flight, sends the rest and writes the reports",
		"stopped at once", attrs)
	// At once: not when the signal is next handled, by which time the run
	// may have written more that would say otherwise. Exit 3: stopped, and
	// the same command resumes.
	os.Exit(int(exitStopped))
}

// notice tells the person at the terminal (above the bar), or the JSON log,
// of a signal: text and hint on stderr, or a warning line msg with attrs.
func (f *factory) notice(text, hint, msg string, attrs []any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.logJSON && f.log != nil {
		attrs = append(attrs, "detail", text)
		if hint != "" {
			attrs = append(attrs, "hint", hint)
		}
		f.log.Warn(msg, attrs...)
		return
	}
	if strings.HasPrefix(msg, "stopped") {
		if e, ok := f.progress.(interface{ End() }); ok {
			e.End() // the bar's line is the message's
		}
		if f.io.IsStderrTTY() {
			fmt.Fprint(f.stderr, "\r\x1b[K") // and the ^C the terminal echoed
		}
	}
	fmt.Fprintf(f.stderr, "crmbatch: %s\n", text)
	if hint != "" {
		fmt.Fprintf(f.stderr, "hint: %s\n", hint)
	}
}

// NewCmdRoot is crmbatch's command tree.
func NewCmdRoot(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:                        "crmbatch",
		Short:                      "drive the CRM.COM Web API from CSV and XLSX job files",
		Version:                    versionString(),
		SilenceErrors:              true, // Main reports errors, in the format asked for
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		CompletionOptions:          cobra.CompletionOptions{DisableDefaultCmd: true},
		DisableFlagsInUseLine:      true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			// No command: what there is to choose from, on stderr.
			if err := writeHelp(f.io.ErrOut, cmd); err != nil {
				return err
			}
			return &reported{&usageError{msg: "no command"}}
		},
	}
	root.SetVersionTemplate("crmbatch {{.Version}}\n")
	root.PersistentFlags().BoolP("help", "h", false, "this help")
	_ = root.PersistentFlags().SetAnnotation("help", cobra.FlagSetByCobraAnnotation, []string{"true"})
	root.Flags().Bool("version", false, "print the version")
	_ = root.Flags().SetAnnotation("version", cobra.FlagSetByCobraAnnotation, []string{"true"})
	root.AddCommand(
		NewCmdRun(f, nil),
		NewCmdValidate(f, nil),
		NewCmdCharges(f),
		NewCmdPromotions(f, nil),
		NewCmdShow(f, nil),
		NewCmdHistory(f, nil),
		NewCmdSandbox(f, nil),
		NewCmdVersion(f, nil),
		NewCmdCompletion(f, nil),
	)
	root.SetHelpCommand(newCmdHelp())
	// Every usage line says "[flags]" itself where a command takes more than -h.
	var noFlagsInUse func(*cobra.Command)
	noFlagsInUse = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		for _, sub := range c.Commands() {
			noFlagsInUse(sub)
		}
	}
	noFlagsInUse(root)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { _ = writeHelp(cmd.OutOrStdout(), cmd) })
	root.SetFlagErrorFunc(f.flagError)
	root.CompletionOptions.SetDefaultShellCompDirective(cobra.ShellCompDirectiveNoFileComp)
	return root
}

// commandName is the command as typed after crmbatch: "run", "charges
// export"; "" for crmbatch itself.
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()), " ")
}

// unknownCommand is the error for a word that names no command of parent,
// with the nearest commands' names when some are near.
func unknownCommand(parent *cobra.Command, typed string) error {
	name := strings.TrimSpace(commandName(parent) + " " + typed)
	msg := fmt.Sprintf("unknown command %q", name)
	if near := parent.SuggestionsFor(typed); len(near) > 0 {
		prefix := strings.TrimSpace(commandName(parent) + " ")
		if prefix != "" {
			prefix += " "
		}
		for i := range near {
			near[i] = prefix + near[i]
		}
		msg += " (did you mean " + strings.Join(near, " or ") + "?)"
	}
	if parent.HasParent() {
		return &usageError{msg: msg, hint: fmt.Sprintf("the %s commands: %s", commandName(parent), subcommandNames(parent))}
	}
	return &usageError{msg: msg, hint: `"crmbatch help" lists the commands`}
}

// subcommandNames lists the commands of a group such as "charges".
func subcommandNames(group *cobra.Command) string {
	var names []string
	for _, c := range group.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names, ", ")
}

// flagError turns what pflag found wrong with the flags into a usage error
// (exit 2) that names the command and, for a mistyped flag, the nearest one.
// Under --log-format json it is reported as a JSON line like every other error.
func (f *factory) flagError(cmd *cobra.Command, err error) error {
	if f.wantsJSON(cmd) {
		f.jsonErrors()
	}
	var (
		notExist *pflag.NotExistError
		noValue  *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
		msg      string
	)
	switch {
	case errors.As(err, &notExist):
		typed := "--" + notExist.GetSpecifiedName()
		if s := notExist.GetSpecifiedShortnames(); s != "" {
			typed = "-" + s // "-sandbx": one dash reads as one-letter flags
		}
		msg = "unknown flag " + typed + didYouMeanFlag(cmd, strings.TrimLeft(typed, "-"))
	case errors.As(err, &noValue):
		fl := noValue.GetFlag()
		msg = fmt.Sprintf("--%s needs a value: --%s %s", fl.Name, fl.Name, valueName(fl))
	case errors.As(err, &invalid):
		msg = fmt.Sprintf("invalid value %q for --%s: %s", invalid.GetValue(), invalid.GetFlag().Name, invalidValueReason(invalid))
	case errors.As(err, &syntax):
		msg = "bad flag syntax " + syntax.GetSpecifiedFlag()
	default:
		msg = err.Error()
	}
	name := commandName(cmd)
	hint := fmt.Sprintf("nothing was sent; \"crmbatch %s -h\" lists its flags", name)
	if name == "" {
		return &usageError{msg: msg, hint: `"crmbatch -h" lists the commands`}
	}
	return &usageError{msg: name + ": " + msg, hint: hint}
}

// jsonErrors reports the command's errors as JSON lines, as --log-format
// json asks, until the command sets up its own log.
func (f *factory) jsonErrors() {
	f.json, f.log = true, slog.New(slog.NewJSONHandler(f.io.ErrOut, nil))
}

// invalidValueReason says in a user's words why pflag refused a flag's value.
func invalidValueReason(e *pflag.InvalidValueError) string {
	switch e.GetFlag().Value.Type() {
	case "bool":
		return "true or false"
	case "duration":
		return "not a duration like 30s or 5m"
	case "int", "int64":
		return "not a whole number, or too large"
	case "float64":
		return "not a number"
	}
	return e.Unwrap().Error()
}

// wantsJSON reports whether the command line asks cmd for JSON logs, so that
// an error in its flags is reported as JSON too, wherever --log-format stands.
func (f *factory) wantsJSON(cmd *cobra.Command) bool {
	if cmd.Flags().Lookup("log-format") == nil {
		return false
	}
	fs := pflag.NewFlagSet("log-format", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	format := fs.String("log-format", "", "")
	_ = fs.Parse(f.args)
	return *format == "json"
}

// didYouMeanFlag is " (did you mean --name?)" for the flag of cmd nearest to
// typed, if one is near enough to be a typo of it (or typed starts it), else "".
func didYouMeanFlag(cmd *cobra.Command, typed string) string {
	var names []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if !fl.Hidden {
			names = append(names, fl.Name)
		}
	})
	if near := nearest(typed, names); near != "" {
		return " (did you mean --" + near + "?)"
	}
	return ""
}

// nearest is the name nearest to typed, if it is near enough to be a typo of
// it (an edit for every three letters typed, at most three, a swap of
// neighbours counting as one), else the first that typed (3 letters at
// least) starts; "" when none is near.
func nearest(typed string, names []string) string {
	typed = strings.ToLower(typed)
	limit := max(1, min(3, len(typed)/3))
	best, bestD := "", limit+1
	for _, n := range names {
		if d := jobfile.EditDistance(typed, n); d < bestD || (d == bestD && n < best) {
			best, bestD = n, d
		}
	}
	if best != "" {
		return best
	}
	for _, n := range names {
		if len(typed) >= 3 && strings.HasPrefix(n, typed) {
			return n
		}
	}
	return ""
}

// oneDashLongFlags rewrites "-name" to "--name" for the long flags of the
// command that args name ("-sandbox", "-out DIR", "-rate=3"), as Go's flag
// package took them and crmbatch did before it was built on pflag, which
// reads "-sandbox" as seven one-letter flags. Values and what follows "--"
// are left as they are.
func oneDashLongFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil {
		cmd = root
	}
	lookup := func(name string) *pflag.Flag {
		if fl := cmd.Flags().Lookup(name); fl != nil {
			return fl
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		if len(arg) > 2 && arg[0] == '-' && arg[1] != '-' {
			if name, _, _ := strings.Cut(arg[1:], "="); len(name) > 1 && lookup(name) != nil {
				arg = "-" + arg
			}
		}
		out = append(out, arg)
		if name, ok := strings.CutPrefix(arg, "--"); ok && !strings.Contains(name, "=") {
			if fl := lookup(name); fl != nil && fl.NoOptDefVal == "" && i+1 < len(args) {
				i++
				out = append(out, args[i]) // the flag's value, even "-x"
			}
		}
	}
	return out
}
