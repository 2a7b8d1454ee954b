package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/sandbox"
)

// Main runs the command line on the streams ios and returns the exit code.
func Main(args []string, getenv func(string) string, ios *IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the run winds down; a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	a := &app{io: ios, getenv: getenv, stderr: ios.ErrOut}
	err := a.dispatch(ctx, args)
	code := exitCode(err)
	a.report(err, code)
	return code
}

// The password of a protected XLSX job file, from the environment or a file:
// never a flag, which would show in ps and the shell's history.
const (
	envXLSXPassword     = "CRMBATCH_XLSX_PASSWORD"
	envXLSXPasswordFile = "CRMBATCH_XLSX_PASSWORD_FILE"
)

// runOptions are the flags of run and validate, and those of the commands
// that only ask the endpoint.
type runOptions struct {
	job, action, groupID, groupName, groupCode string
	groupAltCode                               string
	sheet, out, format                         string
	rate                                       float64
	concurrency, chunkSize, attempts           int
	timeout                                    time.Duration
	dryRun, fresh, rerun, skipDone, force      bool
	strict, readBefore                         bool
	newLedger                                  bool
	maxWait                                    time.Duration
	state                                      string
	logFormat                                  string
	quiet, noProgress                          bool
	endpoint                                   string
	useSandbox, insecureHTTP                   bool
	caFile                                     string
	watch                                      string
	once                                       bool
	settle                                     time.Duration
}

// runOnly are the flags of run that mean nothing to validate: validate
// accepts them, so that a run's command line validates as it is, but its help
// does not show them.
var runOnly = []string{"concurrency", "dry-run", "state", "fresh", "rerun", "force", "no-progress", "new-ledger", "max-wait"}

func runCommand(validate bool) *command {
	c := &command{
		name: "run", args: "FILE", more: []string{"run [flags] --watch DIR [--once]"},
		summary: "run a job file",
		about: `Runs a job file: reads and validates all of it first (a broken file sends
nothing), sends its rows in chunks under the rate limit, and writes what
happened to every row in FILE's folder (or --out): X.results, X.failures and
X.summary.json. A run that stopped resumes when run again.

With --watch, runs every .csv or .xlsx dropped into DIR once it has settled,
then moves it with its reports into a folder of its own in DIR/processed or
DIR/failed (with NAME.reason.txt saying why).`,
	}
	if validate {
		c.name, c.more, c.hidden = "validate", nil, runOnly
		c.summary = "parse, validate and plan; send nothing"
		c.about = `Reads, validates and plans a job file and sends nothing: every bad row with
its row and column, the calls a run would make and how long they would take
at --rate. With an endpoint (--endpoint, CRMBATCH_ENDPOINT or --sandbox) it
also checks what only the endpoint knows, such as promotion codes.`
	}
	c.define = func(a *app, fs *flag.FlagSet) runFunc {
		o := &runOptions{}
		o.register(fs, c.name)
		return func(ctx context.Context, args []string) error { return a.runJob(ctx, o, args, validate) }
	}
	return c
}

