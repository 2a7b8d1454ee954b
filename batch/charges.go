package batch

import (
	"context"

	"github.com/crmbatch/crmbatch/crm"
)

// Charge actions.
const (
	ActionAcknowledge = "acknowledge"
	ActionAccept      = "accept"
)

// Charges acknowledges or accepts Netflix charges, up to 50 of one action per call.
var Charges = register(&Kind{
	Name:     "charges",
	Required: []string{"number", "billing_system_customer_identifier"},
	Optional: []string{"reference_number", "action"},
	MaxChunk: 50,
	parse:    parseCharge,
	unique:   chargeUnique,
	doneKey: func(it Item) (string, string) {
		c := it.Payload.(crm.ChargeItem)
		return c.Number, c.ReferenceNumber
	},
	call: callCharges,
})

func parseCharge(v rowView) (Item, error) {
	number, err := v.required("number")
	if err != nil {
		return Item{}, err
	}
	if err := checkIdentifier(v, "number", number); err != nil {
		return Item{}, err
	}
	customer, err := v.required("billing_system_customer_identifier")
	if err != nil {
		return Item{}, err
	}
	action, err := v.choice("action", ActionAcknowledge, ActionAcknowledge, ActionAccept)
	if err != nil {
		return Item{}, err
	}
	ref := v.value("reference_number")
	it := Item{
		Action: action,
		Key:    action,
		Payload: crm.ChargeItem{
			Number:                          number,
			BillingSystemCustomerIdentifier: customer,
			ReferenceNumber:                 ref,
		},
	}
	return it, nil
}

func chargeUnique(it Item) []unique {
	c := it.Payload.(crm.ChargeItem)
	u := []unique{{Column: "number", Value: c.Number}}
	if c.ReferenceNumber != "" {
		u = append(u, unique{Column: "reference_number", Value: c.ReferenceNumber})
	}
	return u
}

func callCharges(ctx context.Context, x *executor, items []Item) ([]result, int, error) {
	set := make([]crm.ChargeItem, len(items))
	for i, it := range items {
		set[i] = it.Payload.(crm.ChargeItem)
	}
	var failed []crm.FailedCharge
	call := func(ctx context.Context) (err error) {
		if items[0].Action == ActionAccept {
			failed, err = x.client.AcceptCharges(ctx, set)
		} else {
			failed, err = x.client.AcknowledgeCharges(ctx, set)
		}
		return err
	}
	// Acknowledging a charge twice applies nothing twice; ambiguity is resent.
	attempts, err := x.retry(ctx, call, resendAmbiguous, false)
	if err != nil {
		return nil, attempts, err
	}
	why := make(map[string]crm.FailedCharge, len(failed))
	for _, f := range failed {
		why[f.Number] = f
	}
	out := make([]result, len(items))
	for i, it := range items {
		out[i] = result{Status: StatusOK, Attempts: attempts}
		if f, bad := why[it.Payload.(crm.ChargeItem).Number]; bad {
			out[i] = result{Status: StatusFailed, Code: f.ErrorCode, Message: f.ErrorDescription, Attempts: attempts}
		}
	}
	return out, attempts, nil
}
