package jobfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
	"github.com/crmbatch/crmbatch/kind"
	"github.com/crmbatch/crmbatch/report"
)

// unusedColumns are the header's columns that a job of kind k does not read.
// Columns that a report fed back in carries (row, status, ... and the kind's
// outputs) and, for charges, the columns of crmbatch's own export are not
// unused: they are there by design.
func unusedColumns(k *kind.Kind, header []string) []report.UnusedColumn {
	present := map[string]bool{}
	for _, h := range header {
		present[formats.NormalizeHeader(h)] = true
	}
	var unused []report.UnusedColumn
	for _, h := range header {
		n := formats.NormalizeHeader(h)
		if n == "" || k.Known(n) || slices.Contains(report.Columns, n) || slices.Contains(k.Outputs, n) ||
			(k == kind.Charges && slices.Contains(kind.ExportColumns, n)) {
			continue
		}
		unused = append(unused, report.UnusedColumn{Column: h, DidYouMean: nearColumn(k, n, present)})
	}
	return unused
}

// nearColumn is the column of kind k that name (normalised) may be a typo
// or a spelling of ("Reference No", "ReferenceNumber", "refrence_number"),
// when one is near and not in the header already; else "".
func nearColumn(k *kind.Kind, name string, present map[string]bool) string {
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

// StrictError refuses a file with unused columns under --strict.
func StrictError(path string, k *kind.Kind, unused []report.UnusedColumn) error {
	list := make([]string, len(unused))
	for i, u := range unused {
		list[i] = u.String()
	}
	return &fault.FileError{File: path, Msg: fmt.Sprintf("--strict: the header has columns a %s job does not read: %s", k.Name, strings.Join(list, "; ")),
		Fix: fmt.Sprintf("rename them to the job's columns (%s), or run without --strict to copy them to the reports unread", strings.Join(append(append([]string(nil), k.Required...), k.Optional...), ", "))}
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
		if k := kind.ByName(jobName); k != nil && hasAll(index, k.Required) {
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
