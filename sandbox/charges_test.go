package sandbox

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// wireCharge mirrors the client's crm.Charge: amounts stay json.Number.
type wireCharge struct {
	Number                          string      `json:"number"`
	BillingSystemCustomerIdentifier string      `json:"billing_system_customer_identifier"`
	Amount                          json.Number `json:"amount"`
	Currency                        string      `json:"currency"`
	LocalCurrencyAmount             json.Number `json:"local_currency_amount"`
	LocalCurrency                   *string     `json:"local_currency"`
	PaidThroughDate                 *string     `json:"paid_through_date"`
	ChargeStatus                    string      `json:"charge_status"`
	ReceivedOn                      string      `json:"received_on"`
	SetAsApprovedOn                 *string     `json:"set_as_approved_on"`
	SetAsDeclinedOn                 *string     `json:"set_as_declined_on"`
	SetAsBadRequestOn               *string     `json:"set_as_bad_request_on"`
	SetAsRejectedRequestOn          *string     `json:"set_as_rejected_request_on"`
}

func listCharges(t *testing.T, c *client, status string, n, offset int) []wireCharge {
	t.Helper()
	a := c.mustGet("netflix/charges/list", url.Values{
		"number_of_results": {strconv.Itoa(n)}, "charge_status": {status}, "offset": {strconv.Itoa(offset)},
	})
	var d struct {
		ChargesSet []wireCharge `json:"charges_set"`
	}
	c.decodeOK(a, &d)
	if d.ChargesSet == nil {
		t.Fatalf("data %s has no charges_set array", a.Data)
	}
	return d.ChargesSet
}

// listAll pages a status by offset until an empty page.
func listAll(t *testing.T, c *client, status string) []wireCharge {
	t.Helper()
	var all []wireCharge
	for {
		page := listCharges(t, c, status, 50, len(all))
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

func TestListCharges(t *testing.T) {
	t.Parallel()
	_, c := startLoggedIn(t, Options{})
	for _, tc := range []struct {
		name      string
		status    string
		want      int
		processed bool
	}{
		{"not processed", "NOT_PROCESSED", 200, false},
		{"processed", "PROCESSED", 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := listAll(t, c, tc.status)
			if len(all) != tc.want {
				t.Fatalf("%d charges, want %d", len(all), tc.want)
			}
			seen := map[string]bool{}
			for i, ch := range all {
				if seen[ch.Number] {
					t.Fatalf("charge %s listed twice", ch.Number)
				}
				seen[ch.Number] = true
				if i > 0 && ch.ReceivedOn < all[i-1].ReceivedOn {
					t.Fatalf("charge %s received %s before %s: not oldest first", ch.Number, ch.ReceivedOn, all[i-1].ReceivedOn)
				}
				dated := ch.SetAsApprovedOn != nil || ch.SetAsDeclinedOn != nil || ch.SetAsBadRequestOn != nil || ch.SetAsRejectedRequestOn != nil
				if (ch.ChargeStatus != "PENDING") != tc.processed || dated != tc.processed {
					t.Fatalf("charge %+v in %s list", ch, tc.status)
				}
			}
		})
	}

	t.Run("float noise", func(t *testing.T) {
		page := listCharges(t, c, "NOT_PROCESSED", 50, 0)
		var noisy, eur, local bool
		for _, ch := range page {
			noisy = noisy || ch.Amount == "5.989999771118164"
			eur = eur || ch.Currency == "EUR"
			local = local || (ch.LocalCurrency != nil && ch.LocalCurrencyAmount != "")
		}
		if !noisy || !eur || !local {
			t.Errorf("first page: noisy amount %v, EUR %v, local currency %v; want all", noisy, eur, local)
		}
	})

	t.Run("fields_set", func(t *testing.T) {
		a := c.mustGet("netflix/charges/list", url.Values{"number_of_results": {"1"}, "charge_status": {"PROCESSED"}, "offset": {"0"}, "fields_set": {"number,amount"}})
		var d struct {
			ChargesSet []map[string]any `json:"charges_set"`
		}
		c.decodeOK(a, &d)
		if len(d.ChargesSet) != 1 || len(d.ChargesSet[0]) != 2 {
			t.Errorf("charges_set = %v, want number and amount only", d.ChargesSet)
		}
	})

	for _, tc := range []struct {
		name string
		q    url.Values
		want string
	}{
		{"0 results", url.Values{"number_of_results": {"0"}, "charge_status": {"PROCESSED"}, "offset": {"0"}}, "INVALID_VALUE"},
		{"51 results", url.Values{"number_of_results": {"51"}, "charge_status": {"PROCESSED"}, "offset": {"0"}}, "TOO_MANY_RESULTS"},
		{"results not a number", url.Values{"number_of_results": {"ten"}, "charge_status": {"PROCESSED"}, "offset": {"0"}}, "INVALID_VALUE"},
		{"missing results", url.Values{"charge_status": {"PROCESSED"}, "offset": {"0"}}, "MISSING_PARAMETER"},
		{"missing status", url.Values{"number_of_results": {"5"}, "offset": {"0"}}, "MISSING_PARAMETER"},
		{"bad status", url.Values{"number_of_results": {"5"}, "charge_status": {"PENDING"}, "offset": {"0"}}, "INVALID_VALUE"},
		{"missing offset", url.Values{"number_of_results": {"5"}, "charge_status": {"PROCESSED"}}, "MISSING_PARAMETER"},
		{"negative offset", url.Values{"number_of_results": {"5"}, "charge_status": {"PROCESSED"}, "offset": {"-1"}}, "INVALID_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, c.mustGet("netflix/charges/list", tc.q), tc.want)
		})
	}
}

