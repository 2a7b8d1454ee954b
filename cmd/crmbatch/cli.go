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
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/sandbox"
)

// Exit codes of the contract.
const (
	exitOK       = 0 // every row ok or skipped
	exitRows     = 1 // some rows failed or invalid; reports written
	exitUsage    = 2 // usage, config or input-file error; nothing sent
	exitStopped  = 3 // the run could not finish; a re-run resumes
	exitHelpShow = 0
)

// version is set by the linker (-ldflags "-X main.version=...") for releases.
var version = ""

type streams struct {
	out, err io.Writer
	getenv   func(string) string
}

// isTerminal reports whether w is a terminal (progressbar does not check).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const usage = `crmbatch drives the CRM.COM Web API from CSV and XLSX job files.

usage:
  crmbatch run [flags] FILE           run a job file
  crmbatch validate [flags] FILE      parse, validate and plan; send nothing
  crmbatch charges export [flags] OUT pending charges into OUT (.xlsx or .csv): a charges job
  crmbatch promotions [--format csv]  list the operator's promotions
  crmbatch show CUSTOMER...           subscriptions/show for each customer
  crmbatch history [--run ID | --charge NUMBER]  what the ledger knows
  crmbatch sandbox [flags]            serve the embedded CRM.COM emulator
  crmbatch version                    print the version
  crmbatch help                       this text

Job kinds (--job, or guessed from the header): devices, charges, subscriptions,
installed-items. Run "crmbatch run -h" for the flags.

Connection: --endpoint URL or CRMBATCH_ENDPOINT; credentials from the environment
only: CRMBATCH_USERNAME, CRMBATCH_PASSWORD (or CRMBATCH_PASSWORD_FILE),
CRMBATCH_ORGANISATION, optional CRMBATCH_UNIT; or CRMBATCH_API_KEY (or
CRMBATCH_API_KEY_FILE). --sandbox runs against an in-process emulator instead.

