// Package sandboxtest holds what the tests of several packages need to run
// jobs against the embedded sandbox over real HTTP: one copy, so that a
// change to how a test talks to the sandbox is made once.
package sandboxtest

import (
	"encoding/csv"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/sandbox"
)

// Start serves a sandbox over real HTTP for the test's life and returns it
// with the API config that reaches it. It sets no Timeout: on a busy machine
// a call to the loopback sandbox is late, never lost; tests of timeouts set
// their own.
func Start(t testing.TB, opts sandbox.Options) (*sandbox.Server, crm.Config) {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, crm.Config{
		BaseURL: srv.URL + sandbox.BasePath,
		Credentials: crm.Credentials{Username: sandbox.DemoUsername, Password: sandbox.DemoPassword,
			Organisation: sandbox.DemoOrganisation},
	}
}

// ReadCSV reads a CSV report into one map a row, keyed by its header.
func ReadCSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// RunConfig is the configuration of a run of path against api that tests
// share: quick backoff, a high rate, a ledger of the test's own.
func RunConfig(t testing.TB, path string, api crm.Config) batch.Config {
	return batch.Config{
		Path: path, Concurrency: 4, Attempts: 8, Rate: 1000, Backoff: 5 * time.Millisecond,
		API: api, StateDir: filepath.Join(t.TempDir(), "state"),
	}
}
