package main

// The README is tested as a user reads it: every ```sh block is a testscript
// that runs its commands, in a folder holding what a clone of the repository
// holds (samples/, scripts/, contrib/), against the sandbox.
//
// A block is followed by its marker, an HTML comment (so a reader of the
// rendered README does not see it):
//
//	```sh
//	crmbatch run --sandbox samples/devices.csv
//	```
//	<!-- test try-it exit=0 output -->
//	```text
//	crmbatch: ran samples/devices.csv (devices job): 12 rows, 12 ok; 1 calls, 0 retries, 41ms
//	```
//
// The marker's first line is "<!-- test NAME" and words:
//
//	exit=0,1,...  the exit code of each command of the block, in order (default: all 0)
//	after=A,B     the commands of the blocks named A and B (earlier steps of the
//	              workflow) run first, their output aside
//	output        the ```text block after the marker is what the block prints: each of
//	              its lines is printed, in that order (durations, folder stamps, run ids
//	              and clock times are read as any)
//	background    the block is one command that serves until stopped (crmbatch
//	              sandbox): it runs until its output shows the text block's last
//	              line, then is stopped with an interrupt and must exit 0
//	skip          not run; the marker's text says why (make test is this test)
//
// Below the first line, up to "-->", the marker holds a txtar archive: its
// comment is testscript lines run after the block (checks of its files, of its
// stdout, which carries stderr too), or before it when a line RUN-BLOCK marks
// where the block runs; its files are put in the folder first.
//
// The block's commands run in one sh, so that export and cd carry over. Three
// lines are rewritten, because the test's crmbatch is already built: "go run
// ./cmd/crmbatch" is "crmbatch", and "make build" or "go build -o
// bin/crmbatch ./cmd/crmbatch" link bin/crmbatch to it.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// readmePath is the README, from this package's folder.
const readmePath = "../../README.md"

// readmeBlock is a ```sh block of the README with its marker.
type readmeBlock struct {
	name       string
	line       int      // the block's first line in the README
	commands   []string // a command a line, continuations joined, heredocs kept whole
	exits      []int    // the exit code of each command
	output     []string // the lines of the ```text block after the marker, if "output"
	background bool
	after      []string // the blocks whose commands run first (the workflow's earlier steps)
	prelude    []string // their commands
	skip       string   // why the block is not run, or ""
	setup      []string
	checks     []string
	files      []txtar.File
}

// fence is a fenced block's opening or closing line: its backticks and info.
var fence = regexp.MustCompile("^( *)```\\s*([A-Za-z0-9_-]*)\\s*$")

