package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/crmbatch/crmbatch/kind"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// annotationMoreUsage holds a command's further usage line, without "crmbatch ".
const annotationMoreUsage = "crmbatch/more-usage"

// writeHelp writes cmd's help: for crmbatch the overview of the commands, for
// a group such as "charges" its commands, else the command's usage, what it
// does and its flags. It is every command's cobra help function.
func writeHelp(w io.Writer, cmd *cobra.Command) error {
	var b strings.Builder
	switch {
	case !cmd.HasParent():
		overview(&b, cmd)
	case cmd.HasAvailableSubCommands():
		b.WriteString("usage:\n")
		usageLines(&b, available(cmd))
		fmt.Fprintf(&b, "\n\"crmbatch %s -h\" shows its flags.\n", commandName(available(cmd)[0]))
	default:
		commandHelp(&b, cmd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// available are the commands a user may type below cmd, groups opened, in
// the order they were added; help is one of them.
func available(cmd *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range cmd.Commands() {
		switch {
		case c.Name() == "help":
			out = append(out, c)
		case !c.IsAvailableCommand():
		case c.HasAvailableSubCommands():
			out = append(out, available(c)...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// usageLines writes one usage line per command, with its summary beside it,
// or under it when the usage is long.
func usageLines(b *strings.Builder, cmds []*cobra.Command) {
	const col = 30
	for _, c := range cmds {
		use := usage(c)
		if len(use) > col {
			fmt.Fprintf(b, "  crmbatch %s\n  %*s          %s\n", use, col, "", c.Short)
			continue
		}
		fmt.Fprintf(b, "  crmbatch %-*s %s\n", col, use, c.Short)
	}
}

// usage is the command's usage line, without "crmbatch ".
func usage(c *cobra.Command) string {
	return strings.TrimPrefix(c.UseLine(), c.Root().Name()+" ")
}

// overview is the help of crmbatch itself.
func overview(b *strings.Builder, root *cobra.Command) {
	b.WriteString("crmbatch drives the CRM.COM Web API from CSV and XLSX job files.\n\nusage:\n")
	usageLines(b, available(root))
	fmt.Fprintf(b, "\nJob kinds (--job, or guessed from the header): %s.\n", strings.Join(kind.Names(), ", "))
	b.WriteString(`"crmbatch COMMAND -h" or "crmbatch help COMMAND" shows a command's flags;
flags may come before or after the file. "crmbatch --version" prints the version.

Connection: --endpoint URL or CRMBATCH_ENDPOINT; credentials from the environment
only: CRMBATCH_USERNAME, CRMBATCH_PASSWORD (or CRMBATCH_PASSWORD_FILE),
CRMBATCH_ORGANISATION, optional CRMBATCH_UNIT; or CRMBATCH_API_KEY (or
CRMBATCH_API_KEY_FILE). --sandbox runs against an in-process emulator instead.

Exit codes: 0 every row ok or skipped, 1 some rows failed or invalid, 2 usage or
input-file error (nothing sent), 3 stopped for a reason that passes (the same
command resumes), 4 a person must act first (credentials refused, the endpoint
not a CRM.COM Web API).
`)
}

// commandHelp is the text of "crmbatch NAME -h": usage, what it does, its flags.
func commandHelp(b *strings.Builder, c *cobra.Command) {
	fmt.Fprintf(b, "usage: crmbatch %s\n", usage(c))
	if more := c.Annotations[annotationMoreUsage]; more != "" {
		fmt.Fprintf(b, "       crmbatch %s\n", more)
	}
	if c.Long != "" {
		fmt.Fprintf(b, "\n%s\n", strings.TrimSpace(c.Long))
	}
	type row struct{ left, usage string }
	var rows []row
	width := 0
	add := func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		left := "--" + fl.Name
		if fl.Shorthand != "" {
			left = "-" + fl.Shorthand + ", " + left
		}
		if v := valueName(fl); v != "" {
			left += " " + v
		}
		text := fl.Usage
		if d := fl.DefValue; d != "" && d != "0" && d != "false" && d != "0s" && !strings.Contains(text, "default") {
			text += " (default " + d + ")"
		}
		rows = append(rows, row{left, text})
		if len(left) <= 24 {
			width = max(width, len(left))
		}
	}
	c.NonInheritedFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "help" {
			add(fl)
		}
	})
	c.InheritedFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "help" {
			add(fl)
		}
	})
	if help := c.Flags().Lookup("help"); help != nil {
		add(help) // last
	}
	b.WriteString("\nflags:\n")
	for _, r := range rows {
		if len(r.left) > width {
			fmt.Fprintf(b, "  %s\n  %*s  %s\n", r.left, width, "", r.usage)
			continue
		}
		fmt.Fprintf(b, "  %-*s  %s\n", width, r.left, r.usage)
	}
}

// valueNames name the values of the flags whose type does not say enough.
var valueNames = map[string]string{
	"job": "KIND", "action": "ACTION", "group-id": "ID", "group-name": "NAME", "group-code": "CODE",
	"group-alternative-code": "CODE", "sheet": "NAME", "out": "DIR", "state": "DIR",
	"log-format": "text|json", "endpoint": "URL", "ca-file": "PEM", "watch": "DIR", "listen": "ADDR",
	"run": "ID", "charge": "NUMBER", "status": "STATUS", "done": "refuse|skip", "metrics-file": "PATH", "decimal-mark": ",|.",
}

// valueName is how the help names a flag's value: "" for a switch.
func valueName(fl *pflag.Flag) string {
	if fl.NoOptDefVal != "" {
		return ""
	}
	if n, ok := valueNames[fl.Name]; ok {
		return n
	}
	switch fl.Value.Type() {
	case "duration":
		return "D"
	case "int", "int64", "float64":
		return "N"
	}
	return strings.ToUpper(fl.Name)
}

// newCmdHelp is "crmbatch help [COMMAND]": the overview, or a command's help.
func newCmdHelp() *cobra.Command {
	return &cobra.Command{
		Use:                   "help [COMMAND]",
		Short:                 "this text, or a command's usage and flags",
		Long:                  `Prints the commands, or a command's usage and flags (as "crmbatch COMMAND -h" does).`,
		DisableFlagsInUseLine: true,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			parent, rest, err := cmd.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var words []cobra.Completion
			for _, c := range parent.Commands() {
				if (c.IsAvailableCommand() || c == cmd) && strings.HasPrefix(c.Name(), toComplete) {
					words = append(words, cobra.CompletionWithDesc(c.Name(), c.Short))
				}
			}
			return words, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			switch {
			case err != nil:
				return &usageError{msg: err.Error(), err: err}
			case len(rest) > 0 && target.HasAvailableSubCommands():
				return unknownCommand(target, rest[0])
			case len(rest) > 0:
				return &usageError{msg: fmt.Sprintf("help takes one command, got %q", strings.Join(args, " ")),
					hint: "crmbatch help " + commandName(target)}
			}
			return writeHelp(cmd.OutOrStdout(), target)
		},
	}
}
