package textfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads the file at path with Prometheus's own text parser.
func parse(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(fh)
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses %s: %v", path, err)
	}
	return fams
}

// value is the gauge of name with exactly the labels want, and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		same := true
		for _, lp := range m.Label {
			if want[lp.GetName()] != lp.GetValue() {
				same = false
			}
		}
		if same {
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func TestWrite(t *testing.T) {
	t.Parallel()
	night1 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	night2 := night1.Add(24 * time.Hour)
	job := map[string]string{"job_kind": "charges", "input": "/drop"}
	withStatus := func(st string) map[string]string {
		return map[string]string{"job_kind": "charges", "input": "/drop", "status": st}
	}
	for _, tc := range []struct {
		name        string
		files       []File // written one after the other
		rows        map[string]float64
		calls       float64
		exit        float64
		lastSuccess float64 // 0: no series
	}{
		{
			name: "one run, every row ok",
			files: []File{{Job: "charges", Input: "/drop", ExitCode: 0, End: night1,
				Runs: []Run{{Job: "charges", Rows: map[string]int{"ok": 120}, Calls: 3, DurationSeconds: 1.5}}}},
			rows: map[string]float64{"ok": 120, "failed": 0, "not_sent": 0}, calls: 3, exit: 0, lastSuccess: float64(night1.Unix()),
		},
		{
			name: "a stopped night keeps the last success",
			files: []File{
				{Job: "charges", Input: "/drop", ExitCode: 0, End: night1, Runs: []Run{{Job: "charges", Rows: map[string]int{"ok": 1}, Calls: 1}}},
				{Job: "charges", Input: "/drop", ExitCode: 3, End: night2, Runs: []Run{{Job: "charges", Rows: map[string]int{"ok": 50, "not_sent": 70}, Calls: 1, Throttled: 9}}},
			},
			rows: map[string]float64{"ok": 50, "not_sent": 70, "failed": 0}, calls: 1, exit: 3, lastSuccess: float64(night1.Unix()),
		},
		{
			name: "two files of a scan are summed",
			files: []File{{Job: "charges", Input: "/drop", ExitCode: 1, End: night1, Runs: []Run{
				{Job: "charges", Rows: map[string]int{"ok": 2, "failed": 1}, Calls: 2},
				{Job: "charges", Rows: map[string]int{"ok": 3, "invalid": 1}, Calls: 1},
			}}},
			rows: map[string]float64{"ok": 5, "failed": 1, "invalid": 1}, calls: 3, exit: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "crmbatch.prom")
			for _, f := range tc.files {
				if err := Write(path, f); err != nil {
					t.Fatal(err)
				}
			}
			fams := parse(t, path)
			for st, want := range tc.rows {
				if got, ok := value(fams, Rows, withStatus(st)); !ok || got != want {
					t.Errorf("%s{status=%q} = %v (found %v), want %v", Rows, st, got, ok, want)
				}
			}
			if got, _ := value(fams, Calls, job); got != tc.calls {
				t.Errorf("%s = %v, want %v", Calls, got, tc.calls)
			}
			if got, ok := value(fams, ExitCode, job); !ok || got != tc.exit {
				t.Errorf("%s = %v (found %v), want %v", ExitCode, got, ok, tc.exit)
			}
			got, ok := value(fams, LastSuccess, job)
			if ok != (tc.lastSuccess > 0) || got != tc.lastSuccess {
				t.Errorf("%s = %v (found %v), want %v", LastSuccess, got, ok, tc.lastSuccess)
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*"))
			if len(left) != 1 {
				t.Errorf("the folder holds %v, want the metrics file alone", left)
			}
		})
	}
}
