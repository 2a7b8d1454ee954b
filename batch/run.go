package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/lineage"
	"github.com/crmbatch/crmbatch/report"
)

// Config is everything a run needs, built by the command line.
type Config struct {
	Path      string            // the job file
	Job       string            // job kind; "" = from the header
	Sheet     string            // XLSX sheet; "" = the first
	OutDir    string            // report folder; "" = the input's folder
	Format    formats.Format    // report format; "" = the input's
	Overrides map[string]string // column → value for every row (--action, --group-name, ...)

	Concurrency int           // calls in flight at once
	ChunkSize   int           // rows per call; 0 = the kind's maximum
	Attempts    int           // attempts per call, the first included (--retries)
	Rate        float64       // requests per second, every attempt and login included
	Backoff     time.Duration // base of the exponential backoff; 0 = 250ms

	API      crm.Config // the endpoint; its Wait is set by Run
	Endpoint string     // names the installation in the job's identity; "" = API.BaseURL
	StateDir string     // where the ledger lives
	DryRun   bool       // validate and plan only
	Fresh    bool       // start over instead of resuming an unfinished run of the same job
	Rerun    bool       // run a job that already ran to the end again
	// XLSXPassword opens a password-protected XLSX job file; its reports are
	// protected with it too. It is never logged nor written.
	XLSXPassword string
	SkipDone     bool // after a finished run of the job (or of the file this is an edit of), send only the rows it did not apply
	// DoneHint is the hint of the refusal of a job that ran to the end, when
	// the flags --skip-done and --rerun are not the user's to pass (a watched
	// folder's); "" = the hint naming them.
	DoneHint string
	Strict   bool // refuse a file with columns the job does not read
	Force    bool // send charges that an earlier run already acknowledged or accepted
	// ReadBefore reads each customer's subscription before its first row of a
	// subscriptions job (one subscriptions/show a customer), so that a lost
	// answer on that row can be judged too; without it the state is read back
	// only after a lost answer.
	ReadBefore bool
	// NewLedger starts a new ledger in a state folder whose ledger is gone
	// (its locks, journal or marker are there): without it such a run is
	// refused, since a new ledger forgets what was sent.
	NewLedger bool
	// MaxWait is the longest Retry-After a run waits out: a longer one stops
	// it (exit 3) saying when to come back. 0 = 5 minutes.
	MaxWait time.Duration
	// LedgerPages, when positive, is how many pages the ledger may grow by
	// in this run before its writes fail as on a full disk: a write budget
	// for tests.
	LedgerPages int
	// DecimalMark is how the text amounts of a charges sheet write their
	// decimals (--decimal-mark); Unknown: as the file's unambiguous
	// amounts agree, else an amount that reads two ways is invalid.
	DecimalMark amount.Mark

	Log      *slog.Logger
	Progress Progress
	Now      func() time.Time

	hooks *hooks // nil but in this package's tests
}

// complete completes the summary with what pass 2 sent and pass 3 reported.
func complete(s *report.Summary, d sent, r reported, end time.Time, protect bool) {
	s.Calls, s.Retries, s.Throttled, s.Chunks, s.SendSeconds = d.calls, d.retries, d.throttled, d.chunks, d.seconds
	s.Rows, s.Counts, s.ErrorCodes, s.ErrorMessages, s.NotSent = r.rows, r.counts, r.errorCodes, r.errorMessages, r.notSent
	s.FirstProblems, s.Totals, s.Reconciliation = r.firstProblems, r.totals, r.reconciliation
	if protect {
		// The summary is not encrypted: it names no row's values of a
		// password-protected workbook (the reports, encrypted, have them).
		s.FirstProblems, s.ErrorMessages = nil, nil
	}
	s.End = end
	s.DurationSeconds = end.Sub(s.Start).Seconds()
}

// lineage is what of the run's flags its place among the job's runs
// depends on.
func (c *Config) lineage() lineage.Options {
	return lineage.Options{Path: c.Path, Job: c.Job, Sheet: c.Sheet, Overrides: c.Overrides,
		Fresh: c.Fresh, Rerun: c.Rerun, SkipDone: c.SkipDone, DoneHint: c.DoneHint, Log: c.Log}
}

