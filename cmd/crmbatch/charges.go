package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/export"
	"github.com/crmbatch/crmbatch/formats"
)

// NewCmdCharges is the group of the charges commands: "crmbatch charges
// export". Alone it is a usage error that names its commands.
func NewCmdCharges(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "charges",
		Short:                      "charges commands",
		SuggestionsMinimumDistance: 2,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return &usageError{msg: fmt.Sprintf("charges needs a subcommand: %s", subcommandNames(cmd)),
				hint: `"crmbatch charges export -h" for its usage`}
		},
	}
	cmd.AddCommand(NewCmdChargesExport(f, nil))
	return cmd
}

// ChargesExportOptions are the flags and argument of charges export.
type ChargesExportOptions struct {
	ConnOptions
	Status string // NOT_PROCESSED or PROCESSED
	Out    string // the file to write, .xlsx or .csv
	Force  bool   // replace Out when it exists
}

// NewCmdChargesExport is "crmbatch charges export": runF, when not nil, is
// called with the parsed options instead of exporting.
func NewCmdChargesExport(f *factory, runF func(*ChargesExportOptions) error) *cobra.Command {
	opts := &ChargesExportOptions{}
	cmd := &cobra.Command{
		Use:   "export [flags] OUT.xlsx|OUT.csv",
		Short: "pending charges into OUT: a charges job",
		Long: `Pages netflix/charges/list into OUT (.xlsx or .csv), one charge a row, with
count and amount totals per currency. The file is itself a charges job: fill
reference_number, set action (acknowledge|accept), then crmbatch run OUT.`,
		ValidArgsFunction: completeJobFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{msg: "charges export takes one output file, .xlsx or .csv", hint: "crmbatch charges export pending.xlsx"}
			}
			opts.Out = args[0]
			if err := opts.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return f.chargesExport(cmd.Context(), opts)
		},
	}
	addConnFlags(cmd, &opts.ConnOptions)
	cmd.Flags().StringVar(&opts.Status, "status", crm.ChargeStatusNotProcessed, "NOT_PROCESSED (pending charges) or PROCESSED")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace OUT when it exists (a reviewed workbook is never replaced without it)")
	_ = cmd.RegisterFlagCompletionFunc("status", completeWords(crm.ChargeStatusNotProcessed, "PROCESSED"))
	return cmd
}

// chargesExport runs "charges export": the charges waiting for the operator,
// into a sheet that is itself a charges job.
func (f *factory) chargesExport(ctx context.Context, o *ChargesExportOptions) error {
	out := o.Out
	format, err := formats.FormatOf(out)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("%s: %v", out, err), err: err}
	}
	// A workbook of that name may be one reviewed by hand: it is replaced
	// only when asked, and said before the endpoint is.
	switch info, err := os.Stat(out); {
	case err == nil && info.IsDir():
		return &usageError{msg: fmt.Sprintf("%s is a folder", out), hint: "give the path of the .xlsx or .csv file to write"}
	case err == nil && !o.Force:
		return &usageError{msg: fmt.Sprintf("%s exists: the export does not replace it", out),
			hint: "give another name, or pass --force to replace it (its reference numbers and actions would be lost)"}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return &usageError{msg: err.Error(), err: err}
	}
	sess, err := f.session(ctx, &o.ConnOptions)
	if err != nil {
		return err
	}
	last := time.Now()
	e, err := export.Charges(ctx, sess, o.Status, out, format, func(n int) {
		if time.Since(last) > 2*time.Second {
			fmt.Fprintf(f.stderr, "crmbatch: %d charges listed so far\n", n)
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.stderr, "crmbatch: exported %d %s charges to %s (%d calls, %d passes)\n", e.Charges, o.Status, e.Path, e.Calls, e.Passes)
	for _, st := range slices.Sorted(maps.Keys(e.PerStatus)) {
		fmt.Fprintf(f.stderr, "  %-12s %d\n", st, e.PerStatus[st])
	}
	for _, t := range e.Totals {
		if t.Status == "input" {
			fmt.Fprintf(f.stderr, "  total %s %s (%d charges)\n", t.Currency, t.Amount, t.Count)
		}
	}
	if o.Status == crm.ChargeStatusNotProcessed {
		// Processed charges are a record, not work: nothing comes next.
		fmt.Fprintf(f.stderr, "next: fill reference_number, set action (acknowledge|accept), then: crmbatch run %s\n", out)
	}
	return nil
}
