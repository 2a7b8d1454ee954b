package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/ledger"
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
	Retries     int           // attempts per call, the first included
	Rate        float64       // requests per second, every attempt and login included
	Backoff     time.Duration // base of the exponential backoff; 0 = 250ms

	API      crm.Config // the endpoint; its Wait is set by Run
	Endpoint string     // names the installation in the job's identity; "" = API.BaseURL
	StateDir string     // where the ledger lives
	DryRun   bool       // validate and plan only
	Fresh    bool       // start over instead of resuming an unfinished run of the same job
	Rerun    bool       // run a job that already ran to the end again
	Force    bool       // send charges that an earlier run already acknowledged or accepted

	Log      *slog.Logger
	Progress Progress
	Now      func() time.Time
}

// Summary is the outcome of a run, also written as X.summary.json.
type Summary struct {
	RunID            string         `json:"run_id,omitempty"`
	Input            string         `json:"input"`
	InputSHA256      string         `json:"input_sha256"`
	Job              string         `json:"job"`
	DryRun           bool           `json:"dry_run,omitempty"`
	Rows             int            `json:"rows"`
	Counts           map[Status]int `json:"counts"`
	ErrorCodes       map[string]int `json:"error_codes"`
	Chunks           int            `json:"chunks"`
	Calls            int64          `json:"calls"`
	Retries          int64          `json:"retries"`
	Throttled        int64          `json:"throttled"`
	EstimatedSeconds float64        `json:"estimated_seconds,omitempty"`
	Start            time.Time      `json:"start"`
	End              time.Time      `json:"end"`
	DurationSeconds  float64        `json:"duration_seconds"`
	SendSeconds      float64        `json:"send_seconds"` // from the login to the last outcome
	Stopped          string         `json:"stopped,omitempty"`
	Resumed          bool           `json:"resumed,omitempty"`        // this run went on with one that had stopped
	FirstProblems    []string       `json:"first_problems,omitempty"` // the first failed or invalid rows, for the log
	Totals           []Total        `json:"totals,omitempty"`         // a charges job's control totals per status and currency
	Reports          Reports        `json:"reports"`
}

// Reports are the paths of a run's report files.
type Reports struct {
	Results  string `json:"results"`
	Failures string `json:"failures"`
	Summary  string `json:"summary"`
}

// Problems is the number of rows that failed or were invalid.
func (s *Summary) Problems() int { return s.Counts[StatusFailed] + s.Counts[StatusInvalid] }

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
		return &UsageError{Msg: "--concurrency must be at least 1"}
	case c.Retries < 1:
		return &UsageError{Msg: "--retries must be at least 1 (the first attempt counts)"}
	case c.Rate <= 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return &UsageError{Msg: "--rate must be a positive number of requests per second"}
	case c.ChunkSize < 0:
		return &UsageError{Msg: "--chunk-size must be positive"}
	}
	return nil
}

// Validate reads, validates and plans a job file, sends nothing, and writes the
// reports with every row planned or invalid.
func Validate(ctx context.Context, cfg Config) (*Summary, error) {
	cfg.DryRun = true
	return Run(ctx, cfg)
}

