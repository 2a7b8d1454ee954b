package crm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// flat maps every leaf of a JSON value to its JSON type, by path: "a.b" for
// object keys, "a[]" for array elements ({"a":[{"b":"x"}]} is a[].b: string).
func flat(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flat(p, e, out)
		}
	case []any:
		for _, e := range x {
			flat(prefix+"[]", e, out)
		}
	case string:
		out[prefix] = "string"
	case json.Number, float64:
		out[prefix] = "number"
	case bool:
		out[prefix] = "boolean"
	case nil:
		out[prefix] = "null"
	}
}

// shapeOf parses "path: type, path: type" into a map.
func shapeOf(s string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			p, typ, _ := strings.Cut(f, ":")
			out[strings.TrimSpace(p)] = strings.TrimSpace(typ)
		}
	}
	return out
}

// seedShape is the shape of one of the seeds' example request bodies
// (batch/testdata/seed_requests), fields_set left out (crmbatch does not ask for
// fewer fields).
func seedShape(t *testing.T, name string, extra string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "batch", "testdata", "seed_requests", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	delete(v, "fields_set")
	out := map[string]string{}
	flat("", v, out)
	for k, typ := range shapeOf(extra) {
		out[k] = typ
	}
	return out
}

// exchange is one request the recording handler received.
type exchange struct {
	verb, path, ctype, auth string
	query                   map[string]string // parameter: "string" (a query has text only)
	body                    map[string]string // path: JSON type
	rawBody                 string
}

