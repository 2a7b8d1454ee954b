package kind

import (
	"errors"
	"testing"

	"github.com/crmbatch/crmbatch/formats"
)

func TestParseRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		kind    *Kind
		header  []string
		fields  []string
		kinds   []formats.CellKind
		wantCol string // "" = valid
		check   func(t *testing.T, it Item)
	}{
		{name: "device defaults to register", kind: Devices, header: []string{"esn", "group_name"}, fields: []string{" ESN-1 ", "OPERATOR1"},
			check: func(t *testing.T, it Item) {
				d := it.payload.(deviceItem)
				if it.Action != ActionRegister || d.ESN != "ESN-1" || d.Group.Name != "OPERATOR1" {
					t.Fatalf("got %+v", it)
				}
			}},
		{name: "device group_alternative_code is the alternative code", kind: Devices, header: []string{"esn", "group_alternative_code", "action"}, fields: []string{"E", "OP1", "UNREGISTER"},
			check: func(t *testing.T, it Item) {
				if d := it.payload.(deviceItem); d.Group.AlternativeCode != "OP1" || it.Action != ActionUnregister {
					t.Fatalf("got %+v", it)
				}
			}},
		{name: "device in exponent notation", kind: Devices, header: []string{"esn", "group_name"}, fields: []string{"3.5E+14", "G"}, wantCol: "esn"},
		{name: "device with a decimal zero", kind: Devices, header: []string{"esn", "group_name"}, fields: []string{"12345.0", "G"}, wantCol: "esn"},
		{name: "device from a 20-digit number cell", kind: Devices, header: []string{"esn", "group_name"}, fields: []string{"12345678901234567000", "G"},
			kinds: []formats.CellKind{formats.Number, formats.Text}, wantCol: "esn"},
		{name: "device from a 15-digit number cell", kind: Devices, header: []string{"esn", "group_name"}, fields: []string{"123456789012345", "G"},
			kinds: []formats.CellKind{formats.Number, formats.Text}},
		{name: "device with two groups", kind: Devices, header: []string{"esn", "group_name", "group_id"}, fields: []string{"E", "G", "1"}, wantCol: "group_name"},
		{name: "device with no group", kind: Devices, header: []string{"esn", "group_name"}, fields: []string{"E", ""}, wantCol: "group_name"},
		{name: "charge", kind: Charges, header: []string{"number", "billing_system_customer_identifier", "reference_number", "action"}, fields: []string{"I1", "pci1", "R1", "Accept"},
			check: func(t *testing.T, it Item) {
				if it.Action != ActionAccept || it.Key != ActionAccept {
					t.Fatalf("got %+v", it)
				}
			}},
		{name: "charge without customer", kind: Charges, header: []string{"number", "billing_system_customer_identifier"}, fields: []string{"I1", " "}, wantCol: "billing_system_customer_identifier"},
		{name: "create with nested objects", kind: Subscriptions,
			header: []string{"action", "billing_system_customer_identifier", "validity_duration", "customer_address.type", "customer_address.floor",
				"customer_address.country_identifier.two_character_code", "customer_address.is_primary", "customer_phone.type", "customer_phone.number"},
			fields: []string{"create", "C1", "100", "home", "2", "CY", "yes", "MOBILE", "+35799000000"},
			check: func(t *testing.T, it Item) {
				req := it.payload.(subscriptionItem).Create
				a := req.CustomerAddress
				if *req.ValidityDuration != 100 || a["type"] != "HOME" || a["floor"] != int64(2) || a["is_primary"] != true ||
					a["country_identifier"].(map[string]any)["two_character_code"] != "CY" || req.CustomerPhone["number"] != "+35799000000" || req.CustomerEmail != nil {
					t.Fatalf("got %+v", req)
				}
				if len(it.Lanes) != 1 || it.Lanes[0] != "C1" {
					t.Fatalf("lanes %q, want the customer", it.Lanes)
				}
			}},
		{name: "create with a phone but no number", kind: Subscriptions, header: []string{"action", "billing_system_customer_identifier", "customer_phone.type"},
			fields: []string{"create", "C1", "MOBILE"}, wantCol: "customer_phone.number"},
		{name: "validity over a day", kind: Subscriptions, header: []string{"action", "billing_system_customer_identifier", "validity_duration"},
			fields: []string{"create", "C1", "86401"}, wantCol: "validity_duration"},
		{name: "cancel ignores create columns", kind: Subscriptions, header: []string{"action", "billing_system_customer_identifier", "channel"},
			fields: []string{"cancel", "C1", "NONSENSE"}},
		{name: "swap needs to_serial_number", kind: InstalledItems, header: []string{"action", "subscription_number", "serial_number"},
			fields: []string{"swap", "S1", "A"}, wantCol: "to_serial_number"},
		{name: "move to the same subscription", kind: InstalledItems, header: []string{"action", "subscription_number", "serial_number", "to_subscription_number"},
			fields: []string{"move", "S1", "A", "S1"}, wantCol: "to_subscription_number"},
		{name: "move holds both subscriptions", kind: InstalledItems, header: []string{"action", "subscription_number", "serial_number", "to_subscription_number"},
			fields: []string{"move", "S1", "A", "S2"},
			check: func(t *testing.T, it Item) {
				if len(it.Lanes) != 2 || it.Lanes[0] != "S1" || it.Lanes[1] != "S2" {
					t.Fatalf("lanes %q, want S1 and S2", it.Lanes)
				}
			}},
		{name: "add with distributor", kind: InstalledItems, header: []string{"action", "subscription_number", "serial_number", "provisioning_distributor", "performed_by"},
			fields: []string{"add", "S1", "SC-1", "Main", "JackH"},
			check: func(t *testing.T, it Item) {
				p := it.payload.(installedItem)
				if p.Distributor != "Main" || p.header.PerformedByUserIdentifier["username"] != "JackH" || len(it.Lanes) != 1 || it.Lanes[0] != "S1" {
					t.Fatalf("got %+v", p)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kinds := tc.kinds
			if kinds == nil {
				kinds = make([]formats.CellKind, len(tc.fields))
			}
			it, err := parseRow(tc.kind, viewOf(tc.kind, tc.header, tc.fields, kinds))
			if tc.wantCol != "" {
				var re *RowError
				if !errors.As(err, &re) || re.Column != tc.wantCol {
					t.Fatalf("err = %v, want a RowError for column %s", err, tc.wantCol)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.check != nil {
				tc.check(t, it)
			}
		})
	}
}

// FuzzParseRow feeds arbitrary cell values to every kind's validation: it must
// never panic, a refusal must be a RowError naming one of the kind's columns, and
// an accepted row must have a chunk key.
// FuzzParseRow parses rows of every kind whose cells are six fuzzed values
// repeated across the kind's columns. A value longer than 64 bytes is
// skipped: no rule of the parsers looks further, and Go minimizes every new
// input it keeps by removing each span of its bytes, a search quadratic in
// its length that reports no exec until it ends: kept values of a kilobyte
// stopped make fuzz at "0 execs/sec" for 15-20 s. The kinds' column views
// are built once, not per input.
func FuzzParseRow(f *testing.F) {
	f.Add("create", "C1", "3.5E+14", "2", "HOME", "x")
	f.Add("register", "ESN-1", "OPERATOR1", "", "", "")
	f.Add("swap", "S1", "SC-1", "SC-2", "Main", "1")
	f.Add("", "", "", "", "", "")
	kinds := []*Kind{Devices, Charges, Subscriptions, InstalledItems}
	views := make([]Row, len(kinds))
	for i, k := range kinds {
		header := append(append([]string{}, k.Required...), k.Optional...)
		header = append(header, "customer_address.type", "customer_address.floor")
		views[i] = viewOf(k, header, make([]string, len(header)), make([]formats.CellKind, len(header)))
	}
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g string) {
		values := []string{a, b, c, d, e, g}
		for _, v := range values {
			if len(v) > 64 {
				t.Skip("values longer than 64 bytes reach no other rule")
			}
		}
		for i, k := range kinds {
			v := views[i]
			fields := make([]string, len(v.rec.Fields))
			for j := range fields {
				fields[j] = values[j%len(values)]
			}
			v.rec = &formats.Record{Row: 2, Fields: fields, Kinds: v.rec.Kinds}
			it, err := parseRow(k, v)
			if err != nil {
				var re *RowError
				if !errors.As(err, &re) {
					t.Fatalf("%s: %T %v is no RowError", k.Name, err, err)
				}
				if re.Column != "" && !k.Known(re.Column) {
					t.Fatalf("%s: error names column %q the kind does not have", k.Name, re.Column)
				}
				continue
			}
			if it.Key == "" || it.Action == "" {
				t.Fatalf("%s: accepted row without key or action: %+v", k.Name, it)
			}
		}
	})
}
