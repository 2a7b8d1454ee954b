package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The README's flag tables are written from the commands' own flag
// definitions, between "<!-- flags: COMMAND -->" and "<!-- end flags -->":
// go test ./cmd/crmbatch -run TestREADMEFlagTables -update rewrites them.

// flagTableStart and flagTableEnd enclose a command's flag table in the README.
var (
	flagTableStart = regexp.MustCompile(`^<!-- flags: ([a-z ]*) -->$`)
	flagTableEnd   = "<!-- end flags -->"
)

// defaultInUsage is a default that a flag's text gives itself, such as
// "(default: the input's)".
var defaultInUsage = regexp.MustCompile(`\s*\(default(?: and maximum)?: ([^)]*)\)$`)

// flagRow is a flag as the README's table shows it.
type flagRow struct{ flag, meaning, def string }

// flagRows are the flags of cmd, as its help lists them: its own, then the
// inherited ones, -h last.
func flagRows(cmd *cobra.Command) []flagRow {
	var rows []flagRow
	add := func(fl *pflag.Flag) {
		if fl.Hidden || fl.Name == "help" {
			return
		}
		left := "--" + fl.Name
		if fl.Shorthand != "" {
			left = "-" + fl.Shorthand + ", " + left
		}
		if v := valueName(fl); v != "" {
			left += " " + v
		}
		meaning, def := fl.Usage, ""
		if m := defaultInUsage.FindStringSubmatch(meaning); m != nil {
			meaning, def = strings.TrimSuffix(meaning, m[0]), m[1]
		} else if d := fl.DefValue; d != "" && d != "0" && d != "false" && d != "0s" && !strings.Contains(meaning, "default") {
			def = d
		}
		rows = append(rows, flagRow{left, meaning, def})
	}
	cmd.NonInheritedFlags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	return append(rows, flagRow{"-h, --help", "this help", ""})
}

// flagTable is cmd's flag table in Markdown.
func flagTable(cmd *cobra.Command) string {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString("| flag | meaning | default |\n|---|---|---|\n")
	for _, r := range flagRows(cmd) {
		def := ""
		if r.def != "" {
			def = "`" + cell(r.def) + "`"
			if strings.Contains(r.def, " ") {
				def = cell(r.def) // words, not a value
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", cell(r.flag), cell(r.meaning), def)
	}
	return b.String()
}

// readmeFlagTables are the README's flag tables by command, and the README
// with each table's text replaced by the one generated now.
func readmeFlagTables(t *testing.T) (tables map[string]string, regenerated string) {
	t.Helper()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	root := NewCmdRoot(testFactory())
	tables = map[string]string{}
	lines := strings.SplitAfter(string(data), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		out.WriteString(lines[i])
		m := flagTableStart.FindStringSubmatch(strings.TrimRight(lines[i], "\n"))
		if m == nil {
			continue
		}
		var table strings.Builder
		j := i + 1
		for ; j < len(lines) && strings.TrimRight(lines[j], "\n") != flagTableEnd; j++ {
			table.WriteString(lines[j])
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: %q without %q", i+1, m[0], flagTableEnd)
		}
		cmd, rest, err := root.Find(strings.Fields(m[1]))
		if err != nil || len(rest) > 0 || commandName(cmd) != m[1] {
			t.Fatalf("README.md:%d: a flag table of %q, which is no command", i+1, m[1])
		}
		tables[m[1]] = table.String()
		out.WriteString(flagTable(cmd))
		out.WriteString(lines[j])
		i = j
	}
	return tables, out.String()
}

// TestREADMEFlagTables checks that the README has a flag table for every
// command that takes flags, as generated from the commands' flags.
func TestREADMEFlagTables(t *testing.T) {
	tables, regenerated := readmeFlagTables(t)
	if *update {
		if err := os.WriteFile(readmePath, []byte(regenerated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if data, _ := os.ReadFile(readmePath); string(data) != regenerated {
		t.Errorf("README.md's flag tables are not the commands' flags (go test ./cmd/crmbatch -run TestREADMEFlagTables -update rewrites them):\n%s",
			diff.Diff("README.md", data, "generated", []byte(regenerated)))
	}
	for _, path := range commandPaths() {
		name := strings.Join(path, " ")
		root := NewCmdRoot(testFactory())
		cmd, _, _ := root.Find(path)
		if len(path) == 0 || name == "help" || cmd.HasAvailableSubCommands() || len(flagRows(cmd)) == 1 {
			continue // crmbatch itself, help, a group, or -h alone
		}
		if _, ok := tables[name]; !ok {
			t.Errorf("README.md has no flag table of %q (add <!-- flags: %s --> and <!-- end flags --> and run with -update)", name, name)
		}
	}
}

// helpFlag is a flag line of a command's help: "  --rate N   requests ... (default 10)",
// or its left part alone when the flag's name is long.
var helpFlag = regexp.MustCompile(`^  ((?:-h, )?--[a-z-]+(?: \S+)?)(?:\s{2,}(.*))?$`)

// TestREADMEFlagTablesMatchHelp reads each README flag table beside the help
// that "crmbatch COMMAND -h" prints: the same flags, with the same defaults.
func TestREADMEFlagTablesMatchHelp(t *testing.T) {
	tables, _ := readmeFlagTables(t)
	row := regexp.MustCompile("^\\| `([^`]*)` \\| (.*) \\| (.*) \\|$")
	for name, table := range tables {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := mainOutput(append(strings.Fields(name), "-h")...)
			if code != exitOK {
				t.Fatalf("crmbatch %s -h: exit %d: %s", name, code, stderr)
			}
			help := map[string]string{} // flag → its text in the help
			var order []string
			lines := strings.Split(stdout[strings.Index(stdout, "\nflags:\n")+len("\nflags:\n"):], "\n")
			for i, l := range lines {
				m := helpFlag.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				text := m[2]
				if text == "" && i+1 < len(lines) {
					text = strings.TrimSpace(lines[i+1]) // a long name: its text on the next line
				}
				help[m[1]] = text
				order = append(order, m[1])
			}
			var inTable []string
			for _, l := range strings.Split(strings.TrimSpace(table), "\n")[2:] {
				m := row.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("not a row of a flag table: %q", l)
				}
				flag, def := strings.ReplaceAll(m[1], `\|`, "|"), strings.Trim(strings.ReplaceAll(m[3], `\|`, "|"), "` ")
				inTable = append(inTable, flag)
				text, ok := help[flag]
				switch {
				case !ok:
					t.Errorf("%s is in the README's table but not in crmbatch %s -h", flag, name)
				case def == "" && strings.Contains(text, "(default"):
					t.Errorf("%s: the help says %q, the README's table gives no default", flag, text)
				case def != "" && !strings.Contains(text, "default "+def) && !strings.Contains(text, "default: "+def) && !strings.Contains(text, "maximum: "+def):
					t.Errorf("%s: the README's table says the default is %q, the help says %q", flag, def, text)
				}
			}
			if strings.Join(inTable, " ") != strings.Join(order, " ") {
				t.Errorf("the README's table lists\n  %s\nthe help lists\n  %s", strings.Join(inTable, " "), strings.Join(order, " "))
			}
		})
	}
}
