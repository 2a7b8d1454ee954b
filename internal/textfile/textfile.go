// Package textfile writes what a crmbatch run did as a Prometheus text-format
// file, for node_exporter's textfile collector: the monitoring most sites
// already run, and where a cron job's outcome is usually watched. The file is
// written whole to a temporary name beside it and renamed into place, so the
// collector never reads half of one.
package textfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// Run is what one job did: the figures of its summary.
type Run struct {
	Job             string         // the job's kind: devices, charges, ...
	Rows            map[string]int // rows per status (ok, failed, invalid, skipped, unknown, not_sent)
	Calls           int64
	Retries         int64
	Throttled       int64 // answers HTTP 429
	DurationSeconds float64
}

// File is what one invocation of crmbatch did: a run, or a watch folder's
// scan with a run per file.
type File struct {
	Job      string // the job's kind when one kind ran, else ""
	Input    string // the job file, or the watched folder
	Runs     []Run  // summed per kind
	ExitCode int
	End      time.Time
}

// Statuses are the rows' statuses always written, 0 or not, so that an alert
// on one finds a value rather than no series.
var Statuses = []string{"ok", "failed", "invalid", "skipped", "unknown", "not_sent"}

// Metric names.
const (
	Rows          = "crmbatch_rows"
	Calls         = "crmbatch_calls"
	Retries       = "crmbatch_retries"
	Throttled     = "crmbatch_throttled_responses"
	Duration      = "crmbatch_duration_seconds"
	ExitCode      = "crmbatch_exit_code"
	LastRun       = "crmbatch_last_run_timestamp_seconds"
	LastSuccess   = "crmbatch_last_success_timestamp_seconds"
	labelJob      = "job_kind"
	labelInput    = "input"
	labelStatus   = "status"
	successfulRun = 0
)

// Write writes f to path. The time of the last success (exit 0) is f.End when
// f succeeded, else the one an earlier file at path holds for the same job
// and input: a failed night does not erase when the job last went well.
func Write(path string, f File) error {
	lastSuccess := 0.0
	if f.ExitCode == successfulRun {
		lastSuccess = unix(f.End)
	} else if prev, err := previousSuccess(path, f.Job, f.Input); err == nil {
		lastSuccess = prev
	}
	fams := families(f, lastSuccess)
	return writeAtomic(path, func(w io.Writer) error {
		for _, mf := range fams {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
}

// families are f's metric families, in a fixed order.
func families(f File, lastSuccess float64) []*dto.MetricFamily {
	runLabels := func(job string) []*dto.LabelPair {
		return labels(labelJob, job, labelInput, f.Input)
	}
	kinds := map[string]*Run{}
	var order []string
	for _, r := range f.Runs {
		k, ok := kinds[r.Job]
		if !ok {
			k = &Run{Job: r.Job, Rows: map[string]int{}}
			kinds[r.Job] = k
			order = append(order, r.Job)
		}
		for st, n := range r.Rows {
			k.Rows[st] += n
		}
		k.Calls += r.Calls
		k.Retries += r.Retries
		k.Throttled += r.Throttled
		k.DurationSeconds += r.DurationSeconds
	}
	sort.Strings(order)
	rows := family(Rows, "Rows of the last run (or scan) per status; not_sent: rows a stopped run never sent.")
	calls := family(Calls, "Web API calls the last run made.")
	retries := family(Retries, "Attempts after a call's first in the last run.")
	throttled := family(Throttled, "Answers HTTP 429 (too many requests) in the last run.")
	duration := family(Duration, "How long the last run took, in seconds.")
	for _, job := range order {
		k := kinds[job]
		statuses := append([]string(nil), Statuses...)
		for st := range k.Rows {
			if !contains(statuses, st) {
				statuses = append(statuses, st)
			}
		}
		for _, st := range statuses {
			rows.Metric = append(rows.Metric, gauge(float64(k.Rows[st]), append(runLabels(job), labels(labelStatus, st)...)...))
		}
		calls.Metric = append(calls.Metric, gauge(float64(k.Calls), runLabels(job)...))
		retries.Metric = append(retries.Metric, gauge(float64(k.Retries), runLabels(job)...))
		throttled.Metric = append(throttled.Metric, gauge(float64(k.Throttled), runLabels(job)...))
		duration.Metric = append(duration.Metric, gauge(k.DurationSeconds, runLabels(job)...))
	}
	exit := family(ExitCode, "Exit code of the last run: 0 ok, 1 rows not done, 2 usage or input, 3 stopped (the same command resumes), 4 a person must act.")
	exit.Metric = append(exit.Metric, gauge(float64(f.ExitCode), runLabels(f.Job)...))
	last := family(LastRun, "When the last run ended, in seconds since the epoch.")
	last.Metric = append(last.Metric, gauge(unix(f.End), runLabels(f.Job)...))
	var out []*dto.MetricFamily
	for _, mf := range []*dto.MetricFamily{rows, calls, retries, throttled, duration} {
		if len(mf.Metric) > 0 {
			out = append(out, mf)
		}
	}
	out = append(out, exit, last)
	if lastSuccess > 0 {
		ok := family(LastSuccess, "When a run last ended with exit code 0, in seconds since the epoch.")
		ok.Metric = append(ok.Metric, gauge(lastSuccess, runLabels(f.Job)...))
		out = append(out, ok)
	}
	return out
}

// previousSuccess is the last success time an existing file at path holds for
// job and input.
func previousSuccess(path, job, input string) (float64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(fh)
	if err != nil {
		return 0, err
	}
	mf, ok := fams[LastSuccess]
	if !ok {
		return 0, fs.ErrNotExist
	}
	for _, m := range mf.Metric {
		l := map[string]string{}
		for _, lp := range m.Label {
			l[lp.GetName()] = lp.GetValue()
		}
		if l[labelJob] == job && l[labelInput] == input && m.Gauge != nil {
			return m.Gauge.GetValue(), nil
		}
	}
	return 0, fs.ErrNotExist
}

// writeAtomic writes path through write, to a temporary name in its folder
// (which the collector's *.prom glob skips) renamed into place. The file's
// mode follows the umask, as any file a program creates: the collector runs
// as another user, who must be able to read it.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp := ""
	var fh *os.File
	for i := 0; ; i++ {
		tmp = filepath.Join(dir, fmt.Sprintf(".%s.%d.%d.tmp", filepath.Base(path), os.Getpid(), i))
		fh, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) || i > 100 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	defer func() {
		if err != nil {
			fh.Close()
			os.Remove(tmp)
			err = fmt.Errorf("metrics file %s: %w", path, err)
		}
	}()
	if err = write(fh); err != nil {
		return err
	}
	if err = fh.Sync(); err != nil {
		return err
	}
	if err = fh.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func family(name, help string) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum()}
}

func gauge(v float64, l ...*dto.LabelPair) *dto.Metric {
	return &dto.Metric{Label: l, Gauge: &dto.Gauge{Value: proto.Float64(v)}}
}

// labels are name, value pairs; a pair with an empty value is left out, as
// Prometheus treats it as absent.
func labels(nv ...string) []*dto.LabelPair {
	var out []*dto.LabelPair
	for i := 0; i+1 < len(nv); i += 2 {
		if nv[i+1] != "" {
			out = append(out, &dto.LabelPair{Name: proto.String(nv[i]), Value: proto.String(nv[i+1])})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