type wireFailedCharge struct {
	Number           string  `json:"number"`
	ReferenceNumber  *string `json:"reference_number"`
	ErrorCode        string  `json:"error_code"`
	ErrorDescription string  `json:"error_description"`
}

func settle(t *testing.T, c *client, method string, items ...map[string]string) []wireFailedCharge {
	t.Helper()
	param := map[string]string{"acknowledge": "acknowledged_charges_set", "accept": "accepted_charges_set"}[method]
	a := c.mustPost("netflix/charges/"+method, map[string]any{param: items})
	var d struct {
		FailedChargesSet []wireFailedCharge `json:"failed_charges_set"`
	}
	c.decodeOK(a, &d)
	if d.FailedChargesSet == nil {
		t.Fatalf("data %s has no failed_charges_set array", a.Data)
	}
	return d.FailedChargesSet
}

func item(ch wireCharge, ref string) map[string]string {
	m := map[string]string{"number": ch.Number, "billing_system_customer_identifier": ch.BillingSystemCustomerIdentifier}
	if ref != "" {
		m["reference_number"] = ref
	}
	return m
}

func TestAcknowledgeCharges(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{})
	pending := listAll(t, c, "NOT_PROCESSED")
	processed := listAll(t, c, "PROCESSED")

	t.Run("acknowledged charges leave the list", func(t *testing.T) {
		var items []map[string]string
		for i, ch := range pending[:10] {
			items = append(items, item(ch, fmt.Sprintf("FIN-%d", i)))
		}
		if f := settle(t, c, "acknowledge", items...); len(f) != 0 {
			t.Fatalf("failed = %+v", f)
		}
		page := listCharges(t, c, "NOT_PROCESSED", 5, 0)
		if page[0].Number != pending[10].Number {
			t.Errorf("first listed = %s, want %s", page[0].Number, pending[10].Number)
		}
		if got := s.ChargeTotals("NOT_PROCESSED"); got != 190 {
			t.Errorf("ChargeTotals = %d, want 190", got)
		}
		if ack, acc, ok := s.Charge(pending[0].Number); !ack || acc || !ok {
			t.Errorf("Charge(%s) = %v %v %v", pending[0].Number, ack, acc, ok)
		}
		if ref, _ := s.ChargeReferenceNumber(pending[0].Number); ref != "FIN-0" {
			t.Errorf("reference = %q, want FIN-0", ref)
		}
	})

	t.Run("resend is harmless", func(t *testing.T) {
		if f := settle(t, c, "acknowledge", item(pending[0], "FIN-0"), item(pending[1], "")); len(f) != 0 {
			t.Fatalf("failed = %+v", f)
		}
		if got := s.Applied()[Effect{methodAcknowledge, pending[0].Number}]; got != 1 {
			t.Errorf("Applied = %d, want 1", got)
		}
	})

	t.Run("per-item failures", func(t *testing.T) {
		wrong := item(pending[20], "")
		wrong["billing_system_customer_identifier"] = "pp"
		f := settle(t, c, "acknowledge",
			wrong,
			map[string]string{"number": "I99999999", "billing_system_customer_identifier": "pci001", "reference_number": "R-X"},
			item(pending[21], "FIN-0"), // used for pending[0]
			item(pending[22], "FIN-NEW"),
		)
		want := []struct{ number, code string }{{pending[20].Number, "1"}, {"I99999999", "2"}, {pending[21].Number, "3"}}
		if len(f) != len(want) {
			t.Fatalf("failed = %+v, want %v", f, want)
		}
		for i, w := range want {
			if f[i].Number != w.number || f[i].ErrorCode != w.code || f[i].ErrorDescription == "" {
				t.Errorf("failed[%d] = %+v, want %v", i, f[i], w)
			}
		}
		if f[0].ErrorDescription != "The specified charge was not issued for the specified customer" || f[0].ReferenceNumber != nil {
			t.Errorf("failed[0] = %+v", f[0])
		}
		if f[1].ReferenceNumber == nil || *f[1].ReferenceNumber != "R-X" {
			t.Errorf("failed[1].reference_number = %v, want R-X", f[1].ReferenceNumber)
		}
		if ack, _, _ := s.Charge(pending[22].Number); !ack {
			t.Errorf("the good charge of the call was not acknowledged")
		}
	})

	t.Run("processed charges", func(t *testing.T) {
		if f := settle(t, c, "acknowledge", item(processed[0], "")); len(f) != 0 {
			t.Fatalf("failed = %+v", f)
		}
		if got := s.ChargeTotals("PROCESSED"); got != 99 {
			t.Errorf("ChargeTotals(PROCESSED) = %d, want 99", got)
		}
	})

	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"51 charges", map[string]any{"acknowledged_charges_set": manyItems(pending[100:151])}, "TOO_MANY_CHARGES"},
		{"missing set", map[string]any{}, "MISSING_PARAMETER"},
		{"empty set", map[string]any{"acknowledged_charges_set": []any{}}, "MISSING_PARAMETER"},
		{"item without customer", map[string]any{"acknowledged_charges_set": []map[string]string{{"number": pending[100].Number}}}, "MISSING_PARAMETER"},
		{"item without number", map[string]any{"acknowledged_charges_set": []map[string]string{{"billing_system_customer_identifier": "pci001"}}}, "MISSING_PARAMETER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Applied())
			wantCode(t, c.mustPost("netflix/charges/acknowledge", tc.body), tc.want)
			if after := len(s.Applied()); after != before {
				t.Errorf("refused call applied %d effects", after-before)
			}
		})
	}
	t.Run("50 charges", func(t *testing.T) {
		if f := settle(t, c, "acknowledge", manyItems(pending[100:150])...); len(f) != 0 {
			t.Fatalf("failed = %+v", f)
		}
	})
}

