package sandbox

import (
	"strconv"
)

const (
	methodAcknowledge = "netflix/charges/acknowledge"
	methodAccept      = "netflix/charges/accept"
	maxCharges        = 50
)

// listed reports whether the charge appears in netflix/charges/list for
// chargeStatus: not acknowledged, not accepted (unless keepAccepted: accepted
// charges stay listed, as the API's words allow), and of the matching status.
func (c *charge) listed(chargeStatus string, keepAccepted bool) bool {
	if c.acknowledged || c.accepted && !keepAccepted {
		return false
	}
	switch chargeStatus {
	case "NOT_PROCESSED":
		return c.status == "PENDING"
	case "PROCESSED":
		return c.status != "PENDING"
	}
	return false
}

func (c *charge) object() map[string]any {
	var on [4]*string
	for i, st := range []string{"APPROVED", "DECLINED", "BAD_REQUEST", "REJECTED"} {
		if c.status == st {
			on[i] = strp(c.statusOn)
		}
	}
	var local any
	if c.localAmount != nil {
		local = *c.localAmount
	}
	return map[string]any{
		"number":                             c.number,
		"billing_system_customer_identifier": c.customer,
		"amount":                             c.amount,
		"currency":                           c.currency,
		"local_currency_amount":              local,
		"local_currency":                     c.localCurrency,
		"paid_through_date":                  c.paidThrough,
		"charge_status":                      c.status,
		"received_on":                        c.receivedOn,
		"set_as_approved_on":                 on[0],
		"set_as_declined_on":                 on[1],
		"set_as_bad_request_on":              on[2],
		"set_as_rejected_request_on":         on[3],
	}
}

// intParam reads a mandatory non-negative integer query parameter.
func intParam(q *request, name string) (int, *reply) {
	v := q.query.Get(name)
	if v == "" {
		r := fail("MISSING_PARAMETER", "%s is mandatory", name)
		return 0, &r
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r := fail("INVALID_VALUE", "%s must be a whole number of at least 0, not %q", name, v)
		return 0, &r
	}
	return n, nil
}

func (s *Server) listCharges(q *request) reply {
	n, bad := intParam(q, "number_of_results")
	if bad != nil {
		return *bad
	}
	if n < 1 {
		return fail("INVALID_VALUE", "number_of_results must be from 1 to %d", maxCharges)
	}
	if n > maxCharges {
		return fail("TOO_MANY_RESULTS", "number_of_results must be at most %d, not %d", maxCharges, n)
	}
	status := q.query.Get("charge_status")
	switch status {
	case "":
		return fail("MISSING_PARAMETER", "charge_status is mandatory")
	case "NOT_PROCESSED", "PROCESSED":
	default:
		return fail("INVALID_VALUE", "charge_status must be NOT_PROCESSED or PROCESSED, not %q", status)
	}
	offset, bad := intParam(q, "offset")
	if bad != nil {
		return *bad
	}
	out := []map[string]any{}
	skipped := 0
	for _, c := range s.st.charges {
		if len(out) == n {
			break
		}
		if !c.listed(status, s.opts.KeepAccepted) {
			continue
		}
		if skipped < offset {
			skipped++
			continue
		}
		out = append(out, fieldsSet(q, c.object()))
	}
	return ok(map[string]any{"charges_set": out})
}

// chargeItem is one entry of acknowledged_charges_set / accepted_charges_set.
type chargeItem struct {
	Number          string `json:"number"`
	Customer        string `json:"billing_system_customer_identifier"`
	ReferenceNumber string `json:"reference_number"`
}

type failedCharge struct {
	Number           string  `json:"number"`
	ReferenceNumber  *string `json:"reference_number"`
	ErrorCode        string  `json:"error_code"`
	ErrorDescription string  `json:"error_description"`
}

// Per-charge error codes of failed_charges_set. "1" is the seed's; the others are
// the sandbox's own.
const (
	chargeWrongCustomer = "1"
	chargeNotFound      = "2"
	chargeReferenceUsed = "3"
	chargeProcessed     = "4"
	chargeAccepted      = "5"
)

func (s *Server) acknowledgeCharges(q *request) reply {
	var p struct {
		Set []chargeItem `json:"acknowledged_charges_set"`
	}
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	return s.settleCharges("acknowledged_charges_set", methodAcknowledge, p.Set)
}

func (s *Server) acceptCharges(q *request) reply {
	var p struct {
		Set []chargeItem `json:"accepted_charges_set"`
	}
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	return s.settleCharges("accepted_charges_set", methodAccept, p.Set)
}

// settleCharges acknowledges or accepts the charges of set, reporting the ones it
// could not in failed_charges_set. Settling a charge again for the same customer is
// a success that applies nothing.
func (s *Server) settleCharges(param, method string, set []chargeItem) reply {
	if len(set) == 0 {
		return fail("MISSING_PARAMETER", "%s is mandatory", param)
	}
	if len(set) > maxCharges {
		return fail("TOO_MANY_CHARGES", "at most %d charges can be sent in %s, not %d", maxCharges, param, len(set))
	}
	for i, it := range set {
		if it.Number == "" {
			return fail("MISSING_PARAMETER", "%s[%d].number is mandatory", param, i)
		}
		if it.Customer == "" {
			return fail("MISSING_PARAMETER", "%s[%d].billing_system_customer_identifier is mandatory", param, i)
		}
	}
	failed := []failedCharge{}
	refuse := func(it chargeItem, code, description string) {
		f := failedCharge{Number: it.Number, ErrorCode: code, ErrorDescription: description}
		if it.ReferenceNumber != "" {
			f.ReferenceNumber = strp(it.ReferenceNumber)
		}
		failed = append(failed, f)
	}
	for _, it := range set {
		c, found := s.st.chargeByNo[it.Number]
		switch {
		case !found:
			refuse(it, chargeNotFound, "The specified charge does not exist")
			continue
		case c.customer != it.Customer:
			refuse(it, chargeWrongCustomer, "The specified charge was not issued for the specified customer")
			continue
		}
		if it.ReferenceNumber != "" {
			if other, used := s.st.references[it.ReferenceNumber]; used && other != c.number {
				refuse(it, chargeReferenceUsed, "The specified reference number is already used for another charge")
				continue
			}
		}
		done := &c.acknowledged
		if method == methodAccept {
			done = &c.accepted
			if c.status != "PENDING" && !c.accepted {
				refuse(it, chargeProcessed, "The specified charge was already processed by Netflix and cannot be accepted")
				continue
			}
		}
		if *done && method == methodAccept && s.opts.KeepAccepted {
			refuse(it, chargeAccepted, "The specified charge is already accepted")
			continue
		}
		if *done {
			continue // a resend: success, nothing new
		}
		*done = true
		if it.ReferenceNumber != "" && c.referenceNumber == "" {
			c.referenceNumber = it.ReferenceNumber
			s.st.references[it.ReferenceNumber] = c.number
		}
		s.apply(method, c.number)
	}
	return ok(map[string]any{"failed_charges_set": failed})
}