// Run runs a job file: it validates the whole file first (a broken file sends
// nothing), then sends its chunks concurrently under the rate limit, records every
// outcome in the ledger, and writes the reports. The error is a *UsageError,
// *FileError or *formats.InputError when nothing was sent, and a *FatalError when
// the run could not finish; rows that failed are counted in the summary instead.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	start := cfg.Now()
	inFormat, err := formats.FormatOf(cfg.Path)
	if err != nil {
		return nil, &FileError{File: cfg.Path, Msg: err.Error(), Hint: "job files are .csv or .xlsx"}
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
		return nil, &FileError{File: cfg.Path, Msg: err.Error(), Hint: "give the path of a .csv or .xlsx job file"}
	}
	j, err := openJob(cfg.Path, cfg.Job, formats.Options{Sheet: cfg.Sheet}, cfg.Overrides, cfg.ChunkSize)
	if err != nil {
		return nil, err
	}
	if _, has := j.index["promotion_code"]; has && cfg.API.BaseURL != "" && j.kind == Subscriptions {
		// Unknown promotion codes are invalid rows, found before anything is
		// sent; a broken file is found before the endpoint is asked.
		if err := j.scan(func(row) error { return nil }); err != nil {
			return nil, err
		}
		if j.promotions, err = promotionCodes(ctx, cfg); err != nil {
			return nil, err
		}
	}
	s := &Summary{Input: cfg.Path, Job: j.kind.Name, DryRun: cfg.DryRun, Start: start,
		Counts: map[Status]int{}, ErrorCodes: map[string]int{}}
	s.Reports = reportPaths(cfg)
	if err := os.MkdirAll(filepath.Dir(s.Reports.Results), 0o700); err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("--out: %v", err)}
	}

	// A dry run reads the file once: its reports say planned or invalid.
	if cfg.DryRun {
		if err := finish(cfg, j, s, nil, ""); err != nil {
			return nil, err
		}
		if s.InputSHA256, err = fileSHA256(cfg.Path); err != nil {
			return nil, &FileError{File: cfg.Path, Msg: err.Error()}
		}
		s.EstimatedSeconds = float64(s.Calls) / cfg.Rate
		return s, writeSummary(s)
	}

	// Pass 1: the whole file is read and validated before anything is sent.
	valid := 0
	plan := newPlanner(j.chunkSize, j.kind.Sequential, 1024, newLanes(), s.countChunk(j.kind))
	if err := j.scan(func(r row) error {
		s.Rows++
		if r.err == nil {
			valid++
			return plan.add(r.item)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := plan.flush(); err != nil {
		return nil, err
	}
	cfg.Log.Debug("validated", "rows", s.Rows, "valid", valid, "calls", s.Calls, "seconds", cfg.Now().Sub(start).Seconds())
	// The job's identity is its content, hashed once the file is known to be
	// good (a broken file fails fast, without a read of all of it first).
	if s.InputSHA256, err = fileSHA256(cfg.Path); err != nil {
		return nil, &FileError{File: cfg.Path, Msg: err.Error()}
	}
	if err := unchanged(cfg.Path, info); err != nil {
		return nil, err
	}
	sum := s.InputSHA256
	if ctx.Err() != nil {
		return nil, &FatalError{Err: fmt.Errorf("interrupted before anything was sent: %w", context.Cause(ctx))}
	}
	if cfg.StateDir == "" {
		return nil, &UsageError{Msg: "no state folder for the ledger: pass --state DIR or set CRMBATCH_STATE"}
	}
	if _, err := crm.New(cfg.API); err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	led, err := ledger.Open(cfg.StateDir)
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("%v\nhint: --state DIR (or CRMBATCH_STATE) names a folder crmbatch can write", err)}
	}
	defer led.Close()
	key := jobKey(sum, j, cfg)
	lock, err := led.Lock(cfg.StateDir, key)
	if errors.Is(err, ledger.ErrLocked) {
		return nil, &UsageError{Msg: fmt.Sprintf("%s: another crmbatch is running this job now\nhint: wait for it to end; nothing was sent", cfg.Path)}
	}
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	defer lock.Release()
	run, progress, err := startOrResume(ctx, cfg, led, key, j, sum, start, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &FatalError{Err: fmt.Errorf("interrupted before anything was sent: %w", context.Cause(ctx))}
		}
		return nil, err
	}
	s.RunID = run.ID
	s.Calls, s.Chunks = 0, 0
	if s.Resumed {
		cfg.Log.Warn("resuming a run that stopped", "run_id", run.ID, "started", run.Started.Format(time.RFC3339),
			"rows_done", len(progress.Done), "rows_uncertain", len(progress.Uncertain))
	} else {
		cfg.Log.Info("run started", "run_id", run.ID, "job", j.kind.Name, "input", cfg.Path, "rows", s.Rows, "valid", valid)
	}
	if err := unchanged(cfg.Path, info); err != nil {
		return nil, err
	}
	runErr := execute(ctx, cfg, j, led, run.ID, valid, progress, s)
	stopped := ""
	if runErr != nil {
		stopped = runErr.Error()
	}
	sent := cfg.Now()
	cfg.Log.Debug("calls done", "calls", s.Calls, "seconds", sent.Sub(start).Seconds())
	// From here on, something was sent: every error stops the run (exit 3), and
	// what was done is in the ledger.
	if err := unchanged(cfg.Path, info); err != nil {
		return nil, &FatalError{Err: fmt.Errorf("no reports written: %w", err)}
	}
	if err := finish(cfg, j, s, led, stopped); err != nil {
		return nil, &FatalError{Err: fmt.Errorf("writing the reports: %w", err)}
	}
	if err := writeSummary(s); err != nil {
		return nil, &FatalError{Err: fmt.Errorf("writing the reports: %w", err)}
	}
	cfg.Log.Debug("reports written", "seconds", cfg.Now().Sub(sent).Seconds())
	cfg.Log.Info("run finished", "run_id", s.RunID, "job", s.Job, "input", s.Input, "rows", s.Rows,
		"ok", s.Counts[StatusOK], "failed", s.Counts[StatusFailed], "invalid", s.Counts[StatusInvalid],
		"skipped", s.Counts[StatusSkipped], "calls", s.Calls, "retries", s.Retries, "throttled", s.Throttled,
		"duration_seconds", s.DurationSeconds, "stopped", s.Stopped, "results", s.Reports.Results)
	if runErr != nil {
		return s, runErr // not finished: the same command resumes it
	}
	b, err := json.Marshal(s)
	if err == nil {
		err = led.FinishRun(context.WithoutCancel(ctx), run.ID, s.End, b)
	}
	if err != nil {
		return s, &FatalError{Err: err}
	}
	return s, nil
}

