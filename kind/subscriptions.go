package kind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/pacer"
	"github.com/crmbatch/crmbatch/report"
)

// Subscription actions.
const (
	ActionCreate    = "create"
	ActionSuspend   = "suspend"
	ActionUnsuspend = "unsuspend"
	ActionCancel    = "cancel"
)

// Subscriptions creates, suspends, unsuspends and cancels Netflix subscriptions,
// one call per row; the rows of one customer run in file order, never at once.
var Subscriptions = &Kind{
	Name:     "subscriptions",
	Required: []string{"action", "billing_system_customer_identifier"},
	Optional: []string{"promotion_code", "channel", "validity_duration",
		"customer_first_name", "customer_last_name"},
	OptionalPrefixes: []string{"customer_address.", "customer_email.", "customer_phone."},
	MaxChunk:         50,
	Outputs:          []string{"subscription_number", "netflix_token", "netflix_token_expiration_date"},
	Sequential:       true,
	Repeats:          true,
	checkHeader:      checkNestedColumns,
	rows: spec[subscriptionItem]{
		read:     parseSubscription,
		effectOf: func(h EffectHash, it Item, p subscriptionItem) EffectHash { return h.Add(it.Action).Add(p.Customer) },
		note:     stateBefore,
		send:     callSubscription,
	},
}

var (
	channels     = []string{"WEB", "STORE", "MOBILE", "BROADBAND", "OTHER"}
	addressTypes = []string{"HOME", "BUSINESS", "POBOX", "CUSTOM1", "CUSTOM2", "CUSTOM3", "CUSTOM4", "CUSTOM5"}
	emailTypes   = []string{"PERSONAL", "BUSINESS", "CUSTOM1", "CUSTOM2", "CUSTOM3", "CUSTOM4", "CUSTOM5"}
	phoneTypes   = []string{"LANDLINE", "MOBILE", "FAX", "CUSTOM1", "CUSTOM2", "CUSTOM3", "CUSTOM4", "CUSTOM5"}
	identifiers  = []string{"id", "name", "alternative_code", "two_character_code", "three_character_code"}
)

// nested describes one nested object of subscriptions/create, with the fields
// its parameter table in the seed (seeds/000) documents.
type nested struct {
	prefix    string   // column prefix, e.g. "customer_address."
	types     []string // allowed values of its mandatory type
	mandatory []string // fields required when the object is given
	fields    []string // other known fields
	country   bool     // it has a country_identifier
	udfs      [3]int   // how many udf_string_N, udf_float_N, udf_date_N it has
	// formats are fields of one address format that the other lacks: an object
	// fills those of one format only (nil = one format).
	formats [2][]string
	// formatMandatory are the fields the second format requires.
	formatMandatory []string
}

var nestedObjects = []nested{
	{prefix: "customer_address.", types: addressTypes, country: true, udfs: [3]int{16, 4, 4},
		fields: []string{"is_primary", "postal_code", "street_name", "street_number", "floor", "apartment_number", "area",
			"town_city", "district", "municipality", "po_box", "po_box_postal_code", "care_of",
			"address_line_1", "address_line_2", "state_province_county"},
		// From R14.2.0 an address is in the CRM.COM format or the international one.
		formats: [2][]string{
			{"is_primary", "street_name", "street_number", "floor", "apartment_number", "area", "district", "municipality",
				"po_box", "po_box_postal_code", "care_of"},
			{"address_line_1", "address_line_2", "state_province_county"},
		},
		formatMandatory: []string{"address_line_1"}},
	{prefix: "customer_email.", types: emailTypes, mandatory: []string{"email_address"}, udfs: [3]int{8, 4, 4},
		fields: []string{"is_primary", "notes"}},
	{prefix: "customer_phone.", types: phoneTypes, mandatory: []string{"number"}, country: true, udfs: [3]int{8, 4, 4},
		fields: []string{"is_primary", "area_code", "notes"}},
}

