package lineage

import (
	"strings"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/ledger"
)

// TestAlreadyRanNamesTheFileEdited: the refusal of a job that ran to the end
// names the file this one is an edit of, not the last run of its job (a
// failures report holding one of its rows), and never "in ." for the reports
// of the current folder.
func TestAlreadyRanNamesTheFileEdited(t *testing.T) {
	first := ledger.Run{ID: "run-1", JobKey: "k1", Input: "/data/migration.csv", Finished: time.Now(),
		Summary: []byte(`{"reports":{"results":"migration.results.csv","failures":"migration.failures.csv"}}`)}
	retry := ledger.Run{ID: "run-2", JobKey: "k2", Input: "/data/migration.failures.csv", Finished: time.Now(),
		Summary: []byte(`{"reports":{"results":"migration.failures.results.csv","failures":"migration.failures.failures.csv"}}`)}
	for _, tc := range []struct {
		name         string
		prev, editOf ledger.Run
		says         []string
	}{
		{"the same job", first, ledger.Run{}, []string{"this job already ran to the end", "(run run-1); its reports: migration.results.csv, migration.failures.csv"}},
		{"an edit of its file", first, first, []string{"most rows of this file are rows of migration.csv (run run-1), whose job already ran"}},
		{"an edit of a file whose failures report ran since", retry, first, []string{
			"most rows of this file are rows of migration.csv (run run-1), whose job, with its later run of migration.failures.csv, already ran",
			"its reports: migration.failures.results.csv, migration.failures.failures.csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := alreadyRan(Options{Path: "migration.csv"}, tc.prev, tc.editOf).Error()
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("%q\ndoes not say %q", msg, s)
				}
			}
			if strings.Contains(msg, "are in .") {
				t.Errorf("%q names the current folder as \".\"", msg)
			}
		})
	}
}
