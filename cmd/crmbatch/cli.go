package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/internal/termbar"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
	"github.com/crmbatch/crmbatch/watch"
)

// The password of a protected XLSX job file, from the environment or a file:
// never a flag, which would show in ps and the shell's history.
const (
	envXLSXPassword     = "CRMBATCH_XLSX_PASSWORD"
	envXLSXPasswordFile = "CRMBATCH_XLSX_PASSWORD_FILE"
)

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
	switch {
	case format == "json":
		return slog.New(slog.NewJSONHandler(w, opts))
	case terminal && level >= slog.LevelInfo:
		// A person reads it: one plain sentence a line, above the bar.
		return slog.New(termbar.NewHandler(w, level))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// warn tells the user of something that does not stop the command.
func (f *factory) warn(w error) {
	hint := fault.HintOf(w)
	if f.json && f.log != nil {
		if hint != "" {
			f.log.Warn(w.Error(), "hint", hint)
			return
		}
		f.log.Warn(w.Error())
		return
	}
	fmt.Fprintf(f.stderr, "crmbatch: warning: %s\n", w)
	if hint != "" {
		fmt.Fprintf(f.stderr, "hint: %s\n", hint)
	}
}

// runJob is run and validate.
func (f *factory) runJob(ctx context.Context, o *RunOptions) (err error) {
	dryRun := o.Validate || o.DryRun
	if o.MetricsFile != "" && !dryRun {
		defer func() { f.writeMetrics(o, err) }()
	}
	bar, progress := f.startOutput(o, dryRun)
	cfg, err := f.jobConfig(o, dryRun)
	if err != nil {
		return err
	}
	switch {
	case bar != nil:
		cfg.Progress = bar
	case progress:
		lp := termbar.NewLogProgress(f.log, 10*time.Second)
		f.setProgress(lp)
		cfg.Progress = lp
	}
	// validate asks the endpoint, when there is one, for what only it knows
	// (the promotion codes); a run needs it.
	if !dryRun || o.Sandbox || o.Endpoint != "" || f.getenv("CRMBATCH_ENDPOINT") != "" {
		if err := f.connect(ctx, &o.ConnOptions, &cfg); err != nil {
			return err
		}
	}
	if !dryRun {
		cleanup, err := f.stateDir(o, &cfg)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	if o.Watch != "" {
		cfg.SkipDone = cfg.SkipDone || o.Done == "skip"
		return f.watch(ctx, cfg, o)
	}
	s, err := batch.Run(ctx, cfg)
	if s != nil {
		f.ran = append(f.ran, s)
	}
	if s != nil && s.RunID != "" {
		f.setOutput(f.stderr, f.log.With("run_id", s.RunID)) // the lines below are the run's too
	}
	if s != nil && err != nil {
		// The run stopped: why comes first, then what became of the rows.
		code := resolveExitCode(err)
		f.report(err, code)
		f.printSummary(s, code)
		return &reported{err}
	}
	if err != nil {
		return err
	}
	if n := s.Problems(); n > 0 {
		f.printSummary(s, exitRows)
		return &rowsError{n}
	}
	f.printSummary(s, exitOK)
	return nil
}

// startOutput sets up the log, and the progress bar when stderr is a
// terminal (bar; progress says whether a run shows its progress at all).
func (f *factory) startOutput(o *RunOptions, dryRun bool) (bar *termbar.Bar, progress bool) {
	f.json = o.LogFormat == "json"
	progress = !dryRun && !o.NoProgress && !o.Quiet
	if progress && !f.json && f.io.IsStderrTTY() {
		// Everything written to the terminal from now on passes the bar.
		bar = termbar.NewBar(f.io.ErrOut, f.io.TerminalWidth(), time.Now)
		bar.RedrawLate()
	}
	stderr := f.stderr
	if bar != nil {
		stderr = bar
	}
	f.setOutput(stderr, newLogger(stderr, o.LogFormat, o.Quiet, f.io.IsStderrTTY() && !f.json, f.getenv))
	if bar != nil {
		f.setProgress(bar)
	}
	return bar, progress
}

// jobConfig is the run's configuration from its flags, but for the endpoint
// and the state folder.
func (f *factory) jobConfig(o *RunOptions, dryRun bool) (cfg batch.Config, err error) {
	cfg = batch.Config{
		Path: o.File, Job: o.Job, Sheet: o.Sheet, OutDir: o.Out, Format: formats.Format(o.Format),
		Concurrency: o.Concurrency, ChunkSize: o.ChunkSize, Attempts: o.Attempts, Rate: o.Rate,
		DryRun: dryRun, Log: f.log,
		Fresh: o.Fresh, Rerun: o.Rerun, SkipDone: o.SkipDone, Force: o.Force, Strict: o.Strict, ReadBefore: o.ReadBefore,
		NewLedger: o.NewLedger, MaxWait: o.MaxWait,
		Overrides: map[string]string{},
	}
	if cfg.DecimalMark, err = amount.ParseMark(o.DecimalMark); err != nil {
		return cfg, &fault.UsageError{Msg: "--decimal-mark: " + err.Error(), Err: err}
	}
	if cfg.XLSXPassword, err = crm.SecretFromEnv(f.getenv, envXLSXPassword, envXLSXPasswordFile); err != nil {
		return cfg, &fault.UsageError{Msg: strings.TrimPrefix(err.Error(), "crm: "), Err: err}
	}
	if o.GroupCode != "" {
		return cfg, &fault.UsageError{Msg: "--group-code names no field of the API's group identifier", Fix: kind.GroupCodeHint}
	}
	for col, v := range map[string]string{"action": o.Action, "group_id": o.GroupID, "group_name": o.GroupName, "group_alternative_code": o.GroupAlternativeCode} {
		if v != "" {
			cfg.Overrides[col] = v
		}
	}
	return cfg, nil
}

// stateDir sets the folder of the run's ledger: --state, else the default;
// under --sandbox, a folder of its own that cleanup removes.
func (f *factory) stateDir(o *RunOptions, cfg *batch.Config) (cleanup func(), err error) {
	cleanup = func() {}
	if cfg.StateDir = o.State; cfg.StateDir != "" {
		return cleanup, nil
	}
	if o.Sandbox && f.getenv("CRMBATCH_STATE") == "" {
		// Each --sandbox is a new, empty CRM.COM: a ledger that remembered
		// its runs would refuse the next try of the same sample.
		tmp, err := os.MkdirTemp("", "crmbatch-sandbox-state-")
		if err != nil {
			return cleanup, &usageError{msg: err.Error(), err: err}
		}
		cfg.StateDir = tmp
		return func() { os.RemoveAll(tmp) }, nil
	}
	cfg.StateDir, err = defaultStateDir(f.getenv)
	return cleanup, err
}

// watch runs the files dropped into a folder; its exit code is the worst of
// their runs'.
func (f *factory) watch(ctx context.Context, cfg batch.Config, o *RunOptions) error {
	var worst error
	err := watch.Watch(ctx, cfg, watch.Options{
		Dir: o.Watch, Once: o.Once, Settle: o.Settle, Poll: 2 * time.Second,
		Done: func(w watch.Watched) {
			if w.Summary != nil {
				f.ran = append(f.ran, w.Summary)
			}
			err := w.Err
			if err == nil && w.Summary != nil && w.Summary.Problems() > 0 {
				err = &rowsError{w.Summary.Problems()}
			}
			code := resolveExitCode(err)
			f.fileDone(w, err, code)
			if code > resolveExitCode(worst) {
				worst = &reported{err}
			}
		},
		Busy: func() {
			if f.json {
				f.log.Info("busy: another crmbatch is running the files of this folder; they are left to it", "folder", o.Watch)
				return
			}
			fmt.Fprintf(f.stderr, "crmbatch: busy: another crmbatch is running the files of %s; they are left to it\n", o.Watch)
		},
		Settling: func(files []string) {
			if f.json {
				f.log.Info("waiting for files still being written", "files", files, "settle", o.Settle.String())
				return
			}
			fmt.Fprintf(f.stderr, "crmbatch: waiting for files changed less than %s ago: %s\n", o.Settle, strings.Join(files, ", "))
		},
	})
	if err != nil {
		return err
	}
	return worst
}

// fileDone tells what became of one file of a watched folder: in text, the
// run's summary, its error and where the file went; in JSON, one line.
func (f *factory) fileDone(w watch.Watched, err error, code exitCode) {
	where := "left in place, to be resumed at the next scan"
	switch {
	case w.Busy:
		where = "busy: another crmbatch is running this job; left to it"
	case w.To != "":
		where = "moved to " + w.Dir
	}
	if f.json {
		if w.Summary != nil {
			// The file's run, as a run of one file tells it.
			f.log.With("run_id", w.Summary.RunID).Log(context.Background(), logLevel(code), "run finished",
				append(w.Summary.LogAttrs(), "exit_code", int(code), "exit", code.word())...)
		}
		attrs := []any{"file", w.Input, "outcome", w.To, "exit_code", code}
		switch {
		case w.Busy:
			attrs[3] = "busy"
		case w.To == "":
			attrs[3] = "left"
		default:
			attrs = append(attrs, "moved_to", w.File, "folder", w.Dir)
		}
		if w.Reason != "" {
			attrs = append(attrs, "reason", w.Reason)
		}
		attrs = append(attrs, "exit", code.word())
		if s := w.Summary; s != nil {
			if s.RunID != "" {
				attrs = append(attrs, "run_id", s.RunID)
			}
			attrs = append(attrs, s.LogAttrs()...)
		}
		var rows *rowsError
		if err != nil && !errors.As(err, &rows) {
			msg, hint := explain(err, code)
			attrs = append(attrs, "error", msg, "hint", hint)
		}
		f.log.Log(context.Background(), logLevel(code), "file done", attrs...)
		return
	}
	if w.Summary != nil {
		f.printSummary(w.Summary, code)
	}
	f.report(err, code)
	fmt.Fprintf(f.stderr, "crmbatch: %s: %s", filepath.Base(w.Input), where)
	if w.Reason != "" {
		fmt.Fprintf(f.stderr, "; why: %s", w.Reason)
	}
	fmt.Fprintf(f.stderr, " (exit %d)\n", code)
}

// connect fills the endpoint and credentials, or starts the embedded sandbox.
func (f *factory) connect(ctx context.Context, o *ConnOptions, cfg *batch.Config) error {
	if o.Sandbox {
		if o.Endpoint != "" {
			return &usageError{msg: "--sandbox and --endpoint exclude each other"}
		}
		base, err := startSandbox(ctx, sandbox.Options{})
		if err != nil {
			return &usageError{msg: "sandbox: " + err.Error(), err: err}
		}
		cfg.API = crm.Config{BaseURL: base, Credentials: crm.Credentials{
			Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}}
		cfg.Endpoint = "sandbox" // a new, empty one each time, on a new port
	} else {
		endpoint := o.Endpoint
		if endpoint == "" {
			endpoint = f.getenv("CRMBATCH_ENDPOINT")
		}
		if endpoint == "" {
			return &usageError{msg: "no endpoint", hint: "pass --endpoint URL, set CRMBATCH_ENDPOINT, or try --sandbox"}
		}
		if err := checkEndpoint(endpoint, o.InsecureHTTP); err != nil {
			return &usageError{msg: err.Error(), err: err}
		}
		creds, err := crm.CredentialsFromEnv(f.getenv)
		if err != nil {
			return &usageError{msg: err.Error(), err: err}
		}
		for _, w := range crm.SecretFileWarnings(f.getenv) {
			f.warn(w)
		}
		cfg.API = crm.Config{BaseURL: endpoint, Credentials: creds}
	}
	cfg.API.Logger = cfg.Log
	cfg.API.Timeout = o.Timeout
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return &usageError{msg: "--ca-file: " + err.Error(), err: err}
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return &usageError{msg: fmt.Sprintf("--ca-file %s holds no PEM certificate", o.CAFile)}
		}
		tlsConfig.RootCAs = pool
	}
	cfg.API.HTTPClient = &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: cfg.Concurrency + 2,
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
		return fault.WithHint(fmt.Errorf("--endpoint %s is plain http: passwords and tokens would cross the network unencrypted", u.Redacted()), "use https://, or pass --insecure-http if you must")
	}
	return fmt.Errorf("--endpoint %s: the scheme must be https (or http to this machine)", u.Redacted())
}