func (o *runOptions) register(fs *flag.FlagSet, name string) {
	fs.StringVar(&o.job, "job", "", "job kind: "+strings.Join(batch.KindNames(), ", ")+" (default: from the header)")
	fs.StringVar(&o.action, "action", "", "set the action column of every row")
	fs.StringVar(&o.groupID, "group-id", "", "devices: set group_id of every row")
	fs.StringVar(&o.groupName, "group-name", "", "devices: set group_name of every row (the group's name, which the API calls its code)")
	fs.StringVar(&o.groupAltCode, "group-alternative-code", "", "devices: set group_alternative_code of every row")
	fs.StringVar(&o.groupCode, "group-code", "", "refused: the group has two codes; use --group-name or --group-alternative-code")
	fs.StringVar(&o.sheet, "sheet", "", "XLSX sheet to read (default: the first)")
	fs.StringVar(&o.out, "out", "", "folder for the reports (default: the input's folder)")
	fs.StringVar(&o.format, "format", "", "report format csv|xlsx (default: the input's)")
	fs.Float64Var(&o.rate, "rate", 10, "requests per second, retries and logins included")
	fs.IntVar(&o.concurrency, "concurrency", 4, "calls in flight at once")
	fs.IntVar(&o.chunkSize, "chunk-size", 0, "rows per call (default and maximum: the kind's limit)")
	o.connFlags(fs)
	fs.BoolVar(&o.dryRun, "dry-run", false, "validate and plan only (= crmbatch validate)")
	fs.StringVar(&o.state, "state", "", "folder of the ledger (default: CRMBATCH_STATE or a per-user state folder)")
	fs.BoolVar(&o.fresh, "fresh", false, "start over instead of resuming an unfinished run of the same job (or abandon an unfinished run of the file under other flags, keeping its reports aside)")
	fs.BoolVar(&o.newLedger, "new-ledger", false, "start a new ledger in a state folder whose ledger is gone (the new one knows nothing of what earlier runs sent)")
	fs.DurationVar(&o.maxWait, "max-wait", 5*time.Minute, "the longest Retry-After the run waits out; a longer one stops it (exit 3) saying when to come back")
	fs.BoolVar(&o.rerun, "rerun", false, "run a job file that already completed again")
	fs.BoolVar(&o.skipDone, "skip-done", false, "after a finished run of this file (or of the file it is an edit of), send only the rows it did not apply")
	fs.BoolVar(&o.force, "force", false, "send charges that an earlier run already acknowledged")
	fs.StringVar(&o.logFormat, "log-format", "text", "how stderr logs: text, or json (JSON lines only, errors included)")
	fs.BoolVar(&o.quiet, "quiet", false, "log warnings and errors only")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress bar or progress lines")
	fs.BoolVar(&o.strict, "strict", false, "refuse a file with columns the job does not read (a misnamed column), sending nothing")
	fs.BoolVar(&o.readBefore, "read-before", false, "subscriptions: read each customer's subscription before its first row (one call a customer), so that a lost answer on that row can be proven too (default: read back only after a lost answer)")
	if name == "run" {
		fs.StringVar(&o.watch, "watch", "", "run every job file dropped into DIR (which must exist), then move it with its reports into DIR/processed or DIR/failed")
		fs.BoolVar(&o.once, "once", false, "with --watch: scan the folder once and exit (for cron)")
		fs.DurationVar(&o.settle, "settle", 10*time.Second, "with --watch: a file is run once it has not changed for this long")
	}
}

// connFlags registers the flags of every command that asks the endpoint.
func (o *runOptions) connFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.endpoint, "endpoint", "", "CRM.COM Web API base URL, e.g. https://crm.example.com/crmapi/rest/v2/ (or CRMBATCH_ENDPOINT)")
	fs.BoolVar(&o.useSandbox, "sandbox", false, "run against the embedded CRM.COM emulator (no credentials)")
	fs.BoolVar(&o.insecureHTTP, "insecure-http", false, "allow a plain http:// endpoint that is not on this machine")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM file of a private certificate authority to trust besides the system's")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.IntVar(&o.attempts, "attempts", 5, "attempts per call, the first included (1 = no retry)")
	fs.IntVar(&o.attempts, "retries", 5, "the former name of --attempts: attempts per call, the first included")
	if fs.Lookup("rate") == nil {
		fs.Float64Var(&o.rate, "rate", 10, "requests per second")
	}
}