// readmeBlocks reads every ```sh block of the README at path with its marker.
func readmeBlocks(path string) ([]readmeBlock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	var blocks []readmeBlock
	names := map[string]int{}
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		start := i
		body, end, err := fencedBody(lines, i)
		if err != nil {
			return nil, err
		}
		i = end
		if m[2] != "sh" {
			continue
		}
		b := readmeBlock{line: start + 1}
		j := nextNonBlank(lines, end+1)
		if j >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[j]), "<!-- test ") {
			return nil, fmt.Errorf("%s:%d: a sh block without its test marker (<!-- test NAME ... -->) after it", path, start+1)
		}
		markerEnd, err := parseMarker(lines, j, &b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, j+1, err)
		}
		if prev, ok := names[b.name]; ok {
			return nil, fmt.Errorf("%s:%d: test %q is also the name of the block on line %d", path, j+1, b.name, prev)
		}
		names[b.name] = start + 1
		i = markerEnd
		if b.output != nil { // "output": the text block after the marker
			k := nextNonBlank(lines, markerEnd+1)
			if k >= len(lines) || fence.FindStringSubmatch(lines[k]) == nil || fence.FindStringSubmatch(lines[k])[2] != "text" {
				return nil, fmt.Errorf("%s:%d: the marker says output, but no ```text block follows it", path, j+1)
			}
			out, outEnd, err := fencedBody(lines, k)
			if err != nil {
				return nil, err
			}
			b.output = out
			i = outEnd
		}
		b.commands = shellCommands(body)
		if len(b.commands) == 0 {
			return nil, fmt.Errorf("%s:%d: a sh block without a command", path, start+1)
		}
		switch {
		case b.exits == nil:
			b.exits = make([]int, len(b.commands))
		case len(b.exits) != len(b.commands):
			return nil, fmt.Errorf("%s:%d: exit= names %d exit codes for %d commands", path, j+1, len(b.exits), len(b.commands))
		}
		if b.background && len(b.commands) != 1 {
			return nil, fmt.Errorf("%s:%d: a background block is one command", path, j+1)
		}
		for _, name := range b.after {
			k, ok := names[name]
			if !ok || name == b.name {
				return nil, fmt.Errorf("%s:%d: after=%s: no block of that name before this one", path, j+1, name)
			}
			for _, earlier := range blocks {
				if earlier.line == k {
					b.prelude = append(b.prelude, earlier.commands...)
				}
			}
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// fencedBody is the text of the fenced block opening at lines[open], and the
// index of its closing line.
func fencedBody(lines []string, open int) ([]string, int, error) {
	indent := fence.FindStringSubmatch(lines[open])[1]
	for k := open + 1; k < len(lines); k++ {
		if strings.TrimSpace(lines[k]) == "```" {
			body := make([]string, 0, k-open-1)
			for _, l := range lines[open+1 : k] {
				body = append(body, strings.TrimPrefix(l, indent))
			}
			return body, k, nil
		}
	}
	return nil, 0, fmt.Errorf("README.md:%d: a fenced block that is never closed", open+1)
}

func nextNonBlank(lines []string, i int) int {
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	return i
}

// parseMarker reads the marker starting at lines[at] into b and returns the
// index of its last line.
func parseMarker(lines []string, at int, b *readmeBlock) (int, error) {
	indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " "))]
	first := strings.TrimPrefix(strings.TrimSpace(lines[at]), "<!-- test ")
	end := at
	closed := strings.HasSuffix(strings.TrimSpace(first), "-->")
	first = strings.TrimSuffix(strings.TrimSpace(first), "-->")
	var body []string
	if !closed {
		for end = at + 1; end < len(lines) && strings.TrimSpace(lines[end]) != "-->"; end++ {
			body = append(body, strings.TrimPrefix(lines[end], indent))
		}
		if end == len(lines) {
			return 0, fmt.Errorf("a test marker that is never closed with -->")
		}
	}
	words := strings.Fields(first)
	if len(words) == 0 {
		return 0, fmt.Errorf("a test marker without a name")
	}
	b.name = words[0]
	for _, w := range words[1:] {
		switch {
		case w == "output":
			b.output = []string{}
		case w == "background":
			b.background = true
		case w == "skip":
			b.skip = strings.TrimSpace(strings.Join(body, " "))
			if b.skip == "" {
				return 0, fmt.Errorf("skip without the reason in the marker")
			}
			return end, nil
		case strings.HasPrefix(w, "after="):
			b.after = strings.Split(strings.TrimPrefix(w, "after="), ",")
		case strings.HasPrefix(w, "exit="):
			for _, c := range strings.Split(strings.TrimPrefix(w, "exit="), ",") {
				n, err := strconv.Atoi(c)
				if err != nil {
					return 0, fmt.Errorf("exit=%s: not a list of exit codes", c)
				}
				b.exits = append(b.exits, n)
			}
		default:
			return 0, fmt.Errorf("unknown word %q in the test marker (exit=, after=, output, background, skip)", w)
		}
	}
	ar := txtar.Parse([]byte(strings.Join(body, "\n") + "\n"))
	b.files = ar.Files
	target := &b.checks
	for _, l := range strings.Split(string(ar.Comment), "\n") {
		if strings.TrimSpace(l) == "RUN-BLOCK" {
			b.setup, b.checks = b.checks, nil
			continue
		}
		if strings.TrimSpace(l) != "" {
			*target = append(*target, l)
		}
	}
	return end, nil
}

// heredoc finds the word that ends a here-document opened on a line.
var heredoc = regexp.MustCompile(`<<-?\s*'?"?([A-Za-z_]+)'?"?`)

// shellCommands are the commands of a sh block: comments and blank lines
// dropped, lines ending in \ joined to the next, a here-document kept with
// the line that opens it.
func shellCommands(body []string) []string {
	var cmds []string
	for i := 0; i < len(body); i++ {
		l := body[i]
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for strings.HasSuffix(l, "\\") && i+1 < len(body) {
			i++
			l = strings.TrimSuffix(l, "\\") + "\n" + body[i]
		}
		if m := heredoc.FindStringSubmatch(l); m != nil {
			for i+1 < len(body) {
				i++
				l += "\n" + body[i]
				if strings.TrimSpace(body[i]) == m[1] {
					break
				}
			}
		}
		cmds = append(cmds, l)
	}
	return cmds
}

// The lines the test runs otherwise than written: its crmbatch is built already.
var (
	goRun   = regexp.MustCompile(`(^|\s)go run \./cmd/crmbatch`)
	goBuild = regexp.MustCompile(`^(go build -o bin/crmbatch \./cmd/crmbatch|make build)\b`)
)

