package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

const (
	methodAddItems    = "subscriptions/installed_items/add"
	methodRemoveItems = "subscriptions/installed_items/remove"
	methodSwapItems   = "subscriptions/installed_items/swap"
	methodMoveItems   = "subscriptions/installed_items/move_to_another_subscription"
	maxItems          = 50
)

type identifier map[string]string

type installedItemParam struct {
	InstalledItemIdentifier       identifier `json:"installed_item_identifier"`
	InstalledItemsDistributionSet []struct {
		ProvisioningDistributorIdentifier identifier `json:"provisioning_distributor_identifier"`
	} `json:"installed_items_distribution_set"`
}

type installedParams struct {
	SubscriptionIdentifier     identifier           `json:"subscription_identifier"`
	ToSubscriptionIdentifier   identifier           `json:"to_subscription_identifier"`
	ActionTypeIdentifier       identifier           `json:"action_type_identifier"`
	SubActionTypeIdentifier    identifier           `json:"sub_action_type_identifier"`
	JobIdentifier              identifier           `json:"job_identifier"`
	PerformedByUserIdentifier  identifier           `json:"performed_by_user_identifier"`
	PerformedOn                string               `json:"performed_on"`
	TransactionReferenceNumber string               `json:"transaction_reference_number"`
	InstalledItemsSet          []installedItemParam `json:"installed_items_set"`
	InstalledItemsSwapSet      []struct {
		FromInstalledItem installedItemParam `json:"from_installed_item"`
		ToInstalledItem   installedItemParam `json:"to_installed_item"`
	} `json:"installed_items_swap_set"`
}

// itemAction describes one of the four installed-items methods.
type itemAction struct {
	method        string
	code          string // business_classification_code and behavior_code
	name, altCode string // default action type
	swap, move    bool
}

var (
	addAction    = itemAction{method: methodAddItems, code: "ADD_INSTALLED_ITEM", name: "Add Installed Item", altCode: "AII"}
	removeAction = itemAction{method: methodRemoveItems, code: "REMOVE_INSTALLED_ITEM", name: "Remove Installed Item", altCode: "RII"}
	swapAction   = itemAction{method: methodSwapItems, code: "SWAP_INSTALLED_ITEM", name: "Swap Installed Item", altCode: "SII", swap: true}
	moveAction   = itemAction{method: methodMoveItems, code: "MOVE_INSTALLED_ITEM", name: "Move Installed Item", altCode: "MII", move: true}
)

func (s *Server) addInstalledItems(q *request) reply    { return s.installedItems(q, addAction) }
func (s *Server) removeInstalledItems(q *request) reply { return s.installedItems(q, removeAction) }
func (s *Server) swapInstalledItems(q *request) reply   { return s.installedItems(q, swapAction) }
func (s *Server) moveInstalledItems(q *request) reply   { return s.installedItems(q, moveAction) }

// lookupSubscription finds the subscription an identifier names; it must not be
// cancelled.
func (s *Server) lookupSubscription(param string, id identifier) (*subscription, *reply) {
	if len(id) == 0 {
		r := fail("MISSING_PARAMETER", "%s is mandatory", param)
		return nil, &r
	}
	number := id["number"]
	if number == "" || len(id) != 1 {
		r := fail("INVALID_VALUE", "%s must be {\"number\": ...}: the sandbox identifies subscriptions by number only", param)
		return nil, &r
	}
	sub, found := s.st.byNumber[number]
	if !found {
		r := fail("NOT_FOUND", "Subscription %s does not exist", number)
		return nil, &r
	}
	if sub.state == "CANCELLED" {
		r := fail("INVALID_STATE", "Subscription %s is CANCELLED", number)
		return nil, &r
	}
	return sub, nil
}

// serialOf returns the serial_number of an installed item parameter.
func serialOf(param string, it installedItemParam) (string, *reply) {
	serial := it.InstalledItemIdentifier["serial_number"]
	if serial == "" {
		r := fail("MISSING_PARAMETER", "%s.installed_item_identifier.serial_number is mandatory (the sandbox identifies installed items by serial_number only)", param)
		return "", &r
	}
	return serial, nil
}

