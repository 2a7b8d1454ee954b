package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds crmbatch once for the tests that run the real program.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crmbatch-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "crmbatch")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = &exec.ExitError{Stderr: out}
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return builtBin
}

// TestSecretsNeverWritten runs the binary with a password, then an API key, then
// a wrong password, with debug logging on, through runs that fail rows and
// retry, and greps stdout, stderr, every report, the summary and the ledger for
// the secrets and for any token (a JWT starts with "eyJ").
func TestSecretsNeverWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := binary(t)
	srv := httptest.NewServer(sandbox.New(sandbox.Options{FailRate: 0.2, DropRate: 0.1, Seed: 5}))
	defer srv.Close()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	secretFile := filepath.Join(dir, "password")
	if err := os.WriteFile(secretFile, []byte(sandbox.DemoPassword+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"CRMBATCH_ENDPOINT=" + srv.URL + sandbox.BasePath, "CRMBATCH_STATE=" + state, "CRMBATCH_DEBUG=1", "PATH=" + os.Getenv("PATH")}
	job := "esn,group_name,note\nS-1,OPERATOR1,x\nBLOCKED-2,OPERATOR1,y\nS-3,NOPE,z\n"
	var output bytes.Buffer
	for i, creds := range [][]string{
		{"CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD=" + sandbox.DemoPassword, "CRMBATCH_ORGANISATION=DEMO"},
		{"CRMBATCH_API_KEY=" + sandbox.DemoAPIKey},
		{"CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD_FILE=" + secretFile, "CRMBATCH_ORGANISATION=DEMO"},
		{"CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD=" + sandbox.DemoPassword + "-wrong", "CRMBATCH_ORGANISATION=DEMO"},
		{"CRMBATCH_API_KEY=" + sandbox.DemoAPIKey + "-wrong"},
	} {
		path := filepath.Join(dir, string(rune('a'+i))+".csv")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(job, "S-", string(rune('A'+i))+"-")), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"run", "--log-format", "json", "--retries", "8", path}, {"promotions"}, {"show", "pci001", "nobody"}} {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(append([]string{}, base...), creds...)
			cmd.Stdout, cmd.Stderr = &output, &output
			_ = cmd.Run()
		}
	}
	secrets := []string{sandbox.DemoPassword, sandbox.DemoAPIKey, "eyJ"}
	check := func(what string, b []byte) {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}
	check("stdout and stderr", output.Bytes())
	if !strings.Contains(output.String(), "call failed") || !strings.Contains(output.String(), "AUTHENTICATION_FAILED") {
		t.Fatalf("the runs did not log what the test looks at:\n%s", output.String())
	}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || path == secretFile {
			return err
		}
		b, err := os.ReadFile(path)
		check(path, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// echoing wraps a sandbox so that every text it answers, but for the logins',
// carries the token of the request: each string of data and the status message
// and description. It stands for a server that echoes what it was sent.
func echoing(sb http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tok := r.URL.Query().Get("token")
		var p struct{ Token string }
		if json.Unmarshal(body, &p) == nil && p.Token != "" {
			tok = p.Token
		}
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if tok != "" && !strings.Contains(r.URL.Path, "/authentication/") {
			var env map[string]any
			if json.Unmarshal(out, &env) == nil {
				var echo func(v any) any
				echo = func(v any) any {
					switch x := v.(type) {
					case string:
						return x + " " + tok
					case []any:
						for i := range x {
							x[i] = echo(x[i])
						}
					case map[string]any:
						for k := range x {
							x[k] = echo(x[k])
						}
					}
					return v
				}
				env["data"] = echo(env["data"])
				if st, ok := env["status"].(map[string]any); ok {
					st["message"] = fmt.Sprint(st["message"]) + " token " + tok
					st["description"] = "echo " + tok
				}
				out, _ = json.Marshal(env)
			}
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(out)
	})
}

// TestEchoedTokenNeverWritten runs every kind of job, show, promotions and a
// charges export against a server that echoes the token in every text it
// answers (failed_charges_set error_description, failed devices, installed-items
// data, refusals' status): the token is in no output, report, summary or ledger.
func TestEchoedTokenNeverWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := binary(t)
	srv := httptest.NewServer(echoing(sandbox.New(sandbox.Options{})))
	defer srv.Close()
	dir := t.TempDir()
	env := []string{"CRMBATCH_ENDPOINT=" + srv.URL + sandbox.BasePath, "CRMBATCH_STATE=" + filepath.Join(dir, "state"), "CRMBATCH_DEBUG=1",
		"PATH=" + os.Getenv("PATH"), "CRMBATCH_USERNAME=demo", "CRMBATCH_PASSWORD=" + sandbox.DemoPassword, "CRMBATCH_ORGANISATION=DEMO"}
	jobs := map[string]string{
		"devices.csv":   "esn,group_name\nE-1,OPERATOR1\nBLOCKED-2,OPERATOR1\nE-3,NOPE\n",
		"charges.csv":   "number,billing_system_customer_identifier,reference_number\nI00000001,pci001,R-1\nI00000002,pci999,R-2\nI00000099,pci001,\n",
		"subs.csv":      "action,billing_system_customer_identifier\ncreate,pci030\nsuspend,pci001\ncancel,pci999\n",
		"installed.csv": "action,subscription_number,serial_number,to_subscription_number\nadd,S0000000002,SC-E-1,\nmove,S0000000003,SC-0003,S0000000004\nremove,S0000000005,SC-NONE,\n",
	}
	var output bytes.Buffer
	run := func(args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = &output, &output
		_ = cmd.Run()
	}
	for name, job := range jobs {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(job), 0o600); err != nil {
			t.Fatal(err)
		}
		run("run", "--log-format", "json", path)
	}
	run("show", "pci001", "nobody")
	run("promotions")
	run("charges", "export", filepath.Join(dir, "export.xlsx"))
	if !strings.Contains(output.String(), "[redacted]") {
		t.Fatalf("no server text was redacted, so the test saw none:\n%s", output.String())
	}
	check := func(what string, b []byte) {
		for _, s := range []string{sandbox.DemoPassword, "eyJ"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}
	check("stdout and stderr", output.Bytes())
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if strings.HasSuffix(path, ".xlsx") {
			// The text of an XLSX is in its compressed parts.
			if zr, zerr := zip.NewReader(bytes.NewReader(b), int64(len(b))); zerr == nil {
				for _, f := range zr.File {
					rc, _ := f.Open()
					part, _ := io.ReadAll(rc)
					rc.Close()
					check(path+":"+f.Name, part)
				}
			}
		}
		check(path, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
