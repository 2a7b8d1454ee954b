package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
)

// connFlags registers the flags of the commands that only talk to the endpoint.
func connFlags(name, args string, o *runOptions, std streams) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.StringVar(&o.endpoint, "endpoint", "", "CRM.COM Web API base URL (or CRMBATCH_ENDPOINT)")
	fs.BoolVar(&o.useSandbox, "sandbox", false, "ask the embedded CRM.COM emulator")
	fs.BoolVar(&o.insecureHTTP, "insecure-http", false, "allow a plain http:// endpoint that is not on this machine")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM file of a private certificate authority to trust besides the system's")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.Float64Var(&o.rate, "rate", 10, "requests per second")
	fs.IntVar(&o.retries, "retries", 5, "attempts per call, the first included")
	fs.Usage = func() {
		fmt.Fprintf(std.err, "usage: crmbatch %s [flags] %s\n\nflags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// session parses the flags and logs in.
func session(ctx context.Context, std streams, fs *flag.FlagSet, o *runOptions, args []string) (*batch.Session, int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK
		}
		return nil, exitUsage
	}
	o.concurrency = 1
	cfg := batch.Config{Concurrency: 1, Retries: o.retries, Rate: o.rate}
	if code := connect(ctx, std, o, &cfg); code != exitOK {
		return nil, code
	}
	sess, err := batch.Connect(ctx, cfg)
	if err != nil {
		return nil, exitCode(std, nil, err)
	}
	return sess, -1
}

// cmdPromotions lists the operator's promotions, as a table or CSV.
func cmdPromotions(ctx context.Context, std streams, args []string) int {
	var o runOptions
	fs := connFlags("promotions", "", &o, std)
	format := fs.String("format", "table", "table or csv")
	sess, code := session(ctx, std, fs, &o, args)
	if sess == nil {
		return code
	}
	if *format != "table" && *format != "csv" {
		return usageErr(std, "--format %q: table or csv", *format)
	}
	promos, err := sess.Promotions(ctx)
	if err != nil {
		return exitCode(std, nil, &batch.FatalError{Err: err})
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
	if *format == "csv" {
		w := csv.NewWriter(std.out)
		_ = w.WriteAll(rows)
		return exitOK
	}
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3], r[4])
	}
	tw.Flush()
	return exitOK
}

// cmdShow prints the subscription of each customer (netflix/subscriptions/show).
func cmdShow(ctx context.Context, std streams, args []string) int {
	var o runOptions
	fs := connFlags("show", "CUSTOMER...", &o, std)
	sess, code := session(ctx, std, fs, &o, args)
	if sess == nil {
		return code
	}
	if fs.NArg() == 0 {
		return usageErr(std, "show takes one or more billing_system_customer_identifier values")
	}
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CUSTOMER\tSUBSCRIPTION\tLIFE_CYCLE_STATE\tNETFLIX_STATE")
	result := exitOK
	for _, c := range fs.Args() {
		sub, err := sess.Show(ctx, c)
		var ce *crm.Error
		switch {
		case errors.As(err, &ce) && ce.Class == crm.Permanent:
			fmt.Fprintf(tw, "%s\t-\t%s: %s\t\n", c, ce.Code, ce.Message)
			result = exitRows
		case err != nil:
			tw.Flush()
			return exitCode(std, nil, &batch.FatalError{Err: err})
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c, sub.SubscriptionNumber, sub.LifeCycleState, sub.NetflixState)
		}
	}
	tw.Flush()
	return result
}
