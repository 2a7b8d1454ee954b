package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
)

// shells are the shells that "crmbatch completion" writes a script for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// CompletionOptions are the argument of completion.
type CompletionOptions struct {
	Shell string
}

// NewCmdCompletion is "crmbatch completion SHELL": cobra's script for the
// shell, which asks crmbatch itself (its hidden __complete command) for the
// words to offer: commands, flags, job kinds and other flag values, the
// sheets of the workbook on the line, job files. runF, when not nil, is
// called with the parsed options instead of writing the script.
func NewCmdCompletion(f *factory, runF func(*CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "a shell completion script",
		Long: `Prints a script that completes crmbatch's commands, flags and their values:
job kinds, --status, --format, --log-format, the sheets of the workbook given
on the line for --sheet, and .csv and .xlsx files for job files. The bash
script needs the bash-completion package (apt install bash-completion).

  bash:        source <(crmbatch completion bash)       (or save it in /etc/bash_completion.d/crmbatch)
  zsh:         crmbatch completion zsh > "${fpath[1]}/_crmbatch"
  fish:        crmbatch completion fish > ~/.config/fish/completions/crmbatch.fish
  PowerShell:  crmbatch completion powershell | Out-String | Invoke-Expression   (or add it to $PROFILE)`,
		ValidArgs: shells,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{msg: "completion takes one shell: bash, zsh, fish or powershell", hint: "crmbatch completion bash"}
			}
			if !slices.Contains(shells, args[0]) {
				msg := fmt.Sprintf("completion %q: the shells are bash, zsh, fish and powershell", args[0])
				if near := nearest(args[0], shells); near != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", near)
				}
				return &usageError{msg: msg, hint: "crmbatch completion bash"}
			}
			opts.Shell = args[0]
			if runF != nil {
				return runF(opts)
			}
			return writeCompletion(cmd.Root(), opts.Shell, f)
		},
	}
}

// writeCompletion writes cobra's completion script for shell.
func writeCompletion(root *cobra.Command, shell string, f *factory) error {
	w := f.io.Out
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	default:
		return root.GenPowerShellCompletionWithDesc(w)
	}
}

// completeWords completes a flag's value with one of words.
func completeWords(words ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, w := range words {
			if strings.HasPrefix(w, toComplete) {
				out = append(out, w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeDirs completes a flag's value with folders.
func completeDirs(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeJobFile completes the one file argument with .csv and .xlsx files.
func completeJobFile(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return []cobra.Completion{"csv", "xlsx"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeSheets completes --sheet with the worksheets of the XLSX file
// already on the command line (its password, if it has one, from
// CRMBATCH_XLSX_PASSWORD or CRMBATCH_XLSX_PASSWORD_FILE).
func (f *factory) completeSheets(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	for _, arg := range args {
		if format, err := formats.FormatOf(arg); err != nil || format != formats.XLSX {
			continue
		}
		password, _ := crm.SecretFromEnv(f.getenv, envXLSXPassword, envXLSXPasswordFile)
		names, err := formats.SheetNames(arg, password)
		if err != nil {
			cobra.CompDebugln(err.Error(), false)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(strings.ToLower(n), strings.ToLower(toComplete)) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}