// newLogger logs to w in text or JSON; CRMBATCH_DEBUG=1 adds one line per call.
// On a terminal, text logs keep to warnings: the progress bar and the summary
// say the rest, and the info lines are for log files.
func newLogger(w io.Writer, format string, quiet, terminal bool, getenv func(string) string) *slog.Logger {
	level := slog.LevelInfo
	if format == "text" && terminal {
		level = slog.LevelWarn
	}
	if getenv("CRMBATCH_DEBUG") != "" {
		level = slog.LevelDebug
	}
	if quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// warn tells the user of something that does not stop the command.
func (a *app) warn(msg string) {
	if a.json && a.log != nil {
		a.log.Warn(msg)
		return
	}
	fmt.Fprintf(a.stderr, "crmbatch: warning: %s\n", msg)
}

// runJob is run and validate.
func (a *app) runJob(ctx context.Context, o *runOptions, args []string, validate bool) error {
	name := "run"
	if validate {
		name = "validate"
	}
	usage := fmt.Sprintf("crmbatch %s [flags] FILE", name)
	switch {
	case o.watch != "" && len(args) != 0:
		return &usageError{msg: fmt.Sprintf("--watch takes a folder, not a job file (got %s)", strings.Join(args, " ")), hint: "crmbatch run [flags] --watch DIR [--once]"}
	case o.watch == "" && len(args) == 0:
		return &usageError{msg: name + " needs a job file", hint: usage}
	case o.watch == "" && len(args) > 1:
		return &usageError{msg: fmt.Sprintf("%s takes one job file, got %d arguments: %s", name, len(args), strings.Join(args, " ")), hint: usage}
	case o.logFormat != "text" && o.logFormat != "json":
		return &usageError{msg: fmt.Sprintf("--log-format %q: text or json", o.logFormat)}
	case o.timeout <= 0:
		return &usageError{msg: "--timeout must be positive, e.g. 30s"}
	case o.maxWait <= 0:
		return &usageError{msg: "--max-wait must be positive, e.g. 5m"}
	case o.attempts < 1:
		return &usageError{msg: "--attempts (or --retries) must be at least 1: the first attempt counts (1 = no retry)"}
	case o.format != "" && o.format != "csv" && o.format != "xlsx":
		return &usageError{msg: fmt.Sprintf("--format %q: csv or xlsx", o.format)}
	case o.watch != "" && o.out != "":
		return &usageError{msg: "--watch puts the reports beside each file in processed/ or failed/: drop --out"}
	}
	dryRun := validate || o.dryRun
	a.json = o.logFormat == "json"
	progress := !dryRun && !o.noProgress && !o.quiet
	var bar *batch.Bar
	if progress && !a.json && a.io.IsStderrTTY() {
		// Everything written to the terminal from now on passes the bar.
		bar = batch.NewBar(a.io.ErrOut, a.io.TerminalWidth(), time.Now)
		a.stderr = bar
	}
	a.log = newLogger(a.stderr, o.logFormat, o.quiet, a.io.IsStderrTTY(), a.getenv)
	cfg := batch.Config{
		Path: "", Job: o.job, Sheet: o.sheet, OutDir: o.out, Format: formats.Format(o.format),
		Concurrency: o.concurrency, ChunkSize: o.chunkSize, Retries: o.attempts, Rate: o.rate,
		DryRun: dryRun, Log: a.log,
		Fresh: o.fresh, Rerun: o.rerun, SkipDone: o.skipDone, Force: o.force, Strict: o.strict, ReadBefore: o.readBefore,
		NewLedger: o.newLedger, MaxWait: o.maxWait,
		Overrides: map[string]string{},
	}
	if len(args) == 1 {
		cfg.Path = args[0]
	}
	var err error
	if cfg.XLSXPassword, err = crm.SecretFromEnv(a.getenv, envXLSXPassword, envXLSXPasswordFile); err != nil {
		return &batch.UsageError{Msg: strings.TrimPrefix(err.Error(), "crm: ")}
	}
	if o.groupCode != "" {
		return &batch.UsageError{Msg: "--group-code names no field of the API's group identifier\nhint: " + batch.GroupCodeHint}
	}
	for col, v := range map[string]string{"action": o.action, "group_id": o.groupID, "group_name": o.groupName, "group_alternative_code": o.groupAltCode} {
		if v != "" {
			cfg.Overrides[col] = v
		}
	}
	switch {
	case bar != nil:
		cfg.Progress = bar
	case progress:
		cfg.Progress = batch.NewLogProgress(a.log, 10*time.Second)
	}
	// validate asks the endpoint, when there is one, for what only it knows
	// (the promotion codes); a run needs it.
	if !dryRun || o.useSandbox || o.endpoint != "" || a.getenv("CRMBATCH_ENDPOINT") != "" {
		if err := a.connect(ctx, o, &cfg); err != nil {
			return err
		}
	}
	if !dryRun {
		if cfg.StateDir = o.state; cfg.StateDir == "" {
			if o.useSandbox && a.getenv("CRMBATCH_STATE") == "" {
				// Each --sandbox is a new, empty CRM.COM: a ledger that remembered
				// its runs would refuse the next try of the same sample.
				tmp, err := os.MkdirTemp("", "crmbatch-sandbox-state-")
				if err != nil {
					return &usageError{msg: err.Error()}
				}
				defer os.RemoveAll(tmp)
				cfg.StateDir = tmp
			} else {
				cfg.StateDir = defaultStateDir(a.getenv)
			}
		}
	}
	if o.watch != "" {
		return a.watch(ctx, cfg, o)
	}
	s, err := batch.Run(ctx, cfg)
	if s != nil && err != nil {
		// The run stopped: why comes first, then what became of the rows.
		a.report(err, exitCode(err))
		a.printSummary(s)
		return &reported{err}
	}
	if s != nil {
		a.printSummary(s)
	}
	if err != nil {
		return err
	}
	if n := s.Problems(); n > 0 {
		return &rowsError{n}
	}
	return nil
}

// watch runs the files dropped into a folder; its exit code is the worst of
// their runs'.
func (a *app) watch(ctx context.Context, cfg batch.Config, o *runOptions) error {
	var worst error
	err := batch.Watch(ctx, cfg, batch.WatchOptions{
		Dir: o.watch, Once: o.once, Settle: o.settle, Poll: 2 * time.Second,
		Done: func(w batch.Watched) {
			err := w.Err
			if err == nil && w.Summary != nil && w.Summary.Problems() > 0 {
				err = &rowsError{w.Summary.Problems()}
			}
			code := exitCode(err)
			a.fileDone(w, err, code)
			if code > exitCode(worst) {
				worst = &reported{err}
			}
		},
		Settling: func(files []string) {
			if a.json {
				a.log.Info("waiting for files still being written", "files", files, "settle", o.settle.String())
				return
			}
			fmt.Fprintf(a.stderr, "crmbatch: waiting for files changed less than %s ago: %s\n", o.settle, strings.Join(files, ", "))
		},
	})
	if err != nil {
		return err
	}
	return worst
}

// fileDone tells what became of one file of a watched folder: in text, the
// run's summary, its error and where the file went; in JSON, one line.
func (a *app) fileDone(w batch.Watched, err error, code int) {
	where := "left in place, to be resumed at the next scan"
	if w.To != "" {
		where = "moved to " + w.Dir
	}
	if a.json {
		attrs := []any{"file", w.Input, "outcome", w.To, "exit_code", code}
		if w.To == "" {
			attrs[3] = "left"
		} else {
			attrs = append(attrs, "moved_to", w.File, "folder", w.Dir)
		}
		if w.Reason != "" {
			attrs = append(attrs, "reason", w.Reason)
		}
		if s := w.Summary; s != nil {
			attrs = append(attrs, summaryAttrs(s)...)
		}
		var rows *rowsError
		if err != nil && !errors.As(err, &rows) {
			msg, hint := splitHint(err.Error())
			if h := endpointHint(err); h != "" {
				hint = h
			}
			if hint == "" {
				hint = defaultHint(err, code)
			}
			attrs = append(attrs, "error", msg, "hint", hint)
		}
		a.log.Log(context.Background(), logLevel(code), "file done", attrs...)
		return
	}
	if w.Summary != nil {
		a.printSummary(w.Summary)
	}
	a.report(err, code)
	fmt.Fprintf(a.stderr, "crmbatch: %s: %s", filepath.Base(w.Input), where)
	if w.Reason != "" {
		fmt.Fprintf(a.stderr, "; why: %s", w.Reason)
	}
	fmt.Fprintf(a.stderr, " (exit %d)\n", code)
}

// connect fills the endpoint and credentials, or starts the embedded sandbox.
func (a *app) connect(ctx context.Context, o *runOptions, cfg *batch.Config) error {
	if o.useSandbox {
		if o.endpoint != "" {
			return &usageError{msg: "--sandbox and --endpoint exclude each other"}
		}
		base, err := startSandbox(ctx, sandbox.Options{})
		if err != nil {
			return &usageError{msg: "sandbox: " + err.Error()}
		}
		cfg.API = crm.Config{BaseURL: base, Credentials: crm.Credentials{
			Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}}
		cfg.Endpoint = "sandbox" // a new, empty one each time, on a new port
	} else {
		endpoint := o.endpoint
		if endpoint == "" {
			endpoint = a.getenv("CRMBATCH_ENDPOINT")
		}
		if endpoint == "" {
			return &usageError{msg: "no endpoint", hint: "pass --endpoint URL, set CRMBATCH_ENDPOINT, or try --sandbox"}
		}
		if err := checkEndpoint(endpoint, o.insecureHTTP); err != nil {
			return &usageError{msg: err.Error()}
		}
		creds, err := crm.CredentialsFromEnv(a.getenv)
		if err != nil {
			return &usageError{msg: err.Error()}
		}
		for _, w := range crm.SecretFileWarnings(a.getenv) {
			a.warn(w)
		}
		cfg.API = crm.Config{BaseURL: endpoint, Credentials: creds}
	}
	cfg.API.Logger = cfg.Log
	cfg.API.Timeout = o.timeout
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return &usageError{msg: "--ca-file: " + err.Error()}
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return &usageError{msg: fmt.Sprintf("--ca-file %s holds no PEM certificate", o.caFile)}
		}
		tlsConfig.RootCAs = pool
	}
	cfg.API.HTTPClient = &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: o.concurrency + 2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 15 * time.Second,
		ForceAttemptHTTP2:   true,
	}}
	return nil
}