// checkNestedColumns refuses dotted columns that name no field of their object, so
// that a typo, or a field the API does not document, is a file error rather than
// data silently not sent (or sent and refused, row after row).
func checkNestedColumns(cols []string) error {
	for _, c := range cols {
		for _, n := range nestedObjects {
			if !strings.HasPrefix(c, n.prefix) {
				continue
			}
			if field := strings.TrimPrefix(c, n.prefix); !n.knows(field) {
				return fault.WithHint(fmt.Errorf("column %s: %s has no field %q", c, strings.TrimSuffix(n.prefix, "."), field), "its fields are "+n.describe())
			}
		}
	}
	return nil
}

func (n nested) knows(field string) bool {
	if field == "type" || contains(n.mandatory, field) || contains(n.fields, field) {
		return true
	}
	if rest, ok := strings.CutPrefix(field, "country_identifier."); ok && n.country {
		return contains(identifiers, rest)
	}
	kind, i := udfField(field)
	for k, name := range []string{"string", "float", "date"} {
		if kind == name {
			return i <= n.udfs[k]
		}
	}
	return false
}

// describe lists the object's fields for a hint.
func (n nested) describe() string {
	fields := append(append([]string{"type"}, n.mandatory...), n.fields...)
	if n.country {
		fields = append(fields, "country_identifier.{"+strings.Join(identifiers, ",")+"}")
	}
	return fmt.Sprintf("%s, udf_string_1..%d, udf_float_1..%d, udf_date_1..%d", strings.Join(fields, ", "), n.udfs[0], n.udfs[1], n.udfs[2])
}

// udfField returns "string", "float" or "date" and N for udf_string_N,
// udf_float_N, udf_date_N (N ≥ 1), or "" when field is none.
func udfField(field string) (string, int) {
	for _, k := range []string{"string", "float", "date"} {
		if rest, ok := strings.CutPrefix(field, "udf_"+k+"_"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 1 && strconv.Itoa(n) == rest {
				return k, n
			}
		}
	}
	return "", 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (subscriptionItem) isPayload() {}

type subscriptionItem struct {
	Customer string
	Create   *crm.CreateSubscriptionRequest
}

func parseSubscription(v Row) (Item, subscriptionItem, error) {
	var none subscriptionItem
	action, err := v.choice("action", "", ActionCreate, ActionSuspend, ActionUnsuspend, ActionCancel)
	if err != nil {
		return Item{}, none, err
	}
	customer, err := v.required("billing_system_customer_identifier")
	if err != nil {
		return Item{}, none, err
	}
	it := Item{Action: action, Key: "subscriptions", Lanes: []string{customer}}
	if action != ActionCreate {
		return it, subscriptionItem{Customer: customer}, nil
	}
	req := &crm.CreateSubscriptionRequest{
		BillingSystemCustomerIdentifier: customer,
		PromotionCode:                   v.value("promotion_code"),
		CustomerFirstName:               v.value("customer_first_name"),
		CustomerLastName:                v.value("customer_last_name"),
	}
	if req.PromotionCode != "" && v.promotions != nil && !v.promotions[req.PromotionCode] {
		return Item{}, none, Invalid("promotion_code", "UNKNOWN_PROMOTION", "%q is not a promotion of this operator (promotions/list has %s)", req.PromotionCode, sortedKeys(v.promotions))
	}
	if v.value("channel") != "" {
		if req.Channel, err = v.choice("channel", "", channels...); err != nil {
			return Item{}, none, err
		}
	}
	if s := v.value("validity_duration"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 || n > 86400 {
			return Item{}, none, Invalid("validity_duration", "INVALID_VALUE", "%q is not a whole number of seconds from 1 to 86400 (24 hours)", s)
		}
		req.ValidityDuration = &n
	}
	objs := make([]map[string]any, len(nestedObjects))
	for i, n := range nestedObjects {
		if objs[i], err = buildNested(v, n); err != nil {
			return Item{}, none, err
		}
	}
	req.CustomerAddress, req.CustomerEmail, req.CustomerPhone = objs[0], objs[1], objs[2]
	return it, subscriptionItem{Customer: customer, Create: req}, nil
}

// buildNested turns the row's dotted columns of one object into its JSON object,
// with integers, booleans, floats and dates in the API's types and forms; nil
// when all are empty. An object fills the fields of one address format only, and
// names its country one way only.
func buildNested(v Row, n nested) (map[string]any, error) {
	var obj map[string]any
	var format [2]string // a column of each address format the row fills
	countryCol := ""
	for _, col := range v.dotted {
		field, ok := strings.CutPrefix(col, n.prefix)
		if !ok {
			continue
		}
		s := v.value(col)
		if s == "" {
			continue
		}
		val, err := nestedValue(v, col, field, s, n)
		if err != nil {
			return nil, err
		}
		if obj == nil {
			obj = map[string]any{}
		}
		for i, f := range n.formats {
			if contains(f, field) && format[i] == "" {
				format[i] = col
			}
		}
		if rest, ok := strings.CutPrefix(field, "country_identifier."); ok {
			if countryCol != "" {
				return nil, Invalid(col, "INVALID_VALUE", "the country is already given by %s: fill one of %s.country_identifier.{%s}",
					countryCol, strings.TrimSuffix(n.prefix, "."), strings.Join(identifiers, ","))
			}
			countryCol = col
			obj["country_identifier"] = map[string]any{rest: val}
			continue
		}
		obj[field] = val
	}
	if obj == nil {
		return nil, nil
	}
	if format[0] != "" && format[1] != "" {
		return nil, Invalid(format[1], "INVALID_VALUE", "%s is of the international address format and %s of the CRM.COM one: an address is in one format or the other",
			format[1], format[0])
	}
	if _, ok := obj["type"]; !ok {
		return nil, Invalid(n.prefix+"type", "REQUIRED", "a type is required when %s is given: one of %s", strings.TrimSuffix(n.prefix, "."), strings.Join(n.types, ", "))
	}
	mandatory := n.mandatory
	if format[1] != "" {
		mandatory = slices.Concat(mandatory, n.formatMandatory)
	}
	for _, m := range mandatory {
		if _, ok := obj[m]; !ok {
			return nil, Invalid(n.prefix+m, "REQUIRED", "a value is required when %s is given", strings.TrimSuffix(n.prefix, "."))
		}
	}
	return obj, nil
}

func nestedValue(v Row, col, field, s string, n nested) (any, error) {
	kind, _ := udfField(field)
	switch {
	case field == "type":
		for _, t := range n.types {
			if strings.EqualFold(s, t) {
				return t, nil
			}
		}
		return nil, Invalid(col, "INVALID_VALUE", "%q is not one of %s", s, strings.Join(n.types, ", "))
	case field == "floor":
		i, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, Invalid(col, "INVALID_VALUE", "%q is not a whole number", s)
		}
		return i, nil
	case field == "is_primary":
		switch strings.ToLower(s) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
		return nil, Invalid(col, "INVALID_VALUE", "%q is not true or false", s)
	case kind == "float":
		// Sent as written, so it must be a JSON number too (not NaN, not 0x1p4).
		if _, err := strconv.ParseFloat(s, 64); err != nil || !json.Valid([]byte(s)) || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
			return nil, Invalid(col, "INVALID_VALUE", "%q is not a number", s)
		}
		return json.Number(s), nil
	case kind == "date":
		return dateValue(v, col)
	}
	return s, nil
}