// execute is pass 2: rows are read again, planned into chunks as they come, and
// the chunks run under errgroup with at most Concurrency in flight.
func execute(parent context.Context, cfg Config, j *job, led *ledger.Ledger, runID string, valid int, progress ledger.Progress, s *Summary) error {
	ctx, stop := context.WithCancel(parent)
	defer stop()
	loginStart := cfg.Now()
	x, err := login(ctx, cfg)
	if err != nil {
		return err
	}
	x.runID, x.stop = runID, stop
	x.intend = func(items []Item) error {
		seqs := make([]int, len(items))
		for i, it := range items {
			seqs[i] = it.Seq
		}
		return led.Intend(context.WithoutCancel(parent), runID, seqs)
	}
	cfg.Progress.Begin(valid - len(progress.Done))
	defer cfg.Progress.End()
	sendStart := loginStart
	defer func() { s.SendSeconds = cfg.Now().Sub(sendStart).Seconds() }()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	journal := led.NewWriter(runID)
	record := func(items []Item, res []result) error {
		outs := make([]ledger.Outcome, 0, len(items))
		now := cfg.Now()
		for i, it := range items {
			r := res[i]
			if r.Status == "" || (r.Attempts == 0 && r.Status == StatusFailed && gctx.Err() != nil) {
				continue // not done: the report says NOT_SENT and a resume does it
			}
			o := ledger.Outcome{Seq: it.Seq, Row: it.Row, Status: string(r.Status), Code: r.Code,
				Message: r.Message, Attempts: r.Attempts, Outputs: r.Outputs, Recorded: now}
			if j.kind.doneKey != nil && r.Status == StatusOK {
				o.Kind, o.Action = j.kind.Name, it.Action
				o.Key, o.Detail = j.kind.doneKey(it)
			}
			outs = append(outs, o)
		}
		// A sequential kind's outcome is durable before the next row of its lane
		// is intended, so after a crash at most one row per lane is uncertain and
		// reading its subscription back tells what came of it.
		add := journal.Add
		if j.kind.Sequential {
			add = func(outs []ledger.Outcome) error { return led.Record(context.WithoutCancel(gctx), runID, outs) }
		}
		if err := add(outs); err != nil {
			x.fail(err)
			return err
		}
		cfg.Progress.Advance(len(outs))
		return nil
	}
	ln := newLanes()
	plan := newPlanner(j.chunkSize, j.kind.Sequential, 4*cfg.Concurrency+16, ln, func(c *chunk) error {
		if gctx.Err() != nil {
			for _, t := range c.tickets {
				ln.leave(t)
			}
			return gctx.Err()
		}
		g.Go(func() error { return runChunk(gctx, x, j.kind, ln, c, record) })
		return nil
	})
	feedErr := j.scan(func(r row) error {
		if r.err != nil || progress.Done[r.seq] {
			return nil // invalid, or done before the run stopped
		}
		r.item.Uncertain = progress.Uncertain[r.seq]
		if skip, err := doneBefore(gctx, cfg, j, led, runID, r.item); err != nil || skip != nil {
			if err != nil {
				return err
			}
			return record([]Item{r.item}, []result{*skip})
		}
		return plan.add(r.item)
	})
	if feedErr == nil {
		feedErr = plan.flush()
	}
	waitErr := g.Wait()
	if err := journal.Close(); err != nil {
		x.fail(err)
	}
	s.Calls, s.Retries, s.Throttled = x.calls.Load(), x.retried.Load(), x.throttled.Load()
	switch {
	case x.fatal != nil:
		return x.fatal
	case parent.Err() != nil:
		return &FatalError{Err: fmt.Errorf("interrupted: %w", context.Cause(parent))}
	case feedErr != nil && !errors.Is(feedErr, context.Canceled):
		return &FatalError{Err: feedErr}
	case waitErr != nil && !errors.Is(waitErr, context.Canceled):
		return &FatalError{Err: waitErr}
	}
	return nil
}

