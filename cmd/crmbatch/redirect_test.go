package main

import (
	"bytes"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestRedirectStopsTheRun points the endpoint at another host with 301, 302,
// 307 and 308 (and an https endpoint at plain http), for a login by password
// and by API key, and for a redirect that only starts after the login: the other
// host gets nothing, crmbatch exits 3 naming where the endpoint redirected and
// what to set --endpoint to, and sends nothing more.
func TestRedirectStopsTheRun(t *testing.T) {
	t.Parallel()
	for _, code := range []int{301, 302, 307, 308} {
		for _, tls := range []bool{false, true} {
			for _, login := range []string{"password", "api key"} {
				for _, after := range []bool{false, true} {
					name := http.StatusText(code) + "/" + login
					if tls {
						name = "https to http/" + name
					}
					if after {
						name += "/after login"
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						var reached atomic.Int32
						other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							reached.Add(1)
							io.Copy(io.Discard, r.Body)
						}))
						defer other.Close()
						sb := sandbox.New(sandbox.Options{})
						var sent atomic.Int32
						h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							if after && strings.Contains(r.URL.Path, "/authentication/") {
								sb.ServeHTTP(w, r)
								return
							}
							sent.Add(1)
							http.Redirect(w, r, other.URL+r.URL.Path, code)
						})
						var srv *httptest.Server
						if tls {
							srv = httptest.NewTLSServer(h)
						} else {
							srv = httptest.NewServer(h)
						}
						defer srv.Close()
						dir := t.TempDir()
						vars := map[string]string{"CRMBATCH_STATE": filepath.Join(dir, "state")}
						if login == "password" {
							vars["CRMBATCH_USERNAME"], vars["CRMBATCH_PASSWORD"], vars["CRMBATCH_ORGANISATION"] = sandbox.DemoUsername, sandbox.DemoPassword, sandbox.DemoOrganisation
						} else {
							vars["CRMBATCH_API_KEY"] = sandbox.DemoAPIKey
						}
						job := filepath.Join(dir, "job.csv")
						if err := os.WriteFile(job, []byte("esn,group_name\nR-1,OPERATOR1\nR-2,OPERATOR1\n"), 0o600); err != nil {
							t.Fatal(err)
						}
						args := []string{"run", "--no-progress", "--chunk-size", "1", "--concurrency", "1", "--endpoint", srv.URL + sandbox.BasePath}
						if tls {
							ca := filepath.Join(dir, "ca.pem")
							if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
								t.Fatal(err)
							}
							args = append(args, "--ca-file", ca)
						}
						var stderr bytes.Buffer
						got := Main(append(args, job), env(vars), onBuffers(&bytes.Buffer{}, &stderr))
						out := stderr.String()
						if got != exitAct {
							t.Errorf("exit %d, want %d:\n%s", got, exitAct, out)
						}
						if n := reached.Load(); n != 0 {
							t.Errorf("%d requests reached the other host", n)
						}
						if n := sent.Load(); n != 1 {
							t.Errorf("%d requests were redirected, want 1: the run went on", n)
						}
						if !strings.Contains(out, "redirected to "+other.URL+sandbox.BasePath) {
							t.Errorf("stderr does not name where the endpoint redirected:\n%s", out)
						}
						want := "set --endpoint (or CRMBATCH_ENDPOINT) to " + other.URL + sandbox.BasePath + "\n"
						if tls {
							want = "keep --endpoint (or CRMBATCH_ENDPOINT) on https"
						}
						if !strings.Contains(out, "hint: ") || !strings.Contains(out, want) {
							t.Errorf("stderr lacks %q:\n%s", want, out)
						}
						for _, secret := range []string{sandbox.DemoPassword, sandbox.DemoAPIKey, "eyJ"} {
							if strings.Contains(out, secret) {
								t.Errorf("stderr holds %q:\n%s", secret, out)
							}
						}
					})
				}
			}
		}
	}
}
