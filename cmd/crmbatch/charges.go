package main

import (
	"context"
	"fmt"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
)

// cmdCharges runs "charges export": the charges waiting for the operator, into
// a sheet that is itself a charges job.
func cmdCharges(ctx context.Context, std streams, args []string) int {
	if len(args) == 0 || args[0] != "export" {
		return usageErr(std, "usage: crmbatch charges export [flags] OUT.xlsx|OUT.csv")
	}
	var o runOptions
	fs := connFlags("charges export", "OUT.xlsx|OUT.csv", &o, std)
	status := fs.String("status", crm.ChargeStatusNotProcessed, "NOT_PROCESSED (pending charges) or PROCESSED")
	sess, code := session(ctx, std, fs, &o, args[1:])
	if sess == nil {
		return code
	}
	if fs.NArg() != 1 {
		return usageErr(std, "charges export takes one output file, .xlsx or .csv")
	}
	out := fs.Arg(0)
	f, err := formats.FormatOf(out)
	if err != nil {
		return usageErr(std, "%s: %v", out, err)
	}
	last := time.Now()
	e, err := sess.ExportCharges(ctx, *status, out, f, func(n int) {
		if time.Since(last) > 2*time.Second {
			fmt.Fprintf(std.err, "crmbatch: %d charges listed so far\n", n)
			last = time.Now()
		}
	})
	if err != nil {
		return exitCode(std, nil, err)
	}
	fmt.Fprintf(std.err, "crmbatch: exported %d %s charges to %s (%d calls, %d passes)\n", e.Charges, *status, e.Path, e.Calls, e.Passes)
	for st, n := range e.PerStatus {
		fmt.Fprintf(std.err, "  %-12s %d\n", st, n)
	}
	for _, t := range e.Totals {
		if t.Status == "input" {
			fmt.Fprintf(std.err, "  total %s %s (%d charges)\n", t.Currency, t.Amount, t.Count)
		}
	}
	fmt.Fprintf(std.err, "next: fill reference_number, set action (acknowledge|accept), then: crmbatch run %s\n", out)
	return exitOK
}
