package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/crmbatch/crmbatch/internal/textfile"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestMetricsFileMatchesSummary runs a job against a sandbox that fails,
// drops and rate-limits calls, with --metrics-file; the file, read by
// Prometheus's own text parser, says what the run's summary.json says.
func TestMetricsFileMatchesSummary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(sandbox.New(sandbox.Options{FailRate: 0.15, DropRate: 0.1, RateLimit: 40, Seed: 7}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	var rows strings.Builder
	rows.WriteString("esn,group_name\n")
	for i := range 60 {
		fmt.Fprintf(&rows, "M-%03d,OPERATOR1\n", i)
	}
	rows.WriteString(",OPERATOR1\n") // invalid
	job := filepath.Join(dir, "job.csv")
	if err := os.WriteFile(job, []byte(rows.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(dir, "crmbatch.prom")
	getenv := env(map[string]string{"CRMBATCH_ENDPOINT": srv.URL + sandbox.BasePath, "CRMBATCH_USERNAME": sandbox.DemoUsername,
		"CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation, "CRMBATCH_STATE": filepath.Join(dir, "state")})
	var stderr bytes.Buffer
	code := Main([]string{"run", "--no-progress", "--chunk-size", "5", "--rate", "200", "--metrics-file", prom, job}, getenv, onBuffers(&bytes.Buffer{}, &stderr))
	if code != exitRows {
		t.Fatalf("exit %d, want 1 (a row invalid):\n%s", code, stderr.String())
	}
	var sum struct {
		Job             string         `json:"job"`
		Counts          map[string]int `json:"counts"`
		NotSent         int            `json:"not_sent"`
		Calls           float64        `json:"calls"`
		Retries         float64        `json:"retries"`
		Throttled       float64        `json:"throttled"`
		DurationSeconds float64        `json:"duration_seconds"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "job.summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(fh)
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses the metrics file: %v", err)
	}
	labels := map[string]string{"job_kind": "devices", "input": job}
	want := map[string]float64{textfile.Calls: sum.Calls, textfile.Retries: sum.Retries, textfile.Throttled: sum.Throttled,
		textfile.Duration: sum.DurationSeconds, textfile.ExitCode: 1}
	for name, v := range want {
		if got, ok := gaugeOf(fams, name, labels); !ok || got != v {
			t.Errorf("%s = %v (found %v), summary.json says %v", name, got, ok, v)
		}
	}
	total := 0.0
	for _, st := range textfile.Statuses {
		wantN := float64(sum.Counts[st])
		if st == "not_sent" {
			wantN = float64(sum.NotSent)
		}
		l := map[string]string{"job_kind": "devices", "input": job, "status": st}
		got, ok := gaugeOf(fams, textfile.Rows, l)
		if !ok || got != wantN {
			t.Errorf("rows{status=%s} = %v (found %v), summary.json says %v", st, got, ok, wantN)
		}
		total += got
	}
	if total != 61 {
		t.Errorf("the rows by status add up to %v, want 61", total)
	}
	if sum.Retries == 0 {
		t.Errorf("no retry against a faulty sandbox: the test proves little")
	}
	if _, ok := gaugeOf(fams, textfile.LastSuccess, labels); ok {
		t.Errorf("a run that exits 1 is told as a success")
	}
}

// gaugeOf is the value of name's gauge with exactly the labels want.
func gaugeOf(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
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
			same = same && want[lp.GetName()] == lp.GetValue()
		}
		if same {
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}
