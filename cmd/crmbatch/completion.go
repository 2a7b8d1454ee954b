package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
)

func completionCommand() *command {
	return &command{
		name: "completion", args: "bash|zsh|fish",
		summary: "a shell completion script",
		about: `Prints a script that completes crmbatch's commands, flags and their values.

  bash:  source <(crmbatch completion bash)       (or save it in /etc/bash_completion.d/crmbatch)
  zsh:   crmbatch completion zsh > "${fpath[1]}/_crmbatch"
  fish:  crmbatch completion fish > ~/.config/fish/completions/crmbatch.fish`,
		define: func(a *app, fs *flag.FlagSet) runFunc {
			return func(_ context.Context, args []string) error {
				if len(args) != 1 {
					return &usageError{msg: "completion takes one shell: bash, zsh or fish", hint: "crmbatch completion bash"}
				}
				spec := completionSpec(a)
				switch args[0] {
				case "bash":
					writeBash(a.io.Out, spec)
				case "zsh":
					writeZsh(a.io.Out, spec)
				case "fish":
					writeFish(a.io.Out, spec)
				default:
					return &usageError{msg: fmt.Sprintf("completion %q: the shells are bash, zsh and fish%s", args[0], didYouMean(args[0], []string{"bash", "zsh", "fish"}, "")),
						hint: "crmbatch completion bash"}
				}
				return nil
			}
		},
	}
}

// completing is what a completion script knows of one command.
type completing struct {
	words   []string // "charges", "export"
	summary string
	flags   []completingFlag
	files   bool // its arguments are files
	values  []string
}

type completingFlag struct {
	name, usage string
	takes       bool     // a value follows
	path        bool     // the value is a file or a folder
	choices     []string // the values it takes, when they are few
}

// pathFlags are the flags whose value is a file or a folder.
var pathFlags = map[string]bool{"out": true, "state": true, "ca-file": true, "watch": true}

// flagChoices are the values of the flags that take one of a few.
func flagChoices(cmd, name string) []string {
	switch name {
	case "job":
		return batch.KindNames()
	case "log-format":
		return []string{"text", "json"}
	case "status":
		return []string{crm.ChargeStatusNotProcessed, "PROCESSED"}
	case "format":
		if cmd == "promotions" {
			return []string{"table", "csv"}
		}
		return []string{"csv", "xlsx"}
	}
	return nil
}

func completionSpec(a *app) []completing {
	var spec []completing
	for _, c := range commands() {
		cc := completing{words: strings.Fields(c.name), summary: c.summary,
			files: strings.Contains(c.args, "FILE") || strings.Contains(c.args, "OUT")}
		if c.name == "completion" {
			cc.values = []string{"bash", "zsh", "fish"}
		}
		for _, f := range flagNames(a, c) {
			_, usage := flag.UnquoteUsage(f)
			cc.flags = append(cc.flags, completingFlag{name: f.Name, usage: usage, takes: !isBool(f),
				path: pathFlags[f.Name], choices: flagChoices(c.name, f.Name)})
		}
		spec = append(spec, cc)
	}
	return spec
}

// topWords are the words that may follow crmbatch.
func topWords(spec []completing) []string {
	words, _ := topCommands(spec)
	return append(words, "help")
}

// topCommands are the first words of the commands, once each, with what each
// does ("charges commands" for a word that starts several).
func topCommands(spec []completing) (words, summaries []string) {
	seen := map[string]bool{}
	for _, c := range spec {
		if seen[c.words[0]] {
			continue
		}
		seen[c.words[0]] = true
		summary := c.summary
		if len(c.words) > 1 {
			summary = c.words[0] + " commands"
		}
		words, summaries = append(words, c.words[0]), append(summaries, summary)
	}
	return words, summaries
}

