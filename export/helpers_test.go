package export_test

import (
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/internal/sandboxtest"
	"github.com/crmbatch/crmbatch/sandbox"
)

func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, crm.Config) {
	t.Helper()
	return sandboxtest.Start(t, opts)
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	return sandboxtest.ReadCSV(t, path)
}

func runConfig(t *testing.T, path string, api crm.Config) batch.Config {
	return sandboxtest.RunConfig(t, path, api)
}
