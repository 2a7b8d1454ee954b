package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
)

// session logs in to the endpoint of a command that only asks it.
func (a *app) session(ctx context.Context, o *runOptions) (*batch.Session, error) {
	o.concurrency = 1
	if o.timeout <= 0 {
		return nil, &usageError{msg: "--timeout must be positive, e.g. 30s"}
	}
	if o.attempts < 1 {
		return nil, &usageError{msg: "--attempts (or --retries) must be at least 1: the first attempt counts (1 = no retry)"}
	}
	cfg := batch.Config{Concurrency: 1, Retries: o.attempts, Rate: o.rate}
	if err := a.connect(ctx, o, &cfg); err != nil {
		return nil, err
	}
	return batch.Connect(ctx, cfg)
}

func promotionsCommand() *command {
	return &command{
		name: "promotions", summary: "list the operator's promotions",
		about: "Lists the operator's promotions (promotions/list): the codes a subscriptions job's\npromotion_code may take.",
		define: func(a *app, fs *flag.FlagSet) runFunc {
			o := &runOptions{}
			o.connFlags(fs)
			format := fs.String("format", "table", "table or csv")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return &usageError{msg: "promotions takes no arguments"}
				}
				if *format != "table" && *format != "csv" {
					return &usageError{msg: fmt.Sprintf("--format %q: table or csv", *format)}
				}
				return a.promotions(ctx, o, *format)
			}
		},
	}
}

// promotions lists the operator's promotions, as a table or CSV.
func (a *app) promotions(ctx context.Context, o *runOptions, format string) error {
	sess, err := a.session(ctx, o)
	if err != nil {
		return err
	}
	promos, err := sess.Promotions(ctx)
	if err != nil {
		return &batch.FatalError{Err: err}
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
	if format == "csv" {
		return csv.NewWriter(a.io.Out).WriteAll(rows)
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3], r[4])
	}
	return tw.Flush()
}

func showCommand() *command {
	return &command{
		name: "show", args: "CUSTOMER...", summary: "subscriptions/show for each customer",
		about: "Shows the subscription of each customer, by billing_system_customer_identifier.\nExit 1 when a customer is not found.",
		define: func(a *app, fs *flag.FlagSet) runFunc {
			o := &runOptions{}
			o.connFlags(fs)
			return func(ctx context.Context, args []string) error { return a.show(ctx, o, args) }
		},
	}
}

// show prints the subscription of each customer (netflix/subscriptions/show).
func (a *app) show(ctx context.Context, o *runOptions, customers []string) error {
	if len(customers) == 0 {
		return &usageError{msg: "show takes one or more billing_system_customer_identifier values", hint: "crmbatch show pci001 pci002"}
	}
	sess, err := a.session(ctx, o)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "CUSTOMER\tSUBSCRIPTION\tLIFE_CYCLE_STATE\tNETFLIX_STATE")
	missing := 0
	for _, c := range customers {
		sub, err := sess.Show(ctx, c)
		var ce *crm.Error
		switch {
		case errors.As(err, &ce) && ce.Class == crm.Permanent:
			fmt.Fprintf(tw, "%s\t-\t%s: %s\t\n", c, ce.Code, ce.Message)
			missing++
		case err != nil:
			return &batch.FatalError{Err: err}
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c, sub.SubscriptionNumber, sub.LifeCycleState, sub.NetflixState)
		}
	}
	if missing > 0 {
		return &rowsError{missing}
	}
	return nil
}
