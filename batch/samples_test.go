package batch_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestSamplesEveryKindAndFormat runs each sample job, CSV and XLSX, against the
// sandbox and checks every row's status and the sandbox's effect for that row.
func TestSamplesEveryKindAndFormat(t *testing.T) {
	t.Parallel()
	effect := map[string]func(r map[string]string) []sandbox.Effect{
		"devices": func(r map[string]string) []sandbox.Effect {
			return []sandbox.Effect{{Method: "netflix/operators/" + r["action"] + "_devices", Key: r["esn"]}}
		},
		"charges": func(r map[string]string) []sandbox.Effect {
			return []sandbox.Effect{{Method: "netflix/charges/" + r["action"], Key: r["number"]}}
		},
		"subscriptions": func(r map[string]string) []sandbox.Effect {
			return []sandbox.Effect{{Method: "netflix/subscriptions/" + r["action"], Key: r["billing_system_customer_identifier"]}}
		},
		"installed-items": func(r map[string]string) []sandbox.Effect {
			m := map[string]string{"move": "move_to_another_subscription"}[r["action"]]
			if m == "" {
				m = r["action"]
			}
			e := []sandbox.Effect{{Method: "subscriptions/installed_items/" + m, Key: r["serial_number"]}}
			if r["to_serial_number"] != "" {
				e = append(e, sandbox.Effect{Method: e[0].Method, Key: r["to_serial_number"]})
			}
			return e
		},
	}
	for _, kind := range []string{"devices", "charges", "subscriptions", "installed-items"} {
		for _, ext := range []string{".csv", ".xlsx"} {
			t.Run(kind+ext, func(t *testing.T) {
				t.Parallel()
				sb, api := startSandbox(t, sandbox.Options{})
				cfg := runConfig(t, filepath.Join("..", "samples", kind+ext), api)
				cfg.OutDir = t.TempDir()
				cfg.Format = "csv" // read the reports back as CSV
				s, err := batch.Run(context.Background(), cfg)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if s.Job != kind {
					t.Fatalf("job %q, want %q", s.Job, kind)
				}
				rows := readCSV(t, s.Reports.Results)
				if len(rows) == 0 || len(rows) != s.Rows {
					t.Fatalf("%d report rows, summary %d", len(rows), s.Rows)
				}
				applied := sb.Applied()
				for i, r := range rows {
					if r["status"] != "ok" {
						t.Errorf("row %d: %s %s %s", i+2, r["status"], r["error_code"], r["error_message"])
					}
					for _, e := range effect[kind](r) {
						if n := applied[e]; n != 1 {
							t.Errorf("row %d: %v applied %d times, want 1", i+2, e, n)
						}
					}
				}
			})
		}
	}
}
