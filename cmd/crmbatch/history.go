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

// cmdHistory shows what the ledger knows: the runs, one run's summary, or when
// and by which run a charge was acknowledged or accepted.
func cmdHistory(ctx context.Context, std streams, args []string) int {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	fs.SetOutput(std.err)
	state := fs.String("state", "", "folder of the ledger (default: CRMBATCH_STATE or a per-user state folder)")
	runID := fs.String("run", "", "show one run's summary")
	charge := fs.String("charge", "", "show when and by which run a charge was acknowledged or accepted")
	fs.Usage = func() {
		fmt.Fprintf(std.err, "usage: crmbatch history [--run ID | --charge NUMBER]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	dir := *state
	if dir == "" {
		dir = defaultStateDir(std.getenv)
	}
	led, err := ledger.Open(dir)
	if err != nil {
		return usageErr(std, "%v", err)
	}
	defer led.Close()
	if *charge != "" {
		d, found, err := led.Done(ctx, "charges", *charge)
		if err != nil {
			return usageErr(std, "%v", err)
		}
		if !found {
			fmt.Fprintf(std.out, "charge %s: no run of this ledger acknowledged or accepted it\n", *charge)
			return exitRows
		}
		fmt.Fprintf(std.out, "charge %s: %s by run %s on %s", *charge, batch.Past(d.Action), d.RunID, d.Recorded.Local().Format(time.DateTime))
		if d.Detail != "" {
			fmt.Fprintf(std.out, " with reference %s", d.Detail)
		}
		fmt.Fprintln(std.out)
		return exitOK
	}
	runs, err := led.Runs(ctx, *runID)
	if err != nil {
		return usageErr(std, "%v", err)
	}
	if *runID != "" {
		if len(runs) == 0 {
			return usageErr(std, "no run %s in %s", *runID, dir)
		}
		var v any
		if json.Unmarshal(runs[0].Summary, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintln(std.out, string(b))
		} else {
			fmt.Fprintf(std.out, "run %s of %s started %s has not finished\n", runs[0].ID, runs[0].Input, runs[0].Started.Local().Format(time.DateTime))
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tJOB\tINPUT\tSTARTED\tFINISHED")
	for _, r := range runs {
		fin := "(not finished)"
		if !r.Finished.IsZero() {
			fin = r.Finished.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Job, r.Input, r.Started.Local().Format(time.DateTime), fin)
	}
	tw.Flush()
	return exitOK
}
