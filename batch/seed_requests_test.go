package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/crmbatch/crmbatch/batch"
	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/sandbox"
)

// TestInstalledItemsRequestsMatchTheSeed runs the seed's example rows as a job
// file and compares the JSON bodies crmbatch sends, field by field, with the
// seed's example request bodies (testdata/seed_requests). The token, our
// transaction_reference_number and the seed's fields_set are left out.
func TestInstalledItemsRequestsMatchTheSeed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	sent := map[string][]byte{}
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m, ok := strings.CutPrefix(r.URL.Path, sandbox.BasePath+"subscriptions/installed_items/"); ok {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			sent[m] = b
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	path := writeCSV(t, t.TempDir(), "seed.csv", [][]string{
		{"action", "subscription_number", "serial_number", "to_serial_number", "action_type", "sub_action_type", "performed_by", "performed_on", "provisioning_distributor"},
		{"add", "S60250", "SC1-000A-0018", "", "Add Installed Item", "", "JackH", "2015-03-18T05:07:41", "Main"},
		{"remove", "S60225", "SC1-000A-0006", "", "Remove Hardware", "Remove Installed Item", "JackH", "2014-07-16T05:07:41", ""},
		{"swap", "S60250", "smartcard_1_01", "IS000002", "Swap Installed Item", "Swap Inst Item", "JackH", "2014-07-16T05:07:41", ""},
	})
	cfg := runConfig(t, path, crm.Config{BaseURL: srv.URL + sandbox.BasePath,
		Credentials: crm.Credentials{Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}})
	if _, err := batch.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"add", "remove", "swap"} {
		t.Run(m, func(t *testing.T) {
			want := decodeBody(t, mustRead(t, filepath.Join("testdata", "seed_requests", m+".json")))
			got := decodeBody(t, sent[m])
			if !strings.HasPrefix(got["transaction_reference_number"].(string), "CRMB-") {
				t.Errorf("transaction_reference_number %v", got["transaction_reference_number"])
			}
			for _, k := range []string{"token", "transaction_reference_number", "fields_set"} {
				delete(want, k)
				delete(got, k)
			}
			for k, w := range want {
				if !reflect.DeepEqual(got[k], w) {
					t.Errorf("%s: sent %v, seed has %v", k, got[k], w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("sent %s = %v, which the seed's body does not have", k, got[k])
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return m
}