// rewriteCommand is cmd as the test runs it.
func rewriteCommand(cmd string) string {
	cmd = goRun.ReplaceAllString(cmd, "${1}crmbatch")
	return goBuild.ReplaceAllLiteralString(cmd, `mkdir -p bin && ln -sf "$(command -v crmbatch)" bin/crmbatch`)
}

// script is the block as a testscript archive of its own: the earlier steps
// it names (after=) first.
func (b readmeBlock) script() []byte {
	comment, files := b.steps("block", true)
	return txtar.Format(&txtar.Archive{Comment: []byte(comment), Files: files})
}

// inOrder is every block of the README as one testscript, in the README's
// order and in one folder, as a reader who follows it from the top runs them.
func inOrder(blocks []readmeBlock) []byte {
	var comment strings.Builder
	var files []txtar.File
	for i, b := range blocks {
		if b.skip != "" {
			continue
		}
		c, f := b.steps(strconv.Itoa(i+1), false)
		comment.WriteString(c)
		files = append(files, f...)
	}
	return txtar.Format(&txtar.Archive{Comment: []byte(comment.String()), Files: files})
}

// steps are the testscript lines and files that run the block and check it,
// named after n (in .readme/), with the commands of the blocks it follows
// first when withPrelude.
func (b readmeBlock) steps(n string, withPrelude bool) (string, []txtar.File) {
	var s strings.Builder
	fmt.Fprintf(&s, "\n# README.md line %d: %s\n", b.line, b.name)
	for _, l := range b.setup {
		s.WriteString(l + "\n")
	}
	name := func(ext string) string { return ".readme/" + n + "." + ext }
	files := append([]txtar.File{}, b.files...)
	var want strings.Builder
	for _, l := range b.output {
		want.WriteString(l + "\n")
	}
	files = append(files, txtar.File{Name: name("want-output"), Data: []byte(want.String())})
	if b.background {
		files = append(files, txtar.File{Name: name("sh"), Data: []byte("exec " + rewriteCommand(b.commands[0]) + " >" + name("out") + " 2>&1\n")})
		last := ""
		if len(b.output) > 0 {
			last = b.output[len(b.output)-1]
		}
		fmt.Fprintf(&s, "exec sh %s &served%s&\nreadme-waitfor %s %s\nkill -INT served%s\nwait served%s\n",
			name("sh"), n, name("out"), quoteArg(last), n, n)
		fmt.Fprintf(&s, "readme-output %s %s\n", name("want-output"), name("out"))
	} else {
		var sh, exits strings.Builder
		if withPrelude && len(b.prelude) > 0 {
			// The earlier steps, checked by their own tests: here their
			// files matter, not what they print.
			sh.WriteString("{\n")
			for _, c := range b.prelude {
				sh.WriteString(rewriteCommand(c) + "\n")
			}
			sh.WriteString("} >/dev/null 2>&1\n")
		}
		sh.WriteString("exec 2>&1\n")
		for i, c := range b.commands {
			fmt.Fprintf(&sh, "%s\necho $? >>\"$WORK/%s\"\n", rewriteCommand(c), name("exits"))
			fmt.Fprintf(&exits, "%d\n", b.exits[i])
		}
		sh.WriteString("exit 0\n")
		files = append(files,
			txtar.File{Name: name("sh"), Data: []byte(sh.String())},
			txtar.File{Name: name("want-exits"), Data: []byte(exits.String())})
		fmt.Fprintf(&s, "exec sh %s\ncp stdout %s\ncmp %s %s\nreadme-output %s %s\n",
			name("sh"), name("out"), name("exits"), name("want-exits"), name("want-output"), name("out"))
	}
	for _, l := range b.checks {
		s.WriteString(l + "\n")
	}
	return s.String(), files
}