func manyItems(charges []wireCharge) []map[string]string {
	out := make([]map[string]string, len(charges))
	for i, ch := range charges {
		out[i] = item(ch, "")
	}
	return out
}

func TestAcceptCharges(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{})
	pending := listCharges(t, c, "NOT_PROCESSED", 5, 0)
	processed := listCharges(t, c, "PROCESSED", 5, 0)
	for _, tc := range []struct {
		name      string
		items     []map[string]string
		wantCodes []string
	}{
		{"accept pending", []map[string]string{item(pending[0], "ACC-1"), item(pending[1], "")}, nil},
		{"resend", []map[string]string{item(pending[0], "ACC-1")}, nil},
		{"processed refused", []map[string]string{item(processed[0], "")}, []string{"4"}},
		{"reference of another charge", []map[string]string{item(pending[2], "ACC-1")}, []string{"3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var codes []string
			for _, f := range settle(t, c, "accept", tc.items...) {
				codes = append(codes, f.ErrorCode)
			}
			if strings.Join(codes, ",") != strings.Join(tc.wantCodes, ",") {
				t.Errorf("error codes = %v, want %v", codes, tc.wantCodes)
			}
		})
	}
	if got := s.Applied()[Effect{methodAccept, pending[0].Number}]; got != 1 {
		t.Errorf("Applied accept = %d, want 1", got)
	}
	if _, acc, _ := s.Charge(pending[1].Number); !acc {
		t.Errorf("charge %s not accepted", pending[1].Number)
	}
	if page := listCharges(t, c, "NOT_PROCESSED", 1, 0); page[0].Number != pending[2].Number {
		t.Errorf("first listed = %s, want %s: accepted charges must leave the list", page[0].Number, pending[2].Number)
	}
	t.Run("51 charges", func(t *testing.T) {
		all := listCharges(t, c, "NOT_PROCESSED", 50, 0)
		items := append(manyItems(all), item(pending[0], ""))
		wantCode(t, c.mustPost("netflix/charges/accept", map[string]any{"accepted_charges_set": items}), "TOO_MANY_CHARGES")
		if _, acc, _ := s.Charge(all[0].Number); acc {
			t.Errorf("refused call accepted a charge")
		}
	})
}
