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
	rows: spec[chargeItem]{
		read:     parseCharge,
		uniques:  chargeUnique,
		effectOf: func(h effectHash, it Item, c chargeItem) effectHash { return h.add(it.Action).add(c.Number) },
		entity:   func(c chargeItem) (string, string) { return c.Number, c.ReferenceNumber },
		send:     callCharges,
	},
}

// chargeItem is the payload of a charges row: an item of the call's set.
type chargeItem struct{ crm.ChargeItem }

func (chargeItem) isPayload() {}

func parseCharge(v rowView) (Item, chargeItem, error) {
	var c chargeItem
	number, err := v.required("number")
	if err != nil {
		return Item{}, c, err
	}
	if err := checkIdentifier(v, "number", number); err != nil {
		return Item{}, c, err
	}
	customer, err := v.required("billing_system_customer_identifier")
	if err != nil {
		return Item{}, c, err
	}
	action, err := v.choice("action", ActionAcknowledge, ActionAcknowledge, ActionAccept)
	if err != nil {
		return Item{}, c, err
	}
	c.Number, c.BillingSystemCustomerIdentifier, c.ReferenceNumber = number, customer, v.value("reference_number")
	return Item{Action: action, Key: action}, c, nil
}

func chargeUnique(c chargeItem, u []unique) []unique {
	u = append(u, unique{Column: "number", Value: c.Number})
	if c.ReferenceNumber != "" {
		u = append(u, unique{Column: "reference_number", Value: c.ReferenceNumber})
	}
	return u
}

// chargeCall is one call of charges: the rows still to send (todo, indexes of
// items) shrink as read-backs find some of them applied.
type chargeCall struct {
	x      *executor
	action string
	ps     []chargeItem
	out    []result
	todo   []int
	failed []crm.FailedCharge
}

// callCharges acknowledges or accepts the charges of items. A call that may
// have been applied (no answer, a 5xx, an answer without its failure set) is
// read back through the charge lists: a charge in neither list was applied,
// one still listed is sent again. Rows sent by a run that stopped before it
// knew (Uncertain) are read back before anything is sent.
func callCharges(ctx context.Context, x *executor, items []Item, ps []chargeItem) ([]result, int, error) {
	c := &chargeCall{x: x, action: items[0].Action, ps: ps, out: make([]result, len(items))}
	for i := range items {
		c.todo = append(c.todo, i)
	}
	if _, err := x.begin(ctx, ""); err != nil {
		return nil, 0, err
	}
	attempts := 0
	var err error
	if anyUncertain(items) {
		var applied bool
		if applied, err = c.readBack(ctx); applied {
			return fill(c.out, 0), 0, nil
		}
		if err != nil {
			err = &unknownError{err: fmt.Errorf("reading back the charges of a call a stopped run sent: %w", err)}
		}
	}
	if err == nil {
		attempts, err = x.retry(ctx, c.send, c.readBack, true)
	}
	switch {
	case err != nil && len(c.todo) == len(items):
		return nil, attempts, err // nothing known: the call as a whole
	case err != nil:
		for _, i := range c.todo {
			c.out[i] = failedResult(err)
		}
	case len(c.todo) > 0:
		c.answered(attempts)
	}
	return fill(c.out, attempts), attempts, nil
}

func anyUncertain(items []Item) bool {
	for _, it := range items {
		if it.Uncertain {
			return true
		}
	}
	return false
}

// send makes one attempt with the rows still to send.
func (c *chargeCall) send(ctx context.Context) (err error) {
	set := make([]crm.ChargeItem, len(c.todo))
	for n, i := range c.todo {
		set[n] = c.ps[i].ChargeItem
	}
	if c.action == ActionAccept {
		c.failed, err = c.x.client.AcceptCharges(ctx, set)
	} else {
		c.failed, err = c.x.client.AcknowledgeCharges(ctx, set)
	}
	return err
}

// readBack finds which rows still to send were applied: those no longer
// listed are ok; it reports whether every row was.
func (c *chargeCall) readBack(ctx context.Context) (bool, error) {
	want := make(map[string]bool, len(c.todo))
	for _, i := range c.todo {
		want[c.ps[i].Number] = true
	}
	listed, err := c.x.listedCharges(ctx, want)
	if err != nil {
		return false, err
	}
	still := c.todo[:0]
	for _, i := range c.todo {
		if listed[c.ps[i].Number] {
			still = append(still, i)
			continue
		}
		c.out[i] = result{Status: StatusOK, Message: Past(c.action) + ": read back, in no charges list any more"}
	}
	c.todo = still
	return len(c.todo) == 0, nil
}

