package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests got")

// golden compares got with the file testdata/name, or rewrites the file
// under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run '%s' -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("not as %s (go test -run '%s' -update rewrites it):\n%s", path, t.Name(), diff.Diff(path, want, "got", []byte(got)))
	}
}

// mainOutput runs Main on args and returns its exit code and streams.
func mainOutput(args ...string) (code exitCode, stdout, stderr string) {
	ios, _, out, errOut := Test()
	code = Main(args, env(nil), ios)
	return code, out.String(), errOut.String()
}

// commandPaths are the words of every command a user can type, crmbatch
// itself (nil) and help included, in the order the help lists them.
func commandPaths() [][]string {
	root := NewCmdRoot(testFactory())
	root.InitDefaultHelpCmd()
	paths := [][]string{nil}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if sub.Hidden {
				continue
			}
			p := append(append([]string{}, path...), sub.Name())
			paths = append(paths, p)
			walk(sub, p)
		}
	}
	walk(root, nil)
	return paths
}

// TestHelp holds every command's help to its golden file, and checks that
// "-h", "--help" and "help COMMAND" all print it, on stdout, with exit 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	paths := commandPaths()
	if len(paths) < 12 {
		t.Fatalf("only %d commands: %q", len(paths), paths)
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"crmbatch"}, path...), "_")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var first string
			for i, args := range [][]string{
				append(append([]string{}, path...), "--help"),
				append(append([]string{}, path...), "-h"),
				append([]string{"help"}, path...),
				append(append([]string{}, path...), "-help"),
			} {
				code, stdout, stderr := mainOutput(args...)
				if code != exitOK || stderr != "" || stdout == "" {
					t.Fatalf("crmbatch %s: exit %d, stderr %q, stdout %q", strings.Join(args, " "), code, stderr, stdout)
				}
				if i == 0 {
					first = stdout
				} else if stdout != first {
					t.Errorf("crmbatch %s is not crmbatch %s --help:\n%s", strings.Join(args, " "), strings.Join(path, " "), stdout)
				}
			}
			golden(t, filepath.Join("help", name+".txt"), first)
		})
	}
}

// TestNoCommand: crmbatch alone shows the overview on stderr and exits 2.
func TestNoCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := mainOutput()
	_, help, _ := mainOutput("--help")
	if code != exitUsage || stdout != "" || stderr != help {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// TestCompletionScripts holds the script of every shell to its golden file.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ shell, file string }{
		{"bash", "crmbatch.bash"},
		{"zsh", "_crmbatch.zsh"},
		{"fish", "crmbatch.fish"},
		{"powershell", "crmbatch.ps1"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := mainOutput("completion", tc.shell)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			golden(t, filepath.Join("completion", tc.file), stdout)
		})
	}
}

// TestCompletionWords checks what crmbatch answers the completion scripts:
// the words to offer, one a line (tab, then its description), and cobra's
// directive (":4" no file names, ":8" files of these extensions, ":16"
// folders).
func TestCompletionWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		line []string // after "crmbatch", the word being completed last
		want string
	}{
		{"commands", []string{"ch"}, "charges\tcharges commands\n:4\n"},
		{"subcommands", []string{"charges", ""}, "export\tpending charges into OUT: a charges job\n:4\n"},
		{"help's topics", []string{"help", "v"}, "validate\tparse, validate and plan; send nothing\nversion\tprint the version\n:4\n"},
		{"flags", []string{"run", "--chu"}, "--chunk-size\trows per call (default and maximum: the kind's limit)\n:4\n"},
		{"validate hides run's own flags", []string{"validate", "--co"}, ":4\n"},
		{"job kinds", []string{"validate", "--job", ""}, "charges\ndevices\ninstalled-items\nsubscriptions\n:4\n"},
		{"job kinds, begun", []string{"run", "--job", "in"}, "installed-items\n:4\n"},
		{"report formats", []string{"run", "--format", ""}, "csv\nxlsx\n:4\n"},
		{"promotions' formats", []string{"promotions", "--format", ""}, "table\ncsv\n:4\n"},
		{"log formats", []string{"run", "--log-format", ""}, "text\njson\n:4\n"},
		{"charge statuses", []string{"charges", "export", "--status", ""}, "NOT_PROCESSED\nPROCESSED\n:4\n"},
		{"sheets of the workbook on the line", []string{"run", "../../samples/charges.xlsx", "--sheet", ""}, "Charges\n:4\n"},
		{"sheets, begun", []string{"validate", "../../samples/devices.xlsx", "--sheet", "x"}, ":4\n"},
		{"no sheets in a CSV", []string{"run", "../../samples/devices.csv", "--sheet", ""}, ":4\n"},
		{"a job file", []string{"run", ""}, "csv\nxlsx\n:8\n"},
		{"one job file only", []string{"run", "a.csv", ""}, ":4\n"},
		{"the export's file", []string{"charges", "export", "--status", "PROCESSED", ""}, "csv\nxlsx\n:8\n"},
		{"report folder", []string{"run", "--out", ""}, ":16\n"},
		{"watched folder", []string{"run", "--watch", ""}, ":16\n"},
		{"no file for a customer", []string{"show", ""}, ":4\n"},
		{"shells", []string{"completion", ""}, "bash\nzsh\nfish\npowershell\n:4\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, _ := mainOutput(append([]string{"__complete"}, tc.line...)...)
			if code != exitOK || stdout != tc.want {
				t.Errorf("exit %d, offered:\n%s\nwant:\n%s", code, stdout, tc.want)
			}
		})
	}
}