// stateBefore is the note of a subscriptions row's intent: the customer's
// state before the call (see state.String), as a run that stopped with the row
// sent recorded it, or as this run knows it from the customer's earlier rows,
// or, with --read-before, as read now; "?" when not known.
func stateBefore(ctx context.Context, x Executor, items []Item, ps []subscriptionItem) (string, error) {
	it, customer := items[0], ps[0].Customer
	before, known := parseState(it.Note)
	if !it.Uncertain {
		if before, known = x.Memory().states.get(customer); !known && x.ReadBefore() {
			var err error
			before, known, err = showState(ctx, x, customer)
			if errors.Is(err, pacer.ErrStopped) {
				return "", err
			}
		}
	}
	return before.String(known), nil
}

// callSubscription makes the call of one row. These calls are not idempotent,
// and a subscription's state alone cannot tell whether this row changed it (the
// customer may have had a subscription already, or been suspended already).
//
// What the run knows of the state before the call comes from the customer's
// previous row (the state it left), else from a subscriptions/show made before
// the row when --read-before asks for it, else it is not known: while every
// answer arrives, nothing is read. It is recorded with the intent. When an
// answer is lost, the state is read back and judged (judge): the row is ok
// (CONFIRMED_BY_READ_BACK) when the state moved from before to what the action
// makes, sent again when the state shows the action not applied, and unknown
// when the read failed or cannot tell: the action's end state with the state
// before not known (the customer may have been in it already), or a state the
// action does not make.
func callSubscription(ctx context.Context, x Executor, in Intent, items []Item, ps []subscriptionItem) ([]Result, int, error) {
	c := &subscriptionCall{x: x, action: items[0].Action, sub: ps[0], why: "no usable answer came back"}
	it := items[0]
	c.before, c.known = parseState(in.Note)
	c.movedOn = it.Uncertain && it.MovedOn
	c.item, c.since, c.intent = it, in.ID, in.ID
	if it.Uncertain {
		c.since = it.Since // its call was an earlier run's
	}
	attempts := 0
	var err error
	if it.Uncertain {
		// A run that stopped sent this row and never learnt what came of it.
		c.why = "the run that sent it stopped before its answer"
		var applied bool
		if applied, err = c.readBack(ctx); err == nil && applied {
			return []Result{c.applied(0)}, 0, nil
		}
		if err != nil {
			err = &pacer.UnknownError{Err: err}
		}
	}
	if err == nil {
		attempts, err = x.Call(ctx, pacer.Attempt{Send: c.send, ReadBack: c.readBack, Strict: true})
	}
	if err == nil {
		return []Result{c.applied(attempts)}, attempts, nil
	}
	var doubt *readBackDoubt
	switch r := FailedResult(err); {
	case errors.As(err, &doubt):
		// The read was the last thing done: the customer is as it showed.
		x.Memory().states.set(c.sub.Customer, c.now)
		return []Result{{Status: report.StatusUnknown, Code: "UNKNOWN_OUTCOME", Attempts: attempts, Message: doubt.Error()}}, attempts, nil
	case r.Status == report.StatusFailed && c.known:
		x.Memory().states.set(c.sub.Customer, c.before) // refused: nothing changed
	default:
		x.Memory().states.forget(c.sub.Customer)
	}
	return nil, attempts, err
}

