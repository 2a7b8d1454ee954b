package report

// Status is a row's final status in the reports.
type Status string

// Row statuses of the reports.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusInvalid Status = "invalid"
	StatusSkipped Status = "skipped"
	StatusUnknown Status = "unknown"
	StatusPlanned Status = "planned"
)

// Problem reports whether rows of the status go to the failures report.
func (st Status) Problem() bool {
	return st == StatusFailed || st == StatusInvalid || st == StatusUnknown
}
