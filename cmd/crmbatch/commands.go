package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/crmbatch/crmbatch/batch"
)

// app is what every command is handed: the streams, the environment, and the
// logger its errors are reported with.
type app struct {
	io     *IOStreams
	getenv func(string) string
	stderr io.Writer    // io.ErrOut, or the progress bar while a run may show one
	log    *slog.Logger // set by run and validate
	json   bool         // --log-format json: stderr carries JSON lines only
}

// runFunc runs a command with its positional arguments, its flags parsed.
type runFunc func(ctx context.Context, args []string) error

// command is one command of the command line: its usage, its help and its flags.
type command struct {
	name    string   // as typed after crmbatch: "run", "charges export"
	args    string   // the positional arguments of the usage line: "FILE"
	more    []string // further usage lines, without "crmbatch "
	summary string   // one line for the list of commands
	about   string   // the help's paragraph
	hidden  []string // flags accepted but not shown in the help
	// define registers the command's flags on fs and returns what runs it.
	define func(a *app, fs *flag.FlagSet) runFunc
}

// commands are crmbatch's commands, in the order the help lists them.
func commands() []*command {
	return []*command{
		runCommand(false),
		runCommand(true),
		chargesExportCommand(),
		promotionsCommand(),
		showCommand(),
		historyCommand(),
		sandboxCommand(),
		{name: "version", summary: "print the version", about: "Prints crmbatch's version (also: crmbatch --version).",
			define: func(a *app, fs *flag.FlagSet) runFunc {
				return func(_ context.Context, args []string) error {
					if len(args) > 0 {
						return &usageError{msg: "version takes no arguments"}
					}
					fmt.Fprintln(a.io.Out, "crmbatch", versionString())
					return nil
				}
			}},
		completionCommand(),
	}
}

// lookup finds the command that args start with; a group name ("charges")
// alone finds nothing and returns its subcommands.
func lookup(cmds []*command, args []string) (c *command, rest []string, group []*command) {
	for _, c := range cmds {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
		if len(words) > 1 && len(args) > 0 && args[0] == words[0] {
			group = append(group, c)
		}
	}
	return nil, nil, group
}

