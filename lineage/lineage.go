// Package lineage places a run among the runs of its job in the ledger: a
// job's Identity (its rows as read, kind, sheet, column flags and endpoint),
// the Fingerprint that tells an edit of an earlier file, and the run's
// History: the unfinished run it resumes, the finished one it refuses to
// repeat, the lineage whose rows done it skips, the failures report whose
// unknown rows it reads back. It is the part of a run that decides that
// nothing is sent twice across runs, apart from how rows are sent.
package lineage

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
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
)

// CanonicalEndpoint is the endpoint as a job's Identity knows it: the scheme and
// host in lower case, the scheme's default port dropped, the path without
// repeated or trailing slashes. HTTP://Host:80//crmapi/rest/v2 and
// http://host/crmapi/rest/v2/ are the same installation.
func CanonicalEndpoint(raw string) string {
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

// JobKey identifies "the same job" across runs: its rows as read (rows, the
// digest of RowsDigest), the kind, the sheet, the column flags and the
// canonical endpoint. Neither the file's bytes (its encoding, line ends, byte
// order mark, name) nor how the work is cut into calls (chunk size,
// concurrency) is part of it.
func JobKey(rows, kind, sheet string, overrides map[string]string, endpoint string) string {
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

// RowsDigest hashes a job's rows as read: the values of the columns the job
// reads (trimmed, in the order of their names; those a flag sets are the
// flag's, in the job key), row after row. The same rows saved again by a
// spreadsheet, in another encoding, with other line ends or under another
// name, give the same digest: they are the same job.
type RowsDigest struct {
	h    hash.Hash
	cols []int
	buf  []byte
}

// NewRowsDigest is the digest of the rows of job j, before any is added.
func NewRowsDigest(j *jobfile.File) *RowsDigest {
	names := make([]string, 0, len(j.Index))
	for n := range j.Index {
		if _, set := j.Overrides[n]; j.Kind.Known(n) && !set {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	d := &RowsDigest{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
	for _, n := range names {
		d.cols = append(d.cols, j.Index[n])
		d.buf = binary.AppendUvarint(d.buf, uint64(len(n)))
		d.buf = append(d.buf, n...)
	}
	return d
}

// Add adds a row; its values are length-prefixed, so that no two rows hash
// alike by moving text between cells.
func (d *RowsDigest) Add(rec formats.Record) {
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

// Sum is the digest of the rows added, in hex.
func (d *RowsDigest) Sum() string {
	d.h.Write(d.buf)
	d.buf = d.buf[:0]
	return hex.EncodeToString(d.h.Sum(nil))
}

// Fingerprint is a sample of a file's effect keys, kept with its run so that a
// later file can be told to be an edit of it: every key of a small file, and
// one in 64 (by value, so two files sample the same rows) of a large one.
type Fingerprint struct {
	all, sample []uint64
}

const (
	fingerprintAll  = 4096 // files with at most this many valid rows keep every key
	fingerprintMask = 63   // else keys with key&mask == 0
)

// Add samples an effect key.
func (f *Fingerprint) Add(k uint64) {
	if len(f.all) <= fingerprintAll {
		f.all = append(f.all, k)
	}
	if k&fingerprintMask == 0 {
		f.sample = append(f.sample, k)
	}
}

// keys is what the ledger keeps: every key of a small file, else the sample.
func (f *Fingerprint) keys() []uint64 {
	if len(f.all) <= fingerprintAll {
		return f.all
	}
	return f.sample
}

// overlap says how many of this file's compared keys an earlier run's
// Fingerprint has, out of how many compared: every key when both files are
// small, else the sampled ones.
func (f *Fingerprint) overlap(earlier []uint64) (same, of int) {
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

// allKept reports whether a Fingerprint holds every key of its file: a sample
// holds only keys with key&mask == 0.
func allKept(keys []uint64) bool {
	for _, k := range keys {
		if k&fingerprintMask != 0 {
			return true
		}
	}
	return false
}

// History is what the ledger says of a job before its run: the run it resumes,
// or the runs of the lineage it continues.
type History struct {
	Run      ledger.Run
	Resumed  bool            // Run is an unfinished run of this very job, gone on with
	Progress ledger.Progress // Resumed: what Run did, by row
	Earlier  ledger.Earlier  // an edit: what the lineage's runs did, by effect key
	Edits    string          // the run whose file this one is an edit of, for the log
	// retries names the run whose failures report this file is ("" = none);
	// retried gives, by row number in the first file, the effect key of each
	// of its rows whose outcome was unknown or failed there: sent as that
	// run's rows, and read back as its job would.
	retries string
	retried map[int]uint64
}

// Identity is a job file's place in the ledger.
type Identity struct {
	Key         string // the job key
	Endpoint    string // canonical
	Input       string // absolute path
	Name        string // base name
	Fingerprint *Fingerprint
	Flags       string       // the flags that make the job, as typed (see JobFlags)
	Reports     report.Paths // absolute paths
}

// Options are what of a run's flags its place among the job's runs depends on.
type Options struct {
	Path      string            // the job file, as given
	Job       string            // --job; "" = from the header
	Sheet     string            // --sheet
	Overrides map[string]string // columns set by flags
	Fresh     bool              // --fresh
	Rerun     bool              // --rerun
	SkipDone  bool              // --skip-done
	// DoneHint is the hint of the refusal of a job that ran to the end when
	// --skip-done and --rerun are not the user's to pass (a watched folder's);
	// "" = the hint naming them.
	DoneHint string
	Log      *slog.Logger
}

// Place finds what the ledger knows of the job and places its run among the
// job's runs: it resumes an unfinished run of the same job (unless --fresh),
// refuses a job that ran to the end (unless --rerun or --skip-done), and
// treats an edit of an earlier run's file (same path or name, most rows the
// same) as that job: its rows done are skipped, and after a finished run it is
// refused the same way. A failures report fed back in goes on with the lineage
// of the run that wrote it: its rows done since are skipped, its unknown rows
// read back. A run of its own whose reports would replace those of an
// unfinished run of other flags is refused, unless --fresh abandons that run.
// lock takes the lock of a lineage; it is held until the run ends.
func Place(ctx context.Context, o Options, led *ledger.Ledger, id Identity, j *jobfile.File, sum string, start time.Time, lock func(lineage string) error) (History, error) {
	prev, found, err := led.LatestRun(ctx, id.Key)
	if err != nil {
		return History{}, err
	}
	if found && prev.Abandoned != "" {
		found = false // started over by the user's choice: no longer this job's
	}
	lineage, edits := "", ""
	var editOf ledger.Run // the earlier run whose file this one is an edit of
	if found {
		lineage = prev.Lineage
	} else if !o.Fresh {
		cands, err := led.Candidates(ctx, id.Endpoint, j.Kind.Name, id.Input, id.Name)
		if err != nil {
			return History{}, err
		}
		for _, c := range cands {
			if same, of := id.Fingerprint.overlap(c.Fingerprint); of > 0 && 2*same > of {
				latest, err := led.LatestOfLineage(ctx, c.Lineage)
				if err != nil {
					return History{}, err
				}
				if latest.Abandoned != "" {
					continue
				}
				lineage, edits, editOf, prev, found = c.Lineage, c.ID, c, latest, true
				break
			}
		}
	}
	if found {
		if err := lock(lineage); err != nil {
			return History{}, err
		}
		// Read again under the lock: the run may have moved on meanwhile.
		if prev, err = led.LatestOfLineage(ctx, lineage); err != nil {
			return History{}, err
		}
	}
	h := History{Edits: edits}
	switch {
	case found && prev.Finished.IsZero() && prev.JobKey == id.Key && !o.Fresh:
		err := h.resume(ctx, led, prev, lineage, id)
		return h, err
	case found && !prev.Finished.IsZero() && !o.Rerun && !o.SkipDone:
		return h, alreadyRan(o, prev, editOf)
	case found && !o.Rerun && !o.Fresh:
		// An edit of an unfinished run's file, or --skip-done: the lineage's
		// rows done are skipped.
		if h.Earlier, err = led.LineageProgress(ctx, lineage, ""); err != nil {
			return h, err
		}
	case !found && !o.Fresh:
		// A failures report fed back in, or a run of its own.
		if lineage, err = h.retryOf(ctx, led, id, lock); err != nil {
			return h, err
		}
	default:
		lineage = "" // a run of its own
	}
	if err := keepUnfinished(ctx, o, led, id, lineage, start); err != nil {
		return h, err
	}
	h.Run, err = led.StartRun(ctx, ledger.Run{JobKey: id.Key, Job: j.Kind.Name, Input: id.Input, InputSHA256: sum,
		Started: start, Lineage: lineage, Endpoint: id.Endpoint, InputName: id.Name, Fingerprint: id.Fingerprint.keys(),
		Flags: id.Flags, Results: id.Reports.Results, Failures: id.Reports.Failures})
	if err == nil && lineage == "" {
		err = lock(h.Run.Lineage)
	}
	return h, err
}

// resume goes on with prev, an unfinished run of lineage: what it did, what
// the lineage's other runs did (an edit run meanwhile), and, when prev runs a
// failures report, its rows' keys in the first file, as when it started
// (retryOf).
func (h *History) resume(ctx context.Context, led *ledger.Ledger, prev ledger.Run, lineage string, id Identity) (err error) {
	h.Run, h.Resumed = prev, true
	if h.Progress, err = led.RunProgress(ctx, prev.ID); err != nil {
		return err
	}
	if h.Earlier, err = led.LineageProgress(ctx, lineage, prev.ID); err != nil {
		return err
	}
	w, ok, err := led.WroteFailures(ctx, id.Input, id.Name)
	if err != nil || !ok || w.Lineage != lineage || w.ID == prev.ID {
		return err
	}
	if h.retried, err = led.RetriedRows(ctx, w.ID); err == nil {
		h.retries = w.ID
	}
	return err
}

// retryOf finds the run whose failures report the job file is (by its path,
// else by its name when most of its rows are that run's): the job then goes
// on with that run's lineage, so that its rows are resolved as the same
// command would resolve them. Nothing is found for a file that is no
// failures report, or whose run's lineage was abandoned.
func (h *History) retryOf(ctx context.Context, led *ledger.Ledger, id Identity, lock func(lineage string) error) (lineage string, err error) {
	w, ok, err := led.WroteFailures(ctx, id.Input, id.Name)
	if err != nil || !ok {
		return "", err
	}
	if w.Failures != id.Input {
		if same, of := id.Fingerprint.overlap(w.Fingerprint); of > 0 && 2*same <= of {
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
	if h.Earlier, err = led.LineageProgress(ctx, w.Lineage, ""); err != nil {
		return "", err
	}
	if h.retried, err = led.RetriedRows(ctx, w.ID); err != nil {
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
func keepUnfinished(ctx context.Context, o Options, led *ledger.Ledger, id Identity, lineage string, start time.Time) error {
	runs, err := led.Unfinished(ctx, id.Reports.Results)
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
		if !o.Fresh {
			return unfinishedError(o, u, id)
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
		o.Log.Warn("abandoned an unfinished run of this file (--fresh): its reports are kept aside", "run_id", u.ID, "flags", u.Flags, "kept", kept)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// unfinishedError is the refusal of a run whose reports would replace those
// of the unfinished run u.
func unfinishedError(o Options, u ledger.Run, id Identity) error {
	ran := "with no flags that set columns"
	if u.Flags != "" {
		ran = "with " + u.Flags
	}
	if u.Endpoint != id.Endpoint {
		ran += " on " + u.Endpoint
	}
	input := u.Input
	if input == id.Input {
		input = o.Path
	}
	resume := "crmbatch run " + u.Flags + " " + ShellQuote(input)
	if u.Flags == "" {
		resume = "crmbatch run " + ShellQuote(input)
	}
	what := "an unfinished run of this file"
	if u.Input != id.Input {
		what = "an unfinished run of " + u.Input + ", whose reports are these,"
	}
	return &fault.FileError{File: o.Path,
		Msg: fmt.Sprintf("%s (run %s, started %s) ran %s; its reports %s and %s list the rows it has not done yet, and this run (%s) would replace them",
			what, u.ID, u.Started.Local().Format(time.DateTime), ran, u.Results, u.Failures, flagsOrNone(id.Flags)),
		Fix: fmt.Sprintf("nothing was sent; to resume that run, give its flags: %s; to abandon it and run this file as given, add --fresh (its reports are kept under other names)", resume)}
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

// JobFlags are the flags that make a job what it is, as a person would type
// them: --job, --sheet and the flags that set a column for every row.
func JobFlags(o Options) string {
	var parts []string
	if o.Job != "" {
		parts = append(parts, "--job", ShellQuote(o.Job))
	}
	if o.Sheet != "" {
		parts = append(parts, "--sheet", ShellQuote(o.Sheet))
	}
	cols := make([]string, 0, len(o.Overrides))
	for c := range o.Overrides {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		parts = append(parts, "--"+strings.ReplaceAll(c, "_", "-"), ShellQuote(o.Overrides[c]))
	}
	return strings.Join(parts, " ")
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
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

// alreadyRan is the refusal of a job that ran to the end, or of an edit of
// the file of run editOf (zero when it is not one) whose job did: prev is the
// job's last run (editOf itself, or a later one, such as its failures report's).
func alreadyRan(o Options, prev, editOf ledger.Run) error {
	var was report.Summary
	_ = json.Unmarshal(prev.Summary, &was)
	what := "this job already ran to the end"
	if editOf.ID != "" && prev.JobKey != "" {
		what = fmt.Sprintf("most rows of this file are rows of %s (run %s), whose job already ran to the end", filepath.Base(editOf.Input), editOf.ID)
		if prev.ID != editOf.ID {
			what = fmt.Sprintf("most rows of this file are rows of %s (run %s), whose job, with its later run of %s, already ran to the end",
				filepath.Base(editOf.Input), editOf.ID, filepath.Base(prev.Input))
		}
	}
	hint := "nothing was sent; pass --skip-done to send only the rows that run did not apply, or --rerun to send every row again (or run its failures report to retry the rows that failed)"
	if o.DoneHint != "" {
		hint = o.DoneHint
	}
	reports := fmt.Sprintf("its reports: %s, %s", filepath.Base(was.Reports.Results), filepath.Base(was.Reports.Failures))
	if dir := reportsFolder(prev.ID, was.Reports); dir != "." {
		reports = fmt.Sprintf("its reports are in %s (%s, %s)", dir, filepath.Base(was.Reports.Results), filepath.Base(was.Reports.Failures))
	}
	return &fault.FileError{File: o.Path,
		Msg: fmt.Sprintf("%s on %s (run %s); %s", what, prev.Finished.Local().Format(time.DateTime), prev.ID, reports),
		Fix: hint}
}

// reportsFolder is the folder that holds the reports of run id now: where it
// wrote them, or, for a watched folder's file, the folder of processed/ or
// failed/ they were moved to with it (the one whose summary names the run).
func reportsFolder(id string, r report.Paths) string {
	dir := filepath.Dir(r.Results)
	if _, err := os.Stat(r.Summary); err == nil || filepath.Base(filepath.Dir(dir)) != ".reports" {
		return dir
	}
	drop := filepath.Dir(filepath.Dir(dir))
	for _, to := range []string{"processed", "failed"} {
		found, _ := filepath.Glob(filepath.Join(drop, to, "*", filepath.Base(r.Summary)))
		for _, f := range found {
			var s report.Summary
			if b, err := os.ReadFile(f); err == nil && json.Unmarshal(b, &s) == nil && s.RunID == id {
				return filepath.Dir(f)
			}
		}
	}
	return dir
}

// doneEarlier is the skipped result of a row that an earlier run of the same
// job or of the file it is an edit of applied.
func doneEarlier(d ledger.DoneKey) kind.Result {
	msg := fmt.Sprintf("done already by run %s on %s", d.RunID, d.Recorded.Local().Format(time.DateTime))
	if d.Detail != "" {
		msg = d.Detail // skipped there too: the first run's words
	}
	return kind.Result{Status: report.StatusSkipped, Code: "ALREADY_DONE", Message: msg}
}

// Item makes a row read again ready to send: a row done by an earlier run
// of the lineage gets its skipped result; a row that may have been applied is
// marked uncertain, with what was recorded with its call, and the rows of one
// earlier call go together again.
func (h History) Item(r *jobfile.Row, k *kind.Kind) (kind.Item, *kind.Result) {
	it := r.Item
	if key, ok := h.retried[it.Row]; ok {
		// A row of a failures report whose outcome was unknown: it is that
		// row of the first file, read back as the run that sent it would.
		it.EKey = key
	}
	if note, ok := h.Progress.Uncertain[r.Seq]; ok {
		it.Uncertain, it.Note, it.Since, it.MovedOn = true, note, h.Progress.Since[r.Seq], h.Progress.Moved[r.Seq]
	}
	if d, ok := h.Earlier.Done[it.EKey]; ok && !h.otherRow(d, it) {
		done := doneEarlier(d)
		return it, &done
	}
	if note, ok := h.Earlier.Uncertain[it.EKey]; ok {
		// The row's last call: a resumed run's may be newer than the
		// lineage's, and the row's own calls are not moves of its lane.
		it.Uncertain, it.Note, it.Since = true, note, max(it.Since, h.Earlier.Since[it.EKey])
		it.MovedOn = it.MovedOn || h.Earlier.Moved[it.EKey]
	}
	if it.Uncertain && it.Note != "" && !k.Sequential {
		it.Key = "replay\x00" + it.Note
	}
	return it, nil
}

// otherRow reports whether d, the effect done that a failures report's row
// counts as its own, was another row's: the run whose failures report this
// is did d on a row of another number. The report lists only rows that run
// did not do, and a row it holds whose key the ledger does not give (invalid
// there, or never sent) counts its action's repeats in the report, not in
// the first file: it may take the key of an earlier repeat, done.
func (h History) otherRow(d ledger.DoneKey, it kind.Item) bool {
	return h.retries != "" && d.RunID == h.retries && d.Row != 0 && d.Row != it.Row
}
