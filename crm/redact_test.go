package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// echo answers every method with the given data, in which ECHO stands for the
// secrets the client sent: the token, the password, and the token again spelled
// with a JSON escape (\u0033 for its first character).
func echo(data string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secrets := testToken + " " + testCreds.Password + ` \u00` + fmt.Sprintf("%x", testToken[0]) + testToken[1:]
		io.WriteString(w, `{"data":`+strings.ReplaceAll(data, "ECHO", secrets)+`,"status":{"code":"OK","message":"","description":""}}`)
	}
}

// TestServerTextsAreRedacted has the server echo the token and the password in
// every text field of every answer the client decodes: none reaches what the
// client returns.
func TestServerTextsAreRedacted(t *testing.T) {
	t.Parallel()
	items := InstalledItemsRequest{SubscriptionIdentifier: Identifier{"number": "S1"},
		InstalledItemsSet: []InstalledItem{{InstalledItemIdentifier: Identifier{"serial_number": "SC-1"}}}}
	for _, tc := range []struct {
		name string
		data string
		call func(context.Context, *Client) (any, error)
	}{
		{"failed charges", `{"failed_charges_set":[{"number":"ECHO","reference_number":"ECHO","error_code":"ECHO","error_description":"ECHO"},{"number":"I2","error_code":7,"error_description":"ECHO"}]}`,
			func(ctx context.Context, c *Client) (any, error) {
				return c.AcknowledgeCharges(ctx, []ChargeItem{{Number: "I1", BillingSystemCustomerIdentifier: "c"}})
			}},
		{"failed devices", `{"failed_devices_set":[{"esn":"ECHO"}]}`,
			func(ctx context.Context, c *Client) (any, error) {
				return c.RegisterDevices(ctx, GroupIdentifier{Name: "G"}, []Device{{ESN: "E1"}})
			}},
		{"installed items", `{"number":"ECHO","life_cycle_state":"ECHO","performed_by":{"person_name":"ECHO","ECHO":"key"},"notes":["ECHO"]}`,
			func(ctx context.Context, c *Client) (any, error) { return c.AddInstalledItems(ctx, items) }},
		{"show, object", `{"subscription_number":"ECHO","netflix_state":"ECHO","life_cycle_state":"EFFECTIVE","promotions_set":[{"name":"ECHO"}],"prices_set":[{"FormattedPrice":"ECHO"}]}`,
			func(ctx context.Context, c *Client) (any, error) { return c.ShowSubscription(ctx, "c") }},
		{"show, array", `[{"subscription_number":"ECHO","life_cycle_state":"EFFECTIVE"}]`,
			func(ctx context.Context, c *Client) (any, error) { return c.ShowSubscriptions(ctx, "c") }},
		{"create", `{"subscription_number":"ECHO","netflix_token":"ECHO","netflix_token_expiration_date":"ECHO"}`,
			func(ctx context.Context, c *Client) (any, error) {
				return c.CreateSubscription(ctx, CreateSubscriptionRequest{BillingSystemCustomerIdentifier: "c"})
			}},
		{"promotions", `[{"code":"ECHO","name":"ECHO","description":"ECHO","effective_from":"ECHO","expires_on":"ECHO"}]`,
			func(ctx context.Context, c *Client) (any, error) { return c.Promotions(ctx) }},
		{"charges", `{"charges_set":[{"number":"ECHO","billing_system_customer_identifier":"ECHO","currency":"ECHO","charge_status":"ECHO","received_on":"ECHO"}]}`,
			func(ctx context.Context, c *Client) (any, error) {
				return c.ListCharges(ctx, ListChargesRequest{NumberOfResults: 50, ChargeStatus: ChargeStatusNotProcessed})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeServer(t, nil, echo(tc.data))
			c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath})
			v, err := tc.call(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			out := deepString(reflect.ValueOf(v))
			if !strings.Contains(out, Redacted) {
				t.Errorf("nothing redacted in %s", out)
			}
			for _, s := range []string{testToken, testCreds.Password, testToken[1:]} {
				if strings.Contains(out, s) {
					t.Errorf("%q reaches the caller: %s", s, out)
				}
			}
		})
	}
}

// deepString prints v with what its pointers and raw JSON point to.
func deepString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
		return deepString(v.Elem())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes())
		}
		var b strings.Builder
		for i := range v.Len() {
			b.WriteString(deepString(v.Index(i)) + ";")
		}
		return b.String()
	case reflect.Struct:
		var b strings.Builder
		for i := range v.NumField() {
			b.WriteString(v.Type().Field(i).Name + "=" + deepString(v.Field(i)) + " ")
		}
		return b.String()
	}
	return fmt.Sprint(v)
}

