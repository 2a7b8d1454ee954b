package kind

import (
	"fmt"
	"strings"

	"github.com/crmbatch/crmbatch/report"
)

// failure is one entry of a call's failure set (failed_charges_set,
// failed_devices_set) as the server wrote it.
type failure struct {
	id, ref    string // the identifier and reference_number it names
	code, text string
}

// matchFailures maps the entries of a call's failure set to the call's n rows
// (id and ref give a row's identifier and reference_number; ref may be nil): by
// identifier as the server may echo it (exactly, else trimmed and in any case),
// and by reference_number the same way, which decides when the identifier
// cannot: an entry without one, or whose identifier names no row. An entry
// that matches no row, that matches several rows only loosely (ABC and abc),
// or whose identifier and reference name two different rows, is returned as
// unmatched: then which rows of the call were applied is not known.
func matchFailures(n int, id, ref func(i int) string, set []failure) (map[int]failure, *failure) {
	byID, byRef := newRowIndex(n), newRowIndex(n)
	for i := range n {
		byID.add(id(i), i)
		if ref != nil {
			byRef.add(ref(i), i)
		}
	}
	found := make(map[int]failure, len(set))
	for _, f := range set {
		i, ok := byID.find(f.id)
		if j, byReference := byRef.find(f.ref); byReference {
			switch {
			case !ok && (strings.TrimSpace(f.id) == "" || SameID(f.id) == SameID(id(j))):
				i, ok = j, true
			case !ok:
			case i != j:
				ok = false // the identifier names one row, the reference another
			}
		}
		if !ok {
			return nil, &f
		}
		found[i] = f
	}
	return found, nil
}

// SameID is an identifier (a charge number, an ESN, a reference) as the
// server compares it: trimmed, in any case. It is the one rule for repeats in
// a file, failure sets, read-backs and the charges final across runs.
func SameID(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// rowIndex finds a row by an identifier as a server may echo it.
type rowIndex struct {
	exact  map[string]int
	folded map[string]int // -1: more than one row folds to it
}

func newRowIndex(n int) rowIndex {
	return rowIndex{exact: make(map[string]int, n), folded: make(map[string]int, n)}
}

func (x rowIndex) add(s string, i int) {
	if s == "" {
		return
	}
	x.exact[s] = i
	if _, dup := x.folded[fold(s)]; dup {
		x.folded[fold(s)] = -1
		return
	}
	x.folded[fold(s)] = i
}

// find returns the row named s exactly, else the one row named s once trimmed
// and case-folded.
func (x rowIndex) find(s string) (int, bool) {
	if i, ok := x.exact[s]; ok {
		return i, true
	}
	i, ok := x.folded[fold(s)]
	return i, ok && i >= 0 && fold(s) != ""
}

func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// unmatched is the result of each row of a call whose failure set names a row
// the call did not carry.
func Unmatched(f *failure, attempts int) Result {
	what := f.id
	if what == "" {
		what = "reference_number " + f.ref
	}
	return Result{Status: report.StatusUnknown, Code: "UNMATCHED_FAILURE", Attempts: attempts,
		Message: fmt.Sprintf("the server reported a failure for %q, which is no row of this call, so which rows it applied is not known; check them in CRM.COM", what)}
}