Exit codes: 0 every row ok or skipped, 1 some rows failed or invalid, 2 usage or
input-file error (nothing sent), 3 the run could not finish (a re-run resumes).
`

// Main runs the command line and returns the exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	std := streams{out: stdout, err: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the run winds down; a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	switch args[0] {
	case "run":
		return cmdRun(ctx, std, args[1:], false)
	case "validate":
		return cmdRun(ctx, std, args[1:], true)
	case "sandbox":
		return cmdSandbox(ctx, std, args[1:])
	case "history":
		return cmdHistory(ctx, std, args[1:])
	case "promotions":
		return cmdPromotions(ctx, std, args[1:])
	case "show":
		return cmdShow(ctx, std, args[1:])
	case "charges":
		return cmdCharges(ctx, std, args[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, "crmbatch", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitHelpShow
	}
	fmt.Fprintf(stderr, "crmbatch: unknown command %q\nhint: run \"crmbatch help\" for the commands\n", args[0])
	return exitUsage
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// runOptions are the flags of run and validate.
type runOptions struct {
	job, action, groupID, groupName, groupCode string
	groupAltCode                               string
	sheet, out, format                         string
	rate                                       float64
	concurrency, chunkSize, retries            int
	timeout                                    time.Duration
	dryRun, fresh, rerun, skipDone, force      bool
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

func runFlags(name string, o *runOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.job, "job", "", "job kind: devices, charges, subscriptions, installed-items (default: from the header)")
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
	fs.IntVar(&o.retries, "retries", 5, "attempts per call, the first included")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.BoolVar(&o.dryRun, "dry-run", false, "validate and plan only (= crmbatch validate)")
	fs.StringVar(&o.state, "state", "", "folder of the ledger (default: CRMBATCH_STATE or a per-user state folder)")
	fs.BoolVar(&o.fresh, "fresh", false, "start over instead of resuming an unfinished run of the same job")
	fs.BoolVar(&o.rerun, "rerun", false, "run a job file that already completed again")
	fs.BoolVar(&o.skipDone, "skip-done", false, "after a finished run of this file (or of the file it is an edit of), send only the rows it did not apply")
	fs.BoolVar(&o.force, "force", false, "send charges that an earlier run already acknowledged")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format text|json")
	fs.BoolVar(&o.quiet, "quiet", false, "log warnings and errors only")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress bar or progress lines")
	fs.StringVar(&o.endpoint, "endpoint", "", "CRM.COM Web API base URL, e.g. https://crm.example.com/crmapi/rest/v2/ (or CRMBATCH_ENDPOINT)")
	fs.BoolVar(&o.useSandbox, "sandbox", false, "run against the embedded CRM.COM emulator (no credentials)")
	fs.BoolVar(&o.insecureHTTP, "insecure-http", false, "allow a plain http:// endpoint that is not on this machine")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM file of a private certificate authority to trust besides the system's")
	if name == "run" {
		fs.StringVar(&o.watch, "watch", "", "run every job file dropped into DIR, then move it with its reports to DIR/processed or DIR/failed")
		fs.BoolVar(&o.once, "once", false, "with --watch: scan the folder once and exit (for cron)")
		fs.DurationVar(&o.settle, "settle", 10*time.Second, "with --watch: a file is run once it has not changed for this long")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: crmbatch %s [flags] FILE\n       crmbatch run [flags] --watch DIR [--once]\n\nflags:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// newLogger logs to w in text or JSON; CRMBATCH_DEBUG=1 adds one line per call.
// On a terminal, text logs keep to warnings: the progress bar and the summary
// say the rest, and the info lines are for log files.
func newLogger(w io.Writer, format string, quiet bool, getenv func(string) string) (*slog.Logger, error) {
	level := slog.LevelInfo
	if format == "text" && isTerminal(w) {
		level = slog.LevelWarn
	}
	if getenv("CRMBATCH_DEBUG") != "" {
		level = slog.LevelDebug
	}
	if quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: text or json", format)
}

// usageErr prints a usage or configuration error, with a hint line, and
// returns exit code 2: nothing was sent.
func usageErr(std streams, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(std.err, "crmbatch: %s\n", msg)
	if !strings.Contains(msg, "hint:") {
		fmt.Fprintln(std.err, "hint: nothing was sent; \"crmbatch help\" lists the commands, \"crmbatch COMMAND -h\" their flags")
	}
	return exitUsage
}

func cmdRun(ctx context.Context, std streams, args []string, validate bool) int {
	name := "run"
	if validate {
		name = "validate"
	}
	var o runOptions
	fs := runFlags(name, &o, std.err)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitHelpShow
		}
		return exitUsage
	}
	if o.watch != "" && fs.NArg() != 0 {
		return usageErr(std, "--watch takes a folder, not a job file")
	}
	if o.watch == "" && fs.NArg() != 1 {
		return usageErr(std, "%s takes one job file, got %d arguments\nhint: crmbatch %s [flags] FILE", name, fs.NArg(), name)
	}
	log, err := newLogger(std.err, o.logFormat, o.quiet, std.getenv)
	if err != nil {
		return usageErr(std, "%v", err)
	}
	if o.timeout <= 0 {
		return usageErr(std, "--timeout must be positive, e.g. 30s")
	}
	cfg := batch.Config{
		Path: fs.Arg(0), Job: o.job, Sheet: o.sheet, OutDir: o.out,
		Concurrency: o.concurrency, ChunkSize: o.chunkSize, Retries: o.retries, Rate: o.rate,
		DryRun: validate || o.dryRun, Log: log,
		Fresh: o.fresh, Rerun: o.rerun, SkipDone: o.skipDone, Force: o.force,
		Overrides: map[string]string{},
	}
	if o.groupCode != "" {
		return usageErr(std, "--group-code names no field of the API's group identifier\nhint: %s", batch.GroupCodeHint)
	}
	for col, v := range map[string]string{"action": o.action, "group_id": o.groupID, "group_name": o.groupName, "group_alternative_code": o.groupAltCode} {
		if v != "" {
			cfg.Overrides[col] = v
		}
	}
	if o.format != "" {
		if o.format != "csv" && o.format != "xlsx" {
			return usageErr(std, "--format %q: csv or xlsx", o.format)
		}
		cfg.Format = formats.Format(o.format)
	}
	// validate asks the endpoint, when there is one, for what only it knows
	// (the promotion codes); a run needs it.
	if !cfg.DryRun || o.useSandbox || o.endpoint != "" || std.getenv("CRMBATCH_ENDPOINT") != "" {
		if code := connect(ctx, std, &o, &cfg); code != exitOK {
			return code
		}
	}
	if !cfg.DryRun {
		if cfg.StateDir = o.state; cfg.StateDir == "" {
			if o.useSandbox && std.getenv("CRMBATCH_STATE") == "" {
				// Each --sandbox is a new, empty CRM.COM: a ledger that remembered
				// its runs would refuse the next try of the same sample.
				tmp, err := os.MkdirTemp("", "crmbatch-sandbox-state-")
				if err != nil {
					return usageErr(std, "%v", err)
				}
				defer os.RemoveAll(tmp)
				cfg.StateDir = tmp
			} else {
				cfg.StateDir = defaultStateDir(std.getenv)
			}
		}
		if !o.noProgress && !o.quiet {
			if isTerminal(std.err) {
				cfg.Progress = batch.NewBarProgress(std.err)
			} else {
				cfg.Progress = batch.NewLogProgress(log, 10*time.Second)
			}
		}
	}
	if o.watch != "" {
		return watch(ctx, std, cfg, &o)
	}
	s, err := batch.Run(ctx, cfg)
	if s != nil {
		printSummary(std.err, s)
	}
	return exitCode(std, s, err)
}

// watch runs the files dropped into a folder; its exit code is the worst of
// their runs'.
func watch(ctx context.Context, std streams, cfg batch.Config, o *runOptions) int {
	if o.out != "" {
		return usageErr(std, "--watch puts the reports beside each file in processed/ or failed/: drop --out")
	}
	worst := exitOK
	err := batch.Watch(ctx, cfg, o.watch, o.once, o.settle, 2*time.Second, func(w batch.Watched) {
		if w.Summary != nil {
			printSummary(std.err, w.Summary)
		}
		code := exitCode(std, w.Summary, w.Err)
		fmt.Fprintf(std.err, "crmbatch: %s (exit %d)\n", w.File, code)
		worst = max(worst, code)
	})
	if err != nil {
		return exitCode(std, nil, err)
	}
	return worst
}

// connect fills the endpoint and credentials, or starts the embedded sandbox.
func connect(ctx context.Context, std streams, o *runOptions, cfg *batch.Config) int {
	if o.useSandbox {
		if o.endpoint != "" {
			return usageErr(std, "--sandbox and --endpoint exclude each other")
		}
		base, err := startSandbox(ctx, sandbox.Options{})
		if err != nil {
			return usageErr(std, "sandbox: %v", err)
		}
		cfg.API = crm.Config{BaseURL: base, Credentials: crm.Credentials{
			Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}}
		cfg.Endpoint = "sandbox" // a new, empty one each time, on a new port
	} else {
		endpoint := o.endpoint
		if endpoint == "" {
			endpoint = std.getenv("CRMBATCH_ENDPOINT")
		}
		if endpoint == "" {
			return usageErr(std, "no endpoint\nhint: pass --endpoint URL, set CRMBATCH_ENDPOINT, or try --sandbox")
		}
		if err := checkEndpoint(endpoint, o.insecureHTTP); err != nil {
			return usageErr(std, "%v", err)
		}
		creds, err := crm.CredentialsFromEnv(std.getenv)
		if err != nil {
			return usageErr(std, "%v", err)
		}
		for _, w := range crm.SecretFileWarnings(std.getenv) {
			fmt.Fprintf(std.err, "crmbatch: warning: %s\n", w)
		}
		cfg.API = crm.Config{BaseURL: endpoint, Credentials: creds}
	}
	cfg.API.Logger = cfg.Log
	cfg.API.Timeout = o.timeout
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return usageErr(std, "--ca-file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return usageErr(std, "--ca-file %s holds no PEM certificate", o.caFile)
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
	return exitOK
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

// exitCode maps a run's outcome to the contract's exit codes, printing the error.
func exitCode(std streams, s *batch.Summary, err error) int {
	var (
		usage   *batch.UsageError
		file    *batch.FileError
		input   *formats.InputError
		stopped *batch.FatalError
	)
	switch {
	case err == nil:
		if s.Problems() > 0 {
			return exitRows
		}
		return exitOK
	case errors.As(err, &usage), errors.As(err, &file), errors.As(err, &input):
		fmt.Fprintf(std.err, "crmbatch: %v\n", err)
		if !strings.Contains(err.Error(), "hint:") {
			fmt.Fprintln(std.err, "hint: nothing was sent; fix the file or the flags and run again")
		}
		return exitUsage
	case errors.As(err, &stopped):
		var ce *crm.Error
		if errors.As(err, &ce) && ce.Class == crm.Endpoint {
			// The endpoint redirected: its error says where, and what to set.
			fmt.Fprintf(std.err, "crmbatch: %v\n", err)
			return exitStopped
		}
		fmt.Fprintf(std.err, "crmbatch: %v\nhint: what was done is recorded; run the same command again to resume\n", err)
		return exitStopped
	}
	fmt.Fprintf(std.err, "crmbatch: %v\n", err)
	return exitStopped
}

func printSummary(w io.Writer, s *batch.Summary) {
	verb := "ran"
	if s.DryRun {
		verb = "validated"
	}
	fmt.Fprintf(w, "crmbatch: %s %s (%s job): %d rows", verb, s.Input, s.Job, s.Rows)
	for _, st := range []batch.Status{batch.StatusOK, batch.StatusPlanned, batch.StatusFailed, batch.StatusInvalid, batch.StatusSkipped} {
		if n := s.Counts[st]; n > 0 {
			fmt.Fprintf(w, ", %d %s", n, st)
		}
	}
	fmt.Fprintf(w, "; %d calls", s.Calls)
	if s.DryRun {
		fmt.Fprintf(w, " planned in %d chunks, about %s at the given --rate", s.Chunks, time.Duration(s.EstimatedSeconds*float64(time.Second)).Round(time.Second))
	} else {
		fmt.Fprintf(w, ", %d retries, %s", s.Retries, time.Duration(s.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	for _, p := range s.FirstProblems {
		fmt.Fprintf(w, "\n  %s", p)
	}
	if n := s.Problems() - len(s.FirstProblems); n > 0 {
		fmt.Fprintf(w, "\n  ... and %d more in the failures report", n)
	}
	fmt.Fprintf(w, "\n  results:  %s\n  failures: %s\n  summary:  %s\n", s.Reports.Results, s.Reports.Failures, s.Reports.Summary)
}
