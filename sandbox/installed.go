package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// distribution is one entry of installed_items_distribution_set.
type distribution struct {
	ProvisioningDistributorIdentifier identifier `json:"provisioning_distributor_identifier"`
}

// installedItemParam is an item of add's or remove's installed_items_set.
type installedItemParam struct {
	InstalledItemIdentifier       identifier     `json:"installed_item_identifier"`
	InstalledItemsDistributionSet []distribution `json:"installed_items_distribution_set"`
}

// swapSide is one side of a swap pair: the page documents the item only.
type swapSide struct {
	InstalledItemIdentifier       identifier      `json:"installed_item_identifier"`
	InstalledItemsDistributionSet json.RawMessage `json:"installed_items_distribution_set"`
}

// swapParam is an item of swap's installed_items_swap_set.
type swapParam struct {
	FromInstalledItem *swapSide `json:"from_installed_item"`
	ToInstalledItem   *swapSide `json:"to_installed_item"`
}

// moveParam is an item of move_to_another_subscription's installed_items_swap_set
// (the vendor's subscription_installed_items_move object).
type moveParam struct {
	ToSubscription                identifier      `json:"to_subscription"`
	InstalledItemIdentifier       identifier      `json:"installed_item_identifier"`
	InstalledItemsDistributionSet []distribution  `json:"installed_items_distribution_set"`
	FromInstalledItem             json.RawMessage `json:"from_installed_item"`
	ToInstalledItem               json.RawMessage `json:"to_installed_item"`
}

