package sandbox

import (
	"encoding/json"
	"net/url"
	"regexp"
	"testing"
	"time"
)

func TestPromotions(t *testing.T) {
	t.Parallel()
	_, c := startLoggedIn(t, Options{})
	a := c.mustGet("netflix/promotions/list", nil)
	var list []map[string]any
	c.decodeOK(a, &list)
	if len(list) < 2 {
		t.Fatalf("%d promotions, want at least 2", len(list))
	}
	want := []map[string]any{
		{"code": "14", "expires_on": nil, "name": "Test", "description": nil, "effective_from": "2017-01-01T00:00:00"},
		{"code": "15", "expires_on": nil, "name": "Test_2", "description": nil, "effective_from": "2017-02-01T00:00:00"},
	}
	for i, w := range want {
		got, _ := json.Marshal(list[i])
		exp, _ := json.Marshal(w)
		if string(got) != string(exp) {
			t.Errorf("promotion %d = %s, want %s", i, got, exp)
		}
	}

	t.Run("fields_set", func(t *testing.T) {
		var list []map[string]any
		c.decodeOK(c.mustGet("netflix/promotions/list", url.Values{"fields_set": {"code,name"}}), &list)
		if len(list[0]) != 2 || list[0]["code"] != "14" {
			t.Errorf("promotion = %v, want code and name only", list[0])
		}
	})
}

func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{})
	customer := "pci003"
	show := func(t *testing.T) (number, state string) {
		t.Helper()
		var d struct {
			SubscriptionNumber string          `json:"subscription_number"`
			NetflixState       string          `json:"netflix_state"`
			LifeCycleState     string          `json:"life_cycle_state"`
			PromotionsSet      json.RawMessage `json:"promotions_set"`
			PricesSet          json.RawMessage `json:"prices_set"`
		}
		c.decodeOK(c.mustGet("netflix/subscriptions/show", url.Values{"billing_system_customer_identifier": {customer}}), &d)
		if d.PromotionsSet == nil || d.PricesSet == nil || d.NetflixState == "" {
			t.Errorf("show lacks fields: %+v", d)
		}
		return d.SubscriptionNumber, d.LifeCycleState
	}
	if n, st := show(t); n != "S0000000003" || st != "EFFECTIVE" {
		t.Fatalf("show = %s %s, want S0000000003 EFFECTIVE", n, st)
	}
	for _, tc := range []struct {
		name, method, want, state string
	}{
		{"unsuspend effective", "unsuspend", "INVALID_STATE", "EFFECTIVE"},
		{"suspend", "suspend", "OK", "NOT_EFFECTIVE"},
		{"suspend again", "suspend", "INVALID_STATE", "NOT_EFFECTIVE"},
		{"unsuspend", "unsuspend", "OK", "EFFECTIVE"},
		{"suspend before cancel", "suspend", "OK", "NOT_EFFECTIVE"},
		{"cancel suspended", "cancel", "OK", "CANCELLED"},
		{"cancel again", "cancel", "INVALID_STATE", "CANCELLED"},
		{"unsuspend cancelled", "unsuspend", "INVALID_STATE", "CANCELLED"},
		{"suspend cancelled", "suspend", "INVALID_STATE", "CANCELLED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.mustPost("netflix/subscriptions/"+tc.method, map[string]any{"billing_system_customer_identifier": customer})
			wantCode(t, a, tc.want)
			if _, st := show(t); st != tc.state {
				t.Errorf("state = %s, want %s", st, tc.state)
			}
		})
	}
	for _, m := range []string{methodSuspend, methodUnsuspend, methodCancel} {
		want := map[string]int{methodSuspend: 2, methodUnsuspend: 1, methodCancel: 1}[m]
		if got := s.Applied()[Effect{m, customer}]; got != want {
			t.Errorf("Applied %s = %d, want %d", m, got, want)
		}
	}

	t.Run("create after cancel", func(t *testing.T) {
		wantCode(t, c.mustPost("netflix/subscriptions/create", map[string]any{"billing_system_customer_identifier": customer}), "OK")
		if n, st := show(t); n == "S0000000003" || st != "EFFECTIVE" {
			t.Errorf("show = %s %s, want a new EFFECTIVE subscription", n, st)
		}
	})

	for _, tc := range []struct{ name, method, customer, want string }{
		{"suspend unknown", "suspend", "nobody", "NOT_FOUND"},
		{"unsuspend unknown", "unsuspend", "nobody", "NOT_FOUND"},
		{"cancel unknown", "cancel", "nobody", "NOT_FOUND"},
		{"suspend missing customer", "suspend", "", "MISSING_PARAMETER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, c.mustPost("netflix/subscriptions/"+tc.method, map[string]any{"billing_system_customer_identifier": tc.customer}), tc.want)
		})
	}
	t.Run("show unknown", func(t *testing.T) {
		wantCode(t, c.mustGet("netflix/subscriptions/show", url.Values{"billing_system_customer_identifier": {"nobody"}}), "NOT_FOUND")
		wantCode(t, c.mustGet("netflix/subscriptions/show", nil), "MISSING_PARAMETER")
	})
}