// checkEndpoint refuses plain http:// to anything but this machine unless asked.
func checkEndpoint(endpoint string, insecure bool) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--endpoint is not a URL like https://crm.example.com/crmapi/rest/v2/")
	}
	if u.User != nil {
		return fmt.Errorf("--endpoint %s holds a user name or password: give credentials in the environment (CRMBATCH_USERNAME, ...)", u.Redacted())
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" || insecure {
			return nil
		}
		return fmt.Errorf("--endpoint %s is plain http: passwords and tokens would cross the network unencrypted\nhint: use https://, or pass --insecure-http if you must", u.Redacted())
	}
	return fmt.Errorf("--endpoint %s: the scheme must be https (or http to this machine)", u.Redacted())
}

// defaultStateDir is CRMBATCH_STATE, else $XDG_STATE_HOME/crmbatch, else
// ~/.local/state/crmbatch.
func defaultStateDir(getenv func(string) string) string {
	if d := getenv("CRMBATCH_STATE"); d != "" {
		return d
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "crmbatch")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "crmbatch-state")
	}
	return filepath.Join(home, ".local", "state", "crmbatch")
}

// statuses are a summary's statuses in the order they are told: the known
// ones first, then any other, sorted.
func statuses(s *batch.Summary) []batch.Status {
	order := []batch.Status{batch.StatusOK, batch.StatusPlanned, batch.StatusFailed, batch.StatusInvalid, batch.StatusUnknown, batch.StatusSkipped}
	known := map[batch.Status]bool{}
	for _, st := range order {
		known[st] = true
	}
	var other []batch.Status
	for st := range s.Counts {
		if !known[st] {
			other = append(other, st)
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i] < other[j] })
	return append(order, other...)
}

