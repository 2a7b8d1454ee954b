package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/internal/tempfile"
	"github.com/crmbatch/crmbatch/ledger"
)

// Summary is the outcome of a run, also written as X.summary.json.
type Summary struct {
	RunID            string            `json:"run_id,omitempty"`
	Input            string            `json:"input"`
	InputSHA256      string            `json:"input_sha256"`
	Job              string            `json:"job"`
	DryRun           bool              `json:"dry_run,omitempty"`
	Rows             int               `json:"rows"`
	Counts           map[Status]int    `json:"counts"`
	NotSent          int               `json:"not_sent"` // rows a stopped run never sent: apart from Counts (their report rows say failed, NOT_SENT)
	ErrorCodes       map[string]int    `json:"error_codes"`
	ErrorMessages    map[string]string `json:"error_messages,omitempty"` // each error code's first message, which describes it
	Chunks           int               `json:"chunks"`
	Calls            int64             `json:"calls"`
	Retries          int64             `json:"retries"`
	Throttled        int64             `json:"throttled"`
	EstimatedSeconds float64           `json:"estimated_seconds,omitempty"`
	Start            time.Time         `json:"start"`
	End              time.Time         `json:"end"`
	DurationSeconds  float64           `json:"duration_seconds"`
	SendSeconds      float64           `json:"send_seconds"` // from the login to the last outcome
	Stopped          string            `json:"stopped,omitempty"`
	Resumed          bool              `json:"resumed,omitempty"`        // this run went on with one that had stopped
	FirstProblems    []string          `json:"first_problems,omitempty"` // the first failed, invalid or unknown rows, for the log, but those not sent
	Totals           []Total           `json:"totals,omitempty"`         // a charges job's control totals per status and currency
	// Reconciliation is a charges job's rows and amounts per action, status
	// and currency, with a check per currency (the Reconciliation sheet).
	Reconciliation *Reconciliation `json:"reconciliation,omitempty"`
	Reports        Paths           `json:"reports"`
	// Resolve is the command that reads the rows of unknown outcome back
	// (the same command; running the failures report does too).
	Resolve string `json:"resolve,omitempty"`
	// UnusedColumns are the header's columns the job does not read: copied
	// to the reports, never sent.
	UnusedColumns []UnusedColumn `json:"unused_columns,omitempty"`
	// ReadBefore says a subscriptions job reads each customer's subscription
	// before its first row (--read-before). ReadBeforeCalls, in a plan, are
	// those reads: part of Calls when ReadBefore, else what it would add.
	ReadBefore      bool  `json:"read_before,omitempty"`
	ReadBeforeCalls int64 `json:"read_before_calls,omitempty"`
}

// Paths are the paths of a run's report files.
type Paths struct {
	Results  string `json:"results"`
	Failures string `json:"failures,omitempty"` // "" for a dry run's plan
	Summary  string `json:"summary"`
}

// Problems is the number of rows that failed, were invalid, have an unknown
// outcome or were never sent.
func (s *Summary) Problems() int {
	return s.Counts[StatusFailed] + s.Counts[StatusInvalid] + s.Counts[StatusUnknown] + s.NotSent
}

// UnusedColumn is a header column that the job does not read: it is copied
// to the reports and never sent. A misnamed column ("Reference No" for
// reference_number) is one, so it is told, with the column it may have meant.
type UnusedColumn struct {
	Column     string `json:"column"`                 // as the header has it
	DidYouMean string `json:"did_you_mean,omitempty"` // the job's column of a near name
}

// String says it as a warning: `column "Reference No" is not read by a
// charges job (did you mean reference_number?)`.
func (u UnusedColumn) String() string {
	s := "column " + strconv.Quote(u.Column) + " is not read"
	if u.DidYouMean != "" {
		s += " (did you mean " + u.DidYouMean + "?)"
	}
	return s
}

// PathsFor names the reports of X.csv (path): X.results.csv, X.failures.csv and
// X.summary.json in the output folder. A dry run (validate) writes its plan
// instead, X.plan.csv and X.plan.json, and never touches a run's reports.
func PathsFor(path, outDir string, f formats.Format, dryRun bool) Paths {
	dir := outDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	ext := "." + string(f)
	if dryRun {
		return Paths{
			Results: filepath.Join(dir, base+".plan"+ext),
			Summary: filepath.Join(dir, base+".plan.json"),
		}
	}
	return Paths{
		Results:  filepath.Join(dir, base+".results"+ext),
		Failures: filepath.Join(dir, base+".failures"+ext),
		Summary:  filepath.Join(dir, base+".summary.json"),
	}
}

