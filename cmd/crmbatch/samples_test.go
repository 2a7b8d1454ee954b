package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestSamplesRunCleanly runs every sample, CSV and XLSX, on the embedded sandbox
// as the README says, and checks that every row is ok.
func TestSamplesRunCleanly(t *testing.T) {
	t.Parallel()
	var samples []string
	for _, pattern := range []string{"../../samples/*.csv", "../../samples/*.xlsx"} {
		m, _ := filepath.Glob(pattern)
		for _, f := range m {
			if !strings.Contains(f, ".results.") && !strings.Contains(f, ".failures.") {
				samples = append(samples, f)
			}
		}
	}
	if len(samples) != 8 {
		t.Fatalf("samples: %v, want a CSV and an XLSX of each of the four kinds", samples)
	}
	for _, sample := range samples {
		t.Run(filepath.Base(sample), func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			for _, cmd := range []string{"validate", "run"} {
				var stderr bytes.Buffer
				code := Main([]string{cmd, "--sandbox", "--out", out, "--no-progress", sample},
					env(map[string]string{"CRMBATCH_STATE": filepath.Join(out, "state")}), onBuffers(&bytes.Buffer{}, &stderr))
				if cmd == "validate" {
					code = Main([]string{cmd, "--out", out, sample}, env(nil), onBuffers(&bytes.Buffer{}, &stderr))
				}
				if code != exitOK {
					t.Fatalf("%s exit %d: %s", cmd, code, stderr.String())
				}
			}
			base := strings.TrimSuffix(filepath.Base(sample), filepath.Ext(sample))
			b, err := os.ReadFile(filepath.Join(out, base+".summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Rows   int            `json:"rows"`
				Counts map[string]int `json:"counts"`
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			if s.Rows == 0 || s.Counts["ok"] != s.Rows {
				t.Fatalf("%d rows, counts %v: want every row ok", s.Rows, s.Counts)
			}
		})
	}
}

// TestBrokenSamples checks that each broken sample exits as the contract says,
// with a message that names the file, the row and the column.
func TestBrokenSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		code exitCode
		want []string
	}{
		{"missing-column.csv", exitUsage, []string{"missing-column.csv", "no column esn"}},
		{"empty.csv", exitUsage, []string{"empty.csv", "empty"}},
		{"bad-values.csv", exitRows, []string{"3 invalid", "bad-values.csv: row 3, column esn: \"3.5E+14\" is in exponent notation"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			var stderr bytes.Buffer
			code := Main([]string{"validate", "--job", "devices", "--out", out, "../../samples/broken/" + tc.file}, env(nil), onBuffers(&bytes.Buffer{}, &stderr))
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
		})
	}
	out := t.TempDir()
	Main([]string{"validate", "--out", out, "../../samples/broken/bad-values.csv"}, env(nil), onBuffers(&bytes.Buffer{}, &bytes.Buffer{}))
	b, err := os.ReadFile(filepath.Join(out, "bad-values.plan.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`3,invalid,MANGLED_ID,"column esn:`, `4,invalid,INVALID_VALUE,"column action:`, `5,invalid,DUPLICATE,"column esn: ""ESN-OK-0001"" is also on row 2"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("plan lacks %q:\n%s", w, b)
		}
	}
}