// quoteArg quotes s as one testscript argument.
func quoteArg(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// TestREADME runs every ```sh block of README.md as a testscript of its own,
// and all of them in order as one more.
func TestREADME(t *testing.T) {
	blocks, err := readmeBlocks(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, b := range blocks {
		if b.skip != "" {
			t.Logf("README.md line %d (%s) is not run: %s", b.line, b.name, b.skip)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, b.name+".txtar"), b.script(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// And all of them in one folder, top to bottom, as a reader runs them:
	// a step that depends on what an earlier section left fails here.
	if err := os.WriteFile(filepath.Join(dir, "in-order.txtar"), inOrder(blocks), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			// What a clone holds, a home of its own, and the ledger where
			// the reader of "Try it" keeps it.
			for _, d := range []string{"samples", "scripts", "contrib"} {
				if err := os.CopyFS(filepath.Join(env.WorkDir, d), os.DirFS(filepath.Join(repo, d))); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("CRMBATCH_STATE", filepath.Join(env.WorkDir, "state")) // as "Try it" sets it
			env.Setenv("GORACE", noExitSleep())
			return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":          cmdExits,
			"jsonlines":      cmdJSONLines,
			"readme-output":  cmdReadmeOutput,
			"readme-waitfor": cmdReadmeWaitFor,
		},
	})
}

// variable are the parts of an output that differ from run to run: a
// folder's stamp, a clock time, a run id, a duration. They are read as any.
var variable = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{8}-\d{6}`), "STAMP"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?`), "TIME"},
	{regexp.MustCompile(`\b[0-9a-f]{16}-\d+\b`), "RUN"},
	{regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|ms|s)\b`), "DURATION"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

// normalise is line with its variable parts replaced.
func normalise(line string) string {
	for _, v := range variable {
		line = v.re.ReplaceAllString(line, v.with)
	}
	return strings.TrimSpace(line)
}

// cmdReadmeOutput is "readme-output WANT GOT": every line of WANT is a line of
// GOT, in WANT's order, their variable parts aside.
func cmdReadmeOutput(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readme-output WANT GOT")
	}
	want := strings.Split(strings.TrimSuffix(ts.ReadFile(args[0]), "\n"), "\n")
	got := strings.Split(ts.ReadFile(args[1]), "\n")
	at := 0
	for _, w := range want {
		if strings.TrimSpace(w) == "" {
			continue
		}
		nw := normalise(w)
		found := false
		for ; at < len(got); at++ {
			if normalise(got[at]) == nw {
				found, at = true, at+1
				break
			}
		}
		if !found {
			ts.Fatalf("the README shows a line the commands did not print (or not in this order):\n  %s\nthey printed:\n%s", w, ts.ReadFile(args[1]))
		}
	}
}

// cmdReadmeWaitFor is "readme-waitfor FILE LINE": it returns once FILE holds
// LINE (its variable parts aside), for a command that serves until stopped.
// It has no deadline of its own: the test's -timeout bounds it.
func cmdReadmeWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readme-waitfor FILE LINE")
	}
	path, want := ts.MkAbs(args[0]), normalise(args[1])
	for {
		f, err := os.Open(path)
		if err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if normalise(sc.Text()) == want {
					f.Close()
					return
				}
			}
			f.Close()
		} else if !os.IsNotExist(err) {
			ts.Fatalf("%v", err)
		}
		time.Sleep(20 * time.Millisecond) // a poll of another process's output, not a deadline
	}
}

// TestREADMEBlocksRead checks what the README test reads of a block: commands,
// exit codes, the output, setup and checks.
func TestREADMEBlocksRead(t *testing.T) {
	for _, tc := range []struct {
		name, readme string
		want         readmeBlock
		wantErr      string
	}{{
		name:   "commands with exit codes and output",
		readme: "```sh\n# a comment\ncrmbatch run a.csv   # note\ncrmbatch run \\\n  b.csv\n```\n\n<!-- test two exit=0,1 output\ncp x a.csv\nRUN-BLOCK\nexists a.results.csv\n-- x --\nesn\n-->\n```text\nline one\n```\n",
		want: readmeBlock{name: "two", line: 1, commands: []string{"crmbatch run a.csv   # note", "crmbatch run \n  b.csv"},
			exits: []int{0, 1}, output: []string{"line one"}, setup: []string{"cp x a.csv"}, checks: []string{"exists a.results.csv"}},
	}, {
		name:   "a here-document is one command",
		readme: "```sh\ncat > a.csv <<'EOF'\nesn\nA-1\nEOF\ncrmbatch validate a.csv\n```\n<!-- test heredoc -->\n",
		want:   readmeBlock{name: "heredoc", line: 1, commands: []string{"cat > a.csv <<'EOF'\nesn\nA-1\nEOF", "crmbatch validate a.csv"}, exits: []int{0, 0}},
	}, {
		name:    "a block without its marker",
		readme:  "```sh\ncrmbatch version\n```\n\nText.\n",
		wantErr: "without its test marker",
	}, {
		name:    "exit codes that do not match the commands",
		readme:  "```sh\ncrmbatch version\n```\n<!-- test v exit=0,0 -->\n",
		wantErr: "2 exit codes for 1 commands",
	}, {
		name:    "output without its text block",
		readme:  "```sh\ncrmbatch version\n```\n<!-- test v output -->\nText.\n",
		wantErr: "no ```text block",
	}, {
		name:    "two blocks of one name",
		readme:  "```sh\ncrmbatch version\n```\n<!-- test v -->\n```sh\ncrmbatch version\n```\n<!-- test v -->\n",
		wantErr: `test "v" is also`,
	}, {
		name:   "other blocks are not run",
		readme: "```text\nnot a command\n```\n```crontab\n* * * * * x\n```\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "README.md")
			if err := os.WriteFile(path, []byte(tc.readme), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readmeBlocks(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.name == "" {
				if len(got) != 0 {
					t.Fatalf("got %d blocks, want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d blocks, want 1", len(got))
			}
			g := got[0]
			g.files = nil
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got  %#v\nwant %#v", g, tc.want)
			}
		})
	}
}