func writeBash(w io.Writer, spec []completing) {
	fmt.Fprintf(w, `# bash completion for crmbatch: source <(crmbatch completion bash)
_crmbatch() {
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    case $cmd in
    help)
        COMPREPLY=($(compgen -W "%s" -- "$cur")); return ;;
`, strings.Join(topWords(spec), " "), strings.Join(topWords(spec), " "))
	groups := map[string][]string{}
	for _, c := range spec {
		if len(c.words) > 1 {
			groups[c.words[0]] = append(groups[c.words[0]], c.words[1])
		}
	}
	for _, c := range spec {
		pattern, sub := c.words[0], ""
		if len(c.words) > 1 {
			pattern, sub = c.words[0], c.words[1]
		}
		if sub != "" && groups[pattern] != nil {
			fmt.Fprintf(w, "    %s)\n        if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n        case ${COMP_WORDS[2]} in\n        %s)\n", pattern, strings.Join(groups[pattern], " "), sub)
			groups[pattern] = nil
		} else if sub != "" {
			continue // its group's case is written
		} else {
			fmt.Fprintf(w, "    %s)\n", pattern)
		}
		var names []string
		fmt.Fprintf(w, "        case $prev in\n")
		for _, f := range c.flags {
			names = append(names, "--"+f.name)
			switch {
			case f.choices != nil:
				fmt.Fprintf(w, "        --%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", f.name, strings.Join(f.choices, " "))
			case f.path:
				fmt.Fprintf(w, "        --%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", f.name)
			case f.takes:
				fmt.Fprintf(w, "        --%s) return ;;\n", f.name)
			}
		}
		fmt.Fprintf(w, "        esac\n")
		fmt.Fprintf(w, "        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(append(names, "--help"), " "))
		switch {
		case c.values != nil:
			fmt.Fprintf(w, "        COMPREPLY=($(compgen -W %q -- \"$cur\"))\n", strings.Join(c.values, " "))
		case c.files:
			fmt.Fprintf(w, "        COMPREPLY=($(compgen -f -- \"$cur\"))\n")
		}
		if sub != "" {
			fmt.Fprintf(w, "        ;;\n        esac\n")
		}
		fmt.Fprintf(w, "        ;;\n")
	}
	fmt.Fprintf(w, "    esac\n}\ncomplete -o filenames -F _crmbatch crmbatch\n")
}

// zshQuote escapes text for an _arguments description in single quotes.
func zshQuote(s string) string {
	r := strings.NewReplacer("'", `'\''`, "[", `\[`, "]", `\]`, ":", `\:`)
	return r.Replace(s)
}

func writeZsh(w io.Writer, spec []completing) {
	fmt.Fprintf(w, "#compdef crmbatch\n# zsh completion for crmbatch: crmbatch completion zsh > \"${fpath[1]}/_crmbatch\"\n\n")
	fmt.Fprintf(w, "_crmbatch() {\n    local -a cmds\n    if (( CURRENT == 2 )); then\n        cmds=(\n")
	words, summaries := topCommands(spec)
	for i, word := range words {
		fmt.Fprintf(w, "            '%s:%s'\n", word, zshQuote(summaries[i]))
	}
	fmt.Fprintf(w, "            'help:a command'\\''s usage and flags'\n        )\n        _describe command cmds\n        return\n    fi\n")
	fmt.Fprintf(w, "    case \"${words[2]} ${words[3]}\" in\n")
	for _, c := range spec {
		pattern := c.words[0] + " *"
		shift := 1
		if len(c.words) > 1 {
			pattern = strings.Join(c.words, " ")
			shift = 2
		}
		fmt.Fprintf(w, "    (%s)\n        shift %d words; (( CURRENT -= %d ))\n        _arguments -s \\\n", strings.ReplaceAll(pattern, " ", "\\ "), shift, shift)
		for _, f := range c.flags {
			switch {
			case f.choices != nil:
				fmt.Fprintf(w, "            '--%s[%s]:%s:(%s)' \\\n", f.name, zshQuote(f.usage), f.name, strings.Join(f.choices, " "))
			case f.path:
				fmt.Fprintf(w, "            '--%s[%s]:%s:_files' \\\n", f.name, zshQuote(f.usage), f.name)
			case f.takes:
				fmt.Fprintf(w, "            '--%s[%s]:%s: ' \\\n", f.name, zshQuote(f.usage), f.name)
			default:
				fmt.Fprintf(w, "            '--%s[%s]' \\\n", f.name, zshQuote(f.usage))
			}
		}
		switch {
		case c.values != nil:
			fmt.Fprintf(w, "            '1:shell:(%s)'\n", strings.Join(c.values, " "))
		case c.files:
			fmt.Fprintf(w, "            '*:file:_files'\n")
		default:
			fmt.Fprintf(w, "            '*: :'\n")
		}
		fmt.Fprintf(w, "        ;;\n")
	}
	var groups []string
	subs := map[string][]string{}
	for _, c := range spec {
		if len(c.words) > 1 {
			if subs[c.words[0]] == nil {
				groups = append(groups, c.words[0])
			}
			subs[c.words[0]] = append(subs[c.words[0]], c.words[1])
		}
	}
	for _, g := range groups {
		fmt.Fprintf(w, "    (%s\\ *)\n        compadd %s\n        ;;\n", g, strings.Join(subs[g], " "))
	}
	fmt.Fprintf(w, "    (help\\ *)\n        compadd %s\n        ;;\n", strings.Join(topWords(spec), " "))
	fmt.Fprintf(w, "    esac\n}\n\nif [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n    _crmbatch \"$@\"\nelse\n    compdef _crmbatch crmbatch\nfi\n")
}

// fishQuote quotes s for fish in single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func writeFish(w io.Writer, spec []completing) {
	fmt.Fprintf(w, "# fish completion for crmbatch: crmbatch completion fish > ~/.config/fish/completions/crmbatch.fish\n")
	fmt.Fprintf(w, "complete -c crmbatch -f\n")
	top := topWords(spec)
	words, summaries := topCommands(spec)
	for i, word := range words {
		fmt.Fprintf(w, "complete -c crmbatch -n '__fish_use_subcommand' -a %s -d %s\n", word, fishQuote(summaries[i]))
	}
	fmt.Fprintf(w, "complete -c crmbatch -n '__fish_use_subcommand' -a help -d %s\n", fishQuote("a command's usage and flags"))
	fmt.Fprintf(w, "complete -c crmbatch -n '__fish_seen_subcommand_from help' -a %s\n", fishQuote(strings.Join(top, " ")))
	for _, c := range spec {
		cond := "__fish_seen_subcommand_from " + c.words[0]
		if len(c.words) > 1 {
			fmt.Fprintf(w, "complete -c crmbatch -n %s -a %s -d %s\n",
				fishQuote(cond+"; and not __fish_seen_subcommand_from "+c.words[1]), c.words[1], fishQuote(c.summary))
			cond += "; and __fish_seen_subcommand_from " + c.words[1]
		}
		for _, f := range c.flags {
			fmt.Fprintf(w, "complete -c crmbatch -n %s -l %s -d %s", fishQuote(cond), f.name, fishQuote(f.usage))
			switch {
			case f.choices != nil:
				fmt.Fprintf(w, " -x -a %s", fishQuote(strings.Join(f.choices, " ")))
			case f.path:
				fmt.Fprintf(w, " -r -F")
			case f.takes:
				fmt.Fprintf(w, " -x")
			}
			fmt.Fprintln(w)
		}
		switch {
		case c.values != nil:
			fmt.Fprintf(w, "complete -c crmbatch -n %s -a %s\n", fishQuote(cond), fishQuote(strings.Join(c.values, " ")))
		case c.files:
			fmt.Fprintf(w, "complete -c crmbatch -n %s -F\n", fishQuote(cond))
		}
	}
}

// flagNames are the flags of c that the help shows, sorted, for completion.
func flagNames(a *app, c *command) []*flag.Flag {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.define(a, fs)
	var out []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !c.isHidden(f.Name) {
			out = append(out, f)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
