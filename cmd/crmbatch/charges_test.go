package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/sandbox"
)

// TestExportAgainstServerIgnoringOffsetExits3 runs charges export against a
// server that answers every offset with the first page: it ends, exits 3, says
// why, and keeps the charges it listed in the file.
func TestExportAgainstServerIgnoringOffsetExits3(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Del("offset")
		q.Set("offset", "0")
		r.URL.RawQuery = q.Encode()
		sb.ServeHTTP(w, r)
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "pending.csv")
	var stderr bytes.Buffer
	code := Main([]string{"charges", "export", "--endpoint", srv.URL + sandbox.BasePath, out}, env(map[string]string{
		"CRMBATCH_USERNAME": sandbox.DemoUsername, "CRMBATCH_PASSWORD": sandbox.DemoPassword, "CRMBATCH_ORGANISATION": sandbox.DemoOrganisation}),
		onBuffers(&bytes.Buffer{}, &stderr))
	if code != exitStopped || !strings.Contains(stderr.String(), "ignore offset") {
		t.Fatalf("exit %d, want 3 with the reason:\n%s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 51 {
		t.Errorf("%s has %d lines, want the header and the 50 charges listed", out, n)
	}
}
