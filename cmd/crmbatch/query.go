package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
)

// session logs in to the endpoint of a command that only asks it.
func (f *factory) session(ctx context.Context, o *ConnOptions) (*batch.Session, error) {
	cfg := batch.Config{Concurrency: 1, Attempts: o.Attempts, Rate: o.Rate}
	if err := f.connect(ctx, o, &cfg); err != nil {
		return nil, err
	}
	return batch.Connect(ctx, cfg)
}

// PromotionsOptions are the flags of promotions.
type PromotionsOptions struct {
	ConnOptions
	Format string // table or csv
}

// NewCmdPromotions is "crmbatch promotions": runF, when not nil, is called
// with the parsed options instead of listing.
func NewCmdPromotions(f *factory, runF func(*PromotionsOptions) error) *cobra.Command {
	opts := &PromotionsOptions{}
	cmd := &cobra.Command{
		Use:   "promotions [flags]",
		Short: "list the operator's promotions",
		Long:  "Lists the operator's promotions (promotions/list): the codes a subscriptions job's\npromotion_code may take.",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 0:
				return &usageError{msg: "promotions takes no arguments"}
			case opts.Format != "table" && opts.Format != "csv":
				return &usageError{msg: fmt.Sprintf("--format %q: table or csv", opts.Format)}
			}
			if err := opts.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return f.promotions(cmd.Context(), opts)
		},
	}
	addConnFlags(cmd, &opts.ConnOptions)
	cmd.Flags().StringVar(&opts.Format, "format", "table", "table or csv")
	_ = cmd.RegisterFlagCompletionFunc("format", completeWords("table", "csv"))
	return cmd
}

// promotions lists the operator's promotions, as a table or CSV.
func (f *factory) promotions(ctx context.Context, o *PromotionsOptions) error {
	sess, err := f.session(ctx, &o.ConnOptions)
	if err != nil {
		return err
	}
	promos, err := sess.Promotions(ctx)
	if err != nil {
		return &fault.FatalError{Err: err}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	rows := [][]string{{"code", "name", "description", "effective_from", "expires_on"}}
	for _, p := range promos {
		rows = append(rows, []string{p.Code, p.Name, str(p.Description), str(p.EffectiveFrom), str(p.ExpiresOn)})
	}
	if o.Format == "csv" {
		return csv.NewWriter(f.io.Out).WriteAll(rows)
	}
	tw := tabwriter.NewWriter(f.io.Out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3], r[4])
	}
	return tw.Flush()
}

// ShowOptions are the flags and arguments of show.
type ShowOptions struct {
	ConnOptions
	Customers []string // billing_system_customer_identifier values
}

// NewCmdShow is "crmbatch show": runF, when not nil, is called with the
// parsed options instead of asking the endpoint.
func NewCmdShow(f *factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show [flags] CUSTOMER...",
		Short: "subscriptions/show for each customer",
		Long:  "Shows the subscription of each customer, by billing_system_customer_identifier.\nExit 1 when a customer is not found.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{msg: "show takes one or more billing_system_customer_identifier values", hint: "crmbatch show pci001 pci002"}
			}
			opts.Customers = args
			if err := opts.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return f.show(cmd.Context(), opts)
		},
	}
	addConnFlags(cmd, &opts.ConnOptions)
	return cmd
}

// show prints the subscription of each customer (netflix/subscriptions/show).
func (f *factory) show(ctx context.Context, o *ShowOptions) error {
	sess, err := f.session(ctx, &o.ConnOptions)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(f.io.Out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "CUSTOMER\tSUBSCRIPTION\tLIFE_CYCLE_STATE\tNETFLIX_STATE")
	missing := 0
	for _, c := range o.Customers {
		sub, err := sess.Show(ctx, c)
		var ce *crm.Error
		switch {
		case errors.As(err, &ce) && ce.Class == crm.Permanent:
			fmt.Fprintf(tw, "%s\t-\t%s: %s\t\n", c, ce.Code, ce.Message)
			missing++
		case err != nil:
			return &fault.FatalError{Err: err}
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c, sub.SubscriptionNumber, sub.LifeCycleState, sub.NetflixState)
		}
	}
	if missing > 0 {
		return &rowsError{missing}
	}
	return nil
}