// subscriptionCall is the call of one subscriptions row.
type subscriptionCall struct {
	x         Executor
	action    string
	sub       subscriptionItem
	before    state // the state before the call's next attempt
	known     bool  // before is known
	created   *crm.CreatedSubscription
	now       state // the state last read back
	movedOn   bool  // a call of the customer may have changed it since the row's call
	item      Item
	since     int64  // the intent of the row's call (see Executor.Moved)
	intent    int64  // the intent of this call
	confirmed bool   // now proved the row applied
	why       string // why it was read back: the answer lost, or the run stopped
}

func (c *subscriptionCall) send(ctx context.Context) (err error) {
	customer := c.sub.Customer
	switch c.action {
	case ActionCreate:
		c.created, err = c.x.Client().CreateSubscription(ctx, *c.sub.Create)
	case ActionSuspend:
		err = c.x.Client().SuspendSubscription(ctx, customer)
	case ActionUnsuspend:
		err = c.x.Client().UnsuspendSubscription(ctx, customer)
	case ActionCancel:
		err = c.x.Client().CancelSubscription(ctx, customer)
	}
	return err
}

// readBack reads the state again and judges it: applied, not applied (then the
// row is sent again), or an error: the read failed, or a *readBackDoubt when
// the state cannot tell.
func (c *subscriptionCall) readBack(ctx context.Context) (bool, error) {
	after, _, err := showState(ctx, c.x, c.sub.Customer)
	if err != nil {
		return false, err
	}
	c.now = after
	// Asked after the read: a call of the customer by another process that
	// reached the server before it is in the ledger by then.
	if !c.movedOn && c.x.Moved(ctx, c.item, c.since, c.intent) {
		c.movedOn = true
	}
	switch v := judge(c.action, c.before, c.known, after); v {
	case verdictApplied:
		if c.movedOn {
			// The customer's later rows may have made this state since.
			return false, &readBackDoubt{call: c, verdict: verdictMovedOnAsApplied}
		}
		c.confirmed = true
		return true, nil
	case verdictNotApplied:
		if c.movedOn {
			// The customer's later rows may have undone this one since.
			return false, &readBackDoubt{call: c, verdict: verdictMovedOn}
		}
		// The state before the next attempt is known now, even when it was
		// not before the first.
		c.before, c.known = after, true
		return false, nil
	default:
		return false, &readBackDoubt{call: c, verdict: v}
	}
}

