package batch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/formats"
)

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

// unusedColumns are the header's columns that a job of kind k does not read.
// Columns that a report fed back in carries (row, status, ... and the kind's
// outputs) and, for charges, the columns of crmbatch's own export are not
// unused: they are there by design.
func unusedColumns(k *Kind, header []string) []UnusedColumn {
	present := map[string]bool{}
	for _, h := range header {
		present[formats.NormalizeHeader(h)] = true
	}
	var unused []UnusedColumn
	for _, h := range header {
		n := formats.NormalizeHeader(h)
		if n == "" || k.known(n) || contains(reportColumns, n) || contains(k.Outputs, n) ||
			(k == Charges && contains(ExportColumns, n)) {
			continue
		}
		unused = append(unused, UnusedColumn{Column: h, DidYouMean: nearColumn(k, n, present)})
	}
	return unused
}

// nearColumn is the column of kind k that name (normalised) may be a typo
// or a spelling of ("Reference No", "ReferenceNumber", "refrence_number"),
// when one is near and not in the header already; else "".
func nearColumn(k *Kind, name string, present map[string]bool) string {
	squash := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '_' || r == '-' || r == '.' {
				return -1
			}
			return r
		}, strings.ToLower(s))
	}
	typed := squash(name)
	best, bestD := "", 0
	for _, c := range append(append([]string(nil), k.Required...), k.Optional...) {
		if present[c] {
			continue
		}
		d := EditDistance(typed, squash(c))
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(squash(best))/3) {
		return ""
	}
	return best
}

// EditDistance is the Levenshtein distance of a and b, an adjacent swap
// counting as one edit ("rnu" is one from "run"): how near a mistyped name is
// to a known one, for the "did you mean" of columns, flags and commands.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// strictError refuses a file with unused columns under --strict.
func strictError(path string, k *Kind, unused []UnusedColumn) error {
	list := make([]string, len(unused))
	for i, u := range unused {
		list[i] = u.String()
	}
	return &FileError{File: path, Msg: fmt.Sprintf("--strict: the header has columns a %s job does not read: %s", k.Name, strings.Join(list, "; ")),
		Hint: fmt.Sprintf("rename them to the job's columns (%s), or run without --strict to copy them to the reports unread", strings.Join(append(append([]string(nil), k.Required...), k.Optional...), ", "))}
}

// headerPlace says where a header was read, for a whole-file error: `sheet
// "Charges": row 3: ` (or `row 1: ` for CSV).
func headerPlace(r formats.Reader) string {
	sheet, row := r.HeaderAt()
	s := ""
	if sheet != "" {
		s = "sheet " + strconv.Quote(sheet) + ": "
	}
	return s + "row " + strconv.Itoa(row) + ": "
}

// otherSheet names another sheet of the workbook whose header fits a job
// kind (the kind asked for, when one is), or "".
func otherSheet(r formats.Reader, path string, opts formats.Options, jobName string) string {
	current, _ := r.HeaderAt()
	for _, name := range r.Sheets() {
		if name == current {
			continue
		}
		o := opts
		o.Sheet = name
		other, err := formats.Open(path, o)
		if err != nil {
			continue
		}
		index := map[string]int{}
		for i, h := range other.Header() {
			index[formats.NormalizeHeader(h)] = i
		}
		other.Close()
		if jobName == "" {
			if _, err := detectKind(path, other.Header(), index); err == nil {
				return name
			}
			continue
		}
		if k := KindByName(jobName); k != nil && hasAll(index, k.Required) {
			return name
		}
	}
	return ""
}

func hasAll(index map[string]int, cols []string) bool {
	for _, c := range cols {
		if _, ok := index[c]; !ok {
			return false
		}
	}
	return true
}