// ProblemLine says where a failed or invalid row is and why, as a log line:
// "jobs.xlsx: sheet Charges: row 14, column esn: ..." or "..., row 5, error
// 1: ...". A row of a report fed back in says the row it had in the first
// file too.
func ProblemLine(path string, rec formats.Record, o ledger.Outcome) string {
	where := path + ": "
	if rec.Sheet != "" {
		where += "sheet " + rec.Sheet + ": "
	}
	where += "row " + strconv.Itoa(rec.Row)
	if o.Row != rec.Row && o.Row > 0 {
		where += " (row " + strconv.Itoa(o.Row) + " of the first file)"
	}
	msg := o.Message
	if o.Code != "" && !strings.HasPrefix(msg, "column ") {
		msg = "error " + o.Code + ": " + msg
	}
	return where + ", " + msg
}

// SummaryLines are the lines of the Summary sheet: what, value, about. Values
// that are figures are Number cells.
type SummaryLines struct {
	Rows  [][]string
	Kinds [][]formats.CellKind
}

// Text adds a line of text.
func (l *SummaryLines) Text(what, value string) {
	l.Rows = append(l.Rows, []string{what, value})
	l.Kinds = append(l.Kinds, nil)
}

// Figure adds a line whose value is a number.
func (l *SummaryLines) Figure(what, value, about string) {
	row := []string{what, value}
	if about != "" {
		row = append(row, about)
	}
	l.Rows = append(l.Rows, row)
	l.Kinds = append(l.Kinds, []formats.CellKind{formats.Text, formats.Number, formats.Text})
}

// Totals adds control totals: per status and currency, the amount and the
// number of rows.
func (l *SummaryLines) Totals(ts []Total) {
	for _, t := range ts {
		about := strconv.Itoa(t.Count) + " rows"
		if t.Unparsed > 0 {
			about += ", " + strconv.Itoa(t.Unparsed) + " amounts not a number"
		}
		l.Figure("amount "+t.Status+" "+t.Currency, t.Amount, about)
		l.Figure("rows "+t.Status+" "+t.Currency, strconv.Itoa(t.Count), "")
	}
}

// SummarySheet is the Summary sheet of the reports: the run, the counts per
// status and per error code (each with its first message, which describes
// it), a charges job's control totals, calls and times.
func SummarySheet(s *Summary) ([][]string, [][]formats.CellKind) {
	l := &SummaryLines{}
	l.Text("what", "value")
	l.Rows[0] = append(l.Rows[0], "about")
	l.Text("run_id", s.RunID)
	l.Text("input", s.Input)
	l.Text("input_sha256", s.InputSHA256)
	l.Text("job", s.Job)
	l.Figure("rows", strconv.Itoa(s.Rows), "")
	for _, st := range []Status{StatusOK, StatusFailed, StatusInvalid, StatusUnknown, StatusSkipped, StatusPlanned} {
		if n, ok := s.Counts[st]; ok {
			l.Figure("status "+string(st), strconv.Itoa(n), "")
		}
	}
	if s.NotSent > 0 {
		l.Figure("not sent", strconv.Itoa(s.NotSent), "rows the run stopped before sending (status failed, error NOT_SENT, in the reports); the same command sends them")
	}
	codes := make([]string, 0, len(s.ErrorCodes))
	for c := range s.ErrorCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		l.Figure("error_code "+c, strconv.Itoa(s.ErrorCodes[c]), s.ErrorMessages[c])
	}
	l.Totals(s.Totals)
	l.Figure("chunks", strconv.Itoa(s.Chunks), "")
	l.Figure("calls", strconv.FormatInt(s.Calls, 10), "")
	switch {
	case s.ReadBeforeCalls > 0 && s.ReadBefore:
		l.Figure("read_before_calls", strconv.FormatInt(s.ReadBeforeCalls, 10), "of the calls, those reading a customer's subscription before its first row (--read-before)")
	case s.ReadBeforeCalls > 0:
		l.Figure("read_before_calls", strconv.FormatInt(s.ReadBeforeCalls, 10), "the calls --read-before would add: a read of each customer's subscription before its first row")
	}
	l.Figure("retries", strconv.FormatInt(s.Retries, 10), "")
	l.Figure("throttled", strconv.FormatInt(s.Throttled, 10), "")
	l.Text("start", s.Start.Format(time.RFC3339))
	l.Text("end", s.End.Format(time.RFC3339))
	l.Figure("duration_seconds", strconv.FormatFloat(s.DurationSeconds, 'f', 3, 64), "")
	l.Figure("send_seconds", strconv.FormatFloat(s.SendSeconds, 'f', 3, 64), "")
	return l.Rows, l.Kinds
}

// WriteSummary writes X.summary.json through a temporary file and a rename.
func WriteSummary(s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := tempfile.Create(filepath.Dir(s.Reports.Summary), ".crmbatch-summary-*", 0o666) // the umask says who reads it
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.Reports.Summary)
}