// TestREADMEOutputVariableParts checks which parts of an output line the
// README test reads as any.
func TestREADMEOutputVariableParts(t *testing.T) {
	for _, tc := range []struct {
		name, readme, printed string
		same                  bool
	}{
		{"a duration", "12 rows, 12 ok; 1 calls, 0 retries, 41ms", "12 rows, 12 ok; 1 calls, 0 retries, 1.2s", true},
		{"a count", "12 rows, 12 ok", "12 rows, 11 ok", false},
		{"a folder's stamp", "moved to drop/failed/20260315-020001-x", "moved to drop/failed/20261207-041800-x", true},
		{"a run id and a time", "by run 5c3dd219460cb12a-1 on 2026-12-07 04:18:20", "by run 0123456789abcdef-2 on 2027-01-01 00:00:00", true},
		{"a minute and seconds", "about 1m40s at the given --rate", "about 400ms at the given --rate", true},
		{"aligned columns", "PENDING      200", "PENDING 200", true},
		{"a word", "12 rows, 12 ok", "12 rows, 12 failed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalise(tc.readme) == normalise(tc.printed); got != tc.same {
				t.Errorf("%q and %q read as the same: %v, want %v", tc.readme, tc.printed, got, tc.same)
			}
		})
	}
}

// TestREADMEFuzzers checks that the README's "make fuzz" line names every
// fuzzer the Makefile runs, with its time.
func TestREADMEFuzzers(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "make fuzz ") {
			line = l
		}
	}
	if line == "" {
		t.Fatal(`README.md has no "make fuzz" line`)
	}
	// Each fuzzer runs a count of execs (-fuzztime Nx: see the Makefile).
	fuzz := regexp.MustCompile(`-fuzz (\w+) -fuzztime (\S+)`)
	found := fuzz.FindAllStringSubmatch(string(makefile), -1)
	if len(found) == 0 {
		t.Fatal("the Makefile runs no fuzzer")
	}
	if !strings.Contains(line, "a count of execs each") {
		t.Errorf("the README's make fuzz line does not say each fuzzer runs a count of execs: %s", line)
	}
	for _, m := range found {
		if !regexp.MustCompile(`^\d+x$`).MatchString(m[2]) {
			t.Errorf("the Makefile runs %s for -fuzztime %s, not a count of execs", m[1], m[2])
		}
		if !strings.Contains(line, m[1]) {
			t.Errorf("the README's make fuzz line does not name %s", m[1])
		}
	}
}

// TestRecipeCommandLines parses the crmbatch command lines of the cron wrapper
// and of the systemd service as crmbatch would: a flag renamed or removed
// fails here, not on a server at night.
func TestRecipeCommandLines(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		line       *regexp.Regexp // the command line in the file: its arguments after "crmbatch"
	}{
		{"systemd service", "../../contrib/systemd/crmbatch-drop.service", regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/crmbatch (.*)$`)},
		{"cron wrapper", "../../contrib/cron/crmbatch-cron", regexp.MustCompile(`(?m)^"\$\{CRMBATCH:-crmbatch\}" (.*?) "\$@"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			m := tc.line.FindSubmatch(data)
			if m == nil {
				t.Fatalf("%s: no crmbatch command line matching %s", tc.file, tc.line)
			}
			args := strings.Fields(strings.ReplaceAll(string(m[1]), `"$drop"`, "/data/drop"))
			root := NewCmdRoot(testFactory())
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == root {
				t.Fatalf("%s: %q names no command", tc.file, args)
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Fatalf("%s: crmbatch %s: %v", tc.file, strings.Join(args, " "), err)
			}
			if watch, _ := cmd.Flags().GetString("watch"); watch != "/data/drop" {
				t.Errorf("%s: --watch is %q, want the drop folder", tc.file, watch)
			}
			if once, _ := cmd.Flags().GetBool("once"); !once {
				t.Errorf("%s: without --once, a scan never ends", tc.file)
			}
		})
	}
}
