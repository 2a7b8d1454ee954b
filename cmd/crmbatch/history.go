package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/ledger"
	"github.com/crmbatch/crmbatch/report"
)

// HistoryOptions are the flags of history.
type HistoryOptions struct {
	State  string // the ledger's folder; "" = the default
	RunID  string // one run's summary
	Charge string // when and by which run a charge was done
}

// NewCmdHistory is "crmbatch history": runF, when not nil, is called with the
// parsed options instead of reading the ledger.
func NewCmdHistory(f *factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{}
	cmd := &cobra.Command{
		Use:   "history [flags]",
		Short: "what the ledger knows",
		Long: `Lists the runs the ledger holds; --run ID prints one run's summary; --charge
NUMBER says when and by which run a charge was acknowledged or accepted.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{msg: "history takes no arguments", hint: "crmbatch history [--run ID | --charge NUMBER]"}
			}
			if runF != nil {
				return runF(opts)
			}
			return f.history(cmd.Context(), opts.State, opts.RunID, opts.Charge)
		},
	}
	cmd.Flags().StringVar(&opts.State, "state", "", "folder of the ledger (default: CRMBATCH_STATE or a per-user state folder)")
	cmd.Flags().StringVar(&opts.RunID, "run", "", "show one run's summary")
	cmd.Flags().StringVar(&opts.Charge, "charge", "", "show when and by which run a charge was acknowledged or accepted")
	_ = cmd.RegisterFlagCompletionFunc("state", completeDirs)
	return cmd
}

// history shows what the ledger knows: the runs, one run's summary, or when
// and by which run a charge was acknowledged or accepted.
func (f *factory) history(ctx context.Context, dir, runID, charge string) error {
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(f.getenv); err != nil {
			return err
		}
	}
	// Read only: a mistyped --state is told, never given an empty ledger.
	led, err := ledger.OpenReadOnly(dir)
	if errors.Is(err, ledger.ErrNoLedger) {
		return &usageError{msg: fmt.Sprintf("no ledger in %s: no run kept its ledger there", dir),
			hint: "pass the --state (or CRMBATCH_STATE) the runs were given; without either, runs keep it in $XDG_STATE_HOME/crmbatch or ~/.local/state/crmbatch"}
	}
	if err != nil {
		return &usageError{msg: err.Error(), err: err}
	}
	defer led.Close()
	out := f.io.Out
	if charge != "" {
		d, found, err := led.Done(ctx, "charges", charge)
		if err != nil {
			return &usageError{msg: err.Error(), err: err}
		}
		if !found {
			fmt.Fprintf(out, "charge %s: no run of this ledger acknowledged or accepted it\n", charge)
			return &rowsError{1}
		}
		fmt.Fprintf(out, "charge %s: %s by run %s on %s", charge, kind.Past(d.Action), d.RunID, d.Recorded.Local().Format(time.DateTime))
		if d.Detail != "" {
			fmt.Fprintf(out, " with reference %s", d.Detail)
		}
		fmt.Fprintln(out)
		return nil
	}
	runs, err := led.Runs(ctx, runID)
	if err != nil {
		return &usageError{msg: err.Error(), err: err}
	}
	if runID != "" {
		if len(runs) == 0 {
			return &usageError{msg: fmt.Sprintf("no run %s in %s", runID, dir), hint: `"crmbatch history" lists the runs`}
		}
		var v any
		if json.Unmarshal(runs[0].Summary, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintln(out, string(b))
		} else {
			fmt.Fprintf(out, "run %s of %s started %s has not finished\n", runs[0].ID, runs[0].Input, runs[0].Started.Local().Format(time.DateTime))
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tJOB\tINPUT\tOK\tFAILED\tINVALID\tUNKNOWN\tSKIPPED\tNOT SENT\tOUTCOME")
	for _, r := range runs {
		c, err := runCounts(ctx, led, dir, r)
		if err != nil {
			return &usageError{msg: err.Error(), err: err}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Started.Local().Format(time.DateTime), r.Job, r.Input,
			c.n(report.StatusOK), c.n(report.StatusFailed), c.n(report.StatusInvalid), c.n(report.StatusUnknown), c.n(report.StatusSkipped),
			c.notSent(), c.outcome)
	}
	return tw.Flush()
}

// historyCounts are one run's rows per status and its outcome, for history.
type historyCounts struct {
	counts  map[report.Status]int
	notSnt  int // rows a stopped run never sent; -1: not known (the run has not finished)
	outcome string
}

func (c historyCounts) n(st report.Status) string { return strconv.Itoa(c.counts[st]) }

func (c historyCounts) notSent() string {
	if c.notSnt < 0 {
		return "-"
	}
	return strconv.Itoa(c.notSnt)
}

// runCounts are r's counts: its summary's once it finished; else the outcomes
// the ledger recorded so far (the rows not recorded yet are not known apart).
func runCounts(ctx context.Context, led *ledger.Ledger, dir string, r ledger.Run) (c historyCounts, err error) {
	c = historyCounts{counts: map[report.Status]int{}, notSnt: -1}
	var s report.Summary
	summarised := len(r.Summary) > 0 && json.Unmarshal(r.Summary, &s) == nil
	if summarised {
		for st, n := range s.Counts {
			c.counts[st] = n
		}
		c.notSnt = s.NotSent
	}
	if !r.Finished.IsZero() {
		c.outcome = "done"
		if s.Problems() > 0 {
			c.outcome = "done, rows not ok: see its failures report"
		}
		return c, nil
	}
	defer func() {
		switch {
		case r.Abandoned != "":
			c.outcome = "abandoned (--fresh) by run " + r.Abandoned
		case led.Running(dir, r.Lineage):
			c.outcome = "running"
		case c.counts[report.StatusUnknown] > 0:
			c.outcome = "unfinished: rows unknown; the same command reads them back"
		default:
			c.outcome = "stopped: the same command resumes it"
		}
	}()
	if summarised {
		return c, nil
	}
	// A run that stopped before it could write its summary: what the ledger
	// recorded of it.
	cur, err := led.Outcomes(ctx, r.ID)
	if err != nil {
		return c, err
	}
	defer cur.Close()
	for {
		o, ok := cur.Next()
		if !ok {
			break
		}
		if o.Code == "NOT_SENT" {
			continue
		}
		c.counts[report.Status(o.Status)]++
	}
	return c, cur.Err()
}
