package batch

import (
	"fmt"
	"strings"
)

// failure is one entry of a call's failure set (failed_charges_set,
// failed_devices_set) as the server wrote it.
type failure struct {
	id, ref    string // the identifier and reference_number it names
	code, text string
}

// matchFailures maps the entries of a call's failure set to the call's n rows
// (id and ref give a row's identifier and reference_number; ref may be nil): by
// identifier as the server may echo it (trimmed, any case), then by
// reference_number. An entry that matches no row is returned as unmatched: then
// which rows of the call were applied is not known.
func matchFailures(n int, id, ref func(i int) string, set []failure) (map[int]failure, *failure) {
	byID := make(map[string]int, n)
	byRef := map[string]int{}
	for i := range n {
		byID[fold(id(i))] = i
		if ref != nil {
			if r := fold(ref(i)); r != "" {
				byRef[r] = i
			}
		}
	}
	found := make(map[int]failure, len(set))
	for _, f := range set {
		i, ok := byID[fold(f.id)]
		if !ok || fold(f.id) == "" {
			i, ok = byRef[fold(f.ref)]
			ok = ok && fold(f.ref) != ""
		}
		if !ok {
			return nil, &f
		}
		found[i] = f
	}
	return found, nil
}

func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// unmatched is the result of each row of a call whose failure set names a row
// the call did not carry.
func unmatched(f *failure, attempts int) result {
	what := f.id
	if what == "" {
		what = "reference_number " + f.ref
	}
	return result{Status: StatusUnknown, Code: "UNMATCHED_FAILURE", Attempts: attempts,
		Message: fmt.Sprintf("the server reported a failure for %q, which is no row of this call, so which rows it applied is not known; check them in CRM.COM", what)}
}
