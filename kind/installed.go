package kind

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/pacer"
	"github.com/crmbatch/crmbatch/report"
)

// Installed item actions.
const (
	ActionAdd    = "add"
	ActionRemove = "remove"
	ActionSwap   = "swap"
	ActionMove   = "move"
)

// InstalledItems adds, removes, swaps and moves installed items (smartcards,
// set-top boxes) on subscriptions: the items of one (subscription, action), up to
// 50, go in one call that carries a transaction_reference_number derived from the
// run and its rows, so that a resend after a lost answer is refused, not applied.
var InstalledItems = &Kind{
	Name:     "installed-items",
	Required: []string{"action", "subscription_number", "serial_number"},
	Optional: []string{"to_serial_number", "to_subscription_number", "action_type", "sub_action_type",
		"performed_by", "performed_on", "provisioning_distributor"},
	MaxChunk: 50,
	rows: spec[installedItem]{
		read: parseInstalledItem,
		uniques: func(p installedItem, u []Unique) []Unique {
			return append(u, Unique{Column: "serial_number", Value: p.Serial, Scope: p.action + "\x00" + p.Subscription})
		},
		effectOf: func(h EffectHash, it Item, p installedItem) EffectHash {
			return h.Add(it.Action).Add(p.Subscription).Add(p.Serial).Add(p.ToSerial).Add(p.ToSubscription)
		},
		note: replayedReference,
		send: callInstalledItems,
	},
}

func (installedItem) isPayload() {}

type installedItem struct {
	action         string
	Subscription   string
	Serial         string
	ToSerial       string
	ToSubscription string
	Distributor    string
	header         crm.InstalledItemsRequest // the call-level fields
}

func parseInstalledItem(v Row) (Item, installedItem, error) {
	action, err := v.choice("action", "", ActionAdd, ActionRemove, ActionSwap, ActionMove)
	if err != nil {
		return Item{}, installedItem{}, err
	}
	p := installedItem{}
	if p.Subscription, err = v.required("subscription_number"); err != nil {
		return Item{}, installedItem{}, err
	}
	if p.Serial, err = v.required("serial_number"); err != nil {
		return Item{}, installedItem{}, err
	}
	if err := checkIdentifier(v, "serial_number", p.Serial); err != nil {
		return Item{}, installedItem{}, err
	}
	switch action {
	case ActionSwap:
		if p.ToSerial, err = v.required("to_serial_number"); err != nil {
			return Item{}, installedItem{}, err
		}
		if err := checkIdentifier(v, "to_serial_number", p.ToSerial); err != nil {
			return Item{}, installedItem{}, err
		}
	case ActionMove:
		if p.ToSubscription, err = v.required("to_subscription_number"); err != nil {
			return Item{}, installedItem{}, err
		}
		if p.ToSubscription == p.Subscription {
			return Item{}, installedItem{}, Invalid("to_subscription_number", "INVALID_VALUE", "the item is already on subscription %s", p.Subscription)
		}
	}
	// Only add's and move's items document an installed_items_distribution_set.
	if p.Distributor = v.value("provisioning_distributor"); p.Distributor != "" && (action == ActionRemove || action == ActionSwap) {
		return Item{}, installedItem{}, Invalid("provisioning_distributor", "INVALID_VALUE",
			"%s takes no provisioning distributor (the API documents one for add and move items only): leave it empty", action)
	}
	performedOn, err := dateValue(v, "performed_on")
	if err != nil {
		return Item{}, installedItem{}, err
	}
	p.header = crm.InstalledItemsRequest{
		SubscriptionIdentifier:    crm.Identifier{"number": p.Subscription},
		ActionTypeIdentifier:      optionalIdentifier("name", v.value("action_type")),
		SubActionTypeIdentifier:   optionalIdentifier("name", v.value("sub_action_type")),
		PerformedByUserIdentifier: optionalIdentifier("username", v.value("performed_by")),
		PerformedOn:               performedOn,
	}
	key := v.key(action, p.Subscription, p.ToSubscription, v.value("action_type"),
		v.value("sub_action_type"), v.value("performed_by"), performedOn)
	lanes := []string{p.Subscription}
	if p.ToSubscription != "" {
		lanes = append(lanes, p.ToSubscription) // a move touches both subscriptions
	}
	p.action = action
	return Item{Action: action, Key: key, Lanes: lanes}, p, nil
}

func optionalIdentifier(field, value string) crm.Identifier {
	if value == "" {
		return nil
	}
	return crm.Identifier{field: value}
}

// itemOf is an item of add's or remove's installed_items_set; only add's may
// name a provisioning distributor.
func itemOf(serial, distributor string) crm.InstalledItem {
	return crm.InstalledItem{InstalledItemIdentifier: crm.Identifier{"serial_number": serial},
		InstalledItemsDistributionSet: distributionOf(distributor)}
}

