package sandbox

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	methodCreate    = "netflix/subscriptions/create"
	methodSuspend   = "netflix/subscriptions/suspend"
	methodUnsuspend = "netflix/subscriptions/unsuspend"
	methodCancel    = "netflix/subscriptions/cancel"
)

// fieldsSet filters obj to the comma-separated fields_set parameter (of the query
// string, or of a POST body); unknown names are ignored and an empty parameter
// keeps every field. The extra fields are null fields that obj leaves out unless
// they are asked for (the seed's installed-items example shows job only then).
func fieldsSet(q *request, obj map[string]any, extra ...string) map[string]any {
	fs := strings.TrimSpace(q.query.Get("fields_set"))
	if raw, ok := q.body["fields_set"]; ok && fs == "" {
		var v string
		if json.Unmarshal(raw, &v) == nil {
			fs = strings.TrimSpace(v)
		}
	}
	if fs == "" {
		return obj
	}
	out := map[string]any{}
	for _, f := range strings.Split(fs, ",") {
		f = strings.TrimSpace(f)
		if v, ok := obj[f]; ok {
			out[f] = v
		} else if slices.Contains(extra, f) {
			out[f] = nil
		}
	}
	return out
}

func (s *Server) listPromotions(q *request) reply {
	out := make([]map[string]any, 0, len(s.st.promotions))
	for _, p := range s.st.promotions {
		out = append(out, fieldsSet(q, p.object()))
	}
	return ok(out)
}

func (p promotion) object() map[string]any {
	return map[string]any{"code": p.Code, "name": p.Name, "description": p.Description, "effective_from": p.EffectiveFrom, "expires_on": p.ExpiresOn}
}

func (s *Server) showSubscription(q *request) reply {
	customer := q.query.Get("billing_system_customer_identifier")
	if customer == "" {
		return fail("MISSING_PARAMETER", "billing_system_customer_identifier is mandatory")
	}
	sub, found := s.st.subscriptions[customer]
	if !found {
		return fail("NOT_FOUND", "No netflix subscription exists for customer %s", customer)
	}
	promotions := []map[string]any{}
	if sub.promotion != nil {
		promotions = append(promotions, sub.promotion.object())
	}
	return ok(fieldsSet(q, map[string]any{
		"subscription_number": sub.number,
		"netflix_state":       sub.state,
		"life_cycle_state":    sub.state,
		"promotions_set":      promotions,
		"prices_set":          []map[string]any{{"FormattedPrice": "$9.99"}},
	}))
}

var (
	channels     = []string{"WEB", "STORE", "MOBILE", "BROADBAND", "OTHER"}
	addressTypes = []string{"HOME", "BUSINESS", "POBOX", "CUSTOM1", "CUSTOM2", "CUSTOM3", "CUSTOM4", "CUSTOM5"}
	emailTypes   = []string{"PERSONAL", "BUSINESS", "CUSTOM1", "CUSTOM2", "CUSTOM3", "CUSTOM4", "CUSTOM5"}
	phoneTypes   = []string{"LANDLINE", "MOBILE", "FAX", "CUSTOM1", "CUSTOM2", "CUSTOM3", "CUSTOM4", "CUSTOM5"}
)

func (s *Server) createSubscription(q *request) reply {
	var p struct {
		Customer         string          `json:"billing_system_customer_identifier"`
		PromotionCode    string          `json:"promotion_code"`
		Channel          string          `json:"channel"`
		ValidityDuration json.RawMessage `json:"validity_duration"`
		FirstName        string          `json:"customer_first_name"`
		LastName         string          `json:"customer_last_name"`
		Address          json.RawMessage `json:"customer_address"`
		Email            json.RawMessage `json:"customer_email"`
		Phone            json.RawMessage `json:"customer_phone"`
	}
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	if p.Customer == "" {
		return fail("MISSING_PARAMETER", "billing_system_customer_identifier is mandatory")
	}
	var promo *promotion
	if p.PromotionCode != "" {
		i := slices.IndexFunc(s.st.promotions, func(pr promotion) bool { return pr.Code == p.PromotionCode })
		if i < 0 {
			return fail("INVALID_VALUE", "promotion_code %s does not exist", p.PromotionCode)
		}
		promo = &s.st.promotions[i]
	}
	if p.Channel != "" && !slices.Contains(channels, p.Channel) {
		return fail("INVALID_VALUE", "channel %s is not one of %s", p.Channel, strings.Join(channels, ", "))
	}
	validity := int64(3600)
	if !isNull(p.ValidityDuration) {
		n, isInt := jsonInt(p.ValidityDuration)
		if !isInt || n < 1 || n > 86400 {
			return fail("INVALID_VALUE", "validity_duration must be an integer number of seconds from 1 to 86400, not %s", p.ValidityDuration)
		}
		validity = n
	}
	nested := []struct {
		name      string
		raw       json.RawMessage
		types     []string
		mandatory []string
	}{
		{"customer_address", p.Address, addressTypes, nil},
		{"customer_email", p.Email, emailTypes, []string{"email_address"}},
		{"customer_phone", p.Phone, phoneTypes, []string{"number"}},
	}
	for _, n := range nested {
		if r := checkNested(n.name, n.raw, n.types, n.mandatory); r != nil {
			return *r
		}
	}
	if sub, found := s.st.subscriptions[p.Customer]; found && sub.state != "CANCELLED" {
		return fail("SUBSCRIPTION_EXISTS", "Customer %s already has subscription %s (%s)", p.Customer, sub.number, sub.state)
	}

	sub := &subscription{number: fmt.Sprintf("S%010d", s.st.nextSub), customer: p.Customer, state: "EFFECTIVE", promotion: promo}
	s.st.nextSub++
	s.st.subscriptions[sub.customer] = sub
	s.st.byNumber[sub.number] = sub
	s.apply(methodCreate, sub.customer)
	token := make([]byte, 16)
	for i := range token {
		token[i] = byte(s.rng.Uint32())
	}
	return ok(map[string]any{
		"subscription_number":           sub.number,
		"netflix_token":                 hex.EncodeToString(token),
		"netflix_token_expiration_date": q.now.UTC().Add(time.Duration(validity) * time.Second).Format(dateLayout),
	})
}

