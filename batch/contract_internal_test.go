package batch

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/crmbatch/crmbatch/formats"
)

// TestInstalledItemsRequests builds the call of each action and compares its
// JSON with the form API.md documents: move sends installed_items_swap_set of
// {to_subscription, installed_item_identifier} and nothing else at the top level;
// swap and remove send no distribution set, and a distributor on their rows is
// invalid.
func TestInstalledItemsRequests(t *testing.T) {
	t.Parallel()
	header := []string{"action", "subscription_number", "serial_number", "to_serial_number", "to_subscription_number", "provisioning_distributor", "performed_on"}
	for _, tc := range []struct {
		name   string
		rows   [][]string
		want   string
		badCol string
	}{
		{"add", [][]string{{"add", "S1", "SC-1", "", "", "Main", "2015-03-18"}, {"add", "S1", "SC-2", "", "", "", "2015-03-18"}},
			`{"subscription_identifier":{"number":"S1"},"performed_on":"2015-03-18T00:00:00","installed_items_set":[` +
				`{"installed_item_identifier":{"serial_number":"SC-1"},"installed_items_distribution_set":[{"provisioning_distributor_identifier":{"name":"Main"}}]},` +
				`{"installed_item_identifier":{"serial_number":"SC-2"}}]}`, ""},
		{"remove", [][]string{{"remove", "S1", "SC-1", "", "", "", ""}},
			`{"subscription_identifier":{"number":"S1"},"installed_items_set":[{"installed_item_identifier":{"serial_number":"SC-1"}}]}`, ""},
		{"swap", [][]string{{"swap", "S1", "SC-1", "SC-9", "", "", ""}},
			`{"subscription_identifier":{"number":"S1"},"installed_items_swap_set":[{"from_installed_item":{"installed_item_identifier":{"serial_number":"SC-1"}},"to_installed_item":{"installed_item_identifier":{"serial_number":"SC-9"}}}]}`, ""},
		{"move", [][]string{{"move", "S1", "SC-1", "", "S2", "Main", ""}, {"move", "S1", "SC-2", "", "S2", "", ""}},
			`{"subscription_identifier":{"number":"S1"},"installed_items_swap_set":[` +
				`{"to_subscription":{"number":"S2"},"installed_item_identifier":{"serial_number":"SC-1"},"installed_items_distribution_set":[{"provisioning_distributor_identifier":{"name":"Main"}}]},` +
				`{"to_subscription":{"number":"S2"},"installed_item_identifier":{"serial_number":"SC-2"}}]}`, ""},
		{"remove with a distributor", [][]string{{"remove", "S1", "SC-1", "", "", "Main", ""}}, "", "provisioning_distributor"},
		{"swap with a distributor", [][]string{{"swap", "S1", "SC-1", "SC-9", "", "Main", ""}}, "", "provisioning_distributor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var items []Item
			for _, r := range tc.rows {
				it, err := InstalledItems.parse(viewOf(InstalledItems, header, r, make([]formats.CellKind, len(r))))
				if tc.badCol != "" {
					var re *RowError
					if !errors.As(err, &re) || re.Column != tc.badCol {
						t.Fatalf("err = %v, want a RowError for %s", err, tc.badCol)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, it)
			}
			got, err := json.Marshal(installedItemsRequest(items))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("request\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
