package kind

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/formats"
)

// TestDateColumns checks every Date parameter a job sends: performed_on and the
// udf_date_* of the nested create objects, from text and from XLSX date cells,
// normalised to the API's YYYY-MM-DDTHH:MM:SS; ambiguous or partial text is
// invalid, naming the column and the expected form.
func TestDateColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		kind formats.CellKind
		want string // "" = invalid
	}{
		{"the API's form", "2014-07-16T05:07:41", formats.Text, "2014-07-16T05:07:41"},
		{"a day", "2014-07-16", formats.Text, "2014-07-16T00:00:00"},
		{"a space before the time", "2014-07-16 05:07:41", formats.Text, "2014-07-16T05:07:41"},
		{"minutes only", "2014-07-16 05:07", formats.Text, "2014-07-16T05:07:00"},
		{"a fraction of a second", "2014-07-16 05:07:41.250", formats.Text, "2014-07-16T05:07:41"},
		{"an XLSX date cell", "2015-03-18", formats.Date, "2015-03-18T00:00:00"},
		{"an XLSX date-time cell", "2015-03-18T05:07:41", formats.Date, "2015-03-18T05:07:41"},
		{"an XLSX time cell", "05:07:41", formats.Date, ""},
		{"day first", "16/07/2014", formats.Text, ""},
		{"day or month first", "03/04/2015", formats.Text, ""},
		{"with a time, day first", "18/03/2015 05:07", formats.Text, ""},
		{"with a time zone", "2014-07-16T05:07:41Z", formats.Text, ""},
		{"no such day", "2014-02-30", formats.Text, ""},
		{"an Excel serial in a number cell", "42081", formats.Number, ""},
		{"words", "yesterday", formats.Text, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct {
				kind   *Kind
				header []string
				fields []string
				col    string
				sent   func(Item) string
			}{
				{InstalledItems, []string{"action", "subscription_number", "serial_number", "performed_on"}, []string{"add", "S1", "SC-1", tc.in}, "performed_on",
					func(it Item) string {
						return installedItemsRequest([]installedItem{it.payload.(installedItem)}).PerformedOn
					}},
				{Subscriptions, []string{"action", "billing_system_customer_identifier", "customer_email.type", "customer_email.email_address", "customer_email.udf_date_4"},
					[]string{"create", "C1", "PERSONAL", "a@example.com", tc.in}, "customer_email.udf_date_4",
					func(it Item) string {
						s, _ := it.payload.(subscriptionItem).Create.CustomerEmail["udf_date_4"].(string)
						return s
					}},
			} {
				kinds := make([]formats.CellKind, len(c.fields))
				kinds[len(kinds)-1] = tc.kind
				it, err := parseRow(c.kind, viewOf(c.kind, c.header, c.fields, kinds))
				if tc.want == "" {
					var re *RowError
					if !errors.As(err, &re) || re.Column != c.col || re.Code != "INVALID_DATE" || !strings.Contains(re.Msg, "YYYY-MM-DDTHH:MM:SS") && !strings.Contains(re.Msg, "no day") {
						t.Errorf("%s: err = %v, want an INVALID_DATE RowError for %s naming the form", c.kind.Name, err, c.col)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", c.kind.Name, err)
				}
				if got := c.sent(it); got != tc.want {
					t.Errorf("%s: sent %q, want %q", c.kind.Name, got, tc.want)
				}
			}
		})
	}
}

