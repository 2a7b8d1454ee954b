package sandbox

import (
	"fmt"
	"testing"
)

func items(serials ...string) []map[string]any {
	out := make([]map[string]any, len(serials))
	for i, s := range serials {
		out[i] = map[string]any{
			"installed_item_identifier":        map[string]string{"serial_number": s},
			"installed_items_distribution_set": []map[string]any{{"provisioning_distributor_identifier": map[string]string{"name": "Main"}}},
		}
	}
	return out
}

func swaps(pairs ...[2]string) []map[string]any {
	out := make([]map[string]any, len(pairs))
	for i, p := range pairs {
		out[i] = map[string]any{
			"from_installed_item": map[string]any{"installed_item_identifier": map[string]string{"serial_number": p[0]}},
			"to_installed_item":   map[string]any{"installed_item_identifier": map[string]string{"serial_number": p[1]}},
		}
	}
	return out
}

func sub(number string) map[string]string { return map[string]string{"number": number} }

func TestInstalledItems(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{})
	fifty := make([]string, 51)
	for i := range fifty {
		fifty[i] = fmt.Sprintf("BULK-%02d", i)
	}
	for _, tc := range []struct {
		name   string
		method string
		body   map[string]any
		want   string
	}{
		{"add free stock", "add", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-9001"),
			"action_type_identifier": map[string]string{"name": "Add Installed Item"}, "performed_by_user_identifier": map[string]string{"username": "JackH"},
			"performed_on": "2025-03-18T05:07:41", "transaction_reference_number": "TX-1"}, "OK"},
		{"duplicate transaction reference", "add", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-9003"), "transaction_reference_number": "TX-1"}, "DUPLICATE_TRANSACTION_REFERENCE_NUMBER"},
		{"add item of another subscription", "add", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-9004", "SC-0002"), "transaction_reference_number": "TX-2"}, "ITEM_ALREADY_INSTALLED"},
		{"refused call leaves its reference unused", "add", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-9004"), "transaction_reference_number": "TX-2"}, "OK"},
		{"remove item not on subscription", "remove", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-0003")}, "ITEM_NOT_INSTALLED"},
		{"remove", "remove", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-9004")}, "OK"},
		{"swap to installed item", "swap", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_swap_set": swaps([2]string{"SC-0001", "SC-0002"})}, "ITEM_ALREADY_INSTALLED"},
		{"swap from item not on subscription", "swap", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_swap_set": swaps([2]string{"SC-0005", "SC-9100"})}, "ITEM_NOT_INSTALLED"},
		{"swap with items set", "swap", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-0001")}, "INVALID_VALUE"},
		{"swap", "swap", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_swap_set": swaps([2]string{"SC-0001", "SC-9002"})}, "OK"},
		{"move", "move_to_another_subscription", map[string]any{"subscription_identifier": sub("S0000000001"), "to_subscription_identifier": sub("S0000000005"), "installed_items_set": items("SC-9002")}, "OK"},
		{"move item not on source", "move_to_another_subscription", map[string]any{"subscription_identifier": sub("S0000000001"), "to_subscription_identifier": sub("S0000000005"), "installed_items_set": items("SC-9002")}, "ITEM_NOT_INSTALLED"},
		{"move to unknown", "move_to_another_subscription", map[string]any{"subscription_identifier": sub("S0000000005"), "to_subscription_identifier": sub("S9"), "installed_items_set": items("SC-9002")}, "NOT_FOUND"},
		{"move without destination", "move_to_another_subscription", map[string]any{"subscription_identifier": sub("S0000000005"), "installed_items_set": items("SC-9002")}, "MISSING_PARAMETER"},
		{"unknown subscription", "add", map[string]any{"subscription_identifier": sub("S404"), "installed_items_set": items("SC-9005")}, "NOT_FOUND"},
		{"missing subscription", "add", map[string]any{"installed_items_set": items("SC-9005")}, "MISSING_PARAMETER"},
		{"missing items", "add", map[string]any{"subscription_identifier": sub("S0000000001")}, "MISSING_PARAMETER"},
		{"missing serial", "remove", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("")}, "MISSING_PARAMETER"},
		{"51 items", "add", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items(fifty...)}, "TOO_MANY_INSTALLED_ITEMS"},
		{"50 items", "add", map[string]any{"subscription_identifier": sub("S0000000002"), "installed_items_set": items(fifty[:50]...)}, "OK"},
		{"bad performed_on", "add", map[string]any{"subscription_identifier": sub("S0000000001"), "installed_items_set": items("SC-9006"), "performed_on": "18/03/2025"}, "INVALID_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Applied())
			a := c.mustPost("subscriptions/installed_items/"+tc.method, tc.body)
			wantCode(t, a, tc.want)
			if tc.want != "OK" && len(s.Applied()) != before {
				t.Errorf("refused call applied %d effects", len(s.Applied())-before)
			}
		})
	}

	for serial, want := range map[string]string{"SC-9001": "S0000000001", "SC-9002": "S0000000005", "SC-0002": "S0000000002", "BULK-49": "S0000000002", "SC-9004": "", "SC-0001": "", "BULK-50": ""} {
		got, ok := s.InstalledItemSubscription(serial)
		if got != want || ok != (want != "") {
			t.Errorf("InstalledItemSubscription(%s) = %q %v, want %q", serial, got, ok, want)
		}
	}
	applied := s.Applied()
	for _, e := range []Effect{{methodAddItems, "SC-9001"}, {methodAddItems, "SC-9004"}, {methodRemoveItems, "SC-9004"}, {methodSwapItems, "SC-0001"}, {methodSwapItems, "SC-9002"}, {methodMoveItems, "SC-9002"}} {
		if applied[e] != 1 {
			t.Errorf("Applied %v = %d, want 1", e, applied[e])
		}
	}

	t.Run("cancelled subscription", func(t *testing.T) {
		wantCode(t, c.mustPost("netflix/subscriptions/cancel", map[string]any{"billing_system_customer_identifier": "pci007"}), "OK")
		wantCode(t, c.mustPost("subscriptions/installed_items/add", map[string]any{"subscription_identifier": sub("S0000000007"), "installed_items_set": items("SC-9007")}), "INVALID_STATE")
	})

	t.Run("subscription action", func(t *testing.T) {
		var d struct {
			Number                     string                    `json:"number"`
			LifeCycleState             string                    `json:"life_cycle_state"`
			BusinessClassificationCode string                    `json:"business_classification_code"`
			TransactionReferenceNumber string                    `json:"transaction_reference_number"`
			PerformedOn                string                    `json:"performed_on"`
			ActionType                 struct{ Name string }     `json:"action_type"`
			PerformedBy                struct{ Username string } `json:"performed_by"`
			Subscription               struct{ Number string }
		}
		c.decodeOK(c.mustPost("subscriptions/installed_items/add", map[string]any{
			"subscription_identifier": sub("S0000000003"), "installed_items_set": items("SC-9008"),
			"performed_by_user_identifier": map[string]string{"username": "JackH"}, "performed_on": "2025-03-18T05:07:41",
			"transaction_reference_number": "TX-ACTION",
		}), &d)
		if d.LifeCycleState != "EXECUTED" || d.BusinessClassificationCode != "ADD_INSTALLED_ITEM" || d.Subscription.Number != "S0000000003" ||
			d.TransactionReferenceNumber != "TX-ACTION" || d.PerformedBy.Username != "JackH" || d.PerformedOn != "2025-03-18T05:07:41" ||
			d.ActionType.Name != "Add Installed Item" || len(d.Number) != 8 || d.Number[:2] != "SA" {
			t.Errorf("subscription action = %+v", d)
		}
	})
}