func TestCreateSubscription(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, c := startLoggedIn(t, Options{Now: clk.Now})
	full := func() map[string]any {
		return map[string]any{
			"billing_system_customer_identifier": "pci021",
			"promotion_code":                     "14",
			"channel":                            "WEB",
			"validity_duration":                  600,
			"customer_first_name":                "Maria",
			"customer_last_name":                 "Kyriacou",
			"customer_address": map[string]any{
				"type": "HOME", "is_primary": true, "street_name": "Ilia Papakiriakou", "floor": 2,
				"country_identifier": map[string]string{"two_character_code": "CY"},
			},
			"customer_email": map[string]any{"type": "PERSONAL", "email_address": "maria@example.com"},
			"customer_phone": map[string]any{"type": "MOBILE", "number": "99123456"},
		}
	}
	with := func(key string, v any) map[string]any {
		b := full()
		b["billing_system_customer_identifier"] = "pci022"
		if v == nil {
			delete(b, key)
		} else {
			b[key] = v
		}
		return b
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"missing customer", with("billing_system_customer_identifier", ""), "MISSING_PARAMETER"},
		{"unknown promotion", with("promotion_code", "99"), "INVALID_VALUE"},
		{"bad channel", with("channel", "TV"), "INVALID_VALUE"},
		{"validity 0", with("validity_duration", 0), "INVALID_VALUE"},
		{"validity over 24h", with("validity_duration", 86401), "INVALID_VALUE"},
		{"validity as string", with("validity_duration", "600"), "INVALID_VALUE"},
		{"validity fraction", with("validity_duration", 1.5), "INVALID_VALUE"},
		{"address without type", with("customer_address", map[string]any{"street_name": "x"}), "MISSING_PARAMETER"},
		{"address bad type", with("customer_address", map[string]any{"type": "CASTLE"}), "INVALID_VALUE"},
		{"floor as string", with("customer_address", map[string]any{"type": "HOME", "floor": "2"}), "INVALID_VALUE"},
		{"is_primary as string", with("customer_address", map[string]any{"type": "HOME", "is_primary": "true"}), "INVALID_VALUE"},
		{"address not an object", with("customer_address", "Nicosia"), "INVALID_VALUE"},
		{"email without address", with("customer_email", map[string]any{"type": "PERSONAL"}), "MISSING_PARAMETER"},
		{"email without type", with("customer_email", map[string]any{"email_address": "a@b.c"}), "MISSING_PARAMETER"},
		{"phone without number", with("customer_phone", map[string]any{"type": "MOBILE"}), "MISSING_PARAMETER"},
		{"phone bad type", with("customer_phone", map[string]any{"type": "PAGER", "number": "1"}), "INVALID_VALUE"},
		{"existing subscription", map[string]any{"billing_system_customer_identifier": "pci002"}, "SUBSCRIPTION_EXISTS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, c.mustPost("netflix/subscriptions/create", tc.body), tc.want)
		})
	}
	if n := len(s.Applied()); n != 0 {
		t.Fatalf("refused creates applied %d effects", n)
	}

	t.Run("ok", func(t *testing.T) {
		var d struct {
			SubscriptionNumber         string `json:"subscription_number"`
			NetflixToken               string `json:"netflix_token"`
			NetflixTokenExpirationDate string `json:"netflix_token_expiration_date"`
		}
		c.decodeOK(c.mustPost("netflix/subscriptions/create", full()), &d)
		if d.SubscriptionNumber != "S0000003566" {
			t.Errorf("subscription_number = %s, want S0000003566", d.SubscriptionNumber)
		}
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(d.NetflixToken) {
			t.Errorf("netflix_token = %q", d.NetflixToken)
		}
		if want := clk.Now().Add(600 * time.Second).Format("2006-01-02T15:04:05"); d.NetflixTokenExpirationDate != want {
			t.Errorf("netflix_token_expiration_date = %s, want %s", d.NetflixTokenExpirationDate, want)
		}
		if n, st, ok := s.Subscription("pci021"); !ok || n != d.SubscriptionNumber || st != "EFFECTIVE" {
			t.Errorf("Subscription(pci021) = %s %s %v", n, st, ok)
		}
		var show struct {
			PromotionsSet []struct{ Code string } `json:"promotions_set"`
		}
		c.decodeOK(c.mustGet("netflix/subscriptions/show", url.Values{"billing_system_customer_identifier": {"pci021"}}), &show)
		if len(show.PromotionsSet) != 1 || show.PromotionsSet[0].Code != "14" {
			t.Errorf("promotions_set = %+v, want promotion 14", show.PromotionsSet)
		}
	})
	t.Run("resend refused", func(t *testing.T) {
		wantCode(t, c.mustPost("netflix/subscriptions/create", full()), "SUBSCRIPTION_EXISTS")
		if got := s.Applied()[Effect{methodCreate, "pci021"}]; got != 1 {
			t.Errorf("Applied create = %d, want 1", got)
		}
	})
	t.Run("default validity", func(t *testing.T) {
		var d struct {
			SubscriptionNumber         string `json:"subscription_number"`
			NetflixTokenExpirationDate string `json:"netflix_token_expiration_date"`
		}
		c.decodeOK(c.mustPost("netflix/subscriptions/create", map[string]any{"billing_system_customer_identifier": "pci023"}), &d)
		if d.SubscriptionNumber != "S0000003567" {
			t.Errorf("subscription_number = %s, want S0000003567", d.SubscriptionNumber)
		}
		if want := clk.Now().Add(time.Hour).Format("2006-01-02T15:04:05"); d.NetflixTokenExpirationDate != want {
			t.Errorf("netflix_token_expiration_date = %s, want %s", d.NetflixTokenExpirationDate, want)
		}
	})
}
