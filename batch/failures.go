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

// matchFailures maps the entries of a call's failure set to the call's rows: by
// identifier as the server may echo it (trimmed, any case), then by
// reference_number. An entry that matches no row is returned as unmatched: then
// which rows of the call were applied is not known.
func matchFailures(items []Item, id, ref func(Item) string, set []failure) (map[int]failure, *failure) {
	byID := make(map[string]int, len(items))
	byRef := map[string]int{}
	for i, it := range items {
		byID[fold(id(it))] = i
		if ref != nil {
			if r := fold(ref(it)); r != "" {
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

// unmatched is the result of every row of a call whose failure set names a row
// the call did not carry.
func unmatched(items []Item, f *failure, attempts int) []result {
	what := f.id
	if what == "" {
		what = "reference_number " + f.ref
	}
	r := result{Status: StatusUnknown, Code: "UNMATCHED_FAILURE", Attempts: attempts,
		Message: fmt.Sprintf("the server reported a failure for %q, which is no row of this call, so which rows it applied is not known; check them in CRM.COM", what)}
	out := make([]result, len(items))
	for i := range out {
		out[i] = r
	}
	return out
}