// installedItems runs one installed-items call: all of it, or nothing.
func (s *Server) installedItems(q *request, a itemAction) reply {
	var p installedParams
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	if len(p.SubscriptionIdentifier) == 0 {
		return fail("MISSING_PARAMETER", "subscription_identifier is mandatory")
	}
	if ref := p.TransactionReferenceNumber; ref != "" {
		if action, used := s.st.txRefs[ref]; used {
			return fail("DUPLICATE_TRANSACTION_REFERENCE_NUMBER", "transaction_reference_number %s was already used by subscription action %s", ref, action)
		}
	}
	sub, bad := s.lookupSubscription("subscription_identifier", p.SubscriptionIdentifier)
	if bad != nil {
		return *bad
	}
	var to *subscription
	if a.move {
		if to, bad = s.lookupSubscription("to_subscription_identifier", p.ToSubscriptionIdentifier); bad != nil {
			return *bad
		}
		if to == sub {
			return fail("INVALID_VALUE", "to_subscription_identifier names the source subscription %s", sub.number)
		}
	}
	if p.PerformedOn != "" {
		if _, err := time.Parse(dateLayout, p.PerformedOn); err != nil {
			return fail("INVALID_VALUE", "performed_on must be a date YYYY-MM-DDTHH:MM:SS, not %q", p.PerformedOn)
		}
	}

	// pairs[i] = {serial, swap-to serial}; the second is "" but for swap.
	var pairs [][2]string
	if a.swap {
		if len(p.InstalledItemsSet) > 0 {
			return fail("INVALID_VALUE", "swap takes installed_items_swap_set, not installed_items_set")
		}
		if len(p.InstalledItemsSwapSet) == 0 {
			return fail("MISSING_PARAMETER", "installed_items_swap_set is mandatory")
		}
		for _, sw := range p.InstalledItemsSwapSet {
			from, bad := serialOf("from_installed_item", sw.FromInstalledItem)
			if bad != nil {
				return *bad
			}
			toSerial, bad := serialOf("to_installed_item", sw.ToInstalledItem)
			if bad != nil {
				return *bad
			}
			pairs = append(pairs, [2]string{from, toSerial})
		}
	} else {
		if len(p.InstalledItemsSwapSet) > 0 {
			return fail("INVALID_VALUE", "installed_items_swap_set is only for swap")
		}
		if len(p.InstalledItemsSet) == 0 {
			return fail("MISSING_PARAMETER", "installed_items_set is mandatory")
		}
		for _, it := range p.InstalledItemsSet {
			serial, bad := serialOf("installed_items_set", it)
			if bad != nil {
				return *bad
			}
			pairs = append(pairs, [2]string{serial, ""})
		}
	}
	if len(pairs) > maxItems {
		return fail("TOO_MANY_INSTALLED_ITEMS", "at most %d installed items can be sent in one call, not %d", maxItems, len(pairs))
	}
	seen := map[string]bool{}
	for _, pr := range pairs {
		for _, serial := range pr {
			if serial == "" {
				continue
			}
			if seen[serial] {
				return fail("INVALID_VALUE", "installed item %s appears more than once in the call", serial)
			}
			seen[serial] = true
		}
	}
	for _, pr := range pairs {
		on, installed := s.st.items[pr[0]]
		switch {
		case a == addAction && installed:
			return fail("ITEM_ALREADY_INSTALLED", "Installed item %s is already installed on subscription %s", pr[0], on)
		case a != addAction && on != sub.number:
			return fail("ITEM_NOT_INSTALLED", "Installed item %s is not installed on subscription %s", pr[0], sub.number)
		}
		if a.swap {
			if on, installed := s.st.items[pr[1]]; installed {
				return fail("ITEM_ALREADY_INSTALLED", "Installed item %s is already installed on subscription %s", pr[1], on)
			}
		}
	}

	for _, pr := range pairs {
		switch a {
		case addAction:
			s.st.items[pr[0]] = sub.number
		case removeAction:
			delete(s.st.items, pr[0])
		case swapAction:
			delete(s.st.items, pr[0])
			s.st.items[pr[1]] = sub.number
			s.apply(a.method, pr[1])
		case moveAction:
			s.st.items[pr[0]] = to.number
		}
		s.apply(a.method, pr[0])
	}
	number := fmt.Sprintf("SA%06d", s.st.nextAction)
	s.st.nextAction++
	if p.TransactionReferenceNumber != "" {
		s.st.txRefs[p.TransactionReferenceNumber] = number
	}
	return ok(s.actionObject(q, a, p, number, sub, to, pairs))
}

// actionObject is the subscription action of an applied call, shaped like the
// seed's example response.
func (s *Server) actionObject(q *request, a itemAction, p installedParams, number string, sub, to *subscription, pairs [][2]string) map[string]any {
	now := q.now.UTC().Format(dateLayout)
	performedOn := p.PerformedOn
	if performedOn == "" {
		performedOn = now
	}
	actionType := map[string]any{"name": a.name, "id": hexID(a.code), "alternative_code": a.altCode}
	for k, v := range p.ActionTypeIdentifier {
		actionType[k] = v
	}
	var subActionType, performedBy, job any
	if len(p.SubActionTypeIdentifier) > 0 {
		subActionType = p.SubActionTypeIdentifier
	}
	if len(p.PerformedByUserIdentifier) > 0 {
		performedBy = p.PerformedByUserIdentifier
	}
	if len(p.JobIdentifier) > 0 {
		job = p.JobIdentifier
	}
	var ref any
	if p.TransactionReferenceNumber != "" {
		ref = p.TransactionReferenceNumber
	}
	items := []map[string]any{}
	for _, pr := range pairs {
		it := map[string]any{"serial_number": pr[0]}
		if a.swap {
			it = map[string]any{"from_serial_number": pr[0], "to_serial_number": pr[1]}
		}
		items = append(items, it)
	}
	obj := map[string]any{
		"id":                           hexID(number),
		"number":                       number,
		"life_cycle_state":             "EXECUTED",
		"scheduled_date":               now,
		"submitted_on":                 now,
		"executed_on":                  now,
		"performed_on":                 performedOn,
		"action_type":                  actionType,
		"sub_action_type":              subActionType,
		"job":                          job,
		"business_classification_code": a.code,
		"behavior_code":                a.code,
		"performed_by":                 performedBy,
		"submitted_by":                 map[string]any{"person_name": "Demo User", "username": DemoUsername, "id": "1"},
		"transaction_reference_number": ref,
		"subscription":                 subscriptionObject(sub),
		"installed_items_set":          items,
	}
	if to != nil {
		obj["to_subscription"] = subscriptionObject(to)
	}
	return obj
}

func subscriptionObject(sub *subscription) map[string]any {
	return map[string]any{
		"number":           sub.number,
		"life_cycle_state": sub.state,
		"id":               hexID(sub.number),
		"type":             map[string]any{"name": "Normal Subscription", "id": "6BB2B984CC9309775D06650C7493A836", "description": nil, "alternative_code": "ST"},
	}
}

// hexID derives a stable CRM.COM-style id (32 upper-case hex digits) from a name.
func hexID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return strings.ToUpper(hex.EncodeToString(sum[:16]))
}
