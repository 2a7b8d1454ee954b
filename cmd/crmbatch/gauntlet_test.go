package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	bin "encoding/binary"
	"encoding/csv"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/sandbox"
)

// gauntletCase is one hostile or broken input run through the whole command.
type gauntletCase struct {
	name string
	// skip, when set, is why the case does not run ("bug: ...").
	skip string
	// input writes the job file into dir and returns its path.
	input func(t *testing.T, dir string) string
	// flags go before the file; "$DIR" is replaced by the case's folder.
	flags []string
	// endpoint replaces the sandbox's URL when set.
	endpoint string
	// code is the exit code the run must end with.
	code exitCode
	// stderr must hold each of these; "$FILE" is the job file's path.
	stderr []string
	// notStderr must not be in stderr (secrets, contents of files that must not be read).
	notStderr []string
	// out is the report folder relative to the case's folder ("" = the input's folder).
	out string
	// check asserts what is special to the case.
	check func(t *testing.T, r *gauntletRun)
	// unblock, when set, is called if the run hangs, to let it end.
	unblock func(r *gauntletRun)
}

// gauntletRun is what a case's run left behind.
type gauntletRun struct {
	dir, file, out, state string
	code                  exitCode
	stderr                string
	srv                   *sandbox.Server
}

// report returns the path of one of the run's reports ("results", "failures")
// in format ext, or of the summary (kind "summary").
func (r *gauntletRun) report(kind, ext string) string {
	base := strings.TrimSuffix(filepath.Base(r.file), filepath.Ext(r.file))
	if kind == "summary" {
		return filepath.Join(r.out, base+".summary.json")
	}
	return filepath.Join(r.out, base+"."+kind+"."+ext)
}

// csvRows reads a CSV report.
func (r *gauntletRun) csvRows(t *testing.T, kind string) [][]string {
	t.Helper()
	b, err := os.ReadFile(r.report(kind, "csv"))
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s report: %v", kind, err)
	}
	return rows
}

// column returns the values of the named column of a report, header excluded.
func column(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			var out []string
			for _, r := range rows[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %q in %q", name, rows[0])
	return nil
}

// TestGauntlet runs hostile and broken job files and flags through Main against
// a loopback sandbox. Every case must end with the contract's exit code and a
// message that names the file (and row and column where there is one), without
// a panic or a hang; a broken file or bad flags must send nothing at all — not
// even a login, since the whole file is read before the first call — and leave
// no report, no temporary file and no ledger behind.
func TestGauntlet(t *testing.T) {
	for _, tc := range gauntletCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			t.Parallel()
			runGauntletCase(t, tc)
		})
	}
}

func runGauntletCase(t *testing.T, tc gauntletCase) {
	srv := sandbox.New(sandbox.Options{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	r := &gauntletRun{dir: dir, srv: srv, state: filepath.Join(t.TempDir(), "state")}
	r.file = tc.input(t, dir)
	r.out = filepath.Dir(r.file)
	if tc.out != "" {
		r.out = filepath.Join(dir, tc.out)
	}
	before := listTree(t, dir)

	endpoint := hs.URL + sandbox.BasePath
	if tc.endpoint != "" {
		endpoint = tc.endpoint
	}
	args := []string{"run", "--endpoint", endpoint, "--no-progress"}
	for _, f := range tc.flags {
		args = append(args, strings.ReplaceAll(f, "$DIR", dir))
	}
	args = append(args, r.file)
	vars := map[string]string{
		"CRMBATCH_USERNAME":     sandbox.DemoUsername,
		"CRMBATCH_PASSWORD":     sandbox.DemoPassword,
		"CRMBATCH_ORGANISATION": sandbox.DemoOrganisation,
		"CRMBATCH_STATE":        r.state,
	}
	var stdout, stderr bytes.Buffer
	done := make(chan exitCode, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("panic: %v", p)
				done <- -1
			}
		}()
		done <- Main(args, func(k string) string { return vars[k] }, onBuffers(&stdout, &stderr))
	}()
	select {
	case r.code = <-done:
	case <-beforeDeadline(t):
		// Only a hang gets here, however slow the machine: the test binary
		// would stop at its -timeout anyway; this names the case first.
		if tc.unblock != nil {
			tc.unblock(r)
		}
		t.Fatalf("crmbatch %s did not return: it hangs", strings.Join(args, " "))
	}
	r.stderr = stderr.String()

	if r.code != tc.code {
		t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, tc.code, r.stderr)
	}
	for _, s := range tc.stderr {
		if s = strings.ReplaceAll(s, "$FILE", r.file); !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not say %q\nstderr:\n%s", s, r.stderr)
		}
	}
	for _, s := range append([]string{"panic", "goroutine ", sandbox.DemoPassword}, tc.notStderr...) {
		if strings.Contains(r.stderr+stdout.String(), s) {
			t.Errorf("output holds %q\nstderr:\n%s", s, r.stderr)
		}
	}
	if r.code == exitUsage {
		// Nothing sent: no request of any kind, not even a login.
		if calls := srv.Calls(); len(calls) != 0 {
			t.Errorf("the sandbox saw %v for a run that exits 2", calls)
		}
		if n := srv.Logins(); n != 0 {
			t.Errorf("the sandbox issued %d tokens for a run that exits 2", n)
		}
		if strings.Contains(strings.Join(tc.stderr, ""), "$FILE") && !strings.Contains(r.stderr, "hint:") {
			t.Errorf("no hint line:\n%s", r.stderr)
		}
		// No report, no temporary file, no ledger.
		if after := listTree(t, dir); !equalStrings(before, after) {
			t.Errorf("the run left files behind: before %q, after %q", before, after)
		}
		for _, kind := range []string{"results", "failures", "summary"} {
			for _, ext := range []string{"csv", "xlsx"} {
				if _, err := os.Lstat(r.report(kind, ext)); err == nil {
					t.Errorf("%s exists after a run that exits 2", r.report(kind, ext))
				}
			}
		}
		if _, err := os.Stat(r.state); err == nil {
			t.Errorf("the ledger folder %s was created by a run that exits 2", r.state)
		}
	}
	if tc.check != nil && !t.Failed() {
		tc.check(t, r)
	}
}

