package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/formats"
)

func chargesExportCommand() *command {
	return &command{
		name: "charges export", args: "OUT.xlsx|OUT.csv",
		summary: "pending charges into OUT: a charges job",
		about: `Pages netflix/charges/list into OUT (.xlsx or .csv), one charge a row, with
count and amount totals per currency. The file is itself a charges job: fill
reference_number, set action (acknowledge|accept), then crmbatch run OUT.`,
		define: func(a *app, fs *flag.FlagSet) runFunc {
			o := &runOptions{}
			o.connFlags(fs)
			status := fs.String("status", crm.ChargeStatusNotProcessed, "NOT_PROCESSED (pending charges) or PROCESSED")
			force := fs.Bool("force", false, "replace OUT when it exists (a reviewed workbook is never replaced without it)")
			return func(ctx context.Context, args []string) error { return a.chargesExport(ctx, o, *status, *force, args) }
		},
	}
}

// chargesExport runs "charges export": the charges waiting for the operator,
// into a sheet that is itself a charges job.
func (a *app) chargesExport(ctx context.Context, o *runOptions, status string, force bool, args []string) error {
	if len(args) != 1 {
		return &usageError{msg: "charges export takes one output file, .xlsx or .csv", hint: "crmbatch charges export pending.xlsx"}
	}
	out := args[0]
	f, err := formats.FormatOf(out)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("%s: %v", out, err)}
	}
	// A workbook of that name may be one reviewed by hand: it is replaced
	// only when asked, and said before the endpoint is.
	switch info, err := os.Stat(out); {
	case err == nil && info.IsDir():
		return &usageError{msg: fmt.Sprintf("%s is a folder", out), hint: "give the path of the .xlsx or .csv file to write"}
	case err == nil && !force:
		return &usageError{msg: fmt.Sprintf("%s exists: the export does not replace it", out),
			hint: "give another name, or pass --force to replace it (its reference numbers and actions would be lost)"}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return &usageError{msg: err.Error()}
	}
	sess, err := a.session(ctx, o)
	if err != nil {
		return err
	}
	last := time.Now()
	e, err := sess.ExportCharges(ctx, status, out, f, func(n int) {
		if time.Since(last) > 2*time.Second {
			fmt.Fprintf(a.stderr, "crmbatch: %d charges listed so far\n", n)
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "crmbatch: exported %d %s charges to %s (%d calls, %d passes)\n", e.Charges, status, e.Path, e.Calls, e.Passes)
	for st, n := range e.PerStatus {
		fmt.Fprintf(a.stderr, "  %-12s %d\n", st, n)
	}
	for _, t := range e.Totals {
		if t.Status == "input" {
			fmt.Fprintf(a.stderr, "  total %s %s (%d charges)\n", t.Currency, t.Amount, t.Count)
		}
	}
	if status == crm.ChargeStatusNotProcessed {
		// Processed charges are a record, not work: nothing comes next.
		fmt.Fprintf(a.stderr, "next: fill reference_number, set action (acknowledge|accept), then: crmbatch run %s\n", out)
	}
	return nil
}