// TestContract sends every method the client has, each login kind included, to a
// recording handler and compares each request with API.md and the seeds: the
// path, the verb, where the parameters go (query string or JSON body), and the
// name, JSON type and nesting of every field. The installed-items bodies are
// compared with the seeds' example requests; move with API.md's form.
func TestContract(t *testing.T) {
	t.Parallel()
	validity := int64(100)
	create := CreateSubscriptionRequest{BillingSystemCustomerIdentifier: "pci123", PromotionCode: "14", Channel: "OTHER",
		ValidityDuration: &validity, CustomerFirstName: "Test_8", CustomerLastName: "Netflix",
		CustomerAddress: map[string]any{"type": "HOME", "postal_code": "3020", "street_name": "Ilia Papakiriakou", "street_number": "8",
			"floor": int64(2), "apartment_number": "202", "area": "Plati", "town_city": "Aglanjia", "district": "Nicosia",
			"municipality": "Aglanjia", "country_identifier": map[string]any{"two_character_code": "CY"}, "po_box": "70022",
			"po_box_postal_code": "AG70022", "care_of": "Maria Kyriacou"},
		CustomerEmail: map[string]any{"type": "PERSONAL", "is_primary": true, "email_address": "a@example.com"},
		CustomerPhone: map[string]any{"type": "MOBILE", "number": "99000000", "country_identifier": map[string]any{"id": "181"}},
	}
	seedItems := func(name string) InstalledItemsRequest {
		return InstalledItemsRequest{SubscriptionIdentifier: Identifier{"number": "S1"}, ActionTypeIdentifier: Identifier{"name": name},
			SubActionTypeIdentifier: Identifier{"name": name}, PerformedByUserIdentifier: Identifier{"username": "JackH"},
			PerformedOn: "2014-07-16T05:07:41", TransactionReferenceNumber: "CRMB-1"}
	}
	add := seedItems("Add Installed Item")
	add.SubActionTypeIdentifier = nil // the seed's add example has none
	add.InstalledItemsSet = []InstalledItem{{InstalledItemIdentifier: Identifier{"serial_number": "SC1"},
		InstalledItemsDistributionSet: []InstalledItemDistribution{{ProvisioningDistributorIdentifier: Identifier{"name": "Main"}}}}}
	remove := seedItems("Remove Hardware")
	remove.InstalledItemsSet = []InstalledItem{{InstalledItemIdentifier: Identifier{"serial_number": "SC1"}}}
	swap := seedItems("Swap hardware")
	swap.InstalledItemsSwapSet = []InstalledItemSwap{{FromInstalledItem: InstalledItemRef{Identifier{"serial_number": "A"}},
		ToInstalledItem: InstalledItemRef{Identifier{"serial_number": "B"}}}}
	move := seedItems("Move")
	move.InstalledItemsMoveSet = []InstalledItemMove{{ToSubscription: Identifier{"number": "S60251"}, InstalledItemIdentifier: Identifier{"serial_number": "SC-7"},
		InstalledItemsDistributionSet: []InstalledItemDistribution{{ProvisioningDistributorIdentifier: Identifier{"name": "Main"}}}}}
	actionData := `{"number":"1","life_cycle_state":"EXECUTED"}`
	const (
		installedCommon = "token: string, subscription_identifier.number: string, action_type_identifier.name: string, " +
			"sub_action_type_identifier.name: string, performed_by_user_identifier.username: string, performed_on: string, " +
			"transaction_reference_number: string"
	)

	for _, tc := range []struct {
		name  string
		creds Credentials
		call  func(context.Context, *Client) error
		data  string // the data of the answer
		verb  string
		path  string
		query string            // GET: the parameters
		body  map[string]string // POST: the body's shape
		auth  string            // the Authorization header expected
	}{
		{name: "login by password", creds: Credentials{Username: "jack", Password: "pw-1234", Organisation: "ORG", Unit: "U1"},
			call: func(ctx context.Context, c *Client) error { return c.Login(ctx) }, verb: "POST", path: "authentication/token",
			body: shapeOf("username: string, password: string, organisation: string, unit: string")},
		{name: "login by API key", creds: Credentials{APIKey: "key-1234", Unit: "U1"},
			call: func(ctx context.Context, c *Client) error { return c.Login(ctx) }, verb: "POST", path: "authentication/web_api_key/token",
			body: shapeOf("unit: string"), auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("key-1234:"))},
		{name: "promotions/list", call: func(ctx context.Context, c *Client) error { _, err := c.Promotions(ctx); return err },
			data: `[]`, verb: "GET", path: "netflix/promotions/list", query: "token"},
		{name: "subscriptions/show", call: func(ctx context.Context, c *Client) error { _, err := c.ShowSubscriptions(ctx, "pci123"); return err },
			data: `{"subscription_number":"93"}`, verb: "GET", path: "netflix/subscriptions/show", query: "token, billing_system_customer_identifier"},
		{name: "subscriptions/create", call: func(ctx context.Context, c *Client) error { _, err := c.CreateSubscription(ctx, create); return err },
			data: `{"subscription_number":"S1"}`, verb: "POST", path: "netflix/subscriptions/create",
			body: shapeOf(`token: string, billing_system_customer_identifier: string, promotion_code: string, channel: string,
				validity_duration: number, customer_first_name: string, customer_last_name: string,
				customer_address.type: string, customer_address.postal_code: string, customer_address.street_name: string,
				customer_address.street_number: string, customer_address.floor: number, customer_address.apartment_number: string,
				customer_address.area: string, customer_address.town_city: string, customer_address.district: string,
				customer_address.municipality: string, customer_address.country_identifier.two_character_code: string,
				customer_address.po_box: string, customer_address.po_box_postal_code: string, customer_address.care_of: string,
				customer_email.type: string, customer_email.is_primary: boolean, customer_email.email_address: string,
				customer_phone.type: string, customer_phone.number: string, customer_phone.country_identifier.id: string`)},
		{name: "subscriptions/suspend", call: func(ctx context.Context, c *Client) error { return c.SuspendSubscription(ctx, "pci123") },
			data: `{}`, verb: "POST", path: "netflix/subscriptions/suspend", body: shapeOf("token: string, billing_system_customer_identifier: string")},
		{name: "subscriptions/unsuspend", call: func(ctx context.Context, c *Client) error { return c.UnsuspendSubscription(ctx, "pci123") },
			data: `{}`, verb: "POST", path: "netflix/subscriptions/unsuspend", body: shapeOf("token: string, billing_system_customer_identifier: string")},
		{name: "subscriptions/cancel", call: func(ctx context.Context, c *Client) error { return c.CancelSubscription(ctx, "pci123") },
			data: `{}`, verb: "POST", path: "netflix/subscriptions/cancel", body: shapeOf("token: string, billing_system_customer_identifier: string")},
		{name: "charges/list", call: func(ctx context.Context, c *Client) error {
			_, err := c.ListCharges(ctx, ListChargesRequest{NumberOfResults: 50, ChargeStatus: ChargeStatusNotProcessed, Offset: 100, FieldsSet: []string{"number", "amount"}})
			return err
		}, data: `{"charges_set":[]}`, verb: "GET", path: "netflix/charges/list", query: "token, number_of_results, charge_status, offset, fields_set"},
		{name: "charges/acknowledge", call: func(ctx context.Context, c *Client) error {
			_, err := c.AcknowledgeCharges(ctx, []ChargeItem{{Number: "I00002707", BillingSystemCustomerIdentifier: "pp", ReferenceNumber: "FIN-1"}})
			return err
		}, data: `{"failed_charges_set":[]}`, verb: "POST", path: "netflix/charges/acknowledge",
			body: shapeOf("token: string, acknowledged_charges_set[].number: string, acknowledged_charges_set[].billing_system_customer_identifier: string, acknowledged_charges_set[].reference_number: string")},
		{name: "charges/accept", call: func(ctx context.Context, c *Client) error {
			_, err := c.AcceptCharges(ctx, []ChargeItem{{Number: "I00002707", BillingSystemCustomerIdentifier: "pp", ReferenceNumber: "FIN-1"}})
			return err
		}, data: `{"failed_charges_set":[]}`, verb: "POST", path: "netflix/charges/accept",
			body: shapeOf("token: string, accepted_charges_set[].number: string, accepted_charges_set[].billing_system_customer_identifier: string, accepted_charges_set[].reference_number: string")},
		{name: "operators/register_devices", call: func(ctx context.Context, c *Client) error {
			_, err := c.RegisterDevices(ctx, GroupIdentifier{Name: "OPERATOR1"}, []Device{{ESN: "ESN0001"}, {ESN: "ESN0002"}})
			return err
		}, data: `{"failed_devices_set":[]}`, verb: "POST", path: "netflix/operators/register_devices",
			body: shapeOf("token: string, group_identifier.name: string, devices[].esn: string")},
		{name: "operators/unregister_devices", call: func(ctx context.Context, c *Client) error {
			_, err := c.UnregisterDevices(ctx, GroupIdentifier{AlternativeCode: "OP1"}, []Device{{ESN: "ESN0001"}})
			return err
		}, data: `{"failed_devices_set":[]}`, verb: "POST", path: "netflix/operators/unregister_devices",
			body: shapeOf("token: string, group_identifier.alternative_code: string, devices[].esn: string")},
		{name: "installed_items/add", call: func(ctx context.Context, c *Client) error { _, err := c.AddInstalledItems(ctx, add); return err },
			data: actionData, verb: "POST", path: "subscriptions/installed_items/add", body: seedShape(t, "add.json", "transaction_reference_number: string")},
		{name: "installed_items/remove", call: func(ctx context.Context, c *Client) error { _, err := c.RemoveInstalledItems(ctx, remove); return err },
			data: actionData, verb: "POST", path: "subscriptions/installed_items/remove", body: seedShape(t, "remove.json", "transaction_reference_number: string")},
		{name: "installed_items/swap", call: func(ctx context.Context, c *Client) error { _, err := c.SwapInstalledItems(ctx, swap); return err },
			data: actionData, verb: "POST", path: "subscriptions/installed_items/swap", body: seedShape(t, "swap.json", "transaction_reference_number: string")},
		{name: "installed_items/move_to_another_subscription", call: func(ctx context.Context, c *Client) error { _, err := c.MoveInstalledItems(ctx, move); return err },
			data: actionData, verb: "POST", path: "subscriptions/installed_items/move_to_another_subscription",
			body: shapeOf(installedCommon + ", installed_items_swap_set[].to_subscription.number: string, " +
				"installed_items_swap_set[].installed_item_identifier.serial_number: string, " +
				"installed_items_swap_set[].installed_items_distribution_set[].provisioning_distributor_identifier.name: string")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []exchange
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				x := exchange{verb: r.Method, path: strings.TrimPrefix(r.URL.Path, testBasePath), ctype: r.Header.Get("Content-Type"),
					auth: r.Header.Get("Authorization"), query: map[string]string{}, rawBody: string(b)}
				for k := range r.URL.Query() {
					x.query[k] = "string"
				}
				if len(b) > 0 {
					d := json.NewDecoder(strings.NewReader(string(b)))
					d.UseNumber()
					var v any
					if err := d.Decode(&v); err != nil {
						t.Errorf("%s: the body is not JSON: %s", x.path, b)
					}
					x.body = map[string]string{}
					flat("", v, x.body)
				}
				mu.Lock()
				got = append(got, x)
				mu.Unlock()
				data := tc.data
				if strings.HasPrefix(x.path, "authentication/") {
					data = `{"token":"` + testToken + `"}`
				}
				io.WriteString(w, `{"data":`+data+`,"status":{"code":"OK","message":"","description":""}}`)
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath, Credentials: tc.creds})
			if err := tc.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			x := got[len(got)-1]
			if x.verb != tc.verb || x.path != tc.path {
				t.Fatalf("%s %s, want %s %s", x.verb, x.path, tc.verb, tc.path)
			}
			if x.auth != tc.auth {
				t.Errorf("Authorization %q, want %q", x.auth, tc.auth)
			}
			if tc.verb == "GET" {
				if x.rawBody != "" || x.body != nil {
					t.Errorf("a GET with a body: %s", x.rawBody)
				}
				compare(t, "query", x.query, shapeOf(strings.ReplaceAll(tc.query, ",", ": string,")+": string"))
				return
			}
			if x.ctype != "application/json" {
				t.Errorf("Content-Type %q", x.ctype)
			}
			if len(x.query) != 0 {
				t.Errorf("a POST with query parameters %v", x.query)
			}
			want := tc.body
			if !strings.HasPrefix(tc.path, "authentication/") {
				want["token"] = "string"
			}
			compare(t, "body", x.body, want)
		})
	}
}

// compare reports every field that one shape has and the other lacks, or has
// with another type.
func compare(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, "missing "+k)
		} else if g != w {
			diffs = append(diffs, k+" is a "+g+", want a "+w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "unexpected "+k)
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", what, d)
	}
}
