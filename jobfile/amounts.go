package jobfile

import (
	"errors"
	"io"

	"github.com/crmbatch/crmbatch/amount"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
)

// LearnAmounts finds a charges job's amount columns (none: Amounts stays
// nil) and, without a mark given (--decimal-mark), reads the file's text
// amounts for the decimal mark the unambiguous ones agree on, so that every
// pass reads an amount alike: one that still reads two ways is an invalid
// row (AMBIGUOUS_AMOUNT).
func (j *File) LearnAmounts(mark amount.Mark) error {
	if j.Kind != kind.Charges {
		return nil
	}
	a := report.AmountColumns(j.Index, mark)
	if a == nil || mark != amount.Unknown {
		j.Amounts = a
		return nil
	}
	rd, err := j.open(j.Opts, false)
	if err != nil {
		return err
	}
	defer rd.Close()
	var e amount.Evidence
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		a.See(&e, rec)
	}
	a.Mark = e.Mark()
	j.Amounts = a
	return nil
}
