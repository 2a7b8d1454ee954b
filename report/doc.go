// Package report writes what became of a job's rows: the results report
// (every input row with its status), the failures report (the rows to look
// at, itself a job file to run again), the Summary sheet and
// X.summary.json, and the control totals of a charges job. It knows
// formats (how a report is written) and ledger (an outcome as recorded),
// never how a row was sent: the pipeline hands it rows and their outcomes,
// so what users read is shaped in one place.
package report
