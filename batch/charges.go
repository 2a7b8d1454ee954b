package batch

import (
	"context"
	"fmt"

	"github.com/crmbatch/crmbatch/crm"
)

// Charge actions.
const (
	ActionAcknowledge = "acknowledge"
	ActionAccept      = "accept"
)

// Charges acknowledges or accepts Netflix charges, up to 50 of one action per call.
// A charge is final: once acknowledged or accepted by any run of any file on an
// endpoint, it is not sent again (unless --force).
var Charges = &Kind{
	Name:     "charges",
	Required: []string{"number", "billing_system_customer_identifier"},
	Optional: []string{"reference_number", "action"},
	MaxChunk: 50,
	parse:    parseCharge,
	unique:   chargeUnique,
	effect:   func(it Item) string { return it.Action + "\x00" + it.Payload.(crm.ChargeItem).Number },
	claimKey: func(it Item) string { return it.Payload.(crm.ChargeItem).Number },
	call:     callCharges,
}

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

func chargeNumber(it Item) string    { return it.Payload.(crm.ChargeItem).Number }
func chargeReference(it Item) string { return it.Payload.(crm.ChargeItem).ReferenceNumber }

// callCharges acknowledges or accepts the charges of items. A call that may
// have been applied (no answer, a 5xx, an answer without its failure set) is
// read back through the pending list: a charge no longer pending was applied,
// one still pending is sent again. Rows sent by a run that stopped before it
// knew (Uncertain) are read back before anything is sent.
func callCharges(ctx context.Context, x *executor, items []Item) ([]result, int, error) {
	out := make([]result, len(items))
	todo := make([]int, 0, len(items)) // indexes of the rows still to send
	for i := range items {
		todo = append(todo, i)
	}
	var failed []crm.FailedCharge
	call := func(ctx context.Context) (err error) {
		// Read-backs page the lists: they wait for the charge calls in flight
		// and hold new ones, so that this run's own calls do not shift the pages.
		x.listing.RLock()
		defer x.listing.RUnlock()
		set := make([]crm.ChargeItem, len(todo))
		for n, i := range todo {
			set[n] = items[i].Payload.(crm.ChargeItem)
		}
		if items[0].Action == ActionAccept {
			failed, err = x.client.AcceptCharges(ctx, set)
		} else {
			failed, err = x.client.AcknowledgeCharges(ctx, set)
		}
		return err
	}
	readBack := func(ctx context.Context) (bool, error) {
		want := make(map[string]bool, len(todo))
		for _, i := range todo {
			want[chargeNumber(items[i])] = true
		}
		pending, err := x.listedCharges(ctx, want)
		if err != nil {
			return false, err
		}
		still := todo[:0]
		for _, i := range todo {
			if pending[chargeNumber(items[i])] {
				still = append(still, i)
				continue
			}
			out[i] = result{Status: StatusOK, Message: Past(items[i].Action) + ": read back, no longer pending"}
		}
		todo = still
		return len(todo) == 0, nil
	}
	if _, err := x.begin(ctx, ""); err != nil {
		return nil, 0, err
	}
	attempts := 0
	var err error
	uncertain := false
	for _, it := range items {
		uncertain = uncertain || it.Uncertain
	}
	if uncertain {
		var applied bool
		if applied, err = readBack(ctx); applied {
			return fill(out, attempts), attempts, nil
		}
		if err != nil {
			err = &unknownError{err: fmt.Errorf("reading back the charges of a call a stopped run sent: %w", err)}
		}
	}
	if err == nil {
		attempts, err = x.retry(ctx, call, readBack, true)
	}
	if err != nil {
		if len(todo) == len(items) {
			return nil, attempts, err // nothing known: the call as a whole
		}
		for _, i := range todo {
			out[i] = failedResult(err)
		}
		return fill(out, attempts), attempts, nil
	}
	if len(todo) == 0 {
		return fill(out, attempts), attempts, nil // every row read back as applied
	}
	sent := make([]Item, len(todo))
	for n, i := range todo {
		sent[n] = items[i]
		out[i] = result{Status: StatusOK}
	}
	set := make([]failure, len(failed))
	for n, f := range failed {
		set[n] = failure{id: f.Number, code: string(f.ErrorCode), text: f.ErrorDescription}
		if f.ReferenceNumber != nil {
			set[n].ref = *f.ReferenceNumber
		}
	}
	found, stray := matchFailures(sent, chargeNumber, chargeReference, set)
	if stray != nil {
		for n, r := range unmatched(sent, stray, attempts) {
			out[todo[n]] = r
		}
		return fill(out, attempts), attempts, nil
	}
	for n, f := range found {
		out[todo[n]] = result{Status: StatusFailed, Code: f.code, Message: f.text}
	}
	return fill(out, attempts), attempts, nil
}

// fill sets the attempts of every result.
func fill(out []result, attempts int) []result {
	for i := range out {
		out[i].Attempts = attempts
	}
	return out
}

// maxListPages bounds the read-back of charges: 200 pages of 50 per list.
const maxListPages = 200

// listedCharges reads the charge lists (charges/list NOT_PROCESSED, then
// PROCESSED) until it has seen every charge of want or the lists end, and
// returns those of want that are listed: not acknowledged nor accepted, since
// those leave both lists. Other charge calls of the run wait meanwhile, so
// that the pages do not shift under it. A list that does not end, or whose
// pages repeat (a server ignoring offset), is an error: a charge not seen may
// be further on.
func (x *executor) listedCharges(ctx context.Context, want map[string]bool) (map[string]bool, error) {
	x.listing.Lock()
	defer x.listing.Unlock()
	listed := map[string]bool{}
	for _, status := range []string{crm.ChargeStatusNotProcessed, crm.ChargeStatusProcessed} {
		seen := map[string]bool{}
		for page, offset := 0, 0; ; page++ {
			if page == maxListPages {
				return nil, fmt.Errorf("the %s list is longer than %d charges: not all of it was read", status, maxListPages*50)
			}
			var charges []crm.Charge
			_, err := x.retry(ctx, func(ctx context.Context) (err error) {
				charges, err = x.client.ListCharges(ctx, crm.ListChargesRequest{
					NumberOfResults: 50, ChargeStatus: status, Offset: offset, FieldsSet: []string{"number"}})
				return err
			}, nil, false)
			if err != nil {
				return nil, err
			}
			fresh := 0
			for _, c := range charges {
				if !seen[c.Number] {
					seen[c.Number] = true
					fresh++
				}
				if want[c.Number] {
					listed[c.Number] = true
				}
			}
			if len(charges) == 0 || len(listed) == len(want) {
				break
			}
			if fresh == 0 {
				return nil, fmt.Errorf("the %s list gave the same page again at offset %d: the server ignores offset", status, offset)
			}
			offset += len(charges)
		}
		if len(listed) == len(want) {
			break
		}
	}
	return listed, nil
}

// Past is how a report says an action was done: acknowledged, accepted.
func Past(action string) string {
	switch action {
	case ActionAcknowledge:
		return "acknowledged"
	case ActionAccept:
		return "accepted"
	}
	return action + " done"
}
