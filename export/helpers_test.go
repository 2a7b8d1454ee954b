package export_test

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

// startSandbox serves a sandbox over real HTTP and returns it with the API config.
func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, crm.Config) {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, crm.Config{
		BaseURL: srv.URL + sandbox.BasePath,
		Credentials: crm.Credentials{Username: sandbox.DemoUsername, Password: sandbox.DemoPassword,
			Organisation: sandbox.DemoOrganisation},
		// No Timeout: on a busy machine a call to the loopback sandbox is late,
		// never lost.
	}
}

func readCSV(t *testing.T, path string) []map[string]string {
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

func runConfig(t *testing.T, path string, api crm.Config) batch.Config {
	return batch.Config{
		Path: path, Concurrency: 4, Attempts: 8, Rate: 1000, Backoff: 5 * time.Millisecond,
		API: api, StateDir: filepath.Join(t.TempDir(), "state"),
	}
}