// beforeDeadline fires shortly before the test binary's -timeout, so that a
// run that never returns fails naming itself instead of in the binary's
// panic; with no deadline (-timeout 0) it never fires. It is no time budget:
// a slow machine makes the run late, never failed.
func beforeDeadline(t *testing.T) <-chan time.Time {
	deadline, ok := t.Deadline()
	if !ok {
		return nil
	}
	left := time.Until(deadline)
	return time.After(left - min(left/10, 30*time.Second))
}

// listTree lists the paths under dir, with a mark for the kind of each.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d", rel, info.Mode().Type(), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// file returns an input that writes content to name.
func file(name, content string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// xlsxFile returns an input that writes a workbook of the given parts.
func xlsxFile(name string, parts map[string]string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		return file(name, string(buildZip(t, parts)))(t, dir)
	}
}

// sparseFile returns an input of content followed by zero bytes up to size,
// made with Truncate: the file takes no disk space.
func sparseFile(name, content string, size int64) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := file(name, content)(t, dir)
		if err := os.Truncate(p, size); err != nil {
			t.Skipf("cannot make a sparse file: %v", err)
		}
		return p
	}
}

func buildZip(t *testing.T, parts map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(parts))
	for n := range parts {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, parts[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	nsMain = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	nsRel  = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	relDoc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
)

// workbook returns the parts of a workbook whose sheets are given as (name,
// sheet XML) pairs, with a styles part whose style 1 is a date.
func workbook(sheets ...string) map[string]string {
	var wbSheets, rels strings.Builder
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`,
		"_rels/.rels":         `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + relDoc + `officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/styles.xml":       `<?xml version="1.0" encoding="UTF-8"?><styleSheet ` + nsMain + `><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>`,
	}
	for i := 0; i < len(sheets); i += 2 {
		n := i/2 + 1
		name, state := sheets[i], ""
		if strings.HasPrefix(name, "hidden:") {
			name, state = strings.TrimPrefix(name, "hidden:"), ` state="hidden"`
		}
		fmt.Fprintf(&wbSheets, `<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>`, name, n, state, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, n, relDoc, n)
		parts[fmt.Sprintf("xl/worksheets/sheet%d.xml", n)] = sheets[i+1]
	}
	fmt.Fprintf(&rels, `<Relationship Id="rIdS" Type="%sstyles" Target="styles.xml"/>`, relDoc)
	fmt.Fprintf(&rels, `<Relationship Id="rIdT" Type="%ssharedStrings" Target="sharedStrings.xml"/>`, relDoc)
	parts["xl/workbook.xml"] = `<?xml version="1.0" encoding="UTF-8"?><workbook ` + nsMain + ` ` + nsRel + `><sheets>` + wbSheets.String() + `</sheets></workbook>`
	parts["xl/_rels/workbook.xml.rels"] = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels.String() + `</Relationships>`
	parts["xl/sharedStrings.xml"] = `<?xml version="1.0" encoding="UTF-8"?><sst ` + nsMain + ` count="0" uniqueCount="0"></sst>`
	return parts
}

// with returns parts with some replaced or added ("" deletes).
func with(parts map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(parts))
	for k, v := range parts {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// sheet returns a worksheet of rows, each a list of cells; a cell is inline
// text unless it starts with "<c" (written as is).
func sheet(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet ` + nsMain + `><sheetData>`)
	for i, row := range rows {
		fmt.Fprintf(&b, `<row r="%d">`, i+1)
		for j, c := range row {
			if strings.HasPrefix(c, "<c") {
				b.WriteString(c)
				continue
			}
			fmt.Fprintf(&b, `<c r="%s%d" t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>`, string(rune('A'+j)), i+1, xmlEscape(c))
		}
		b.WriteString(`</row>`)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return b.String()
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\t', '\n':
			b.WriteRune(c)
		case '\r':
			b.WriteString("_x000D_")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// devicesSheet is a valid devices sheet.
var devicesSheet = sheet([]string{"esn", "group_name"}, []string{"X-1", "OPERATOR1"}, []string{"X-2", "OPERATOR1"})

// deflateBomb returns a raw deflate stream of prefix followed by times copies
// of unit, built from one compression of each: the stream of a compressor
// flushed at the end of its input holds no reference before its start, so
// copies of it can follow each other.
func deflateBomb(t *testing.T, prefix, unit string, times int) []byte {
	t.Helper()
	flushed := func(s string) []byte {
		var b bytes.Buffer
		w, err := flate.NewWriter(&b, flate.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, s)
		w.Flush()
		return b.Bytes()
	}
	var out bytes.Buffer
	out.Write(flushed(prefix))
	u := flushed(unit)
	for range times {
		out.Write(u)
	}
	var end bytes.Buffer
	w, _ := flate.NewWriter(&end, flate.BestSpeed)
	w.Close()
	out.Write(end.Bytes())
	return out.Bytes()
}

// bombWorkbook is a valid workbook whose first sheet is the raw deflate data
// declaring size bytes.
func bombWorkbook(t *testing.T, data []byte, size uint64) []byte {
	t.Helper()
	parts := workbook("Devices", devicesSheet)
	delete(parts, "xl/worksheets/sheet1.xml")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/sharedStrings.xml"} {
		w, _ := zw.Create(n)
		io.WriteString(w, parts[n])
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: uint64(len(data)), UncompressedSize64: size, CRC32: crc32.ChecksumIEEE(nil)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// utf16File encodes s as UTF-16 with a byte order mark.
func utf16File(s string, bigEndian bool) string {
	var order bin.AppendByteOrder = bin.LittleEndian
	var b []byte
	if bigEndian {
		order = bin.BigEndian
	}
	b = order.AppendUint16(b, 0xFEFF)
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return string(b)
}

// canary is a server that must never be asked anything: an external link or
// entity that the reader followed would hit it.
type canary struct {
	hits atomic.Int64
	srv  *httptest.Server
}

func newCanary(t *testing.T) *canary {
	c := &canary{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		io.WriteString(w, "leaked")
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// sentESNs checks that exactly these ESNs are registered in the sandbox.
func registered(t *testing.T, r *gauntletRun, want ...string) {
	t.Helper()
	for _, esn := range want {
		if g, ok := r.srv.DeviceGroup(esn); !ok || g != "OPERATOR1" {
			t.Errorf("ESN %q is not registered (group %q, %v)", esn, g, ok)
		}
	}
}

func gauntletCases() []gauntletCase {
	formulas := []string{"=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"}
	bigRow := strings.Repeat("x,", 9999) + "x\n"
	return []gauntletCase{
		// --- CSV: sizes and shapes ---
		{
			name:   "csv cell over 32 KiB",
			input:  file("big.csv", "esn,group_name\nE-1,OPERATOR1\n"+strings.Repeat("A", 40<<10)+",OPERATOR1\n"),
			code:   exitRows,
			stderr: []string{`$FILE: row 3, column esn: cell A3 is longer than 32767 characters`},
			check:  func(t *testing.T, r *gauntletRun) { registered(t, r, "E-1") },
		},
		{
			name:   "csv cell over 32 KiB in an unknown column",
			input:  file("bignote.csv", "esn,group_name,note\nE-1,OPERATOR1,"+strings.Repeat("n", 33<<10)+"\n"),
			code:   exitOK,
			stderr: []string{`$FILE: column "note" is not read by a devices job: copied to the reports, never sent`},
			check:  func(t *testing.T, r *gauntletRun) { registered(t, r, "E-1") },
		},
		{
			name:   "csv header of 10000 columns",
			input:  file("wide.csv", "esn,group_name,"+bigRow+"E-1,OPERATOR1\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 1: header has 10002 columns, more than the limit of 1024`},
		},
		{
			name:   "csv row of 10000 cells under a 2-column header",
			input:  file("widerow.csv", "esn,group_name\nE-1,OPERATOR1\n"+bigRow),
			code:   exitUsage,
			stderr: []string{`$FILE: row 3: value in column C (3) but the header has only 2 columns`},
		},
		{
			name:   "csv row with one more cell than the header",
			input:  file("extra.csv", "esn,group_name\nE-1,OPERATOR1\nE-2,OPERATOR1,surprise\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 3: value in column C (3) but the header has only 2 columns`},
		},
		{
			// 2 GB of zeros after an opening quote: the record guard stops the
			// read at 32 MiB + 128 KiB, so memory stays small whatever the file.
			name:   "csv 2 GB sparse file with an unterminated quoted field",
			input:  sparseFile("quote2g.csv", "esn,group_name\n\"E-1,OPERATOR1\n", 2<<30),
			code:   exitUsage, // at the first NUL of the sparse part, not 32 MiB later
			stderr: []string{`$FILE: row 2, column "esn": NUL byte: this is not CSV text`},
		},
		{
			name:   "csv 2 GB sparse line without a newline",
			input:  sparseFile("line2g.csv", "esn,group_name\nE-1,OPERATOR1", 2<<30),
			code:   exitUsage,
			stderr: []string{`$FILE: row 2, column "group_name": NUL byte: this is not CSV text`},
		},
		{
			// The same at 256 MiB: the first NUL, not the end of the file,
			// stops the read.
			name:   "csv 256 MiB sparse file with an unterminated quoted field",
			input:  sparseFile("quote256m.csv", "esn,group_name\n\"E-1,OPERATOR1\n", 256<<20),
			code:   exitUsage,
			stderr: []string{`$FILE: row 2, column "esn": NUL byte: this is not CSV text`},
		},
		{
			name:   "csv 256 MiB sparse line without a newline",
			input:  sparseFile("line256m.csv", "esn,group_name\nE-1,OPERATOR1", 256<<20),
			code:   exitUsage,
			stderr: []string{`$FILE: row 2, column "group_name": NUL byte: this is not CSV text`},
		},
		{
			name:   "csv empty file",
			input:  file("empty.csv", ""),
			code:   exitUsage,
			stderr: []string{"$FILE: file is empty"},
		},
		{
			name:   "csv byte order mark only",
			input:  file("bom.csv", "\ufeff"),
			code:   exitUsage,
			stderr: []string{"$FILE: file is empty"},
		},
		{
			name:   "csv blank lines only",
			input:  file("blank.csv", "\n \n\t\n\n"),
			code:   exitUsage,
			stderr: []string{"$FILE: no header row: every line is blank"},
		},
		{
			// A header and no rows is a valid, empty job: nothing to send. The
			// run still logs in (batch.Run logs in before it looks at the plan).
			name:  "csv header only",
			input: file("header.csv", "esn,group_name\n"),
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				if rows := r.csvRows(t, "results"); len(rows) != 1 {
					t.Errorf("results: %q, want the header alone", rows)
				}
				for m := range r.srv.Calls() {
					if strings.HasPrefix(m, "netflix/") || strings.HasPrefix(m, "subscriptions/") {
						t.Errorf("%s called for a file without rows", m)
					}
				}
				if n := r.srv.Logins(); n != 0 {
					t.Errorf("%d logins, want none: a file without rows is nothing to do", n)
				}
			},
		},
		// --- CSV: bytes and encodings ---
		{
			name:   "csv NUL byte in a value",
			input:  file("nul.csv", "esn,group_name,note\nE-1,OPERATOR1,a\x00b\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 2, column "note": NUL byte`},
		},
		{
			name:   "csv UTF-16 without a byte order mark",
			input:  file("utf16nobom.csv", "e\x00s\x00n\x00,\x00g\x00r\x00o\x00u\x00p\x00_\x00n\x00a\x00m\x00e\x00\n\x00"),
			code:   exitUsage,
			stderr: []string{`$FILE: this is UTF-16 (little-endian) text without a byte order mark`, `hint: save the file as "CSV UTF-8"`},
		},
		{
			name:   "csv invalid UTF-8 after valid multi-byte text",
			input:  file("mixed.csv", "esn,group_name,city\nE-1,OPERATOR1,Zürich\nE-2,OPERATOR1,Z\xfcrich\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 3, column "city": invalid UTF-8, in a file whose earlier text is UTF-8: the file mixes encodings`},
		},
		{
			name:  "csv UTF-16 little endian with a byte order mark",
			input: file("utf16le.csv", utf16File("esn,group_name,city\r\nU-1,OPERATOR1,Zürich\r\nU-2,OPERATOR1,日本\r\n", false)),
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "U-1", "U-2")
				if got := column(t, r.csvRows(t, "results"), "city"); strings.Join(got, ",") != "Zürich,日本" {
					t.Errorf("city %q", got)
				}
			},
		},
		{
			name:  "csv UTF-16 big endian with a byte order mark",
			input: file("utf16be.csv", utf16File("esn,group_name\nB-1,OPERATOR1\n", true)),
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) { registered(t, r, "B-1") },
		},
		{
			name:  "csv Windows-1252",
			input: file("cp1252.csv", "esn,group_name,city\nW-1,OPERATOR1,Z\xfcrich \x80\n"),
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "W-1")
				if got := column(t, r.csvRows(t, "results"), "city"); got[0] != "Zürich €" {
					t.Errorf("city %q, want it decoded from Windows-1252", got)
				}
			},
		},
		{
			name:  "csv byte order mark and semicolons",
			input: file("semi.csv", "\ufeffesn;group_name;note\nS-1;OPERATOR1;a,b\nS-2;OPERATOR1;c\n"),
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "S-1", "S-2")
				rows := r.csvRows(t, "results")
				if rows[0][0] != "esn" || rows[1][2] != "a,b" {
					t.Errorf("results %q: want the BOM gone and the semicolon split", rows)
				}
			},
		},
		{
			// The second record spans three lines; the bad row after it is row 3,
			// as Excel numbers it.
			name:  "csv CRLF with line breaks inside quotes",
			input: file("crlf.csv", "esn,group_name,note\r\nC-1,OPERATOR1,\"line 1\r\nline 2\r\nline 3\"\r\nC-2,,x\r\n"),
			code:  exitRows,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "C-1")
				rows := r.csvRows(t, "failures")
				if len(rows) != 2 || column(t, rows, "row")[0] != "3" || column(t, rows, "error_code")[0] != "REQUIRED" {
					t.Errorf("failures %q: want row 3 REQUIRED", rows)
				}
				if note := column(t, r.csvRows(t, "results"), "note")[0]; note != "line 1\nline 2\nline 3" {
					t.Errorf("note %q", note)
				}
			},
		},
		{
			name:   "csv unbalanced quote",
			input:  file("quote.csv", "esn,group_name\nQ-1,OPERATOR1\n\"Q-2,OPERATOR1\nQ-3,OPERATOR1\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 3, column "esn": the quote that opens a cell on line 3 is never closed`},
		},
		{
			name:   "csv bare quote inside a value",
			input:  file("bare.csv", "esn,group_name\nQ-1,OPERATOR1\nQ\"2,OPERATOR1\n"),
			code:   exitRows, // a character, as Excel reads it: one an ESN cannot have
			stderr: []string{`$FILE: row 3, column esn: "Q\"2" has characters an identifier cannot have`},
			check:  func(t *testing.T, r *gauntletRun) { registered(t, r, "Q-1") },
		},
		// --- CSV: headers ---
		{
			name:   "csv whitespace-only header name over values",
			input:  file("blankhead.csv", "esn,  \t ,group_name\nH-1,x,OPERATOR1\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 2: value in column B, which has no header name`},
		},
		{
			name:   "csv whitespace-only header line",
			input:  file("spaces.csv", "  ,\t,  \n"),
			code:   exitUsage,
			stderr: []string{"$FILE: no header row: every line is blank"},
		},
		{
			name:   "csv duplicate headers differing in case and space",
			input:  file("dup.csv", "esn, ESN ,group_name\nD-1,D-2,OPERATOR1\n"),
			code:   exitUsage,
			stderr: []string{`$FILE: row 1, column "ESN": duplicate column name (columns A and B)`},
		},
		{
			name:   "csv header of no job kind",
			input:  file("unknown.csv", "serial,colour\n1,red\n"),
			code:   exitUsage,
			stderr: []string{"$FILE: row 1: the header fits no job kind", "hint: pass --job"},
		},
		{
			name:   "csv unknown --job",
			input:  file("job.csv", "esn,group_name\nJ-1,OPERATOR1\n"),
			flags:  []string{"--job", "toasters"},
			code:   exitUsage,
			stderr: []string{`unknown --job "toasters"`},
		},
		{
			name:   "csv header that fits two job kinds",
			input:  file("ambiguous.csv", "number,billing_system_customer_identifier,action,subscription_number,serial_number\n1,2,add,3,4\n"),
			code:   exitUsage,
			stderr: []string{"$FILE: row 1: the header fits several job kinds: charges, installed-items", "hint: pass --job"},
		},
		{
			name:   "csv header without the required column",
			input:  file("noesn.csv", "group_name\nOPERATOR1\n"),
			flags:  []string{"--job", "devices"},
			code:   exitUsage,
			stderr: []string{"$FILE: row 1: the header has no column esn, which a devices job needs"},
		},
		// --- formulas in the reports ---
		{
			name: "csv formula cells are neutralised in the CSV report",
			input: file("formula.csv",
				func() string {
					var b strings.Builder
					w := csv.NewWriter(&b)
					w.Write([]string{"esn", "group_name", `=HYPERLINK("http://x")`})
					for i, f := range formulas {
						w.Write([]string{fmt.Sprintf("F-%d", i), "OPERATOR1", f})
					}
					w.Write([]string{"=1+1", "OPERATOR1", "x"}) // invalid ESN: its message quotes it
					w.Flush()
					return b.String()
				}()),
			code: exitRows,
			check: func(t *testing.T, r *gauntletRun) {
				for _, kind := range []string{"results", "failures"} {
					rows := r.csvRows(t, kind)
					for _, row := range rows {
						for _, c := range row {
							if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
								t.Errorf("%s report: cell %q would run as a formula", kind, c)
							}
						}
					}
				}
				rows := r.csvRows(t, "results")
				if rows[0][2] != `'=HYPERLINK("http://x")` {
					t.Errorf("header cell %q", rows[0][2])
				}
				for i, f := range formulas {
					if got := rows[i+1][2]; got != "'"+f {
						t.Errorf("row %d: %q, want %q", i+2, got, "'"+f)
					}
				}
				if got := rows[len(formulas)+1][0]; got != "'=1+1" {
					t.Errorf("invalid ESN cell %q", got)
				}
			},
		},
		{
			name: "xlsx formula cells are text in the XLSX report",
			input: xlsxFile("formula.xlsx", workbook("Devices", sheet(append([][]string{{"esn", "group_name", "note"}},
				func() [][]string {
					var rows [][]string
					for i, f := range formulas {
						rows = append(rows, []string{fmt.Sprintf("G-%d", i), "OPERATOR1", f})
					}
					return append(rows, []string{"=1+1", "OPERATOR1", "x"})
				}()...)...))),
			code: exitRows,
			check: func(t *testing.T, r *gauntletRun) {
				zr, err := zip.OpenReader(r.report("results", "xlsx"))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				var sheetXML []byte
				for _, f := range zr.File {
					if f.Name == "xl/worksheets/sheet1.xml" {
						rc, _ := f.Open()
						sheetXML, _ = io.ReadAll(rc)
						rc.Close()
					}
				}
				s := string(sheetXML)
				if s == "" {
					t.Fatal("no xl/worksheets/sheet1.xml in the results report")
				}
				if strings.Contains(s, "<f>") || strings.Contains(s, "<f ") || strings.Contains(s, "<v>") {
					t.Errorf("the report has a formula or a value that is not inline text:\n%s", s)
				}
				for _, f := range formulas {
					if !strings.Contains(s, ">"+xmlEscape(f)+"</t></is></c>") {
						t.Errorf("%q is not an inline text cell in the report", f)
					}
				}
				// Read back, the cells are text holding exactly the formulas.
				rd, err := formats.Open(r.report("results", "xlsx"), formats.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
				note := slices.Index(rd.Header(), "note")
				for i, f := range formulas {
					rec, err := rd.Next()
					if err != nil {
						t.Fatal(err)
					}
					if note < 0 || rec.Fields[note] != f || rec.Kinds[note] != formats.Text {
						t.Errorf("row %d: column note (%d) of %q, want the text %q", i+2, note, rec.Fields, f)
					}
				}
			},
		},
		// --- XLSX containers ---
		{
			name:   "xlsx that is not a zip",
			input:  file("text.xlsx", "esn,group_name\nE-1,OPERATOR1\n"),
			code:   exitUsage,
			stderr: []string{"$FILE: not a readable .xlsx (zip) file"},
		},
		{
			name:   "xlsx zip without a workbook",
			input:  xlsxFile("noworkbook.xlsx", map[string]string{"hello.txt": "hello"}),
			code:   exitUsage,
			stderr: []string{"$FILE: this is a zip archive (no workbook inside), not an .xlsx workbook"},
		},
		{
			name: "xlsx truncated zip",
			input: func(t *testing.T, dir string) string {
				b := buildZip(t, workbook("Devices", devicesSheet))
				return file("cut.xlsx", string(b[:len(b)*2/3]))(t, dir)
			},
			code:   exitUsage,
			stderr: []string{"$FILE: not a readable .xlsx (zip) file", "hint:"},
		},
		{
			name:   "xlsx sheet cut before its end",
			input:  xlsxFile("cutsheet.xlsx", workbook("Devices", strings.TrimSuffix(devicesSheet, "</sheetData></worksheet>"))),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": the sheet ends after row 3, before its end (no </sheetData>)`},
		},
		{
			name: "xlsx zip bomb declaring a huge member",
			input: func(t *testing.T, dir string) string {
				return file("bomb.xlsx", string(bombWorkbook(t, deflateBomb(t, "<worksheet>", strings.Repeat("<!-- -->", 1<<10), 4), 1<<40)))(t, dir)
			},
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": xl/worksheets/sheet1.xml expands to 1099511627776 bytes, over the limit of 1073741824`},
		},
		{
			// The member says 64 KiB and inflates to 64 MiB: archive/zip stops
			// at the declared size.
			name: "xlsx zip bomb under-declaring its member",
			input: func(t *testing.T, dir string) string {
				return file("liar.xlsx", string(bombWorkbook(t, deflateBomb(t, `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>`, strings.Repeat("A", 1<<20), 64), 64<<10)))(t, dir)
			},
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": damaged or incomplete file`},
		},
		{
			// An honest 1 GiB sheet that is one cell: the reader must stop at
			// the cell limit, not hold the gigabyte.
			name: "xlsx 1 GiB single cell",
			input: func(t *testing.T, dir string) string {
				return file("onecell.xlsx", string(bombWorkbook(t, deflateBomb(t, `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>`, strings.Repeat("A", 1<<20), 1023), 1<<30)))(t, dir)
			},
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": row 1: an XML tag, text or comment longer than 16777216 bytes`},
		},
		{
			name:   "xlsx cell over 32 KiB",
			input:  xlsxFile("bigcell.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"}, []string{strings.Repeat("Z", 40<<10), "OPERATOR1"}))),
			code:   exitRows,
			stderr: []string{`$FILE: sheet Devices: row 2, column esn: cell A2 is longer than 32767 characters`},
		},
		{
			name: "xlsx billion laughs in the sheet",
			input: xlsxFile("laughs.xlsx", workbook("Devices", strings.Replace(sheet([]string{"esn", "group_name"}, []string{`<c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c>`, "OPERATOR1"}),
				"<worksheet", billionLaughs+"<worksheet", 1))),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": row 1: damaged or incomplete file: XML syntax error: invalid character entity &lol9;`},
		},
		{
			name: "xlsx billion laughs in the shared strings",
			input: xlsxFile("laughsst.xlsx", with(workbook("Devices", sheet([]string{"esn", "group_name"}, []string{`<c r="A2" t="s"><v>0</v></c>`, "OPERATOR1"})),
				"xl/sharedStrings.xml", `<?xml version="1.0"?>`+billionLaughs+`<sst `+nsMain+`><si><t>&lol9;</t></si></sst>`)),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": damaged or incomplete file: xl/sharedStrings.xml: XML syntax error: invalid character entity &lol9;`},
		},
		{
			name: "xlsx billion laughs in the workbook part",
			input: xlsxFile("laughswb.xlsx", with(workbook("Devices", devicesSheet),
				"xl/workbook.xml", `<?xml version="1.0"?>`+billionLaughs+`<workbook `+nsMain+` `+nsRel+`><sheets><sheet name="&lol9;" sheetId="1" r:id="rId1"/></sheets></workbook>`)),
			code:   exitUsage,
			stderr: []string{"$FILE: damaged or incomplete file: xl/workbook.xml: XML syntax error", "invalid character entity &lol9;"},
		},
		func() gauntletCase {
			c := &canary{}
			return gauntletCase{
				name: "xlsx external entity is not resolved",
				input: func(t *testing.T, dir string) string {
					*c = *newCanary(t)
					doctype := `<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY web SYSTEM "` + c.srv.URL + `/xxe">]>`
					return xlsxFile("xxe.xlsx", workbook("Devices", strings.Replace(sheet([]string{"esn", "group_name"}, []string{`<c r="A2" t="inlineStr"><is><t>&xxe;&web;</t></is></c>`, "OPERATOR1"}),
						"<worksheet", doctype+"<worksheet", 1)))(t, dir)
				},
				code:      exitUsage,
				stderr:    []string{`$FILE: sheet "Devices": row 1: damaged or incomplete file: XML syntax error: invalid character entity &xxe;`},
				notStderr: []string{"root:", "leaked"},
				check: func(t *testing.T, r *gauntletRun) {
					if n := c.hits.Load(); n != 0 {
						t.Errorf("the external entity was fetched %d times", n)
					}
				},
			}
		}(),
		func() gauntletCase {
			c := &canary{}
			return gauntletCase{
				// The cells' cached values are read; the link is never followed.
				name: "xlsx external links part",
				input: func(t *testing.T, dir string) string {
					*c = *newCanary(t)
					parts := workbook("Devices", sheet([]string{"esn", "group_name"},
						[]string{`<c r="A2" t="str"><f>[1]Sheet1!A1</f><v>L-1</v></c>`, "OPERATOR1"}))
					parts["xl/_rels/workbook.xml.rels"] = strings.Replace(parts["xl/_rels/workbook.xml.rels"], "</Relationships>",
						`<Relationship Id="rIdX" Type="`+relDoc+`externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>`, 1)
					parts["xl/externalLinks/externalLink1.xml"] = `<externalLink ` + nsMain + ` ` + nsRel + `><externalBook r:id="rId1"/></externalLink>`
					parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + relDoc + `externalLinkPath" Target="` + c.srv.URL + `/book.xlsx" TargetMode="External"/></Relationships>`
					return xlsxFile("links.xlsx", parts)(t, dir)
				},
				code: exitOK,
				check: func(t *testing.T, r *gauntletRun) {
					registered(t, r, "L-1")
					if n := c.hits.Load(); n != 0 {
						t.Errorf("the external link was followed %d times", n)
					}
				},
			}
		}(),
		{
			name: "xlsx external entity in the workbook part",
			input: xlsxFile("xxewb.xlsx", with(workbook("Devices", devicesSheet),
				"xl/workbook.xml", `<?xml version="1.0"?><!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><workbook `+nsMain+` `+nsRel+`><sheets><sheet name="&xxe;" sheetId="1" r:id="rId1"/></sheets></workbook>`)),
			code:      exitUsage,
			stderr:    []string{"$FILE: damaged or incomplete file: xl/workbook.xml: XML syntax error", "invalid character entity &xxe;"},
			notStderr: []string{"root:"},
		},
		{
			// Relationship targets name parts inside the zip, never files.
			name: "xlsx sheet relationship pointing outside the package",
			input: xlsxFile("escape.xlsx", with(workbook("Devices", devicesSheet),
				"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+relDoc+`worksheet" Target="../../../../../../etc/passwd"/></Relationships>`)),
			code:      exitUsage,
			stderr:    []string{`$FILE: sheet "Devices": the sheet's part ../../../../../etc/passwd is missing`},
			notStderr: []string{"root:"},
		},
		{
			// .xlsm is read like .xlsx: the data is used, vbaProject.bin is never
			// looked at, and the reports are plain .xlsx.
			name: "xlsm with a VBA project",
			input: xlsxFile("macro.xlsm", with(workbook("Devices", sheet([]string{"esn", "group_name"}, []string{"M-1", "OPERATOR1"})),
				"xl/vbaProject.bin", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Attribute VB_Name = \"Auto_Open\"")),
			code: exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "M-1")
				b, err := os.ReadFile(r.report("results", "xlsx"))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte("vbaProject")) {
					t.Error("the results report carries the VBA project")
				}
				if _, err := os.Stat(r.report("results", "xlsm")); err == nil {
					t.Error("a macro-enabled report was written")
				}
			},
		},
		{
			name:   "xlsx OLE container that holds no encrypted workbook",
			input:  file("secret.xlsx", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"+strings.Repeat("\x00", 4096)),
			code:   exitUsage,
			stderr: []string{"$FILE: this is a legacy .xls workbook (or another OLE file), not .xlsx", "hint: open it in Excel and save it as .xlsx"},
		},
		{
			name:   "legacy .xls",
			input:  file("old.xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
			code:   exitUsage,
			stderr: []string{"$FILE: legacy .xls workbooks are not supported"},
		},
		{
			// A whole-file error names the sheet and row of the header it read,
			// and the sheet that holds the job.
			name:   "xlsx first sheet of no job kind, another sheet fits",
			input:  xlsxFile("sheets.xlsx", workbook("Notes", sheet([]string{}, []string{"read me", "first"}, []string{"x", "y"}), "Devices", devicesSheet)),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Notes": row 2: the header fits no job kind`, `hint: sheet "Devices" fits a job: pass --sheet "Devices"`},
		},
		{
			name:   "xlsx sheet without the required column, another sheet fits",
			input:  xlsxFile("sheets.xlsx", workbook("Notes", sheet([]string{"esn_old"}, []string{"x"}), "Devices", devicesSheet)),
			flags:  []string{"--job", "devices"},
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Notes": row 1: the header has no column esn, which a devices job needs`, `hint: sheet "Devices" fits a job: pass --sheet "Devices"`},
		},
		{
			name:   "xlsx --sheet that does not exist",
			input:  xlsxFile("sheets.xlsx", workbook("Devices", devicesSheet)),
			flags:  []string{"--sheet", "Nope"},
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Nope" not found; the workbook has "Devices"`},
		},
		{
			// The first visible sheet is read; the hidden one (whose rows would
			// all be invalid) is not.
			name: "xlsx hidden first sheet",
			input: xlsxFile("hidden.xlsx", workbook(
				"hidden:Scratch", sheet([]string{"esn", "group_name"}, []string{"3.5E+14", "NOPE"}),
				"Devices", sheet([]string{"esn", "group_name"}, []string{"V-1", "OPERATOR1"}))),
			code: exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "V-1")
				if !strings.Contains(r.stderr, "1 rows, 1 ok") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			},
		},
		{
			name:   "xlsx 20-digit ID in a number cell",
			input:  xlsxFile("digits.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"}, []string{`<c r="A2"><v>12345678901234567890</v></c>`, "OPERATOR1"}, []string{"N-1", "OPERATOR1"}))),
			code:   exitRows,
			stderr: []string{`$FILE: sheet Devices: row 2, column esn: "12345678901234567890" is a number cell with more than 15 significant digits`},
			check:  func(t *testing.T, r *gauntletRun) { registered(t, r, "N-1") },
		},
		{
			name: "xlsx date in the ESN column",
			input: xlsxFile("date.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"},
				[]string{`<c r="A2" s="1"><v>45306</v></c>`, "OPERATOR1"}, []string{"T-1", "OPERATOR1"}))),
			code:   exitRows,
			stderr: []string{`$FILE: sheet Devices: row 2, column esn`},
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "T-1")
				if _, ok := r.srv.DeviceGroup("2024-01-15"); ok {
					t.Error("the date was registered as an ESN")
				}
			},
		},
		{
			name:   "xlsx missing shared string",
			input:  xlsxFile("sst.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"}, []string{`<c r="A2" t="s"><v>99</v></c>`, "OPERATOR1"}))),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": row 2, column "esn": cell A2 refers to shared string "99", which does not exist`},
		},
		{
			name: "xlsx formula without a saved result",
			input: xlsxFile("nocache.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"},
				[]string{`<c r="A2"><f>CONCAT("a","b")</f></c>`, "OPERATOR1"}, []string{"E-2", "OPERATOR1"}))),
			code: exitRows,
			stderr: []string{`$FILE: sheet Devices: row 2, column esn: cell A2 has a formula whose result was never calculated`,
				"open and save the file in Excel (or LibreOffice) so it calculates"},
			check: func(t *testing.T, r *gauntletRun) { registered(t, r, "E-2") },
		},
		{
			name: "xlsx error value",
			input: xlsxFile("na.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"},
				[]string{`<c r="A2" t="e"><v>#N/A</v></c>`, "OPERATOR1"}, []string{"E-2", "OPERATOR1"}))),
			code:   exitRows,
			stderr: []string{`$FILE: sheet Devices: row 2, column esn: cell A2 shows the error #N/A`},
			check:  func(t *testing.T, r *gauntletRun) { registered(t, r, "E-2") },
		},
		{
			name: "xlsx error value in a column the job does not read",
			input: xlsxFile("nanote.xlsx", workbook("Devices", sheet([]string{"esn", "group_name", "note"},
				[]string{"E-1", "OPERATOR1", `<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>`}, []string{"E-2", "OPERATOR1", `<c r="C3"><f>1+1</f></c>`}))),
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) { registered(t, r, "E-1", "E-2") },
		},
		{
			name:   "xlsx rows out of order",
			input:  xlsxFile("order.xlsx", workbook("Devices", strings.Replace(devicesSheet, `<row r="3">`, `<row r="2">`, 1))),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": row 2: damaged sheet: row 2 comes after row 2`},
		},
		{
			name:   "xlsx cell past Excel's last column",
			input:  xlsxFile("xfe.xlsx", workbook("Devices", sheet([]string{"esn", "group_name"}, []string{"E-1", `<c r="XFE2" t="inlineStr"><is><t>x</t></is></c>`}))),
			code:   exitUsage,
			stderr: []string{`$FILE: sheet "Devices": row 2: damaged sheet: bad cell reference "XFE2"`},
		},
		// --- extensions that lie ---
		{
			name:   ".csv that is an XLSX workbook",
			input:  xlsxFile("really.csv", workbook("Devices", devicesSheet)),
			code:   exitUsage,
			stderr: []string{"$FILE: this is an XLSX workbook (a zip file), not CSV text", "hint: rename it to .xlsx"},
		},
		{
			name:   ".csv that is an encrypted or legacy workbook",
			input:  file("ole.csv", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"+strings.Repeat("\x00", 512)),
			code:   exitUsage,
			stderr: []string{"$FILE: this is an Excel .xls or password-protected workbook (an OLE file), not CSV text"},
		},
		{
			name:   ".xlsx that is CSV text",
			input:  file("really.xlsx", "esn,group_name\nE-1,OPERATOR1\n"),
			code:   exitUsage,
			stderr: []string{"$FILE: not a readable .xlsx (zip) file", "it holds text (CSV?)"},
		},
		{
			name:   "unsupported extension",
			input:  file("jobs.json", `{"esn":"E-1"}`),
			code:   exitUsage,
			stderr: []string{`$FILE: unsupported file extension ".json"`},
		},
		// --- the job file argument ---
		{
			name: "a directory as FILE",
			input: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "folder.csv")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			},
			code:   exitUsage,
			stderr: []string{"$FILE: is a folder, not a job file"},
		},
		{
			name:   "a FILE that does not exist",
			input:  func(t *testing.T, dir string) string { return filepath.Join(dir, "missing.csv") },
			code:   exitUsage,
			stderr: []string{"$FILE: no such file or directory"},
		},
		{
			name: "a FIFO as FILE",
			skip: fifoSkip(),
			unblock: func(r *gauntletRun) {
				// A writer that comes and goes gives the blocked reader its EOF.
				if f, err := os.OpenFile(r.file, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			},
			input: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "pipe.csv")
				if out, err := exec.Command("mkfifo", p).CombinedOutput(); err != nil {
					t.Skipf("mkfifo: %v %s", err, out)
				}
				return p
			},
			code:   exitUsage,
			stderr: []string{"$FILE: is not a regular file (a pipe or a device?)"},
		},
		// --- where the reports go ---
		{
			// --out is where the user asked, ".." and all; the reports take the
			// job file's base name only, so a job path full of ".." cannot move them.
			name: "--out with .. and a job path with ..",
			input: func(t *testing.T, dir string) string {
				file("in/deep/jobs.csv", "esn,group_name\nP-1,OPERATOR1\n")(t, dir)
				return filepath.Join(dir, "in", "deep", "..", "deep", "jobs.csv")
			},
			flags: []string{"--out", "$DIR/in/deep/../../reports"},
			out:   "reports",
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				registered(t, r, "P-1")
				for _, kind := range []string{"results", "failures", "summary"} {
					if _, err := os.Stat(r.report(kind, "csv")); err != nil {
						t.Error(err)
					}
				}
				tree := strings.Join(listTree(t, r.dir), "\n")
				if strings.Count(tree, ".results.") != 1 || strings.Count(tree, ".summary.") != 1 {
					t.Errorf("reports elsewhere than --out:\n%s", tree)
				}
			},
		},
		{
			name: "--out that is a file",
			input: func(t *testing.T, dir string) string {
				file("taken", "not a folder")(t, dir)
				return file("jobs.csv", "esn,group_name\nO-1,OPERATOR1\n")(t, dir)
			},
			flags:  []string{"--out", "$DIR/taken"},
			code:   exitUsage,
			stderr: []string{"--out: mkdir", "not a directory"},
		},
		{
			// A symbolic link where a report goes is replaced by the report;
			// the file it pointed to is not written.
			name: "symbolic link at the results report",
			input: func(t *testing.T, dir string) string {
				victim := file("victim.txt", "precious")(t, dir)
				for _, kind := range []string{"results", "failures"} {
					if err := os.Symlink(victim, filepath.Join(dir, "linked."+kind+".csv")); err != nil {
						t.Skipf("symlink: %v", err)
					}
				}
				if err := os.Symlink(victim, filepath.Join(dir, "linked.summary.json")); err != nil {
					t.Fatal(err)
				}
				return file("linked.csv", "esn,group_name\nK-1,OPERATOR1\n")(t, dir)
			},
			code: exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				if b, err := os.ReadFile(filepath.Join(r.dir, "victim.txt")); err != nil || string(b) != "precious" {
					t.Errorf("the link's target was written: %q, %v", b, err)
				}
				for _, p := range []string{r.report("results", "csv"), r.report("failures", "csv"), r.report("summary", "")} {
					if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
						t.Errorf("%s is not a regular file: %v", p, err)
					}
				}
				if column(t, r.csvRows(t, "results"), "esn")[0] != "K-1" {
					t.Error("results report does not hold the row")
				}
			},
		},
		// --- flags ---
		{
			// 0 is the flag's default: the kind's maximum.
			name:  "--chunk-size 0",
			input: file("c0.csv", "esn,group_name\nZ-1,OPERATOR1\nZ-2,OPERATOR1\n"),
			flags: []string{"--chunk-size", "0"},
			code:  exitOK,
			check: func(t *testing.T, r *gauntletRun) {
				if n := r.srv.Calls()["netflix/operators/register_devices"]; n != 1 {
					t.Errorf("%d calls, want 1 chunk of the maximum size", n)
				}
			},
		},
		{
			name:   "--chunk-size negative",
			input:  file("cneg.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--chunk-size", "-5"},
			code:   exitUsage,
			stderr: []string{"--chunk-size must be positive"},
		},
		{
			name:   "--chunk-size above the kind's maximum",
			input:  file("cbig.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--chunk-size", "1001"},
			code:   exitUsage,
			stderr: []string{"--chunk-size 1001 is above the devices maximum of 1000 rows per call"},
		},
		{
			name:   "--rate 0",
			input:  file("r0.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--rate", "0"},
			code:   exitUsage,
			stderr: []string{"--rate must be a positive number"},
		},
		{
			name:   "--rate NaN",
			input:  file("rnan.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--rate", "NaN"},
			code:   exitUsage,
			stderr: []string{"--rate must be a positive number"},
		},
		{
			name:   "--rate +Inf",
			input:  file("rinf.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--rate", "+Inf"},
			code:   exitUsage,
			stderr: []string{"--rate must be a positive number"},
		},
		{
			name:   "--rate that is not a number",
			input:  file("rabc.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--rate", "fast"},
			code:   exitUsage,
			stderr: []string{`invalid value "fast" for --rate`},
		},
		{
			name:   "--concurrency 0",
			input:  file("k0.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--concurrency", "0"},
			code:   exitUsage,
			stderr: []string{"--concurrency must be at least 1"},
		},
		{
			name:   "--retries 0",
			input:  file("t0.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--retries", "0"},
			code:   exitUsage,
			stderr: []string{"--attempts (or --retries) must be at least 1"},
		},
		{
			name:   "--timeout 0",
			input:  file("to0.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--timeout", "0"},
			code:   exitUsage,
			stderr: []string{"--timeout must be positive"},
		},
		{
			name:   "--format that is neither csv nor xlsx",
			input:  file("fmt.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			flags:  []string{"--format", "html"},
			code:   exitUsage,
			stderr: []string{`--format "html": csv or xlsx`},
		},
		// --- endpoints ---
		{
			name:     "plain http endpoint that is not loopback",
			input:    file("http.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			endpoint: "http://crm.example.com/crmapi/rest/v2/",
			code:     exitUsage,
			stderr:   []string{"--endpoint http://crm.example.com/crmapi/rest/v2/ is plain http", "hint: use https://"},
		},
		{
			name:      "endpoint with a user name and password",
			input:     file("userinfo.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			endpoint:  "https://admin:hunter2-s3cret@crm.example.com/crmapi/rest/v2/",
			code:      exitUsage,
			stderr:    []string{"holds a user name or password", "admin:xxxxx@crm.example.com"},
			notStderr: []string{"hunter2"},
		},
		{
			name:      "loopback endpoint with a password",
			input:     file("userinfo2.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			endpoint:  "http://u:hunter2-s3cret@127.0.0.1:1/crmapi/rest/v2/",
			code:      exitUsage,
			stderr:    []string{"holds a user name or password"},
			notStderr: []string{"hunter2"},
		},
		{
			name:      "endpoint with a password that is not a URL",
			input:     file("badurl.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			endpoint:  "https://u:hunter2-s3cret@[::1/crmapi",
			code:      exitUsage,
			stderr:    []string{"--endpoint is not a URL"},
			notStderr: []string{"hunter2"},
		},
		{
			name:     "endpoint with a scheme other than http(s)",
			input:    file("ftp.csv", "esn,group_name\nE-1,OPERATOR1\n"),
			endpoint: "ftp://crm.example.com/crmapi/rest/v2/",
			code:     exitUsage,
			stderr:   []string{"the scheme must be https"},
		},
		// --- a broken file must not cost a login, whatever the kind ---
		{
			name:   "subscriptions file with promotion codes and a broken row",
			input:  file("subs.csv", "action,billing_system_customer_identifier,promotion_code\ncreate,C-1,P1\ncreate,C-2,P1,extra\n"),
			code:   exitUsage,
			stderr: []string{"$FILE: row 3: value in column D (4) but the header has only 3 columns"},
		},
	}
}

// billionLaughs declares entities that expand to 10^9 "lol"s.
const billionLaughs = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
	`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
	`<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">` +
	`<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">` +
	`<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>`

// fifoSkip says why the FIFO case cannot run here.
func fifoSkip() string {
	if runtime.GOOS == "windows" {
		return "no FIFOs on windows"
	}
	return ""
}