// runChunk runs one chunk: a sequential kind one row at a time, each after the
// earlier rows of its lane; other kinds as one call after the lane's earlier calls.
func runChunk(ctx context.Context, x *executor, k *Kind, ln *lanes, c *chunk, record func([]Item, []result) error) error {
	defer func() {
		for _, t := range c.tickets {
			ln.leave(t)
		}
	}()
	if !k.Sequential {
		if len(c.tickets) > 0 {
			if err := c.tickets[0].wait(ctx); err != nil {
				return nil // stopping: the chunk is not sent
			}
		}
		if err := x.intend(c.items); err != nil {
			x.fail(err)
			return err
		}
		return record(c.items, x.send(ctx, k, c.items))
	}
	for i, it := range c.items {
		if err := c.tickets[i].wait(ctx); err != nil {
			return nil
		}
		if err := x.intend(c.items[i : i+1]); err != nil {
			x.fail(err)
			return err
		}
		res := x.send(ctx, k, c.items[i:i+1])
		ln.leave(c.tickets[i])
		c.tickets[i] = ticket{}
		if err := record([]Item{it}, res); err != nil {
			return err
		}
	}
	return nil
}

// startOrResume begins the run: it goes on with an unfinished run of the same
// job (unless --fresh), refuses a job that already ran to the end (unless
// --rerun), or starts a new run.
func startOrResume(ctx context.Context, cfg Config, led *ledger.Ledger, key string, j *job, sum string, start time.Time, s *Summary) (ledger.Run, ledger.Progress, error) {
	prev, found, err := led.LatestRun(ctx, key)
	if err != nil {
		return prev, ledger.Progress{}, err
	}
	switch {
	case found && !prev.Finished.IsZero() && !cfg.Rerun:
		var was Summary
		_ = json.Unmarshal(prev.Summary, &was)
		return prev, ledger.Progress{}, &FileError{File: cfg.Path,
			Msg: fmt.Sprintf("this job already ran to the end on %s (run %s); its reports: %s, %s",
				prev.Finished.Local().Format("2006-01-02 15:04:05"), prev.ID, was.Reports.Results, was.Reports.Failures),
			Hint: "nothing was sent; to send it all again, pass --rerun (or run the failures report to retry only the failed rows)"}
	case found && prev.Finished.IsZero() && !cfg.Fresh:
		p, err := led.RunProgress(ctx, prev.ID)
		s.Resumed = true
		return prev, p, err
	}
	run, err := led.StartRun(ctx, ledger.Run{JobKey: key, Job: j.kind.Name, Input: cfg.Path, InputSHA256: sum, Started: start})
	return run, ledger.Progress{}, err
}

