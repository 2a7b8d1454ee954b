package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/formats"
)

// TestRepeatsPastTheExactLimit reads files with repeated values spread
// through them, keeping a few values exactly (so that the Bloom filter and the
// verifying read do the work) and keeping them all: every row gets the same
// status and message both ways, on the first read as on later ones.
func TestRepeatsPastTheExactLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		esns []string
	}{
		{"no repeat", seqESNs(500, nil)},
		{"repeats early and late", seqESNs(500, map[int]int{3: 1, 250: 2, 499: 10, 498: 498 - 1})},
		{"a value three times", seqESNs(300, map[int]int{100: 5, 200: 5, 299: 5})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "devices.csv")
			body := "esn,group_name\n" + strings.Join(tc.esns, ",OPERATOR1\n") + ",OPERATOR1\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			statuses := func(limit, passes int) []string {
				j, err := openJob(path, "devices", formats.Options{}, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				j.exactLimit = limit
				var got []string
				for range passes {
					got = got[:0]
					if err := j.scan(0, func(r row) error {
						s := "ok"
						if r.err != nil {
							s = r.err.Error()
						}
						got = append(got, s)
						return nil
					}); err != nil {
						t.Fatal(err)
					}
				}
				return got
			}
			want := statuses(0, 1)
			for _, passes := range []int{2, 3} {
				got := statuses(8, passes)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("pass %d with 8 values kept exactly differs from keeping them all:\n%v\nwant\n%v", passes, got, want)
				}
			}
		})
	}
}

// seqESNs makes n ESNs, row i repeating row rep[i]'s.
func seqESNs(n int, rep map[int]int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("R%06d", i)
		if j, ok := rep[i]; ok {
			out[i] = out[j]
		}
	}
	return out
}
