package batch

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
)

// canonicalEndpoint is the endpoint as a job's identity knows it: the scheme and
// host in lower case, the scheme's default port dropped, the path without
// repeated or trailing slashes. HTTP://Host:80//crmapi/rest/v2 and
// http://host/crmapi/rest/v2/ are the same installation.
func canonicalEndpoint(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimSpace(raw)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	var parts []string
	for _, p := range strings.Split(u.Path, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return scheme + "://" + host + "/" + strings.Join(parts, "/")
}

// jobKey identifies "the same job" across runs: its rows as read (rows, the
// digest of rowsDigest), the kind, the sheet, the column flags and the
// canonical endpoint. Neither the file's bytes (its encoding, line ends, byte
// order mark, name) nor how the work is cut into calls (chunk size,
// concurrency) is part of it.
func jobKey(rows, kind, sheet string, overrides map[string]string, endpoint string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", rows, kind, sheet, endpoint)
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, overrides[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// rowsDigest hashes a job's rows as read: the values of the columns the job
// reads (trimmed, in the order of their names; those a flag sets are the
// flag's, in the job key), row after row. The same rows saved again by a
// spreadsheet, in another encoding, with other line ends or under another
// name, give the same digest: they are the same job.
type rowsDigest struct {
	h    hash.Hash
	cols []int
	buf  []byte
}

func newRowsDigest(j *job) *rowsDigest {
	names := make([]string, 0, len(j.index))
	for n := range j.index {
		if _, set := j.overrides[n]; j.kind.known(n) && !set {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	d := &rowsDigest{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
	for _, n := range names {
		d.cols = append(d.cols, j.index[n])
		d.buf = binary.AppendUvarint(d.buf, uint64(len(n)))
		d.buf = append(d.buf, n...)
	}
	return d
}

// add adds a row; its values are length-prefixed, so that no two rows hash
// alike by moving text between cells.
func (d *rowsDigest) add(rec formats.Record) {
	d.buf = append(d.buf, 0xff)
	for _, i := range d.cols {
		v := ""
		if i < len(rec.Fields) {
			v = strings.TrimSpace(rec.Fields[i])
		}
		d.buf = binary.AppendUvarint(d.buf, uint64(len(v)))
		d.buf = append(d.buf, v...)
	}
	if len(d.buf) >= 60<<10 {
		d.h.Write(d.buf)
		d.buf = d.buf[:0]
	}
}

// sum is the digest of the rows added, in hex.
func (d *rowsDigest) sum() string {
	d.h.Write(d.buf)
	d.buf = d.buf[:0]
	return hex.EncodeToString(d.h.Sum(nil))
}

// effects gives each valid row of a pass its effect key: a hash of what the row
// does (Kind.effect) and, for kinds whose effects repeat in a file, of how many
// times the file asked for it before. The same row of an edited file gets the
// same key.
type effects struct {
	kind  *Kind
	start effectHash        // the hash of the kind's name, where every row's begins
	seen  map[uint64]uint32 // repeating kinds: effect → occurrences so far
}

func newEffects(k *Kind) *effects {
	e := &effects{kind: k, start: effectHash(fnvOffset).add(k.Name)}
	if k.Repeats {
		e.seen = map[uint64]uint32{}
	}
	return e
}

// key is the effect key of a valid row whose effect hashed to h (begun at
// e.start, see rules.check).
func (e *effects) key(h effectHash) uint64 {
	if e.seen != nil {
		n := e.seen[uint64(h)]
		e.seen[uint64(h)] = n + 1
		h = h.add(string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}))
	}
	return max(uint64(h), 1)
}

// effectHash is the FNV-1a hash of the parts of a row's effect, each ended by
// a zero byte, made without allocating.
type effectHash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (h effectHash) add(s string) effectHash {
	x := uint64(h)
	for i := 0; i < len(s); i++ {
		x = (x ^ uint64(s[i])) * fnvPrime
	}
	return effectHash(x * fnvPrime) // the zero byte that ends a part
}

// fingerprint is a sample of a file's effect keys, kept with its run so that a
// later file can be told to be an edit of it: every key of a small file, and
// one in 64 (by value, so two files sample the same rows) of a large one.
type fingerprint struct {
	all, sample []uint64
}

const (
	fingerprintAll  = 4096 // files with at most this many valid rows keep every key
	fingerprintMask = 63   // else keys with key&mask == 0
)

func (f *fingerprint) add(k uint64) {
	if len(f.all) <= fingerprintAll {
		f.all = append(f.all, k)
	}
	if k&fingerprintMask == 0 {
		f.sample = append(f.sample, k)
	}
}

// keys is what the ledger keeps: every key of a small file, else the sample.
func (f *fingerprint) keys() []uint64 {
	if len(f.all) <= fingerprintAll {
		return f.all
	}
	return f.sample
}

// overlap says how many of this file's compared keys an earlier run's
// fingerprint has, out of how many compared: every key when both files are
// small, else the sampled ones.
func (f *fingerprint) overlap(earlier []uint64) (same, of int) {
	full := len(f.all) <= fingerprintAll && allKept(earlier)
	set := make(map[uint64]bool, len(earlier))
	for _, k := range earlier {
		if full || k&fingerprintMask == 0 {
			set[k] = true
		}
	}
	mine := f.sample
	if full {
		mine = f.all
	}
	for _, k := range mine {
		if set[k] {
			same++
		}
	}
	return same, len(mine)
}

// allKept reports whether a fingerprint holds every key of its file: a sample
// holds only keys with key&mask == 0.
func allKept(keys []uint64) bool {
	for _, k := range keys {
		if k&fingerprintMask != 0 {
			return true
		}
	}
	return false
}

// history is what the ledger says of a job before its run: the run it resumes,
// or the runs of the lineage it continues.
type history struct {
	run      ledger.Run
	resumed  bool            // run is an unfinished run of this very job, gone on with
	progress ledger.Progress // resumed: what run did, by row
	earlier  ledger.Earlier  // an edit: what the lineage's runs did, by effect key
	edits    string          // the run whose file this one is an edit of, for the log
	// retries names the run whose failures report this file is ("" = none);
	// retried gives, by row number in the first file, the effect key of each
	// of its rows whose outcome was unknown there, to be read back as that
	// run's job would.
	retries string
	retried map[int]uint64
}

// identity is a job file's place in the ledger.
type identity struct {
	key      string // the job key
	endpoint string // canonical
	input    string // absolute path
	name     string // base name
	fp       *fingerprint
	flags    string  // the flags that make the job, as typed (see jobFlags)
	reports  Reports // absolute paths
}

// begin finds what the ledger knows of the job and starts its run: it resumes
// an unfinished run of the same job (unless --fresh), refuses a job that ran to
// the end (unless --rerun or --skip-done), and treats an edit of an earlier
// run's file (same path or name, most rows the same) as that job: its rows done
// are skipped, and after a finished run it is refused the same way. A failures
// report fed back in goes on with the lineage of the run that wrote it: its
// rows done since are skipped, its unknown rows read back. A run of its own
// whose reports would replace those of an unfinished run of other flags is
// refused, unless --fresh abandons that run. lock takes the lock of a lineage;
// it is held until the run ends.
func begin(ctx context.Context, cfg Config, led *ledger.Ledger, id identity, j *job, sum string, start time.Time, lock func(lineage string) error) (history, error) {
	prev, found, err := led.LatestRun(ctx, id.key)
	if err != nil {
		return history{}, err
	}
	if found && prev.Abandoned != "" {
		found = false // started over by the user's choice: no longer this job's
	}
	lineage, edits := "", ""
	if found {
		lineage = prev.Lineage
	} else if !cfg.Fresh {
		cands, err := led.Candidates(ctx, id.endpoint, j.kind.Name, id.input, id.name)
		if err != nil {
			return history{}, err
		}
		for _, c := range cands {
			if same, of := id.fp.overlap(c.Fingerprint); of > 0 && 2*same > of {
				latest, err := led.LatestOfLineage(ctx, c.Lineage)
				if err != nil {
					return history{}, err
				}
				if latest.Abandoned != "" {
					continue
				}
				lineage, edits, prev, found = c.Lineage, c.ID, latest, true
				break
			}
		}
	}
	if found {
		if err := lock(lineage); err != nil {
			return history{}, err
		}
		// Read again under the lock: the run may have moved on meanwhile.
		if prev, err = led.LatestOfLineage(ctx, lineage); err != nil {
			return history{}, err
		}
	}
	h := history{edits: edits}
	switch {
	case found && prev.Finished.IsZero() && prev.JobKey == id.key && !cfg.Fresh:
		h.run, h.resumed = prev, true
		if h.progress, err = led.RunProgress(ctx, prev.ID); err != nil {
			return h, err
		}
		// Other runs of the lineage (an edit run meanwhile) may have done rows too.
		h.earlier, err = led.LineageProgress(ctx, lineage, prev.ID)
		return h, err
	case found && !prev.Finished.IsZero() && !cfg.Rerun && !cfg.SkipDone:
		return h, alreadyRan(cfg, prev, edits)
	case found && !cfg.Rerun && !cfg.Fresh:
		// An edit of an unfinished run's file, or --skip-done: the lineage's
		// rows done are skipped.
		if h.earlier, err = led.LineageProgress(ctx, lineage, ""); err != nil {
			return h, err
		}
	case !found && !cfg.Fresh:
		// A failures report fed back in, or a run of its own.
		if lineage, err = h.retryOf(ctx, led, id, lock); err != nil {
			return h, err
		}
	default:
		lineage = "" // a run of its own
	}
	if err := keepUnfinished(ctx, cfg, led, id, lineage, start); err != nil {
		return h, err
	}
	h.run, err = led.StartRun(ctx, ledger.Run{JobKey: id.key, Job: j.kind.Name, Input: id.input, InputSHA256: sum,
		Started: start, Lineage: lineage, Endpoint: id.endpoint, InputName: id.name, Fingerprint: id.fp.keys(),
		Flags: id.flags, Results: id.reports.Results, Failures: id.reports.Failures})
	if err == nil && lineage == "" {
		err = lock(h.run.Lineage)
	}
	return h, err
}

// retryOf finds the run whose failures report the job file is (by its path,
// else by its name when most of its rows are that run's): the job then goes
// on with that run's lineage, so that its rows are resolved as the same
// command would resolve them. Nothing is found for a file that is no
// failures report, or whose run's lineage was abandoned.
func (h *history) retryOf(ctx context.Context, led *ledger.Ledger, id identity, lock func(lineage string) error) (lineage string, err error) {
	w, ok, err := led.WroteFailures(ctx, id.input, id.name)
	if err != nil || !ok {
		return "", err
	}
	if w.Failures != id.input {
		if same, of := id.fp.overlap(w.Fingerprint); of > 0 && 2*same <= of {
			return "", nil // another file of that name
		}
	}
	latest, err := led.LatestOfLineage(ctx, w.Lineage)
	if err != nil || latest.Abandoned != "" {
		return "", err
	}
	if err := lock(w.Lineage); err != nil {
		return "", err
	}
	if h.earlier, err = led.LineageProgress(ctx, w.Lineage, ""); err != nil {
		return "", err
	}
	if h.retried, err = led.UnknownRows(ctx, w.ID); err != nil {
		return "", err
	}
	h.retries = w.ID
	return w.Lineage, nil
}

// keepUnfinished refuses to start a run whose reports would replace those of
// an unfinished run of another lineage (the same file run before with other
// flags, or another file of that name), while they are there: they list what
// that run has still to do. With --fresh, that run is abandoned instead, and
// its reports are kept under other names.
func keepUnfinished(ctx context.Context, cfg Config, led *ledger.Ledger, id identity, lineage string, start time.Time) error {
	runs, err := led.Unfinished(ctx, id.reports.Results)
	if err != nil {
		return err
	}
	for _, u := range runs {
		if lineage != "" && u.Lineage == lineage {
			continue // this run goes on with its work
		}
		if !exists(u.Results) && !exists(u.Failures) {
			continue // its reports were moved away (a watched folder files them): nothing to replace
		}
		if !cfg.Fresh {
			return unfinishedError(cfg, u, id)
		}
		stamp := u.Started.Local().Format("20060102-150405")
		var kept []string
		for _, p := range []string{u.Results, u.Failures, summaryOf(u.Results)} {
			if aside, err := keepAside(p, stamp); err != nil {
				return fmt.Errorf("keeping the reports of the abandoned run %s: %w", u.ID, err)
			} else if aside != "" {
				kept = append(kept, aside)
			}
		}
		if err := led.Abandon(ctx, u.ID, "--fresh at "+start.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
		cfg.Log.Warn("abandoned an unfinished run of this file (--fresh): its reports are kept aside", "run_id", u.ID, "flags", u.Flags, "kept", kept)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// unfinishedError is the refusal of a run whose reports would replace those
// of the unfinished run u.
func unfinishedError(cfg Config, u ledger.Run, id identity) error {
	ran := "with no flags that set columns"
	if u.Flags != "" {
		ran = "with " + u.Flags
	}
	if u.Endpoint != id.endpoint {
		ran += " on " + u.Endpoint
	}
	input := u.Input
	if input == id.input {
		input = cfg.Path
	}
	resume := "crmbatch run " + u.Flags + " " + shellQuote(input)
	if u.Flags == "" {
		resume = "crmbatch run " + shellQuote(input)
	}
	what := "an unfinished run of this file"
	if u.Input != id.input {
		what = "an unfinished run of " + u.Input + ", whose reports are these,"
	}
	return &FileError{File: cfg.Path,
		Msg: fmt.Sprintf("%s (run %s, started %s) ran %s; its reports %s and %s list the rows it has not done yet, and this run (%s) would replace them",
			what, u.ID, u.Started.Local().Format(time.DateTime), ran, u.Results, u.Failures, flagsOrNone(id.flags)),
		Hint: fmt.Sprintf("nothing was sent; to resume that run, give its flags: %s; to abandon it and run this file as given, add --fresh (its reports are kept under other names)", resume)}
}

func flagsOrNone(flags string) string {
	if flags == "" {
		return "with no flags that set columns"
	}
	return "with " + flags
}

// summaryOf is the summary's path beside a results report: X.summary.json
// for X.results.csv.
func summaryOf(results string) string {
	ext := filepath.Ext(results)
	base, ok := strings.CutSuffix(strings.TrimSuffix(results, ext), ".results")
	if !ok {
		return ""
	}
	return base + ".summary.json"
}

// keepAside renames the file at path (if there is one) to
// X.abandoned-STAMP.ext, and returns that name ("" when there was nothing).
func keepAside(path, stamp string) (string, error) {
	if path == "" {
		return "", nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	ext := filepath.Ext(path)
	aside := strings.TrimSuffix(path, ext) + ".abandoned-" + stamp + ext
	return aside, os.Rename(path, aside)
}

// jobFlags are the flags that make a job what it is, as a person would type
// them: --job, --sheet and the flags that set a column for every row.
func jobFlags(cfg Config) string {
	var parts []string
	if cfg.Job != "" {
		parts = append(parts, "--job", shellQuote(cfg.Job))
	}
	if cfg.Sheet != "" {
		parts = append(parts, "--sheet", shellQuote(cfg.Sheet))
	}
	cols := make([]string, 0, len(cfg.Overrides))
	for c := range cfg.Overrides {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		parts = append(parts, "--"+strings.ReplaceAll(c, "_", "-"), shellQuote(cfg.Overrides[c]))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:@%+=,-", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// alreadyRan is the refusal of a job (or an edit of one) that ran to the end.
func alreadyRan(cfg Config, prev ledger.Run, edits string) error {
	var was Summary
	_ = json.Unmarshal(prev.Summary, &was)
	what := "this job already ran to the end"
	if edits != "" && prev.JobKey != "" {
		what = fmt.Sprintf("most rows of this file are rows of %s, whose job already ran to the end", filepath.Base(prev.Input))
	}
	hint := "nothing was sent; pass --skip-done to send only the rows that run did not apply, or --rerun to send every row again (or run its failures report to retry the rows that failed)"
	if cfg.DoneHint != "" {
		hint = cfg.DoneHint
	}
	return &FileError{File: cfg.Path,
		Msg: fmt.Sprintf("%s on %s (run %s); its reports are in %s", what,
			prev.Finished.Local().Format(time.DateTime), prev.ID, reportsFolder(prev.ID, was.Reports)),
		Hint: hint}
}

// reportsFolder is the folder that holds the reports of run id now: where it
// wrote them, or, for a watched folder's file, the folder of processed/ or
// failed/ they were moved to with it (the one whose summary names the run).
func reportsFolder(id string, r Reports) string {
	dir := filepath.Dir(r.Results)
	if _, err := os.Stat(r.Summary); err == nil || filepath.Base(filepath.Dir(dir)) != ".reports" {
		return dir
	}
	drop := filepath.Dir(filepath.Dir(dir))
	for _, to := range []string{"processed", "failed"} {
		found, _ := filepath.Glob(filepath.Join(drop, to, "*", filepath.Base(r.Summary)))
		for _, f := range found {
			var s Summary
			if b, err := os.ReadFile(f); err == nil && json.Unmarshal(b, &s) == nil && s.RunID == id {
				return filepath.Dir(f)
			}
		}
	}
	return dir
}

// doneEarlier is the skipped result of a row that an earlier run of the same
// job or of the file it is an edit of applied.
func doneEarlier(d ledger.DoneKey) result {
	msg := fmt.Sprintf("done already by run %s on %s", d.RunID, d.Recorded.Local().Format(time.DateTime))
	if d.Detail != "" {
		msg = d.Detail // skipped there too: the first run's words
	}
	return result{Status: StatusSkipped, Code: "ALREADY_DONE", Message: msg}
}
