package batch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

func totalCalls(sb *sandbox.Server) int {
	n := 0
	for _, c := range sb.Calls() {
		n += c
	}
	return n
}

func TestCompletedJobIsRefusedUnlessRerun(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{})
	path := devicesFile(t, t.TempDir(), 30, "DONE")
	cfg := runConfig(t, path, api)
	if _, err := batch.Run(context.Background(), cfg); err != nil {
		t.Fatalf("first run: %v", err)
	}
	before := totalCalls(sb)

	_, err := batch.Run(context.Background(), cfg)
	var fe *fault.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "already ran to the end") || !strings.Contains(err.Error(), "devices.results.csv") {
		t.Fatalf("second run: err = %v, want a FileError naming the earlier reports", err)
	}
	if after := totalCalls(sb); after != before {
		t.Fatalf("the refused run made %d API calls", after-before)
	}

	cfg.Rerun = true
	s, err := batch.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("--rerun: %v", err)
	}
	if s.Counts[report.StatusOK] != 30 || !strings.HasSuffix(s.RunID, "-2") {
		t.Fatalf("--rerun: run %s counts %v", s.RunID, s.Counts)
	}
}

func TestChargeDoneInAnotherFileIsSkipped(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{})
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	first := writeCSV(t, dir, "monday.csv", [][]string{
		{"number", "billing_system_customer_identifier", "reference_number"},
		{"I00000001", "pci001", "FIN-1"}, {"I00000002", "pci002", "FIN-2"},
	})
	second := writeCSV(t, dir, "tuesday.csv", [][]string{
		{"number", "billing_system_customer_identifier", "reference_number"},
		{"I00000002", "pci002", "FIN-2"}, {"I00000004", "pci004", "FIN-4"},
	})
	cfg := runConfig(t, first, api)
	cfg.StateDir = state
	if _, err := batch.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Path = second
	s, err := batch.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := readCSV(t, s.Reports.Results)
	if res[0]["status"] != "skipped" || res[0]["error_code"] != "ALREADY_DONE" || !strings.Contains(res[0]["error_message"], "acknowledged already by run") ||
		!strings.Contains(res[0]["error_message"], "FIN-2") {
		t.Fatalf("I00000002: %v", res[0])
	}
	if res[1]["status"] != "ok" {
		t.Fatalf("I00000004: %v", res[1])
	}
	if n := sb.Applied()[sandbox.Effect{Method: "netflix/charges/acknowledge", Key: "I00000002"}]; n != 1 {
		t.Fatalf("I00000002 acknowledged %d times", n)
	}
	if s.Problems() != 0 {
		t.Fatalf("skipped rows count as problems: %v", s.Counts)
	}

	// --force sends it again.
	cfg.Path, cfg.Force, cfg.Rerun = second, true, true
	s, err = batch.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := readCSV(t, s.Reports.Results); res[0]["status"] != "ok" {
		t.Fatalf("--force: %v", res[0])
	}
}

func TestSecondConcurrentRunIsRefused(t *testing.T) {
	t.Parallel()
	sb, api := startSandbox(t, sandbox.Options{Latency: 20 * time.Millisecond})
	path := devicesFile(t, t.TempDir(), 1000, "LOCK")
	cfg := runConfig(t, path, api)
	cfg.ChunkSize, cfg.Concurrency = 10, 1
	done := make(chan error, 1)
	go func() {
		_, err := batch.Run(context.Background(), cfg)
		done <- err
	}()
	// Once the sandbox sees devices, the first run holds the lock.
	if !waitFor(t, "the first run to send devices", func() bool { return sb.Calls()["netflix/operators/register_devices"] > 0 }) {
		t.FailNow()
	}
	_, err := batch.Run(context.Background(), cfg)
	var ue *fault.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "another crmbatch is running this job") {
		t.Fatalf("second run: err = %v, want it refused", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}
}

// TestLedgerHoldsNoSecret greps the state folder after runs that log in with a
// password and with an API key.
func TestLedgerHoldsNoSecret(t *testing.T) {
	t.Parallel()
	_, api := startSandbox(t, sandbox.Options{TokenTTL: time.Second})
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for i, key := range []string{"", sandbox.DemoAPIKey} {
		cfg := runConfig(t, devicesFile(t, filepath.Join(dir, fmt.Sprint(i)), 50, fmt.Sprintf("SEC%d-", i)), api)
		cfg.StateDir = state
		if key != "" {
			cfg.API.Credentials.Username, cfg.API.Credentials.Password, cfg.API.Credentials.APIKey = "", "", key
		}
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := batch.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(state, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, secret := range []string{sandbox.DemoPassword, sandbox.DemoAPIKey, "eyJ"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q", path, secret)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
