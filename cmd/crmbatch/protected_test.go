package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestProtectedWorkbookRuns runs a password-protected workbook of the producer
// corpus on the sandbox: without the password, or with a wrong one, it is
// refused naming the file (exit 2, nothing written); with it, the run goes
// through and its reports open only with the password, which is written
// nowhere.
func TestProtectedWorkbookRuns(t *testing.T) {
	t.Parallel()
	const password = "corpus-Λ-2024" // formats/testdata/producers/make.sh
	src, err := os.ReadFile(filepath.Join("..", "..", "formats", "testdata", "producers", "excelize-encrypted-libreoffice.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string // file: the password in a file instead
		vars       map[string]string
		code       exitCode
		stderr     string
	}{
		{name: "no password", code: exitUsage, stderr: "jobs.xlsx: the workbook is password-protected"},
		{name: "wrong password", vars: map[string]string{envXLSXPassword: "Λ-wrong"}, code: exitUsage, stderr: "jobs.xlsx: the password does not open the workbook"},
		{name: "password", vars: map[string]string{envXLSXPassword: password}, code: exitOK},
		{name: "password file", file: password + "\n", code: exitOK},
		{name: "CSV reports of a protected file", vars: map[string]string{envXLSXPassword: password, "FORMAT": "csv"}, code: exitUsage, stderr: "its reports must be too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			job := filepath.Join(dir, "jobs.xlsx")
			if err := os.WriteFile(job, src, 0o600); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"CRMBATCH_STATE": filepath.Join(dir, "state")}
			for k, v := range tc.vars {
				vars[k] = v
			}
			if tc.file != "" {
				pw := filepath.Join(dir, "pw")
				if err := os.WriteFile(pw, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				vars[envXLSXPasswordFile] = pw
			}
			args := []string{"run", "--sandbox", "--no-progress", "--sheet", "Devices", job}
			if vars["FORMAT"] != "" {
				args = append(args[:len(args)-1], "--format", vars["FORMAT"], job)
			}
			var stdout, stderr bytes.Buffer
			code := Main(args, env(vars), onBuffers(&stdout, &stderr))
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.stderr, stderr.String())
			}
			results := filepath.Join(dir, "jobs.results.xlsx")
			if tc.code != exitOK {
				if _, err := os.Stat(results); err == nil {
					t.Fatal("a refused run wrote reports")
				}
				return
			}
			if f, err := excelize.OpenFile(results); err == nil {
				f.Close()
				t.Fatal("the results report opens without the password")
			}
			f, err := excelize.OpenFile(results, excelize.Options{Password: password})
			if err != nil {
				t.Fatalf("the results report does not open with the password: %v", err)
			}
			defer f.Close()
			rows, err := f.GetRows(f.GetSheetName(0))
			if err != nil || len(rows) < 2 {
				t.Fatalf("results: %v, %d rows", err, len(rows))
			}
			for _, name := range []string{"jobs.results.xlsx", "jobs.failures.xlsx", "jobs.summary.json"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(password)) {
					t.Fatalf("%s holds the password", name)
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), password) {
				t.Fatal("the output holds the password")
			}
		})
	}
}