// TestNestedCreateColumns checks the dotted create columns against the fields the
// seed documents for each object: unknown fields and udf numbers beyond an
// object's range are refused in the header; both address formats in one row,
// two country identifiers, and an international address without address_line_1
// are invalid rows.
func TestNestedCreateColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		col  string
		want bool
	}{
		{"customer_address.udf_string_16", true},
		{"customer_address.udf_string_17", false},
		{"customer_address.udf_float_4", true},
		{"customer_address.udf_float_9", false},
		{"customer_address.udf_date_4", true},
		{"customer_address.udf_date_5", false},
		{"customer_address.udf_string_0", false},
		{"customer_address.udf_string_01", false},
		{"customer_address.address_line_1", true},
		{"customer_address.country_identifier.three_character_code", true},
		{"customer_address.country_identifier.code", false},
		{"customer_address.notes", false},
		{"customer_phone.udf_string_8", true},
		{"customer_phone.udf_string_12", false},
		{"customer_phone.country_identifier.id", true},
		{"customer_phone.street_name", false},
		{"customer_email.udf_string_9", false},
		{"customer_email.udf_date_1", true},
		{"customer_email.country_identifier.id", false},
		{"customer_email.notes", true},
	} {
		err := checkNestedColumns([]string{"action", tc.col})
		if (err == nil) != tc.want {
			t.Errorf("%s: err = %v, want accepted: %v", tc.col, err, tc.want)
		}
		if err != nil && (!strings.Contains(err.Error(), "column "+tc.col) || !strings.Contains(fault.Describe(err), "hint: ")) {
			t.Errorf("%s: error %q does not name the column with a hint", tc.col, err)
		}
	}
	header := []string{"action", "billing_system_customer_identifier", "customer_address.type", "customer_address.street_name",
		"customer_address.address_line_1", "customer_address.town_city", "customer_address.country_identifier.two_character_code",
		"customer_address.country_identifier.name"}
	for _, tc := range []struct {
		name    string
		fields  []string
		wantCol string
		want    map[string]any
	}{
		{"CRM.COM format", []string{"create", "C1", "HOME", "Ilia Papakiriakou", "", "Aglanjia", "CY", ""}, "",
			map[string]any{"type": "HOME", "street_name": "Ilia Papakiriakou", "town_city": "Aglanjia", "country_identifier": map[string]any{"two_character_code": "CY"}}},
		{"international format", []string{"create", "C1", "HOME", "", "1 Main Street", "London", "", "UNITED KINGDOM"}, "",
			map[string]any{"type": "HOME", "address_line_1": "1 Main Street", "town_city": "London", "country_identifier": map[string]any{"name": "UNITED KINGDOM"}}},
		{"both formats", []string{"create", "C1", "HOME", "Ilia Papakiriakou", "1 Main Street", "", "", ""}, "customer_address.address_line_1", nil},
		{"two country identifiers", []string{"create", "C1", "HOME", "Ilia Papakiriakou", "", "", "CY", "CYPRUS"}, "customer_address.country_identifier.name", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it, err := parseRow(Subscriptions, viewOf(Subscriptions, header, tc.fields, make([]formats.CellKind, len(tc.fields))))
			if tc.wantCol != "" {
				var re *RowError
				if !errors.As(err, &re) || re.Column != tc.wantCol {
					t.Fatalf("err = %v, want a RowError for %s", err, tc.wantCol)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := it.payload.(subscriptionItem).Create.CustomerAddress; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("address %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("international format without address_line_1", func(t *testing.T) {
		h := []string{"action", "billing_system_customer_identifier", "customer_address.type", "customer_address.state_province_county"}
		_, err := parseRow(Subscriptions, viewOf(Subscriptions, h, []string{"create", "C1", "HOME", "Kent"}, make([]formats.CellKind, 4)))
		var re *RowError
		if !errors.As(err, &re) || re.Column != "customer_address.address_line_1" {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestGroupColumns checks the devices group columns, named after the API's
// group_identifier fields, and the refusal of group_code with its hint.
func TestGroupColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ col, field string }{{"group_id", "id"}, {"group_name", "name"}, {"group_alternative_code", "alternative_code"}} {
		it, err := parseRow(Devices, viewOf(Devices, []string{"esn", tc.col}, []string{"E-1", "G"}, make([]formats.CellKind, 2)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(it.payload.(deviceItem).Group)
		if string(b) != `{"`+tc.field+`":"G"}` {
			t.Errorf("%s: group_identifier %s", tc.col, b)
		}
	}
}

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
			var items []installedItem
			for _, r := range tc.rows {
				it, err := parseRow(InstalledItems, viewOf(InstalledItems, header, r, make([]formats.CellKind, len(r))))
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
				items = append(items, it.payload.(installedItem))
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
