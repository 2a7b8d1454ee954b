package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGroupCodeIsRefused refuses --group-code and a group_code column, each
// with the hint that tells the group's two codes apart; --group-alternative-code
// sets the column of that name.
func TestGroupCodeIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file string
		args       []string
		code       exitCode
		want       string
	}{
		{"flag", "esn\nG-1\n", []string{"--group-code", "OP1"}, exitUsage, "--group-code names no field"},
		{"column", "esn,group_code\nG-1,OP1\n", nil, exitUsage, "column group_code"},
		{"--group-alternative-code", "esn\nG-1\n", []string{"--group-alternative-code", "OP1"}, exitOK, "1 ok"},
		{"group_alternative_code column", "esn,group_alternative_code\nG-2,OP1\n", nil, exitOK, "1 ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			if err := os.WriteFile(job, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			args := append(append([]string{"run", "--sandbox", "--no-progress"}, tc.args...), job)
			code := Main(args, env(nil), onBuffers(&bytes.Buffer{}, &stderr))
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, stderr.String())
			}
			if tc.code == exitUsage && (!strings.Contains(stderr.String(), "the code of the group") || !strings.Contains(stderr.String(), "group_alternative_code")) {
				t.Errorf("no hint on the two codes:\n%s", stderr.String())
			}
		})
	}
}
