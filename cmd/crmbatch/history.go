package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/ledger"
)

func historyCommand() *command {
	return &command{
		name:    "history",
		summary: "what the ledger knows",
		about: `Lists the runs the ledger holds; --run ID prints one run's summary; --charge
NUMBER says when and by which run a charge was acknowledged or accepted.`,
		define: func(a *app, fs *flag.FlagSet) runFunc {
			state := fs.String("state", "", "folder of the ledger (default: CRMBATCH_STATE or a per-user state folder)")
			runID := fs.String("run", "", "show one run's summary")
			charge := fs.String("charge", "", "show when and by which run a charge was acknowledged or accepted")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return &usageError{msg: "history takes no arguments", hint: "crmbatch history [--run ID | --charge NUMBER]"}
				}
				return a.history(ctx, *state, *runID, *charge)
			}
		},
	}
}

// history shows what the ledger knows: the runs, one run's summary, or when
// and by which run a charge was acknowledged or accepted.
func (a *app) history(ctx context.Context, dir, runID, charge string) error {
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(a.getenv); err != nil {
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
		return &usageError{msg: err.Error()}
	}
	defer led.Close()
	out := a.io.Out
	if charge != "" {
		d, found, err := led.Done(ctx, "charges", charge)
		if err != nil {
			return &usageError{msg: err.Error()}
		}
		if !found {
			fmt.Fprintf(out, "charge %s: no run of this ledger acknowledged or accepted it\n", charge)
			return &rowsError{1}
		}
		fmt.Fprintf(out, "charge %s: %s by run %s on %s", charge, batch.Past(d.Action), d.RunID, d.Recorded.Local().Format(time.DateTime))
		if d.Detail != "" {
			fmt.Fprintf(out, " with reference %s", d.Detail)
		}
		fmt.Fprintln(out)
		return nil
	}
	runs, err := led.Runs(ctx, runID)
	if err != nil {
		return &usageError{msg: err.Error()}
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
	fmt.Fprintln(tw, "RUN\tJOB\tINPUT\tSTARTED\tFINISHED")
	for _, r := range runs {
		fin := "(not finished)"
		if !r.Finished.IsZero() {
			fin = r.Finished.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Job, r.Input, r.Started.Local().Format(time.DateTime), fin)
	}
	return tw.Flush()
}