// verdict is what a state read back after a lost answer says of the row.
type verdict int

const (
	verdictNotApplied       verdict = iota // the state shows the action not applied: it may be sent again
	verdictApplied                         // the state moved from before to the action's end state
	verdictMayHaveBeen                     // the action's end state, with the state before not known: the customer may have been in it already
	verdictNeither                         // a state the action does not make, and not the state before
	verdictMovedOn                         // not applied by the state, but the customer's later rows may have moved it since
	verdictMovedOnAsApplied                // applied by the state, but the customer's later rows may have made it since
)

// judge tells what a state read back after a lost answer says of an action.
// With the state before known, the row applied when the state moved to the
// action's end state, and not when it is as before. Without it, the end state
// cannot tell (the customer may have been in it before the row: a suspend of a
// suspended customer is refused and leaves it suspended), and any other state
// shows the action not applied (it would have left its end state).
func judge(action string, before state, known bool, after state) verdict {
	end := after.lifeCycle == stateAfter(action)
	switch {
	case !known && end:
		return verdictMayHaveBeen
	case !known, before.sameAs(after):
		return verdictNotApplied
	case !end:
		return verdictNeither
	case action == ActionCreate && (!before.live() || before.number != "" && after.number != before.number):
		return verdictApplied // a new subscription
	case action != ActionCreate && before.live() && (before.number == "" || before.number == after.number):
		return verdictApplied // the customer's subscription moved
	}
	return verdictNeither
}

// readBackDoubt is a state read back that cannot tell whether the row applied.
type readBackDoubt struct {
	call    *subscriptionCall
	verdict verdict
}

func (d *readBackDoubt) Error() string {
	c := d.call
	switch d.verdict {
	case verdictMovedOn:
		return fmt.Sprintf("%s; read back, the customer has %s, as if this row was not applied, but a later call of the customer "+
			"(the customer's later rows, or another run's) may have changed it since, so whether this row %s it cannot be told; check it in CRM.COM",
			c.why, c.now.describe(), pastOf(c.action))
	case verdictMovedOnAsApplied:
		return fmt.Sprintf("%s; read back, the customer has %s, as this row would leave it, but a later call of the customer "+
			"(the customer's later rows, or another run's) may have made it since, so whether this row %s it cannot be told; check it in CRM.COM",
			c.why, c.now.describe(), pastOf(c.action))
	}
	if d.verdict == verdictMayHaveBeen {
		return fmt.Sprintf("%s; read back, the customer has %s, as a %s leaves it, but may have had it before this row "+
			"(the state before was not read: --read-before reads it), so whether this row %s it cannot be told; check it in CRM.COM",
			c.why, c.now.describe(), c.action, pastOf(c.action))
	}
	return fmt.Sprintf("%s; read back, the customer has %s (before: %s), which a %s does not make; check it in CRM.COM",
		c.why, c.now.describe(), c.before.describe(), c.action)
}

// applied is the result of a row the server applied; the run remembers the
// customer's state after it. A row proven by reading back says so.
func (c *subscriptionCall) applied(attempts int) Result {
	after := state{number: c.before.number, lifeCycle: stateAfter(c.action)}
	r := Result{Status: report.StatusOK, Attempts: attempts}
	switch {
	case c.created != nil:
		after.number = c.created.SubscriptionNumber
		r.Outputs = map[string]string{
			"subscription_number":           c.created.SubscriptionNumber,
			"netflix_token":                 c.created.NetflixToken,
			"netflix_token_expiration_date": c.created.NetflixTokenExpirationDate,
		}
	case c.confirmed:
		after = c.now
		r.Code = CodeReadBack
		r.Message = fmt.Sprintf("%s; read back, the customer has %s (before: %s): %s", c.why, c.now.describe(), c.before.describe(), pastOf(c.action))
		if c.now.number != "" {
			r.Outputs = map[string]string{"subscription_number": c.now.number}
		}
		if c.action == ActionCreate {
			r.Message += "; netflix_token is unknown: read it in CRM.COM"
		}
	}
	c.x.Memory().states.set(c.sub.Customer, after)
	return r
}