// answered maps the failure set of the answer to the rows sent: the rows it
// names failed, the others are ok; an entry that names none of them makes
// every row sent unknown.
func (c *chargeCall) answered(attempts int) {
	set := make([]failure, len(c.failed))
	for n, f := range c.failed {
		set[n] = failure{id: f.Number, code: string(f.ErrorCode), text: f.ErrorDescription}
		if f.ReferenceNumber != nil {
			set[n].ref = *f.ReferenceNumber
		}
	}
	found, stray := matchFailures(len(c.todo),
		func(n int) string { return c.ps[c.todo[n]].Number },
		func(n int) string { return c.ps[c.todo[n]].ReferenceNumber }, set)
	for n, i := range c.todo {
		switch f, bad := found[n]; {
		case stray != nil:
			c.out[i] = unmatched(stray, attempts)
		case bad:
			c.out[i] = result{Status: StatusFailed, Code: f.code, Message: f.text}
		default:
			c.out[i] = result{Status: StatusOK}
		}
	}
}

// fill sets the attempts of every result.
func fill(out []result, attempts int) []result {
	for i := range out {
		out[i].Attempts = attempts
	}
	return out
}

// maxListPages bounds the read-back of one charges list: 200 pages of 50.
const maxListPages = 200

// listedCharges reads the charges lists (charges/list NOT_PROCESSED, then
// PROCESSED: a charge Netflix processed is acknowledged from there) until it
// has seen every charge of want or both lists end, and returns those of want
// it saw: charges neither acknowledged nor accepted. A charge in neither list
// was acknowledged or accepted.
func (x *executor) listedCharges(ctx context.Context, want map[string]bool) (map[string]bool, error) {
	listed := map[string]bool{}
	for _, status := range []string{crm.ChargeStatusNotProcessed, crm.ChargeStatusProcessed} {
		err := x.scanCharges(ctx, status, func(number string) bool {
			if want[number] {
				listed[number] = true
			}
			return len(listed) < len(want)
		})
		if err != nil || len(listed) == len(want) {
			return listed, err
		}
	}
	return listed, nil
}

// scanCharges reads one charges list, oldest first, and calls see with every
// charge until see returns false or the list ends. Charges leave the list
// while it is read (acknowledged by this run's other calls or by others,
// processed by Netflix), which moves the later ones to lower offsets, so a
// page read at the offset after the one before could skip some: each page is
// read from the last charge of the one before, and one that does not begin
// with a charge seen already is read again from further back. New charges are
// the newest, so they come after every charge seen. A list longer than
// maxListPages pages, or one that gives the same page whatever the offset, is
// an error: a charge not seen may be further on.
func (x *executor) scanCharges(ctx context.Context, status string, see func(number string) bool) error {
	const size = 50
	seen := map[string]bool{}
	offset := 0
	for page := 0; page < maxListPages; page++ {
		var charges []crm.Charge
		_, err := x.retry(ctx, func(ctx context.Context) (err error) {
			charges, err = x.client.ListCharges(ctx, crm.ListChargesRequest{
				NumberOfResults: size, ChargeStatus: status, Offset: offset, FieldsSet: []string{"number"}})
			return err
		}, nil, false)
		if err != nil {
			return err
		}
		if offset > 0 && (len(charges) == 0 || !seen[charges[0].Number]) {
			offset = max(0, offset-(size-1)) // the list moved: charges may have been skipped
			continue
		}
		fresh := 0
		for _, c := range charges {
			if !seen[c.Number] {
				seen[c.Number] = true
				fresh++
			}
			if !see(c.Number) {
				return nil
			}
		}
		if len(charges) < size {
			return nil
		}
		if fresh == 0 {
			return fmt.Errorf("the %s charges list gave the same page again at offset %d: the server ignores offset", status, offset)
		}
		offset += len(charges) - 1
	}
	return fmt.Errorf("the %s charges list is longer than %d pages: not all of it was read", status, maxListPages)
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
