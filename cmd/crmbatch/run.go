package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/kind"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/crmbatch/crmbatch/amount"
)

// ConnOptions are the flags of every command that asks the endpoint.
type ConnOptions struct {
	Endpoint     string
	Sandbox      bool
	InsecureHTTP bool
	CAFile       string
	Timeout      time.Duration
	Attempts     int // per call, the first included; --retries is its former name
	Rate         float64
}

// addConnFlags registers the flags of ConnOptions on cmd.
func addConnFlags(cmd *cobra.Command, o *ConnOptions) {
	fs := cmd.Flags()
	fs.StringVar(&o.Endpoint, "endpoint", "", "CRM.COM Web API base URL, e.g. https://crm.example.com/crmapi/rest/v2/ (or CRMBATCH_ENDPOINT)")
	fs.BoolVar(&o.Sandbox, "sandbox", false, "run against the embedded CRM.COM emulator (no credentials)")
	fs.BoolVar(&o.InsecureHTTP, "insecure-http", false, "allow a plain http:// endpoint that is not on this machine")
	fs.StringVar(&o.CAFile, "ca-file", "", "PEM file of a private certificate authority to trust besides the system's")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.IntVar(&o.Attempts, "attempts", 5, "attempts per call, the first included (1 = no retry; --retries, its former name, works too)")
	fs.Float64Var(&o.Rate, "rate", 10, "requests per second, retries and logins included")
	fs.SetNormalizeFunc(formerNames)
	_ = cmd.RegisterFlagCompletionFunc("ca-file", cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
}

// check refuses connection flags that cannot work, before anything is sent.
func (o *ConnOptions) check() error {
	switch {
	case o.Timeout <= 0:
		return &usageError{msg: "--timeout must be positive, e.g. 30s"}
	case o.Attempts < 1:
		return &usageError{msg: "--attempts (or --retries) must be at least 1: the first attempt counts (1 = no retry)"}
	}
	return nil
}

// formerNames maps the former names of flags to their names: --retries is
// --attempts. It is the flag normalisation (pflag's way of aliasing a flag)
// of every command with the connection flags.
func formerNames(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if name == "retries" {
		return "attempts"
	}
	return pflag.NormalizedName(name)
}

// RunOptions are the flags and argument of run and validate.
type RunOptions struct {
	ConnOptions
	Validate bool   // the command is validate: plan, send nothing
	File     string // the job file; "" under --watch

	Job, Action                                   string
	GroupID, GroupName, GroupAlternativeCode      string
	GroupCode                                     string // refused: it names no field of the API
	Sheet, Out, Format                            string
	Concurrency, ChunkSize                        int
	DryRun, Fresh, Rerun, SkipDone, Force, Strict bool
	ReadBefore, NewLedger                         bool
	DecimalMark                                   string
	MaxWait                                       time.Duration
	State                                         string
	LogFormat                                     string
	Quiet, NoProgress                             bool
	Watch                                         string
	Once                                          bool
	Settle                                        time.Duration
	Done                                          string // with --watch: refuse or skip a file whose job is done
	MetricsFile                                   string
}

// runOnly are the flags of run that mean nothing to validate: validate
// accepts them, so that a run's command line validates as it is, but its help
// and its completion do not show them.
var runOnly = []string{"concurrency", "dry-run", "state", "fresh", "rerun", "force", "no-progress", "new-ledger", "max-wait", "metrics-file"}

// NewCmdRun is "crmbatch run": runF, when not nil, is called with the parsed
// options instead of running the job (for tests of the flags).
func NewCmdRun(f *factory, runF func(*RunOptions) error) *cobra.Command {
	return newCmdJob(f, false, runF)
}

// NewCmdValidate is "crmbatch validate": run's flags, and nothing is sent.
func NewCmdValidate(f *factory, runF func(*RunOptions) error) *cobra.Command {
	return newCmdJob(f, true, runF)
}

func newCmdJob(f *factory, validate bool, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{Validate: validate}
	cmd := &cobra.Command{
		Use:   "run [flags] FILE",
		Short: "run a job file",
		Long: `Runs a job file: reads and validates all of it first (a broken file sends
nothing), sends its rows in chunks under the rate limit, and writes what
happened to every row in FILE's folder (or --out): X.results, X.failures and
X.summary.json. A run that stopped resumes when run again.

With --watch, runs every .csv or .xlsx dropped into DIR once it has settled,
then moves it with its reports into a folder of its own in DIR/processed or
DIR/failed (with NAME.reason.txt saying why).`,
		Annotations:       map[string]string{annotationMoreUsage: "run [flags] --watch DIR [--once]"},
		ValidArgsFunction: completeJobFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.LogFormat == "json" {
				f.jsonErrors() // the usage errors too
			}
			if err := opts.check(args); err != nil {
				return err
			}
			if len(args) == 1 {
				opts.File = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return f.runJob(cmd.Context(), opts)
		},
	}
	if validate {
		cmd.Use, cmd.Annotations = "validate [flags] FILE", nil
		cmd.Short = "parse, validate and plan; send nothing"
		cmd.Long = `Reads, validates and plans a job file and sends nothing: every bad row with
its row and column, the calls a run would make and how long they would take
at --rate. With an endpoint (--endpoint, CRMBATCH_ENDPOINT or --sandbox) it
also checks what only the endpoint knows, such as promotion codes.`
	}
	cmd.DisableFlagsInUseLine = true
	addJobFlags(f, cmd, opts, validate)
	return cmd
}

// addJobFlags gives run (or validate: its flags but the drop folder's, which
// are hidden) its flags and their completions.
func addJobFlags(f *factory, cmd *cobra.Command, opts *RunOptions, validate bool) {
	fs := cmd.Flags()
	fs.StringVar(&opts.Job, "job", "", "job kind: "+strings.Join(kind.Names(), ", ")+" (default: from the header)")
	fs.StringVar(&opts.Action, "action", "", "set the action column of every row")
	fs.StringVar(&opts.GroupID, "group-id", "", "devices: set group_id of every row")
	fs.StringVar(&opts.GroupName, "group-name", "", "devices: set group_name of every row (the group's name, which the API calls its code)")
	fs.StringVar(&opts.GroupAlternativeCode, "group-alternative-code", "", "devices: set group_alternative_code of every row")
	fs.StringVar(&opts.GroupCode, "group-code", "", "refused: the group has two codes; use --group-name or --group-alternative-code")
	fs.StringVar(&opts.Sheet, "sheet", "", "XLSX sheet to read (default: the first)")
	fs.StringVar(&opts.Out, "out", "", "folder for the reports (default: the input's folder)")
	fs.StringVar(&opts.Format, "format", "", "report format csv|xlsx (default: the input's)")
	fs.IntVar(&opts.Concurrency, "concurrency", 4, "calls in flight at once")
	fs.IntVar(&opts.ChunkSize, "chunk-size", 0, "rows per call (default and maximum: the kind's limit)")
	addConnFlags(cmd, &opts.ConnOptions)
	fs.BoolVar(&opts.DryRun, "dry-run", false, "validate and plan only (= crmbatch validate)")
	fs.StringVar(&opts.State, "state", "", "folder of the ledger (default: CRMBATCH_STATE or a per-user state folder)")
	fs.BoolVar(&opts.Fresh, "fresh", false, "start over instead of resuming an unfinished run of the same job (or abandon an unfinished run of the file under other flags, keeping its reports aside)")
	fs.BoolVar(&opts.NewLedger, "new-ledger", false, "start a new ledger in a state folder whose ledger is gone (the new one knows nothing of what earlier runs sent)")
	fs.DurationVar(&opts.MaxWait, "max-wait", 5*time.Minute, "the longest Retry-After the run waits out; a longer one stops it (exit 3) saying when to come back")
	fs.BoolVar(&opts.Rerun, "rerun", false, "run a job file that already completed again")
	fs.BoolVar(&opts.SkipDone, "skip-done", false, "after a finished run of this file (or of the file it is an edit of), send only the rows it did not apply")
	fs.BoolVar(&opts.Force, "force", false, "send charges that an earlier run already acknowledged")
	fs.StringVar(&opts.LogFormat, "log-format", "text", "how stderr logs: text, or json (JSON lines only, errors included)")
	fs.BoolVar(&opts.Quiet, "quiet", false, "log warnings and errors only")
	fs.BoolVar(&opts.NoProgress, "no-progress", false, "no progress bar or progress lines")
	fs.BoolVar(&opts.Strict, "strict", false, "refuse a file with columns the job does not read (a misnamed column), sending nothing")
	fs.StringVar(&opts.MetricsFile, "metrics-file", "", "write the run's figures in Prometheus text format at its end (for node_exporter's textfile collector: a name ending in .prom)")
	fs.StringVar(&opts.DecimalMark, "decimal-mark", "", "charges: the decimal mark of text amounts, , or . (default: as the file's unambiguous amounts agree; an amount that reads two ways, such as 1,234, is invalid: AMBIGUOUS_AMOUNT)")
	fs.BoolVar(&opts.ReadBefore, "read-before", false, "subscriptions: read each customer's subscription before its first row (one call a customer), so that a lost answer on that row can be proven too (default: read back only after a lost answer)")
	if !validate {
		fs.StringVar(&opts.Watch, "watch", "", "run every job file dropped into DIR (which must exist), then move it with its reports into DIR/processed or DIR/failed")
		fs.BoolVar(&opts.Once, "once", false, "with --watch: scan the folder once and exit (for cron)")
		fs.DurationVar(&opts.Settle, "settle", 10*time.Second, "with --watch: a file is run once it has not changed for this long")
		fs.StringVar(&opts.Done, "done", "refuse", "with --watch: a file whose job ran to the end before is refused (moved to failed/, naming the earlier run's reports) or its done rows skipped and the others sent")
		_ = cmd.RegisterFlagCompletionFunc("done", completeWords("refuse", "skip"))
		_ = cmd.RegisterFlagCompletionFunc("watch", completeDirs)
	} else {
		for _, name := range runOnly {
			_ = fs.MarkHidden(name)
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("job", completeWords(kind.Names()...))
	_ = cmd.RegisterFlagCompletionFunc("format", completeWords("csv", "xlsx"))
	_ = cmd.RegisterFlagCompletionFunc("log-format", completeWords("text", "json"))
	_ = cmd.RegisterFlagCompletionFunc("decimal-mark", completeWords(",", "."))
	_ = cmd.RegisterFlagCompletionFunc("sheet", f.completeSheets)
	_ = cmd.RegisterFlagCompletionFunc("out", completeDirs)
	_ = cmd.RegisterFlagCompletionFunc("state", completeDirs)
	_ = cmd.RegisterFlagCompletionFunc("metrics-file", cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
}

// check refuses what the flags and arguments of run or validate cannot mean,
// before anything is read or sent.
func (o *RunOptions) check(args []string) error {
	name := "run"
	if o.Validate {
		name = "validate"
	}
	usage := fmt.Sprintf("crmbatch %s [flags] FILE", name)
	switch {
	case o.Watch != "" && len(args) != 0:
		return &usageError{msg: fmt.Sprintf("--watch takes a folder, not a job file (got %s)", strings.Join(args, " ")), hint: "crmbatch run [flags] --watch DIR [--once]"}
	case o.Watch == "" && len(args) == 0:
		return &usageError{msg: name + " needs a job file", hint: usage}
	case o.Watch == "" && len(args) > 1:
		return &usageError{msg: fmt.Sprintf("%s takes one job file, got %d arguments: %s", name, len(args), strings.Join(args, " ")), hint: usage}
	case o.LogFormat != "text" && o.LogFormat != "json":
		return &usageError{msg: fmt.Sprintf("--log-format %q: text or json", o.LogFormat)}
	case o.Format != "" && o.Format != "csv" && o.Format != "xlsx":
		return &usageError{msg: fmt.Sprintf("--format %q: csv or xlsx", o.Format)}
	case o.Watch != "" && o.Out != "":
		return &usageError{msg: "--watch puts the reports beside each file in processed/ or failed/: drop --out"}
	case o.Done != "" && o.Done != "refuse" && o.Done != "skip":
		return &usageError{msg: fmt.Sprintf("--done %q: refuse or skip", o.Done)}
	case o.Watch == "" && o.Done == "skip":
		return &usageError{msg: "--done is the policy of a watched folder: with one file, pass --skip-done", hint: usage}
	case o.MaxWait <= 0:
		return &usageError{msg: "--max-wait must be positive, e.g. 5m"}
	}
	if _, err := amount.ParseMark(o.DecimalMark); err != nil {
		return &usageError{msg: fmt.Sprintf("--decimal-mark %q: give \",\" or \".\"", o.DecimalMark), hint: "--decimal-mark , reads 1.234,56 and 1,5; --decimal-mark . reads 1,234.56 and 1.5"}
	}
	return o.ConnOptions.check()
}