func (c *Config) defaults() error {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = silent{}
	}
	switch {
	case c.Concurrency < 1:
		return &fault.UsageError{Msg: "--concurrency must be at least 1"}
	case c.Attempts < 1:
		return &fault.UsageError{Msg: "--retries must be at least 1 (the first attempt counts)"}
	case c.Rate <= 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return &fault.UsageError{Msg: "--rate must be a positive number of requests per second"}
	case c.ChunkSize < 0:
		return &fault.UsageError{Msg: "--chunk-size must be positive"}
	}
	return nil
}

// Validate reads, validates and plans a job file, sends nothing, and writes the
// reports with every row planned or invalid.
func Validate(ctx context.Context, cfg Config) (*report.Summary, error) {
	cfg.DryRun = true
	return Run(ctx, cfg)
}

// Run runs a job file. It reads as the journey of its rows: the file is opened
// and checked (openInput), every row is read and validated before anything is
// sent (validatePass), the job is found in the ledger (identify, openLedger), the
// rows are read again and sent (execute), and every row's outcome is written to
// the reports (finish). The error is a *UsageError, *FileError or
// *formats.InputError when nothing was sent, and a *FatalError when the run
// could not finish; rows that failed are counted in the summary instead.
func Run(ctx context.Context, cfg Config) (_ *report.Summary, err error) {
	if cfg.DryRun {
		defer func() { err = sentNothing(err) }()
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	start := cfg.Now()
	j, info, err := openInput(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	defer j.Pin.Close()
	s := &report.Summary{Input: cfg.Path, Job: j.Kind.Name, DryRun: cfg.DryRun, ReadBefore: cfg.ReadBefore && j.Kind == kind.Subscriptions, Start: start,
		Counts: map[report.Status]int{}, ErrorCodes: map[string]int{}, Reports: report.PathsFor(cfg.Path, cfg.OutDir, cfg.Format, cfg.DryRun), UnusedColumns: j.Unused}
	if err := os.MkdirAll(filepath.Dir(s.Reports.Results), 0o777); err != nil { // the umask says who reads the reports
		return nil, &fault.UsageError{Msg: fmt.Sprintf("--out: %v", err), Err: err}
	}
	if cfg.DryRun {
		if err := dryRun(cfg, j, s); err != nil {
			return nil, err // no plan was written: its paths are not told
		}
		return s, nil
	}
	// The opening of an existing ledger does not depend on the rows: it is
	// done while pass 1 reads them. (The login waits: a broken file contacts
	// nothing.)
	opened := openLedgerEarly(cfg.StateDir, ledger.Options{NewLedger: cfg.NewLedger, GrowthPages: cfg.LedgerPages})
	defer opened.drop()
	plan, err := validateAndHash(ctx, cfg, j, s)
	if err != nil {
		return nil, err
	}
	s.Rows = plan.rows
	if err := reportFits(cfg, plan.rows, true); err != nil {
		return nil, err
	}
	if plan.rows == 0 {
		// A header and no rows (a billing system's "nothing tonight"): nothing
		// to do, and no job for the ledger to remember, so the same file
		// tomorrow is nothing to do again rather than a job done before.
		if err := nothingToDo(cfg, j, s); err != nil {
			return nil, err
		}
		return s, nil
	}
	id, err := identify(cfg, j, plan, info)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, &fault.FatalError{Err: fmt.Errorf("interrupted before anything was sent: %w", context.Cause(ctx))}
	}
	led, h, release, err := openLedger(ctx, cfg, j, id, s, opened)
	if err != nil {
		return nil, err
	}
	defer led.Close()
	defer release()

	runErr, done, rep, rp, repErr := sendAndReport(ctx, cfg, j, led, h, plan.rows)
	// From here on, something was sent: every error stops the run (exit 3), and
	// what was done is in the ledger.
	if repErr != nil {
		return nil, reportsError(repErr)
	}
	defer rep.Abort()
	complete(s, done, rp, cfg.Now(), j.Protect)
	if rp.cut != nil && runErr == nil {
		runErr = &fault.FatalError{Err: rp.cut}
	}
	if changed := changedUnder(cfg.Path, info, s.InputSHA256); runErr == nil && changed != nil {
		runErr = &fault.FatalError{Err: changed}
	}
	return conclude(ctx, cfg, s, led, id, rep, runErr)
}

// validateAndHash runs pass 1 (validatePass) and hashes the file meanwhile
// (s.InputSHA256): the hash does not depend on the rows. A broken file is
// said at once, however large; a file changed while it was read is refused.
func validateAndHash(ctx context.Context, cfg Config, j *jobfile.File, s *report.Summary) (planned, error) {
	sum := make(chan error, 1)
	hashCtx, stopHash := context.WithCancel(ctx)
	go func() {
		var err error
		s.InputSHA256, err = j.Pin.SHA256(hashCtx)
		sum <- err
	}()
	plan, err := validatePass(cfg, j)
	if err != nil {
		stopHash() // a broken file is said at once, however large
		<-sum
		if changed := j.Pin.Change(); changed != nil {
			return planned{}, changedWhileRead(cfg.Path)
		}
		return planned{}, err
	}
	err = <-sum
	stopHash()
	switch {
	case j.Pin.Change() != nil:
		return planned{}, changedWhileRead(cfg.Path)
	case ctx.Err() != nil:
		return planned{}, &fault.FatalError{Err: fmt.Errorf("interrupted before anything was sent: %w", context.Cause(ctx))}
	case err != nil:
		return planned{}, &fault.FileError{File: cfg.Path, Err: err}
	}
	return plan, nil
}

// conclude ends a run that sent: the summary says why it stopped (runErr)
// and how to read back its unknown rows, the reports are put in place with
// it, and a run with every row's outcome known is finished in the ledger.
func conclude(ctx context.Context, cfg Config, s *report.Summary, led *ledger.Ledger, id lineage.Identity, rep *report.Writer, runErr error) (*report.Summary, error) {
	cfg.Log.Debug("calls done and reports written", "calls", s.Calls, "seconds", s.DurationSeconds)
	if runErr != nil {
		s.Stopped = fault.Describe(runErr)
	}
	if s.Counts[report.StatusUnknown] > 0 {
		s.Resolve = strings.TrimSpace("crmbatch run "+id.Flags) + " " + lineage.ShellQuote(cfg.Path)
	}
	if err := commit(rep, s); err != nil {
		return nil, reportsError(err)
	}
	if err := report.WriteSummary(s); err != nil {
		return nil, reportsError(err)
	}
	// The command line logs the "run finished" line, with the exit code.
	if runErr != nil || s.Counts[report.StatusUnknown] > 0 {
		// Not finished: the same command resumes it, or reads the rows of
		// unknown outcome back. History tells its counts meanwhile.
		if b, err := json.Marshal(s); err == nil {
			if err := led.SaveSummary(context.WithoutCancel(ctx), s.RunID, b); err != nil {
				cfg.Log.Warn("the ledger could not keep the summary of this run for history", "error", err.Error(), "hint", fault.HintOf(err))
			}
		}
		return s, runErr
	}
	b, err := json.Marshal(s)
	if err == nil {
		err = led.FinishRun(context.WithoutCancel(ctx), s.RunID, s.End, b)
	}
	if err != nil {
		return s, &fault.FatalError{Err: err}
	}
	return s, nil
}

// sentNothing classes an error of a dry run (validate), which sends nothing
// and records nothing: one that is not already a usage, file, input or fatal
// error (a plan that could not be written, say) is a usage error, its cause
// kept, never "the run could not finish" with nothing to resume.
func sentNothing(err error) error {
	var (
		usage *fault.UsageError
		file  *fault.FileError
		input *formats.InputError
		fatal *fault.FatalError
	)
	if err == nil || errors.As(err, &usage) || errors.As(err, &file) || errors.As(err, &input) || errors.As(err, &fatal) {
		return err
	}
	return &fault.UsageError{Msg: "validate: " + err.Error(), Err: err}
}

// sendAndReport runs pass 2 (execute) and pass 3 (finish), and returns what
// each did; the reports are left to commit with the Summary. The reports are
// written while the rows are sent, from the outcomes as they come (and, for a
// resumed run, from the ledger for the rows done before it stopped).
func sendAndReport(ctx context.Context, cfg Config, j *jobfile.File, led *ledger.Ledger, h lineage.History, rows int) (runErr error, done sent, rep *report.Writer, rp reported, repErr error) {
	st := newStream(reportWindow(j, cfg.Concurrency))
	if cfg.hooks != nil && cfg.hooks.stream != nil {
		cfg.hooks.stream(st)
	}
	var earlier *ledgerOutcomes
	if h.Resumed {
		// The rows done before the run stopped have their outcomes in the
		// ledger; the others come from this run as it sends them.
		earlier = &ledgerOutcomes{led: led, runID: h.Run.ID, done: h.Progress.Done, uncertain: h.Progress.Uncertain}
	}
	type reportsDone struct {
		rep *report.Writer
		rp  reported
		err error
	}
	written := make(chan reportsDone, 1)
	go func() {
		rep, rp, err := finish(cfg, j, earlier, st, rows)
		if err != nil {
			// The sending stops: the outcomes are in the ledger, from which
			// the same command writes the reports.
			st.fail(err)
		} else {
			st.over() // every row reported, or the file changed under the reports
		}
		st.ended() // the summary's calls and times are final
		written <- reportsDone{rep, rp, err}
	}()
	done, runErr = execute(ctx, cfg, j, led, h, rows, st)
	st.close()
	w := <-written
	cfg.Log.Debug("the reports were written while sending", "outcomes_held_at_most", st.held(), "sending_waited_for_them", st.waited())
	return runErr, done, w.rep, w.rp, w.err
}

// reportsError stops a run whose reports could not be written: every
// outcome is in the ledger, and the same command writes them.
func reportsError(err error) error {
	return &fault.FatalError{Err: fault.WithHint(fmt.Errorf("writing the reports: %w", err),
		"every row's outcome is in the ledger: once the report folder is writable (space, permissions), run the same command again; it writes the reports and sends only what was not sent")}
}

// openInput checks the job file and opens it: its format, that it is a regular
// file, its header and kind; for a subscriptions job with promotion codes, the
// whole file is checked before the endpoint is asked for its promotions.
func openInput(ctx context.Context, cfg *Config) (ret *jobfile.File, _ os.FileInfo, _ error) {
	inFormat, err := formats.FormatOf(cfg.Path)
	if err != nil {
		return nil, nil, err // it names the file, and says what a job file is
	}
	if cfg.Format == "" {
		cfg.Format = inFormat
	}
	info, err := os.Stat(cfg.Path)
	var pe *os.PathError
	switch {
	case errors.As(err, &pe):
		err = pe.Err // the message names the file already
	case err == nil && info.IsDir():
		err = errors.New("is a folder, not a job file")
	case err == nil && !info.Mode().IsRegular():
		err = errors.New("is not a regular file (a pipe or a device?)")
	}
	if err != nil {
		return nil, nil, &fault.FileError{File: cfg.Path, Err: err, Fix: "give the path of a .csv or .xlsx job file"}
	}
	pin, info, err := jobfile.Pin(cfg.Path)
	if err != nil {
		return nil, nil, &fault.FileError{File: cfg.Path, Err: err, Fix: "give the path of a .csv or .xlsx job file"}
	}
	j, err := jobfile.OpenPinned(pin, cfg.Path, cfg.Job, formats.Options{Sheet: cfg.Sheet, Password: cfg.XLSXPassword}, cfg.Overrides, cfg.ChunkSize)
	if err != nil {
		pin.Close()
		return nil, nil, err
	}
	defer func() {
		if ret == nil {
			pin.Close()
		}
	}()
	if err = j.LearnAmounts(cfg.DecimalMark); err != nil {
		return nil, nil, err
	}
	if j.Protect, err = formats.Encrypted(cfg.Path); err == nil && j.Protect && cfg.Format != formats.XLSX {
		return nil, nil, &fault.UsageError{Msg: "the job file is password-protected, so its reports must be too: XLSX, not " + string(cfg.Format),
			Fix: "drop --format " + string(cfg.Format)}
	}
	if err != nil {
		return nil, nil, &fault.FileError{File: cfg.Path, Err: err}
	}
	if cfg.Strict && len(j.Unused) > 0 {
		return nil, nil, jobfile.StrictError(cfg.Path, j.Kind, j.Unused)
	}
	if _, has := j.Index["promotion_code"]; has && cfg.API.BaseURL != "" && j.Kind == kind.Subscriptions {
		// Unknown promotion codes are invalid rows, found before anything is
		// sent; a broken file is found before the endpoint is asked.
		if err := j.Scan(0, func(*jobfile.Row) error { return nil }); err != nil {
			return nil, nil, err
		}
		if j.Promotions, err = promotionCodes(ctx, *cfg); err != nil {
			return nil, nil, err
		}
	}
	return j, info, nil
}

// dryRun reads the file once: its reports say planned or invalid. A CSV file
// whose plan is an XLSX report is counted first: one too large for a sheet is
// refused before any of it is written.
func dryRun(cfg Config, j *jobfile.File, s *report.Summary) error {
	counted := false
	if in, _ := formats.FormatOf(cfg.Path); cfg.Format == formats.XLSX && in != formats.XLSX {
		counted = true // a first whole read: the plan's read tells repeats exactly
		rows := 0
		if err := j.Scan(0, func(*jobfile.Row) error { rows++; return nil }); err != nil {
			return err
		}
		if err := reportFits(cfg, rows, true); err != nil {
			return err
		}
	}
	rep, rp, err := finish(cfg, j, nil, nil, 0)
	if err == nil && j.Suspected && !counted {
		// The first read could only suspect repeated values; now they are
		// known, the reports are written again.
		rep.Abort()
		rep, rp, err = finish(cfg, j, nil, nil, 0)
	}
	if err != nil {
		return err
	}
	defer rep.Abort()
	complete(s, sent{calls: rp.planned.calls, chunks: rp.planned.chunks}, rp, cfg.Now(), j.Protect)
	if s.InputSHA256, err = j.Pin.SHA256(context.Background()); err != nil {
		return &fault.FileError{File: cfg.Path, Err: err}
	}
	s.EstimatedSeconds = float64(s.Calls) / cfg.Rate
	s.ReadBeforeCalls = rp.planned.readBefore
	if err := commit(rep, s); err != nil {
		return err
	}
	return report.WriteSummary(s)
}

// nothingToDo writes the reports of a file with no rows: a header each, and
// the summary. No endpoint is asked and no ledger is opened.
func nothingToDo(cfg Config, j *jobfile.File, s *report.Summary) error {
	rep, rp, err := finish(cfg, j, nil, nil, 0)
	if err != nil {
		return reportsError(err)
	}
	defer rep.Abort()
	complete(s, sent{}, rp, cfg.Now(), j.Protect)
	if err := commit(rep, s); err != nil {
		return reportsError(err)
	}
	if err := report.WriteSummary(s); err != nil {
		return reportsError(err)
	}
	cfg.Log.Info("nothing to do: the file has no rows", "job", s.Job, "input", s.Input, "results", s.Reports.Results)
	return nil
}

// planned is what pass 1 found: the rows, the valid ones, the calls they make
// and the fingerprint of what they do.
type planned struct {
	rows, valid int
	calls       int64
	readBefore  int64 // the reads --read-before makes (in calls when it is given)
	chunks      int
	fp          *lineage.Fingerprint
	digest      string // of the rows as read: the job's identity (see rowsDigest)
}

// validatePass is pass 1: the whole file is read and validated before anything
// is sent.
func validatePass(cfg Config, j *jobfile.File) (planned, error) {
	p := planned{fp: &lineage.Fingerprint{}}
	count, flush := callCounter(j, cfg.Concurrency, cfg.ReadBefore, &p)
	digest := lineage.NewRowsDigest(j)
	if err := j.Scan(0, func(r *jobfile.Row) error {
		p.rows++
		digest.Add(r.Rec)
		if r.Err != nil {
			return nil
		}
		p.valid++
		p.fp.Add(r.Item.EKey)
		return count(r.Item)
	}); err != nil {
		return p, err
	}
	if err := flush(); err != nil {
		return p, err
	}
	p.digest = digest.Sum()
	cfg.Log.Debug("validated", "rows", p.rows, "valid", p.valid, "calls", p.calls)
	return p, nil
}

// identify names the job: its rows as read by pass 1, kind, sheet, flags and
// endpoint.
func identify(cfg Config, j *jobfile.File, plan planned, info os.FileInfo) (lineage.Identity, error) {
	var err error
	if err := unchanged(cfg.Path, info); err != nil {
		return lineage.Identity{}, err
	}
	if cfg.StateDir == "" {
		return lineage.Identity{}, &fault.UsageError{Msg: "no state folder for the ledger: pass --state DIR or set CRMBATCH_STATE"}
	}
	if _, err := crm.New(cfg.API); err != nil {
		return lineage.Identity{}, &fault.UsageError{Err: err}
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = cfg.API.BaseURL
	}
	id := lineage.Identity{Endpoint: lineage.CanonicalEndpoint(endpoint), Name: filepath.Base(cfg.Path), Fingerprint: plan.fp}
	if id.Input, err = filepath.Abs(cfg.Path); err != nil {
		id.Input = cfg.Path
	}
	id.Key = lineage.JobKey(plan.digest, j.Kind.Name, cfg.Sheet, cfg.Overrides, id.Endpoint)
	id.Flags = lineage.JobFlags(cfg.lineage())
	id.Reports = report.PathsFor(cfg.Path, cfg.OutDir, cfg.Format, cfg.DryRun)
	for _, p := range []*string{&id.Reports.Results, &id.Reports.Failures, &id.Reports.Summary} {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	return id, nil
}

// openLedger opens the ledger, locks the job and begins its run (see begin).
// release lets the locks go.
func openLedger(ctx context.Context, cfg Config, j *jobfile.File, id lineage.Identity, s *report.Summary, opened *ledgerOpening) (*ledger.Ledger, lineage.History, func(), error) {
	led, err := opened.take(cfg.StateDir)
	if err != nil {
		if fault.HintOf(err) != "" {
			return nil, lineage.History{}, nil, &fault.UsageError{Err: err}
		}
		return nil, lineage.History{}, nil, &fault.UsageError{Err: err, Fix: "--state DIR (or CRMBATCH_STATE) names the folder of crmbatch's ledger"}
	}
	var locks []*ledger.Lock
	release := func() {
		for _, l := range locks {
			l.Release()
		}
	}
	lock := func(name string) error {
		l, err := led.Lock(cfg.StateDir, name)
		if errors.Is(err, ledger.ErrLocked) {
			return &fault.UsageError{Msg: fmt.Sprintf("%s: another crmbatch is running this job (or an edit of its file) now", cfg.Path), Err: ledger.ErrLocked,
				Fix: "wait for it to end; nothing was sent"}
		}
		if err == nil {
			locks = append(locks, l)
		}
		return err
	}
	fail := func(err error) (*ledger.Ledger, lineage.History, func(), error) {
		release()
		led.Close()
		var ue *fault.UsageError
		var fe *fault.FileError
		switch {
		case ctx.Err() != nil:
			err = &fault.FatalError{Err: fmt.Errorf("interrupted before anything was sent: %w", context.Cause(ctx))}
		case errors.As(err, &ue), errors.As(err, &fe):
		default:
			err = &fault.UsageError{Err: err}
		}
		return nil, lineage.History{}, nil, err
	}
	if err := lock(id.Key); err != nil {
		return fail(err)
	}
	h, err := lineage.Place(ctx, cfg.lineage(), led, id, j, s.InputSHA256, s.Start, lock)
	if err != nil {
		return fail(err)
	}
	s.RunID, s.Resumed = h.Run.ID, h.Resumed
	switch {
	case h.Resumed:
		cfg.Log.Warn("resuming a run that stopped", "run_id", h.Run.ID, "started", h.Run.Started.Format(time.RFC3339),
			"rows_done", h.Progress.Done.Len(), "rows_uncertain", len(h.Progress.Uncertain))
	case h.Edits != "":
		cfg.Log.Warn("the file is an edit of an earlier run's file: rows that run applied are skipped", "run_id", h.Run.ID,
			"continues", h.Edits, "rows_done_before", len(h.Earlier.Done), "rows_uncertain", len(h.Earlier.Uncertain))
	default:
		cfg.Log.Info("run started", "run_id", h.Run.ID, "job", j.Kind.Name, "input", cfg.Path, "rows", s.Rows)
	}
	return led, h, release, nil
}

// ledgerOpening is the ledger opened while pass 1 reads the file, or, when
// the state folder has none yet, a new one built meanwhile under a temporary
// name: put in place by take, removed by drop.
type ledgerOpening struct {
	opts     ledger.Options
	done     chan struct{}
	led      *ledger.Ledger
	prepared *ledger.Prepared
	err      error
	taken    bool
}

// openLedgerEarly opens the ledger in dir in the background when it exists,
// and builds one aside when it does not: a run of a broken file leaves no
// ledger.
func openLedgerEarly(dir string, opts ledger.Options) *ledgerOpening {
	o := &ledgerOpening{opts: opts, done: make(chan struct{})}
	if dir == "" {
		close(o.done) // take says what is wrong
		return o
	}
	_, err := os.Stat(filepath.Join(dir, ledger.FileName))
	go func() {
		defer close(o.done)
		switch {
		case err == nil:
			o.led, o.err = ledger.OpenOptions(dir, opts)
		case errors.Is(err, fs.ErrNotExist):
			// Left for take to build and say what is wrong when it fails.
			o.prepared, _ = ledger.Prepare(dir, opts)
		}
	}()
	return o
}

// take returns the ledger, opened now if it was not before; the caller
// closes it.
func (o *ledgerOpening) take(dir string) (*ledger.Ledger, error) {
	<-o.done
	o.taken = true
	switch {
	case o.prepared != nil:
		return o.prepared.Open()
	case o.led == nil && o.err == nil:
		return ledger.OpenOptions(dir, o.opts)
	}
	return o.led, o.err
}

// drop closes the ledger, or removes the one built aside, when the run ended
// before taking it.
func (o *ledgerOpening) drop() {
	<-o.done
	switch {
	case o.taken:
	case o.led != nil:
		o.led.Close()
	case o.prepared != nil:
		o.prepared.Discard()
	}
}

// prefixSHA256 hashes the first size bytes of the file at path (all of it
// when size < 0; an error when it is shorter); it stops when ctx is done.
func prefixSHA256(ctx context.Context, path string, size int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var r io.Reader = f
	if size >= 0 {
		r = io.LimitReader(f, size)
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		m, err := r.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			if size >= 0 && n < size {
				return "", io.ErrUnexpectedEOF
			}
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// changedWhileRead is the refusal of a file that changed while pass 1 read it.
func changedWhileRead(path string) error {
	return &fault.FileError{File: path, Msg: "the file changed while crmbatch was reading it", Fix: "let the file be written completely before running it (write to a temporary name, then rename); nothing was sent"}
}

// unchanged checks that the job file is still the one that was validated: the
// file is read again for each pass, and a file rewritten under a running job
// must not have unvalidated rows sent.
func unchanged(path string, was os.FileInfo) error {
	now, err := os.Stat(path)
	if err == nil && (now.Size() != was.Size() || !now.ModTime().Equal(was.ModTime())) {
		err = errors.New("the file changed while crmbatch was reading it")
	}
	if err != nil {
		return &fault.FileError{File: path, Err: err, Fix: "let the file be written completely before running it (write to a temporary name, then rename)"}
	}
	return nil
}

// changedUnder says how the job file changed while its rows were sent, or nil.
// Only the rows first validated were sent; the reports say what came of them.
func changedUnder(path string, was os.FileInfo, sum string) error {
	now, err := os.Stat(path)
	if err == nil && now.Size() == was.Size() && now.ModTime().Equal(was.ModTime()) {
		return nil
	}
	what := "was removed"
	if err == nil {
		what = fmt.Sprintf("changed (%d bytes, now %d)", was.Size(), now.Size())
		if appended(path, was.Size(), sum) {
			what = fmt.Sprintf("grew from %d to %d bytes", was.Size(), now.Size())
		}
	}
	return fault.WithHint(fmt.Errorf("%s %s while crmbatch was running it: the rows first read were sent and are in the reports; rows added since were not sent", path, what),
		"let the file be written completely (write to a temporary name, then rename), then run it again: rows done are skipped")
}

// appended reports whether the file still begins with the size bytes whose
// sha256 is sum: rows were only added at its end.
func appended(path string, size int64, sum string) bool {
	got, err := prefixSHA256(context.Background(), path, size)
	return err == nil && got == sum
}