// defaultStateDir is CRMBATCH_STATE, else $XDG_STATE_HOME/crmbatch, else
// ~/.local/state/crmbatch. With none of them (a cron job or a service without
// HOME) there is no state folder: never a fixed folder under /tmp, which a
// reboot empties (the ledger's "nothing twice" gone with it) and another user
// can create first.
func defaultStateDir(getenv func(string) string) (string, error) {
	if d := getenv("CRMBATCH_STATE"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "crmbatch"), nil
	}
	home := getenv("HOME")
	if home == "" && runtime.GOOS == "windows" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		return "", &usageError{msg: "no state folder for the ledger: neither --state, CRMBATCH_STATE, XDG_STATE_HOME nor HOME is set",
			hint: "pass --state DIR, or set CRMBATCH_STATE=DIR in the job's environment (cron's too): a folder that lasts, kept for crmbatch's ledger; nothing was sent"}
	}
	return filepath.Join(home, ".local", "state", "crmbatch"), nil
}

// printSummary tells what a run or a validation did, which exits code: a few
// lines of text, or one JSON line ("run finished", with the exit code and its
// word, or "validated").
func (f *factory) printSummary(s *report.Summary, code exitCode) {
	if f.json {
		if s.DryRun {
			f.log.Info("validated", s.LogAttrs()...)
			return
		}
		attrs := append(s.LogAttrs(), "exit_code", int(code), "exit", code.word())
		f.log.Log(context.Background(), logLevel(code), "run finished", attrs...)
		return
	}
	s.WriteText(f.stderr)
}