// TestRefusalTextsAreRedacted has the server put the secrets in the status of a
// refusal: code, message and description.
func TestRefusalTextsAreRedacted(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		s := testToken + " " + testCreds.Password
		io.WriteString(w, `{"data":null,"status":{"code":"BAD_`+s+`","message":"","description":"refused `+s+`"}}`)
	})
	c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath})
	_, err := c.AcknowledgeCharges(t.Context(), []ChargeItem{{Number: "I1", BillingSystemCustomerIdentifier: "c"}})
	msg := fmt.Sprintf("%v %+v %#v", err, err, err)
	if !strings.Contains(msg, "refused "+Redacted) {
		t.Errorf("error %s", msg)
	}
	for _, s := range []string{testToken, testCreds.Password} {
		if strings.Contains(msg, s) {
			t.Errorf("%q in %s", s, msg)
		}
	}
}

// TestFailedChargeErrorCode decodes failed_charges_set entries whose fields come
// as strings, numbers, booleans or null: each is read as its text.
func TestFailedChargeErrorCode(t *testing.T) {
	t.Parallel()
	ref := func(s string) *string { return &s }
	for _, tc := range []struct {
		name, json string
		want       FailedCharge
		bad        bool
	}{
		{"seed", `{"number": "I00002707", "error_description": "The specified charge was not issued for the specified customer", "error_code": "1", "reference_number": null}`,
			FailedCharge{Number: "I00002707", ErrorCode: "1", ErrorDescription: "The specified charge was not issued for the specified customer"}, false},
		{"number", `{"number":"I1","error_code":1,"reference_number":"R1"}`, FailedCharge{Number: "I1", ErrorCode: "1", ReferenceNumber: ref("R1")}, false},
		{"big number kept as written", `{"number":"I1","error_code":12345678901234567890}`, FailedCharge{Number: "I1", ErrorCode: "12345678901234567890"}, false},
		{"decimal", `{"number":"I1","error_code":1.0}`, FailedCharge{Number: "I1", ErrorCode: "1.0"}, false},
		{"null", `{"number":"I1","error_code":null,"error_description":null}`, FailedCharge{Number: "I1"}, false},
		{"boolean", `{"number":"I1","error_code":true}`, FailedCharge{Number: "I1", ErrorCode: "true"}, false},
		{"numeric number and reference", `{"number":2707,"reference_number":17}`, FailedCharge{Number: "2707", ReferenceNumber: ref("17")}, false},
		{"object", `{"number":"I1","error_code":{"code":1}}`, FailedCharge{}, true},
		{"array", `{"number":"I1","error_description":["x"]}`, FailedCharge{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got FailedCharge
			err := json.Unmarshal([]byte(tc.json), &got)
			if (err != nil) != tc.bad {
				t.Fatalf("error %v, want one: %v", err, tc.bad)
			}
			if tc.bad {
				return
			}
			if got.Number != tc.want.Number || got.ErrorCode != tc.want.ErrorCode || got.ErrorDescription != tc.want.ErrorDescription ||
				str(got.ReferenceNumber) != str(tc.want.ReferenceNumber) {
				t.Errorf("got %+v (ref %s), want %+v (ref %s)", got, str(got.ReferenceNumber), tc.want, str(tc.want.ReferenceNumber))
			}
		})
	}
}

// TestShowSubscriptionShapes decodes subscriptions/show answering one object,
// an array of several, an empty array and null.
func TestShowSubscriptionShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		want       string // subscription_number, or "" for a Permanent error
		n          int    // subscriptions from ShowSubscriptions
	}{
		{"object (the seed)", `{"netflix_state":"EFFECTIVE","promotions_set":[],"subscription_number":"93","prices_set":[],"life_cycle_state":"EFFECTIVE"}`, "93", 1},
		{"array of one", `[{"subscription_number":"93","life_cycle_state":"EFFECTIVE"}]`, "93", 1},
		{"array: the current one", `[{"subscription_number":"90","life_cycle_state":"CANCELLED"},{"subscription_number":"93","life_cycle_state":"NOT_EFFECTIVE"},{"subscription_number":"95","life_cycle_state":"CANCELLED"}]`, "93", 3},
		{"array: all cancelled, the last", `[{"subscription_number":"90","life_cycle_state":"CANCELLED"},{"subscription_number":"95","life_cycle_state":"CANCELLED"}]`, "95", 2},
		{"empty array", `[]`, "", 0},
		{"null", `null`, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeServer(t, nil, serveBody(`{"data":`+tc.data+`,"status":{"code":"OK","message":"","description":""}}`))
			c := newTestClient(t, Config{BaseURL: srv.URL + testBasePath})
			all, err := c.ShowSubscriptions(t.Context(), "pci1")
			if err != nil || len(all) != tc.n {
				t.Errorf("ShowSubscriptions = %d, %v; want %d", len(all), err, tc.n)
			}
			sub, err := c.ShowSubscription(t.Context(), "pci1")
			if tc.want == "" {
				if ClassOf(err) != Permanent || err == nil {
					t.Errorf("ShowSubscription = %+v, %v; want a Permanent error", sub, err)
				}
				return
			}
			if err != nil || sub.SubscriptionNumber != tc.want {
				t.Errorf("ShowSubscription = %+v, %v; want %s", sub, err, tc.want)
			}
		})
	}
}