// doneBefore returns a skipped result for a row whose entity (a charge) an
// earlier run already did, unless --force.
func doneBefore(ctx context.Context, cfg Config, j *job, led *ledger.Ledger, runID string, it Item) (*result, error) {
	if j.kind.doneKey == nil || cfg.Force {
		return nil, nil
	}
	key, _ := j.kind.doneKey(it)
	d, found, err := led.Done(ctx, j.kind.Name, key)
	if err != nil || !found || d.RunID == runID {
		return nil, err
	}
	msg := fmt.Sprintf("%s already by run %s on %s", Past(d.Action), d.RunID, d.Recorded.Local().Format("2006-01-02 15:04:05"))
	if d.Detail != "" {
		msg += " with reference " + d.Detail
	}
	return &result{Status: StatusSkipped, Code: "ALREADY_DONE", Message: msg + "; pass --force to send it again"}, nil
}

// Past is how a report says an action was done: acknowledged, accepted.
func Past(action string) string {
	switch action {
	case ActionAcknowledge:
		return "acknowledged"
	case ActionAccept:
		return "accepted"
	}
	return action + " done"
}

// jobKey identifies "the same job" across runs: the input's content, the kind and
// the options that change what is sent.
func jobKey(inputSHA string, j *job, cfg Config) string {
	h := sha256.New()
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = cfg.API.BaseURL
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s", inputSHA, j.kind.Name, cfg.Sheet, j.chunkSize, endpoint)
	keys := make([]string, 0, len(cfg.Overrides))
	for k := range cfg.Overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, cfg.Overrides[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
		return &FileError{File: path, Msg: err.Error(), Hint: "let the file be written completely before running it (write to a temporary name, then rename)"}
	}
	return nil
}

// reportPaths names the reports of X.csv: X.results.csv, X.failures.csv and
// X.summary.json in the output folder.
func reportPaths(cfg Config) Reports {
	dir := cfg.OutDir
	if dir == "" {
		dir = filepath.Dir(cfg.Path)
	}
	base := strings.TrimSuffix(filepath.Base(cfg.Path), filepath.Ext(cfg.Path))
	ext := "." + string(cfg.Format)
	return Reports{
		Results:  filepath.Join(dir, base+".results"+ext),
		Failures: filepath.Join(dir, base+".failures"+ext),
		Summary:  filepath.Join(dir, base+".summary.json"),
	}
}