func distributionOf(distributor string) []crm.InstalledItemDistribution {
	if distributor == "" {
		return nil
	}
	return []crm.InstalledItemDistribution{{ProvisioningDistributorIdentifier: crm.Identifier{"name": distributor}}}
}

func refOf(serial string) crm.InstalledItemRef {
	return crm.InstalledItemRef{InstalledItemIdentifier: crm.Identifier{"serial_number": serial}}
}

// installedItemsRequest builds the call of a chunk of one (subscription, action):
// add and remove send installed_items_set; swap sends installed_items_swap_set of
// {from_installed_item, to_installed_item}; move sends installed_items_swap_set
// of {to_subscription, installed_item_identifier} (API.md), the source being
// subscription_identifier.
func installedItemsRequest(ps []installedItem) crm.InstalledItemsRequest {
	req := ps[0].header
	for _, p := range ps {
		switch p.action {
		case ActionSwap:
			req.InstalledItemsSwapSet = append(req.InstalledItemsSwapSet, crm.InstalledItemSwap{FromInstalledItem: refOf(p.Serial), ToInstalledItem: refOf(p.ToSerial)})
		case ActionMove:
			req.InstalledItemsMoveSet = append(req.InstalledItemsMoveSet, crm.InstalledItemMove{
				ToSubscription:                crm.Identifier{"number": p.ToSubscription},
				InstalledItemIdentifier:       crm.Identifier{"serial_number": p.Serial},
				InstalledItemsDistributionSet: distributionOf(p.Distributor),
			})
		default:
			req.InstalledItemsSet = append(req.InstalledItemsSet, itemOf(p.Serial, p.Distributor))
		}
	}
	return req
}

// ReferenceUsed reports whether a refusal says that the call's
// transaction_reference_number was used already. The API documents no code for
// it, so the message must say it: a reference, and that it was used.
func ReferenceUsed(ce *crm.Error) bool {
	text := strings.ToLower(ce.Code + " " + ce.Message)
	return strings.Contains(text, "reference") &&
		(strings.Contains(text, "already") || strings.Contains(text, "duplicate") || strings.Contains(text, "used"))
}

// replayedReference is the note of an installed-items call's intent: the
// transaction reference an earlier run sent the call with ("" = none: the
// intent makes one).
func replayedReference(_ context.Context, _ Executor, items []Item, _ []installedItem) (string, error) {
	return items[0].Note, nil
}

// callInstalledItems makes the call of items of one (subscription, action). It
// carries the transaction_reference_number of its intent, recorded in the
// ledger before the first send and replayed unchanged by every resend and by a
// resume: when the server refuses it as already used, the call was applied by
// an earlier attempt whose answer was lost. The reference is unique across
// ledgers, so another ledger's run of the same file is never taken for one.
func callInstalledItems(ctx context.Context, x Executor, in Intent, items []Item, ps []installedItem) ([]Result, int, error) {
	req := installedItemsRequest(ps)
	req.TransactionReferenceNumber = in.Ref
	sent := items[0].Note != "" // a replay: an earlier run sent this reference
	var action *crm.SubscriptionAction
	var already bool
	call := func(ctx context.Context) (err error) {
		switch items[0].Action {
		case ActionAdd:
			action, err = x.Client().AddInstalledItems(ctx, req)
		case ActionRemove:
			action, err = x.Client().RemoveInstalledItems(ctx, req)
		case ActionSwap:
			action, err = x.Client().SwapInstalledItems(ctx, req)
		case ActionMove:
			action, err = x.Client().MoveInstalledItems(ctx, req)
		}
		var ce *crm.Error
		if err != nil && errors.As(err, &ce) && sent && ce.Class == crm.Permanent && ReferenceUsed(ce) {
			already = true // these very rows were applied by an earlier attempt
			return nil
		}
		sent = true
		return err
	}
	attempts, err := x.Call(ctx, pacer.Attempt{Send: call})
	if err != nil {
		var ce *crm.Error
		if errors.As(err, &ce) && ReferenceUsed(ce) {
			// Refused as used on its first send: another call carried it.
			err = &pacer.UnknownError{Err: err}
		}
		return nil, attempts, err
	}
	r := Result{Status: report.StatusOK, Attempts: attempts}
	switch {
	case already:
		r.Code = CodeReadBack
		r.Message = "applied by an earlier attempt: the server refused its transaction reference " + req.TransactionReferenceNumber + " as used when it was sent again"
	case action == nil || action.LifeCycleState != "EXECUTED":
		state := "no subscription action"
		if action != nil {
			state = fmt.Sprintf("subscription action %s is %q", action.Number, action.LifeCycleState)
		}
		r = Result{Status: report.StatusUnknown, Code: "NOT_EXECUTED", Attempts: attempts,
			Message: "the server answered OK with " + state + ", not EXECUTED: check it in CRM.COM"}
	}
	out := make([]Result, len(items))
	for i := range out {
		out[i] = r
	}
	return out, attempts, nil
}
