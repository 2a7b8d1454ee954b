package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmbatch/crmbatch/sandbox"
)

// startSandbox serves the emulator on a loopback port until ctx ends and returns
// its base URL.
func startSandbox(ctx context.Context, opts sandbox.Options) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: sandbox.New(opts), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String() + sandbox.BasePath, nil
}

// SandboxOptions are the flags of sandbox.
type SandboxOptions struct {
	Listen string // the address to serve on
	sandbox.Options
}

// NewCmdSandbox is "crmbatch sandbox": runF, when not nil, is called with the
// parsed options instead of serving.
func NewCmdSandbox(f *factory, runF func(*SandboxOptions) error) *cobra.Command {
	opts := &SandboxOptions{}
	cmd := &cobra.Command{
		Use:   "sandbox [flags]",
		Short: "serve the embedded CRM.COM emulator",
		Long: `Serves the embedded CRM.COM emulator until interrupted, and prints its URL and
demo credentials. The fault flags rehearse a bad day: latency, a server-side
rate limit (429 with Retry-After), failures and dropped answers.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return &usageError{msg: "sandbox takes no arguments", hint: "crmbatch sandbox --listen 127.0.0.1:8080"}
			}
			if runF != nil {
				return runF(opts)
			}
			return f.serveSandbox(cmd.Context(), opts.Listen, opts.Options)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.DurationVar(&opts.Latency, "latency", 0, "added to every request, e.g. 20ms")
	fs.Float64Var(&opts.RateLimit, "rate-limit", 0, "server-side limit in requests/s, answered with 429 and Retry-After (0 = none)")
	fs.Float64Var(&opts.FailRate, "fail-rate", 0, "fraction of requests answered 500 without applying anything")
	fs.Float64Var(&opts.DropRate, "drop-rate", 0, "fraction of requests applied and then dropped without an answer")
	fs.DurationVar(&opts.TokenTTL, "token-ttl", 2*time.Hour, "token lifetime")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the fault draws")
	fs.IntVar(&opts.Charges, "charges", 300, "demo charges (two in three PENDING)")
	fs.IntVar(&opts.RateBurst, "rate-burst", 0, "burst of the server-side limit (default: one second's worth)")
	return cmd
}

// serveSandbox serves the emulator on listen until ctx ends.
func (f *factory) serveSandbox(ctx context.Context, listen string, o sandbox.Options) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return &usageError{msg: "sandbox: " + err.Error(), hint: "pass --listen 127.0.0.1:0 for a free port", err: err}
	}
	srv := &http.Server{Handler: sandbox.New(o), ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String() + sandbox.BasePath
	out := f.io.Out
	fmt.Fprintf(out, "crmbatch sandbox: serving the CRM.COM emulator at %s\n\n", base)
	fmt.Fprintf(out, "  export CRMBATCH_ENDPOINT=%s\n", base)
	fmt.Fprintf(out, "  export CRMBATCH_USERNAME=%s CRMBATCH_PASSWORD=%s CRMBATCH_ORGANISATION=%s\n", sandbox.DemoUsername, sandbox.DemoPassword, sandbox.DemoOrganisation)
	fmt.Fprintf(out, "  (or CRMBATCH_API_KEY=%s)\n\nStop with Ctrl-C.\n", sandbox.DemoAPIKey)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		fmt.Fprintln(out, "crmbatch sandbox: stopped")
		return nil
	case err := <-errc:
		return fmt.Errorf("sandbox: %w", err)
	}
}