// state is a customer's subscription as subscriptions/show tells it; the zero
// value is "no subscription". A state with a life cycle state and no number is
// a subscription whose number the run does not know (it saw it suspended,
// unsuspended or cancelled, never read).
type state struct{ number, lifeCycle string }

// live reports whether the customer has a subscription that is not cancelled.
func (s state) live() bool { return s.lifeCycle != "" && s.lifeCycle != crm.LifeCycleCancelled }

// sameAs reports whether after may be the state s unchanged.
func (s state) sameAs(after state) bool {
	return s.lifeCycle == after.lifeCycle && (s.number == "" || s.number == after.number)
}

// describe says the state in words, for a report: "subscription S0000000001
// EFFECTIVE", "a NOT_EFFECTIVE subscription", "no subscription".
func (s state) describe() string {
	switch {
	case s.lifeCycle == "":
		return "no subscription"
	case s.number == "" && strings.HasPrefix(s.lifeCycle, "E"):
		return "an " + s.lifeCycle + " subscription"
	case s.number == "":
		return "a " + s.lifeCycle + " subscription"
	}
	return "subscription " + s.number + " " + s.lifeCycle
}

// pastOf is what a subscription action did: "suspended".
func pastOf(action string) string {
	if action == ActionCancel {
		return "cancelled"
	}
	return strings.TrimSuffix(action, "e") + "ed"
}

// String is the state as an intent records it: "-" none, "?" not known, "*
// LIFECYCLE" a subscription of unknown number.
func (s state) String(known bool) string {
	switch {
	case !known:
		return "?"
	case s.number == "" && s.lifeCycle == "":
		return "-"
	case s.number == "":
		return "* " + s.lifeCycle
	}
	return s.number + " " + s.lifeCycle
}

func parseState(note string) (state, bool) {
	switch note {
	case "", "?":
		return state{}, false
	case "-":
		return state{}, true
	}
	number, lc, _ := strings.Cut(note, " ")
	if number == "*" {
		number = ""
	}
	return state{number: number, lifeCycle: lc}, true
}

// states keeps what a run knows of its customers' subscriptions after their
// rows: the state before a customer's next row, without a show. It forgets
// everything past MaxStates customers (a show costs one call, memory stays flat).
type states struct {
	mu sync.Mutex
	m  map[string]state
}

// MaxStates is how many customers' subscription states a run remembers:
// past it, it forgets them all and reads them again.
const MaxStates = 100_000

func (c *states) get(customer string) (state, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[customer]
	return s, ok
}

func (c *states) set(customer string, s state) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= MaxStates {
		c.m = map[string]state{}
	}
	c.m[customer] = s
}

func (c *states) forget(customer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, customer)
}

// showState reads a customer's subscription. known is false when the read
// failed; an answer that says the customer has no subscription is a state.
func showState(ctx context.Context, x Executor, customer string) (state, bool, error) {
	var s *crm.Subscription
	none := false
	_, err := x.Call(ctx, pacer.Attempt{Send: func(ctx context.Context) (err error) {
		s, err = x.Client().ShowSubscription(ctx, customer)
		var ce *crm.Error
		if errors.As(err, &ce) && ce.Class == crm.Permanent && noSubscription(ce) {
			none = true // an answer, not a failure
			return nil
		}
		return err
	}})
	switch {
	case err != nil:
		return state{}, false, err
	case none:
		return state{}, true, nil
	}
	return state{number: s.SubscriptionNumber, lifeCycle: s.LifeCycleState}, true, nil
}

// noSubscription reports whether a refused show says that the customer has no
// subscription (the sandbox says NOT_FOUND; the API documents no code).
func noSubscription(ce *crm.Error) bool {
	code := strings.ToUpper(ce.Code)
	return strings.Contains(code, "NOT_FOUND") || strings.Contains(code, "NOT_EXIST") || strings.Contains(code, "NO_SUBSCRIPTION")
}

// stateAfter is the life cycle state a subscription is in once the action applied.
func stateAfter(action string) string {
	switch action {
	case ActionSuspend:
		return crm.LifeCycleNotEffective
	case ActionCancel:
		return crm.LifeCycleCancelled
	default:
		return crm.LifeCycleEffective
	}
}