// dispatch runs the command line's command.
func (a *app) dispatch(ctx context.Context, args []string) error {
	cmds := commands()
	if len(args) == 0 {
		fmt.Fprint(a.io.ErrOut, overview(cmds))
		return &reported{&usageError{msg: "no command"}}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(a.io.Out, overview(cmds))
		return nil
	case "help":
		return a.help(cmds, args[1:])
	case "--version", "-version":
		fmt.Fprintln(a.io.Out, "crmbatch", versionString())
		return nil
	}
	c, rest, group := lookup(cmds, args)
	if c == nil && len(group) > 0 && len(args) > 1 && isHelp(args[1]) {
		fmt.Fprint(a.io.Out, groupHelp(group))
		return nil
	}
	if c == nil {
		return unknownCommand(cmds, args, group)
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.define(a, fs)
	pos, err := parseArgs(c, fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(a.io.Out, c.help(fs))
		return nil
	}
	if err != nil {
		if wantsJSON(rest) {
			a.json, a.log = true, slog.New(slog.NewJSONHandler(a.io.ErrOut, nil))
		}
		return err
	}
	return run(ctx, pos)
}

// help prints the overview, or the help of the command named by topic.
func (a *app) help(cmds []*command, topic []string) error {
	if len(topic) == 0 {
		fmt.Fprint(a.io.Out, overview(cmds))
		return nil
	}
	c, rest, group := lookup(cmds, topic)
	switch {
	case c != nil && len(rest) == 0:
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.define(a, fs)
		fmt.Fprint(a.io.Out, c.help(fs))
		return nil
	case c == nil && len(group) > 0 && len(topic) == 1:
		fmt.Fprint(a.io.Out, groupHelp(group))
		return nil
	case c != nil:
		return &usageError{msg: fmt.Sprintf("help takes one command, got %q", strings.Join(topic, " ")),
			hint: fmt.Sprintf("crmbatch help %s", c.name)}
	}
	return unknownCommand(cmds, topic, group)
}

// unknownCommand is the error for args that name no command, with the nearest
// command's name when one is near.
func unknownCommand(cmds []*command, args []string, group []*command) error {
	if len(group) > 0 {
		// "crmbatch charges", "crmbatch charges -h", "crmbatch charges exprot"
		if len(args) < 2 {
			return &usageError{msg: fmt.Sprintf("%s needs a subcommand: %s", args[0], subNames(group)),
				hint: fmt.Sprintf(`"crmbatch %s -h" for its usage`, group[0].name)}
		}
		var names []string
		for _, c := range group {
			names = append(names, strings.Fields(c.name)[1])
		}
		return &usageError{msg: fmt.Sprintf("unknown command %q%s", args[0]+" "+args[1], didYouMean(args[1], names, args[0]+" ")),
			hint: fmt.Sprintf("the %s commands: %s", args[0], subNames(group))}
	}
	var names []string
	seen := map[string]bool{}
	for _, c := range cmds {
		if w := strings.Fields(c.name)[0]; !seen[w] {
			seen[w] = true
			names = append(names, w)
		}
	}
	names = append(names, "help")
	return &usageError{msg: fmt.Sprintf("unknown command %q%s", args[0], didYouMean(args[0], names, "")),
		hint: `"crmbatch help" lists the commands`}
}

func subNames(group []*command) string {
	var names []string
	for _, c := range group {
		names = append(names, strings.Fields(c.name)[1])
	}
	return strings.Join(names, ", ")
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// parseArgs parses flags anywhere among the arguments ("run FILE --sandbox" as
// well as "run --sandbox FILE"); "--" ends the flags. It returns the
// positional arguments, flag.ErrHelp for -h or --help, or a *usageError that
// names the nearest flag for one that is not defined.
func parseArgs(c *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(arg) < 2 || arg[0] != '-' {
			pos = append(pos, arg) // "-" is a positional argument too
			continue
		}
		name := strings.TrimPrefix(arg[1:], "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		if name == "" || name[0] == '-' {
			return nil, &usageError{msg: fmt.Sprintf("%s: bad flag syntax %s", c.name, arg), hint: c.flagsHint()}
		}
		if (name == "h" || name == "help") && !hasValue {
			return nil, flag.ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil {
			var names []string
			fs.VisitAll(func(f *flag.Flag) {
				if !c.isHidden(f.Name) {
					names = append(names, f.Name)
				}
			})
			return nil, &usageError{msg: fmt.Sprintf("%s: unknown flag --%s%s", c.name, name, didYouMean(name, names, "--")),
				hint: c.flagsHint()}
		}
		if isBool(f) {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				return nil, &usageError{msg: fmt.Sprintf("%s: --%s needs a value: --%s %s", c.name, name, name, valueName(f)), hint: c.flagsHint()}
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, &usageError{msg: fmt.Sprintf("%s: invalid value %q for --%s: %v", c.name, value, name, plainParseError(err)), hint: c.flagsHint()}
		}
	}
	return pos, nil
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// plainParseError words the flag package's parse errors for a user.
func plainParseError(err error) string {
	var ne interface{ Unwrap() error }
	if errors.As(err, &ne) && ne.Unwrap() != nil {
		err = ne.Unwrap()
	}
	switch err.Error() {
	case "parse error":
		return "not a number (or a duration like 30s, or true|false)"
	case "value out of range":
		return "out of range"
	}
	return err.Error()
}

// wantsJSON reports whether args ask for JSON logs, so that an error in the
// flags after --log-format json is reported as JSON too.
func wantsJSON(args []string) bool {
	for i, arg := range args {
		switch {
		case arg == "--":
			return false
		case arg == "--log-format=json" || arg == "-log-format=json":
			return true
		case (arg == "--log-format" || arg == "-log-format") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

func (c *command) flagsHint() string {
	return fmt.Sprintf("nothing was sent; \"crmbatch %s -h\" lists its flags", c.name)
}

func (c *command) isHidden(name string) bool {
	for _, h := range c.hidden {
		if h == name {
			return true
		}
	}
	return false
}

// didYouMean is " (did you mean PREFIXname?)" for the name nearest to typed,
// if one is near enough to be a typo of it, else "".
func didYouMean(typed string, names []string, prefix string) string {
	best, bestD := "", 0
	for _, n := range names {
		d := batch.EditDistance(strings.ToLower(typed), n)
		if best == "" || d < bestD || (d == bestD && n < best) {
			best, bestD = n, d
		}
	}
	limit := max(1, min(3, len(typed)/3))
	if best == "" || bestD > limit {
		for _, n := range names { // a prefix: --chunk for --chunk-size
			if len(typed) >= 3 && strings.HasPrefix(n, typed) {
				return fmt.Sprintf(" (did you mean %s%s?)", prefix, n)
			}
		}
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", prefix, best)
}

// usageLines writes one usage line per command, with its summary beside it,
// or under it when the usage is long.
func usageLines(b *strings.Builder, cmds []*command, extra ...[2]string) {
	const col = 30
	line := func(use, summary string) {
		if len(use) > col {
			fmt.Fprintf(b, "  crmbatch %s\n  %*s          %s\n", use, col, "", summary)
			return
		}
		fmt.Fprintf(b, "  crmbatch %-*s %s\n", col, use, summary)
	}
	for _, c := range cmds {
		line(c.usage(), c.summary)
	}
	for _, e := range extra {
		line(e[0], e[1])
	}
}

// overview is the help of crmbatch itself.
func overview(cmds []*command) string {
	var b strings.Builder
	b.WriteString("crmbatch drives the CRM.COM Web API from CSV and XLSX job files.\n\nusage:\n")
	usageLines(&b, cmds, [2]string{"help [COMMAND]", "this text, or a command's usage and flags"})
	fmt.Fprintf(&b, "\nJob kinds (--job, or guessed from the header): %s.\n", strings.Join(batch.KindNames(), ", "))
	b.WriteString(`"crmbatch COMMAND -h" or "crmbatch help COMMAND" shows a command's flags;
flags may come before or after the file.

Connection: --endpoint URL or CRMBATCH_ENDPOINT; credentials from the environment
only: CRMBATCH_USERNAME, CRMBATCH_PASSWORD (or CRMBATCH_PASSWORD_FILE),
CRMBATCH_ORGANISATION, optional CRMBATCH_UNIT; or CRMBATCH_API_KEY (or
CRMBATCH_API_KEY_FILE). --sandbox runs against an in-process emulator instead.

Exit codes: 0 every row ok or skipped, 1 some rows failed or invalid, 2 usage or
input-file error (nothing sent), 3 the run could not finish (a re-run resumes).
`)
	return b.String()
}

// groupHelp is the help of a group of commands such as "charges".
func groupHelp(group []*command) string {
	var b strings.Builder
	b.WriteString("usage:\n")
	usageLines(&b, group)
	fmt.Fprintf(&b, "\n\"crmbatch %s -h\" shows its flags.\n", group[0].name)
	return b.String()
}

// usage is the command's usage line, without "crmbatch ".
func (c *command) usage() string {
	u := c.name
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.define(&app{}, fs)
	shown := false
	fs.VisitAll(func(f *flag.Flag) { shown = shown || !c.isHidden(f.Name) })
	if shown {
		u += " [flags]"
	}
	if c.args != "" {
		u += " " + c.args
	}
	return u
}

// help is the text of "crmbatch NAME -h": usage, what it does, its flags.
func (c *command) help(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: crmbatch %s\n", c.usage())
	for _, m := range c.more {
		fmt.Fprintf(&b, "       crmbatch %s\n", m)
	}
	if c.about != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(c.about))
	}
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		if c.isHidden(f.Name) {
			return
		}
		left := "--" + f.Name
		if v := valueName(f); v != "" {
			left += " " + v
		}
		_, usage := flag.UnquoteUsage(f)
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "0s" && !strings.Contains(usage, "default") {
			usage += " (default " + d + ")"
		}
		rows = append(rows, row{left, usage})
		if len(left) <= 24 {
			width = max(width, len(left))
		}
	})
	if len(rows) > 0 {
		b.WriteString("\nflags:\n")
	}
	for _, r := range rows {
		if len(r.left) > width {
			fmt.Fprintf(&b, "  %s\n  %*s  %s\n", r.left, width, "", r.usage)
			continue
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", width, r.left, r.usage)
	}
	b.WriteString("  -h, --help")
	if width > 10 {
		b.WriteString(strings.Repeat(" ", width-10))
	}
	b.WriteString("  this help\n")
	return b.String()
}

// valueNames name the values of the flags whose type does not say enough.
var valueNames = map[string]string{
	"job": "KIND", "action": "ACTION", "group-id": "ID", "group-name": "NAME", "group-code": "CODE",
	"sheet": "NAME", "out": "DIR", "format": "FORMAT", "state": "DIR", "log-format": "text|json",
	"endpoint": "URL", "ca-file": "PEM", "watch": "DIR", "listen": "ADDR", "run": "ID",
	"charge": "NUMBER", "status": "STATUS",
}

// valueName is how the help names a flag's value: "" for a switch.
func valueName(f *flag.Flag) string {
	if isBool(f) {
		return ""
	}
	if n, ok := valueNames[f.Name]; ok {
		return n
	}
	switch name, _ := flag.UnquoteUsage(f); name {
	case "duration":
		return "D"
	case "int", "uint", "float", "int64":
		return "N"
	case "":
		return ""
	default:
		return strings.ToUpper(name)
	}
}