// summaryAttrs are a summary's figures as log attributes.
func summaryAttrs(s *batch.Summary) []any {
	attrs := []any{"input", s.Input, "job", s.Job, "rows", s.Rows}
	for _, st := range statuses(s) {
		if n := s.Counts[st]; n > 0 {
			attrs = append(attrs, string(st), n)
		}
	}
	if s.NotSent > 0 {
		attrs = append(attrs, "not_sent", s.NotSent)
	}
	if s.Resolve != "" {
		attrs = append(attrs, "resolve", s.Resolve)
	}
	if len(s.UnusedColumns) > 0 {
		attrs = append(attrs, "unused_columns", s.UnusedColumns)
	}
	attrs = append(attrs, "calls", s.Calls)
	if !s.DryRun {
		attrs = append(attrs, "retries", s.Retries, "throttled", s.Throttled, "duration_seconds", s.DurationSeconds)
	}
	if s.DryRun {
		return append(attrs, "plan", s.Reports.Results, "summary", s.Reports.Summary)
	}
	return append(attrs, "results", s.Reports.Results, "failures", s.Reports.Failures, "summary", s.Reports.Summary)
}

// printSummary tells what a run or a validation did: a few lines of text, or
// one JSON line.
func (a *app) printSummary(s *batch.Summary) {
	if a.json {
		msg := "summary"
		if s.DryRun {
			msg = "validated"
		}
		a.log.Info(msg, summaryAttrs(s)...)
		return
	}
	w := a.stderr
	verb := "ran"
	if s.DryRun {
		verb = "validated"
	}
	for _, u := range s.UnusedColumns {
		fmt.Fprintf(w, "crmbatch: warning: %s: %s by a %s job: copied to the reports, never sent\n", s.Input, u, s.Job)
	}
	fmt.Fprintf(w, "crmbatch: %s %s (%s job): %d rows", verb, s.Input, s.Job, s.Rows)
	for _, st := range statuses(s) {
		n := s.Counts[st]
		if st == batch.StatusFailed {
			n -= s.NotSent // told apart: they were never tried
		}
		if n > 0 {
			fmt.Fprintf(w, ", %d %s", n, st)
		}
	}
	if s.NotSent > 0 {
		fmt.Fprintf(w, ", %d not sent", s.NotSent)
	}
	fmt.Fprintf(w, "; %d calls", s.Calls)
	if s.DryRun {
		fmt.Fprintf(w, " planned in %d chunks, about %s at the given --rate", s.Chunks, seconds(s.EstimatedSeconds))
		switch {
		case s.ReadBeforeCalls > 0 && s.ReadBefore:
			fmt.Fprintf(w, " (%d of them read customers' subscriptions before their first rows: --read-before)", s.ReadBeforeCalls)
		case s.ReadBeforeCalls > 0:
			fmt.Fprintf(w, " (--read-before would add %d calls, %s)", s.ReadBeforeCalls, seconds(float64(s.ReadBeforeCalls)*s.EstimatedSeconds/float64(max(s.Calls, 1))))
		}
	} else {
		fmt.Fprintf(w, ", %d retries, %s", s.Retries, time.Duration(s.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	for _, p := range s.FirstProblems {
		fmt.Fprintf(w, "\n  %s", p)
	}
	if n := s.Problems() - s.NotSent - len(s.FirstProblems); n > 0 {
		where := "the failures report"
		if s.DryRun {
			where = "the plan"
		}
		fmt.Fprintf(w, "\n  ... and %d more in %s", n, where)
	}
	if s.NotSent > 0 {
		fmt.Fprintf(w, "\n  %d rows not sent: the run stopped before them; the same command sends them", s.NotSent)
	}
	if n := s.Counts[batch.StatusUnknown]; n > 0 && s.Resolve != "" {
		fmt.Fprintf(w, "\n  %d rows unknown: they may have been applied; %s (the same command) reads them back, as does crmbatch run %s", n, s.Resolve, s.Reports.Failures)
	}
	if s.DryRun {
		fmt.Fprintf(w, "\n  plan:     %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Summary)
		return
	}
	fmt.Fprintf(w, "\n  results:  %s\n  failures: %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Failures, s.Reports.Summary)
}

// seconds is a duration in seconds as a person reads it: to the second, or to
// a tenth under 10 s (3 calls at 10/s are 0.3s, not 0s).
func seconds(s float64) time.Duration {
	d := time.Duration(s * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