func isNull(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}

// jsonInt reports whether raw is a JSON number (not a string) with an integer value.
func jsonInt(raw json.RawMessage) (int64, bool) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t[0] == '"' {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal([]byte(t), &n) != nil {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// checkNested validates one customer_address / customer_email / customer_phone
// object: type mandatory and from its list, the mandatory fields present, floor an
// integer, is_primary a boolean, udf_float_* numbers, udf_date_* dates
// YYYY-MM-DDTHH:MM:SS, country_identifier an object of strings, every other field a
// string.
func checkNested(name string, raw json.RawMessage, types, mandatory []string) *reply {
	if isNull(raw) {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		r := fail("INVALID_VALUE", "%s must be a JSON object", name)
		return &r
	}
	str := func(key string) (string, bool) {
		var v string
		err := json.Unmarshal(obj[key], &v)
		return v, err == nil
	}
	typ, _ := str("type")
	if typ == "" {
		r := fail("MISSING_PARAMETER", "%s.type is mandatory", name)
		return &r
	}
	if !slices.Contains(types, typ) {
		r := fail("INVALID_VALUE", "%s.type %s is not one of %s", name, typ, strings.Join(types, ", "))
		return &r
	}
	for _, m := range mandatory {
		if v, _ := str(m); v == "" {
			r := fail("MISSING_PARAMETER", "%s.%s is mandatory", name, m)
			return &r
		}
	}
	for key, v := range obj {
		if isNull(v) {
			continue
		}
		var good bool
		want := "string"
		switch {
		case key == "floor":
			_, good = jsonInt(v)
			want = "integer"
		case key == "is_primary":
			var b bool
			good = json.Unmarshal(v, &b) == nil
			want = "boolean"
		case strings.HasPrefix(key, "udf_float_"):
			var f float64
			good = json.Unmarshal(v, &f) == nil
			want = "number"
		case strings.HasPrefix(key, "udf_date_"):
			d, isString := str(key)
			_, err := time.Parse(dateLayout, d)
			good = isString && err == nil
			want = "date string YYYY-MM-DDTHH:MM:SS"
		case key == "country_identifier":
			var c map[string]string
			good = json.Unmarshal(v, &c) == nil && len(c) > 0
			want = "object of strings"
		default:
			_, good = str(key)
		}
		if !good {
			r := fail("INVALID_VALUE", "%s.%s must be a JSON %s, not %s", name, key, want, v)
			return &r
		}
	}
	return nil
}

// transition moves the customer's subscription from one of the from states to to.
func (s *Server) transition(q *request, method, to string, from ...string) reply {
	var p struct {
		Customer string `json:"billing_system_customer_identifier"`
	}
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	if p.Customer == "" {
		return fail("MISSING_PARAMETER", "billing_system_customer_identifier is mandatory")
	}
	sub, found := s.st.subscriptions[p.Customer]
	if !found {
		return fail("NOT_FOUND", "No netflix subscription exists for customer %s", p.Customer)
	}
	if !slices.Contains(from, sub.state) {
		return fail("INVALID_STATE", "Subscription %s of customer %s is %s; it must be %s", sub.number, p.Customer, sub.state, strings.Join(from, " or "))
	}
	sub.state = to
	s.apply(method, p.Customer)
	return ok(map[string]any{})
}

func (s *Server) suspendSubscription(q *request) reply {
	return s.transition(q, methodSuspend, "NOT_EFFECTIVE", "EFFECTIVE")
}

func (s *Server) unsuspendSubscription(q *request) reply {
	return s.transition(q, methodUnsuspend, "EFFECTIVE", "NOT_EFFECTIVE")
}

func (s *Server) cancelSubscription(q *request) reply {
	return s.transition(q, methodCancel, "CANCELLED", "EFFECTIVE", "NOT_EFFECTIVE")
}
