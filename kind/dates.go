package kind

import (
	"time"

	"github.com/crmbatch/crmbatch/formats"
)

// apiDateLayout is the form of every Date parameter of the Web API (the seeds
// write 2014-07-16T05:07:41): no time zone.
const apiDateLayout = "2006-01-02T15:04:05"

// dateLayouts are the forms of a date column that can be read one way only:
// year first. A time of day may be left out (midnight) and a fraction of a second
// is dropped. 16/07/2014 or 07/16/2014 are not among them: which is the day
// depends on who typed it.
var dateLayouts = []string{apiDateLayout, "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// dateValue returns the value of a date column in the API's form
// (YYYY-MM-DDTHH:MM:SS), "" when empty. XLSX date cells come as YYYY-MM-DD or
// YYYY-MM-DDTHH:MM:SS; text must be in one of dateLayouts. Anything else, a
// time of day alone included, marks the row invalid, naming the expected form.
func dateValue(v Row, col string) (string, error) {
	s := v.value(col)
	if s == "" {
		return "", nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(apiDateLayout), nil
		}
	}
	if v.kind(col) == formats.Date {
		return "", Invalid(col, "INVALID_DATE", "the date cell %q has no day: give a date and time, e.g. 2014-07-16T05:07:41", s)
	}
	return "", Invalid(col, "INVALID_DATE", "%q is not a date in the form YYYY-MM-DDTHH:MM:SS (or YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS), e.g. 2014-07-16T05:07:41: "+
		"a date like 16/07/2014 can be read two ways, so crmbatch does not guess", s)
}