type installedParams struct {
	SubscriptionIdentifier     identifier           `json:"subscription_identifier"`
	ToSubscriptionIdentifier   json.RawMessage      `json:"to_subscription_identifier"`
	ActionTypeIdentifier       identifier           `json:"action_type_identifier"`
	SubActionTypeIdentifier    identifier           `json:"sub_action_type_identifier"`
	JobIdentifier              identifier           `json:"job_identifier"`
	PerformedByUserIdentifier  identifier           `json:"performed_by_user_identifier"`
	PerformedOn                string               `json:"performed_on"`
	TransactionReferenceNumber string               `json:"transaction_reference_number"`
	InstalledItemsSet          []installedItemParam `json:"installed_items_set"`
	InstalledItemsSwapSet      json.RawMessage      `json:"installed_items_swap_set"`
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

// serialOf returns the serial_number of an installed item identifier.
func serialOf(param string, id identifier) (string, *reply) {
	serial := id["serial_number"]
	if serial == "" {
		r := fail("MISSING_PARAMETER", "%s.installed_item_identifier.serial_number is mandatory (the sandbox identifies installed items by serial_number only)", param)
		return "", &r
	}
	return serial, nil
}

// move is one installed item of a call: its serial, the swap-to serial (swap)
// and the destination subscription (move).
type move struct {
	serial, toSerial string
	to               *subscription
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
	if !isNull(p.ToSubscriptionIdentifier) {
		return fail("INVALID_VALUE", "to_subscription_identifier is not a parameter of %s: a move names its destination in each item's to_subscription", a.method)
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
	if p.PerformedOn != "" {
		if _, err := time.Parse(dateLayout, p.PerformedOn); err != nil {
			return fail("INVALID_VALUE", "performed_on must be a date YYYY-MM-DDTHH:MM:SS, not %q", p.PerformedOn)
		}
	}
	moves, bad := s.installedMoves(a, p, sub)
	if bad != nil {
		return *bad
	}
	if len(moves) > maxItems {
		return fail("TOO_MANY_INSTALLED_ITEMS", "at most %d installed items can be sent in one call, not %d", maxItems, len(moves))
	}
	if bad := s.checkMoves(a, sub, moves); bad != nil {
		return *bad
	}
	s.applyMoves(a, sub, moves)
	number := fmt.Sprintf("SA%06d", s.st.nextAction)
	s.st.nextAction++
	if p.TransactionReferenceNumber != "" {
		s.st.txRefs[p.TransactionReferenceNumber] = number
	}
	return ok(fieldsSet(q, s.actionObject(q, a, p, number, sub), "job"))
}

// checkMoves refuses a call that names an item twice, adds an item that is
// installed, removes, swaps or moves one that is not installed on sub, or
// swaps to one that is installed.
func (s *Server) checkMoves(a itemAction, sub *subscription, moves []move) *reply {
	seen := map[string]bool{}
	for _, m := range moves {
		for _, serial := range []string{m.serial, m.toSerial} {
			if serial == "" {
				continue
			}
			if seen[serial] {
				return failReply("INVALID_VALUE", "installed item %s appears more than once in the call", serial)
			}
			seen[serial] = true
		}
	}
	for _, m := range moves {
		on, installed := s.st.items[m.serial]
		switch {
		case a == addAction && installed:
			return failReply("ITEM_ALREADY_INSTALLED", "Installed item %s is already installed on subscription %s", m.serial, on)
		case a != addAction && on != sub.number:
			return failReply("ITEM_NOT_INSTALLED", "Installed item %s is not installed on subscription %s", m.serial, sub.number)
		}
		if a.swap {
			if on, installed := s.st.items[m.toSerial]; installed {
				return failReply("ITEM_ALREADY_INSTALLED", "Installed item %s is already installed on subscription %s", m.toSerial, on)
			}
		}
	}
	return nil
}

// applyMoves installs, removes, swaps or moves the items of a checked call,
// counting each item's effect.
func (s *Server) applyMoves(a itemAction, sub *subscription, moves []move) {
	for _, m := range moves {
		switch a {
		case addAction:
			s.st.items[m.serial] = sub.number
		case removeAction:
			delete(s.st.items, m.serial)
		case swapAction:
			delete(s.st.items, m.serial)
			s.st.items[m.toSerial] = sub.number
			s.apply(a.method, m.toSerial)
		case moveAction:
			s.st.items[m.serial] = m.to.number
		}
		s.apply(a.method, m.serial)
	}
}

// failReply is fail as a *reply, for the checks that return one or nil.
func failReply(code, format string, args ...any) *reply {
	r := fail(code, format, args...)
	return &r
}

// installedMoves reads the items of a call from the set its method documents:
// installed_items_set for add and remove (a distribution set for add only),
// installed_items_swap_set of {from_installed_item, to_installed_item} for swap
// (no distribution set on either side), and installed_items_swap_set of
// {to_subscription, installed_item_identifier, installed_items_distribution_set}
// for move.
func (s *Server) installedMoves(a itemAction, p installedParams, sub *subscription) ([]move, *reply) {
	if bad := checkItemSets(a, p); bad != nil {
		return nil, bad
	}
	switch {
	case a.swap:
		return swapMoves(p)
	case a.move:
		return s.moveMoves(p, sub)
	}
	var moves []move
	for _, it := range p.InstalledItemsSet {
		if a == removeAction && len(it.InstalledItemsDistributionSet) > 0 {
			return nil, failReply("INVALID_VALUE", "remove's installed_items_set documents no installed_items_distribution_set")
		}
		serial, bad := serialOf("installed_items_set", it.InstalledItemIdentifier)
		if bad != nil {
			return nil, bad
		}
		moves = append(moves, move{serial: serial})
	}
	return moves, nil
}

// checkItemSets refuses a call that does not give its items in the set its
// method takes, or gives them in the other one too.
func checkItemSets(a itemAction, p installedParams) *reply {
	hasSwapSet := !isNull(p.InstalledItemsSwapSet)
	switch {
	case a.swap || a.move:
		if len(p.InstalledItemsSet) > 0 {
			return failReply("INVALID_VALUE", "%s takes installed_items_swap_set, not installed_items_set", a.method)
		}
		if !hasSwapSet {
			return failReply("MISSING_PARAMETER", "installed_items_swap_set is mandatory")
		}
	default:
		if hasSwapSet {
			return failReply("INVALID_VALUE", "installed_items_swap_set is only for swap and move_to_another_subscription")
		}
		if len(p.InstalledItemsSet) == 0 {
			return failReply("MISSING_PARAMETER", "installed_items_set is mandatory")
		}
	}
	return nil
}

// swapMoves reads a swap's installed_items_swap_set of
// {from_installed_item, to_installed_item}.
func swapMoves(p installedParams) ([]move, *reply) {
	var set []swapParam
	if err := json.Unmarshal(p.InstalledItemsSwapSet, &set); err != nil {
		return nil, failReply("INVALID_VALUE", "installed_items_swap_set must be an array of {from_installed_item, to_installed_item}")
	}
	var moves []move
	for _, sw := range set {
		if sw.FromInstalledItem == nil || sw.ToInstalledItem == nil {
			return nil, failReply("MISSING_PARAMETER", "each installed_items_swap_set entry needs from_installed_item and to_installed_item")
		}
		for side, it := range map[string]*swapSide{"from_installed_item": sw.FromInstalledItem, "to_installed_item": sw.ToInstalledItem} {
			if !isNull(it.InstalledItemsDistributionSet) {
				return nil, failReply("INVALID_VALUE", "swap's %s documents no installed_items_distribution_set", side)
			}
		}
		from, bad := serialOf("from_installed_item", sw.FromInstalledItem.InstalledItemIdentifier)
		if bad != nil {
			return nil, bad
		}
		to, bad := serialOf("to_installed_item", sw.ToInstalledItem.InstalledItemIdentifier)
		if bad != nil {
			return nil, bad
		}
		moves = append(moves, move{serial: from, toSerial: to})
	}
	return moves, nil
}

// moveMoves reads a move's installed_items_swap_set of {to_subscription,
// installed_item_identifier}: each item goes to a subscription other than
// sub.
func (s *Server) moveMoves(p installedParams, sub *subscription) ([]move, *reply) {
	var set []moveParam
	if err := json.Unmarshal(p.InstalledItemsSwapSet, &set); err != nil {
		return nil, failReply("INVALID_VALUE", "installed_items_swap_set must be an array of {to_subscription, installed_item_identifier}")
	}
	var moves []move
	for _, mv := range set {
		if !isNull(mv.FromInstalledItem) || !isNull(mv.ToInstalledItem) {
			return nil, failReply("INVALID_VALUE", "a move's installed_items_swap_set entry is {to_subscription, installed_item_identifier}, not a swap pair")
		}
		if len(mv.ToSubscription) == 0 {
			return nil, failReply("MISSING_PARAMETER", "installed_items_swap_set.to_subscription is mandatory")
		}
		to, bad := s.lookupSubscription("installed_items_swap_set.to_subscription", mv.ToSubscription)
		if bad != nil {
			return nil, bad
		}
		if to == sub {
			return nil, failReply("INVALID_VALUE", "installed_items_swap_set.to_subscription names the source subscription %s", sub.number)
		}
		serial, bad := serialOf("installed_items_swap_set", mv.InstalledItemIdentifier)
		if bad != nil {
			return nil, bad
		}
		moves = append(moves, move{serial: serial, to: to})
	}
	return moves, nil
}

// actionObject is the subscription action of an applied call, with the fields of
// the seed's example response of its method, nested as they are there (move has
// no example: it answers as swap does). Only add's example has scheduled_date.
func (s *Server) actionObject(q *request, a itemAction, p installedParams, number string, sub *subscription) map[string]any {
	now := q.now.UTC().Format(dateLayout)
	performedOn := p.PerformedOn
	if performedOn == "" {
		performedOn = now
	}
	performer := DemoUsername
	if u := p.PerformedByUserIdentifier["username"]; u != "" {
		performer = u
	}
	obj := map[string]any{
		"id":                           hexID(number),
		"number":                       number,
		"life_cycle_state":             "EXECUTED",
		"submitted_on":                 now,
		"executed_on":                  now,
		"performed_on":                 performedOn,
		"action_type":                  typeObject(p.ActionTypeIdentifier, a.name, a.altCode),
		"sub_action_type":              nil,
		"business_classification_code": a.code,
		"behavior_code":                a.code,
		"performed_by":                 userObject(performer, true),
		"submitted_by":                 userObject(DemoUsername, false),
		"subscription":                 subscriptionObject(sub),
	}
	if len(p.SubActionTypeIdentifier) > 0 {
		obj["sub_action_type"] = typeObject(p.SubActionTypeIdentifier, "", "")
	}
	if a == addAction {
		obj["scheduled_date"] = now
	}
	return obj
}

// typeObject is an action type {name, id, alternative_code} named by id (given
// by the caller, or the defaults when id is empty).
func typeObject(id identifier, name, altCode string) map[string]any {
	if n := id["name"]; n != "" && n != name {
		name, altCode = n, ""
	}
	if c := id["alternative_code"]; c != "" {
		altCode = c
	}
	obj := map[string]any{"name": name, "id": hexID("type:" + name), "alternative_code": nil}
	if id["id"] != "" {
		obj["id"] = id["id"]
	}
	if altCode != "" {
		obj["alternative_code"] = altCode
	}
	return obj
}

// userObject is a user as the seed shows one: performed_by with person_name,
// username, id and email; submitted_by without email.
func userObject(username string, email bool) map[string]any {
	u := map[string]any{"person_name": personName(username), "username": username, "id": hexID("user:" + username)}
	if username == DemoUsername {
		u["id"] = "1"
	}
	if email {
		u["email"] = strings.ToLower(username) + "@sandbox.crm.invalid"
	}
	return u
}

func personName(username string) string {
	if username == DemoUsername {
		return "Demo User"
	}
	return username
}

// subscriptionObject is the subscription of a subscription action, with the
// fields and nesting of the seed's examples; the sandbox knows no account owner,
// so the owner's details are those of a demo person named after the customer.
func subscriptionObject(sub *subscription) map[string]any {
	cyprus := map[string]any{"name": "CYPRUS", "id": "181"}
	owner := map[string]any{
		"last_name": "Customer", "life_cycle_state": "FINANCIAL", "middle_name": nil, "company_profile": nil,
		"title": nil, "type": "PERSON", "first_name": sub.customer, "name": sub.customer + " Customer",
		"id": hexID("owner:" + sub.customer), "company_name": nil,
		"demographics": map[string]any{
			"gender": nil, "passport_issued_by_country": cyprus, "passport_number": nil, "social_security_number": nil,
			"country_of_residence": cyprus, "industry_sector": nil,
			"date_of_birth": map[string]any{"month": 1, "day": 1, "year": 1980}, "name_day": map[string]any{"month": 1, "day": 1},
			"id_number": nil, "id_issued_by_country": cyprus, "industry": nil,
		},
	}
	return map[string]any{
		"accounts_receivable": map[string]any{
			"account_owner":    owner,
			"life_cycle_state": "ACTIVE",
			"number":           strings.TrimLeft(strings.TrimPrefix(sub.number, "S"), "0"),
			"name":             sub.customer + " account",
			"id":               hexID("account:" + sub.customer),
		},
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