// finish is pass 3: every input row, in input order, with its status: invalid
// from validation, the ledger's outcome for the rows sent, and "failed" with
// NOT_SENT for valid rows a stopped run never sent. Then the summary.
func finish(cfg Config, j *job, s *Summary, led *ledger.Ledger, stopped string) error {
	header := []string{}
	var keep []int
	for i, h := range j.header {
		n := formats.NormalizeHeader(h)
		if contains(reportColumns, n) || contains(j.kind.Outputs, n) {
			continue
		}
		header = append(header, h)
		keep = append(keep, i)
	}
	header = append(header, reportColumns...)
	header = append(header, j.kind.Outputs...)
	results, err := formats.CreateReport(s.Reports.Results, cfg.Format, header)
	if err != nil {
		return err
	}
	defer results.Abort()
	failures, err := formats.CreateReport(s.Reports.Failures, cfg.Format, header)
	if err != nil {
		return err
	}
	defer failures.Abort()

	var cur *ledger.Cursor
	if led != nil {
		if cur, err = led.Outcomes(context.Background(), s.RunID); err != nil {
			return err
		}
		defer cur.Close()
	}
	next, more := ledger.Outcome{Seq: -1}, cur != nil
	if more {
		next, more = cur.Next()
	}
	s.Counts = map[Status]int{}
	s.ErrorCodes = map[string]int{}
	s.Rows = 0
	s.FirstProblems = nil
	tot := newTotals(j)
	var plan *planner
	if cfg.DryRun {
		plan = newPlanner(j.chunkSize, j.kind.Sequential, 1024, newLanes(), s.countChunk(j.kind))
	}
	line := make([]string, len(header))
	err = j.scan(func(r row) error {
		s.Rows++
		for more && next.Seq < r.seq {
			next, more = cur.Next()
		}
		o := ledger.Outcome{Row: r.rec.Row}
		switch {
		case r.err != nil:
			o.Status, o.Code, o.Message = string(StatusInvalid), r.err.Code, r.err.Error()
		case cfg.DryRun:
			o.Status = string(StatusPlanned)
			if err := plan.add(r.item); err != nil {
				return err
			}
		case more && next.Seq == r.seq:
			o = next
		default:
			o.Status, o.Code = string(StatusFailed), "NOT_SENT"
			o.Message = "the run stopped before this row was done; run the same command again to resume"
		}
		st := Status(o.Status)
		s.Counts[st]++
		if tot != nil {
			tot.add(r.rec.Fields, st)
		}
		if o.Code != "" {
			s.ErrorCodes[o.Code]++
		}
		line = line[:0]
		for _, i := range keep {
			line = append(line, r.rec.Fields[i])
		}
		line = append(line, strconv.Itoa(r.rec.Row), o.Status, o.Code, o.Message, strconv.Itoa(o.Attempts))
		for _, c := range j.kind.Outputs {
			line = append(line, o.Outputs[c])
		}
		style := formats.Plain
		if st == StatusFailed || st == StatusInvalid {
			style = formats.Tinted
			if len(s.FirstProblems) < maxFirstProblems {
				s.FirstProblems = append(s.FirstProblems, problemLine(j, r.rec, o))
			}
			if err := failures.WriteRow(line, style); err != nil {
				return err
			}
		}
		return results.WriteRow(line, style)
	})
	if err != nil {
		return err
	}
	if cur != nil {
		if err := cur.Err(); err != nil {
			return err
		}
	}
	if plan != nil {
		if err := plan.flush(); err != nil {
			return err
		}
	}
	s.End = cfg.Now()
	s.DurationSeconds = s.End.Sub(s.Start).Seconds()
	s.Stopped = stopped
	s.Totals = tot.list()
	sheet := summarySheet(s)
	for _, w := range []formats.ReportWriter{results, failures} {
		if err := w.AddSheet("Summary", sheet); err != nil {
			return err
		}
		if err := w.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// countChunk counts the chunks and calls of a plan.
func (s *Summary) countChunk(k *Kind) func(c *chunk) error {
	return func(c *chunk) error {
		s.Chunks++
		if k.Sequential {
			s.Calls += int64(len(c.items))
		} else {
			s.Calls++
		}
		return nil
	}
}

const maxFirstProblems = 10

// problemLine says where a failed or invalid row is and why, as a log line:
// "jobs.xlsx: sheet Charges: row 14, column esn: ..." .
func problemLine(j *job, rec formats.Record, o ledger.Outcome) string {
	where := j.path + ": "
	if rec.Sheet != "" {
		where += "sheet " + rec.Sheet + ": "
	}
	where += "row " + strconv.Itoa(rec.Row) + ", "
	msg := o.Message
	if o.Code != "" && !strings.HasPrefix(msg, "column ") {
		msg = o.Code + ": " + msg
	}
	return where + msg
}

// countRows are Summary sheet lines of counts, sorted by what they count.
func countRows(prefix string, counts map[string]int) [][]string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{prefix + k, strconv.Itoa(counts[k])}
	}
	return rows
}

func summarySheet(s *Summary) [][]string {
	rows := [][]string{{"what", "value"},
		{"run_id", s.RunID}, {"input", s.Input}, {"input_sha256", s.InputSHA256}, {"job", s.Job},
		{"rows", strconv.Itoa(s.Rows)}}
	for _, st := range []Status{StatusOK, StatusFailed, StatusInvalid, StatusSkipped, StatusPlanned} {
		if n, ok := s.Counts[st]; ok {
			rows = append(rows, []string{"status " + string(st), strconv.Itoa(n)})
		}
	}
	rows = append(rows, countRows("error_code ", s.ErrorCodes)...)
	rows = append(rows, totalRows(s.Totals)...)
	rows = append(rows, []string{"calls", strconv.FormatInt(s.Calls, 10)}, []string{"retries", strconv.FormatInt(s.Retries, 10)},
		[]string{"throttled", strconv.FormatInt(s.Throttled, 10)},
		[]string{"start", s.Start.Format(time.RFC3339)}, []string{"end", s.End.Format(time.RFC3339)},
		[]string{"duration_seconds", strconv.FormatFloat(s.DurationSeconds, 'f', 3, 64)},
		[]string{"send_seconds", strconv.FormatFloat(s.SendSeconds, 'f', 3, 64)})
	return rows
}

// writeSummary writes X.summary.json through a temporary file and a rename.
func writeSummary(s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.Reports.Summary), ".crmbatch-summary-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.Reports.Summary)
}
