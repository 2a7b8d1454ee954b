package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/jobfile"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
	"github.com/crmbatch/crmbatch/sandbox"
)

const registerDevices = "netflix/operators/register_devices"

// devicesJob writes a devices job of n rows of OPERATOR1; the rows for
// which bad says so hold an ESN that is invalid (never sent), those for which
// other says so are of OPERATOR2 (a call of their own).
func devicesJob(t *testing.T, n int, bad, other func(i int) bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("esn,group_name\n")
	for i := range n {
		group := "OPERATOR1"
		if other != nil && other(i) {
			group = "OPERATOR2"
		}
		if bad(i) {
			fmt.Fprintf(&b, "BAD ESN %d,%s\n", i, group)
			continue
		}
		fmt.Fprintf(&b, "W%07d,%s\n", i, group)
	}
	path := filepath.Join(t.TempDir(), "devices.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sandboxConfig is a run of path against a sandbox of its own over HTTP, one
// call at a time of 1000 rows: the reports' window is then its floor, 4096 rows.
func sandboxConfig(t *testing.T, path string) (*sandbox.Server, Config) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, Config{
		Path: path, Concurrency: 1, Attempts: 3, Rate: 1e6, Backoff: time.Millisecond,
		StateDir: filepath.Join(t.TempDir(), "state"),
		API: crm.Config{BaseURL: srv.URL + sandbox.BasePath, Credentials: crm.Credentials{
			Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}},
	}
}

// pausedWriter is a report writer that, at row at, waits until go says it
// may write on.
type pausedWriter struct {
	formats.ReportWriter
	rows  int
	at    int
	until func() bool
}

func (w *pausedWriter) WriteCells(fields []string, kinds []formats.CellKind, style formats.RowStyle) error {
	if w.rows++; w.rows == w.at {
		for !w.until() {
			time.Sleep(time.Millisecond)
		}
	}
	return w.ReportWriter.WriteCells(fields, kinds, style)
}

// TestReportsBoundWhatIsReadAhead runs files whose reports would have waited
// for rows never sent (invalid rows: every outcome after the first invalid
// row was kept until the run ended, ~450 bytes a row), and reports slower than
// the server: the outcomes waiting for the reports never pass the window.
func TestReportsBoundWhatIsReadAhead(t *testing.T) {
	t.Parallel()
	const rows = 20000
	none := func(int) bool { return false }
	for _, tc := range []struct {
		name  string
		bad   func(i int) bool
		other func(i int) bool
		slow  bool // the reports stop at their 100th row until the sending waits for them
	}{
		{"clean", none, nil, false},
		{"a block of invalid rows at the top", func(i int) bool { return i < 1500 }, nil, false},
		{"one invalid row in 100", func(i int) bool { return i%100 == 7 }, nil, false},
		{"the reports slower than the server", none, nil, true},
		// The reports wait for row 1, whose call of one row would be sent
		// only at the end: it is sent once the reading is half a window on.
		{"a row of another group at the top", none, func(i int) bool { return i == 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, cfg := sandboxConfig(t, devicesJob(t, rows, tc.bad, tc.other))
			var st *stream
			cfg.hooks = &hooks{stream: func(s *stream) { st = s }}
			if tc.slow {
				wantCalls := rows / 1000
				var once sync.Once
				cfg.hooks.writer = func(w formats.ReportWriter) formats.ReportWriter {
					var paused formats.ReportWriter = w
					once.Do(func() { // the results report
						paused = &pausedWriter{ReportWriter: w, at: 100, until: func() bool {
							return st.waited() > 0 || sb.Calls()[registerDevices] >= wantCalls
						}}
					})
					return paused
				}
			}
			s, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			invalid := 0
			for i := range rows {
				if tc.bad(i) {
					invalid++
				}
			}
			if s.Counts[report.StatusOK] != rows-invalid || s.Counts[report.StatusInvalid] != invalid {
				t.Fatalf("counts %v, want %d ok and %d invalid", s.Counts, rows-invalid, invalid)
			}
			if got, window := st.held(), reportWindow(&jobfile.File{Kind: kind.Devices, ChunkSize: 1000}, 1); got > window {
				t.Errorf("the reports' stream held %d outcomes at once, more than its window of %d rows", got, window)
			}
		})
	}
}

// failingWriter is a report writer whose rows fail from row at on, as on a
// full disk.
type failingWriter struct {
	formats.ReportWriter
	rows, at int
}

var errDiskFull = errors.New("no space left on device")

func (w *failingWriter) WriteCells(fields []string, kinds []formats.CellKind, style formats.RowStyle) error {
	if w.rows++; w.rows >= w.at {
		return errDiskFull
	}
	return w.ReportWriter.WriteCells(fields, kinds, style)
}

// TestReportWriterFailureStopsTheRun makes the results report fail at its
// 5,000th row of 20,000: the run stops within the reports' window rather than
// sending every row for reports that will not come (exit 3), and the same
// command then sends the rest and writes every row's outcome from the ledger.
func TestReportWriterFailureStopsTheRun(t *testing.T) {
	t.Parallel()
	const rows = 20000
	sb, cfg := sandboxConfig(t, devicesJob(t, rows, func(int) bool { return false }, nil))
	first := cfg
	first.hooks = &hooks{writer: func(w formats.ReportWriter) formats.ReportWriter { return &failingWriter{ReportWriter: w, at: 5000} }}
	_, err := Run(context.Background(), first)
	var fatal *fault.FatalError
	if !errors.As(err, &fatal) || !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "writing the reports") {
		t.Fatalf("the first run: %v, want a *fault.FatalError writing the reports", err)
	}
	// Row 5,000 failed: the sending went at most a window (4,096 rows) past
	// it, and one call it had begun.
	if calls := sb.Calls()[registerDevices]; calls > (5000+4096)/1000+1 {
		t.Errorf("%d calls of 1000 rows after the reports failed at row 5,000: the run went on sending", calls)
	}
	for _, p := range []string{"devices.results.csv", "devices.failures.csv", "devices.summary.json"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(cfg.Path), p)); err == nil {
			t.Errorf("%s was written by the run whose reports failed", p)
		}
	}

	s, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("the same command again: %v", err)
	}
	if !s.Resumed || s.Counts[report.StatusOK] != rows {
		t.Fatalf("the same command again: resumed %v, counts %v, want every one of %d rows ok", s.Resumed, s.Counts, rows)
	}
	for e, n := range sb.Applied() {
		if n != 1 {
			t.Errorf("%v applied %d times", e, n)
		}
	}
	if n := len(sb.Applied()); n != rows {
		t.Errorf("%d devices registered, want %d", n, rows)
	}
	b, err := os.ReadFile(s.Reports.Results)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), ",ok,"); got != rows {
		t.Errorf("the results report has %d rows ok, want %d", got, rows)
	}
}

// TestReportFits holds the boundary of an XLSX report: a sheet's 1,048,576
// rows hold a header and 1,048,575 rows; a CSV report has no limit.
func TestReportFits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		format formats.Format
		rows   int
		fits   bool
	}{
		{"no rows", formats.XLSX, 0, true},
		{"a sheet but one row", formats.XLSX, 1<<20 - 2, true},
		{"a sheet with its header", formats.XLSX, 1<<20 - 1, true},
		{"a sheet's rows and a header", formats.XLSX, 1 << 20, false},
		{"far more", formats.XLSX, 10_000_000, false},
		{"CSV", formats.CSV, 10_000_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := reportFits(Config{Path: "big.csv", Format: tc.format}, tc.rows, true)
			var ue *fault.UsageError
			switch {
			case tc.fits && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.fits && (!errors.As(err, &ue) || !strings.Contains(fault.HintOf(err), "--format csv")):
				t.Errorf("%v, want a usage error naming --format csv", err)
			}
		})
	}
}
