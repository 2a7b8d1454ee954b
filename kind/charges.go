package kind

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/pacer"
	"github.com/crmbatch/crmbatch/report"
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
		effectOf: func(h EffectHash, it Item, c chargeItem) EffectHash { return h.Add(it.Action).Add(SameID(c.Number)) },
		entity:   func(c chargeItem) (string, string) { return SameID(c.Number), c.ReferenceNumber },
		send:     callCharges,
	},
}

// chargeItem is the payload of a charges row: an item of the call's set, and
// the charge_status a charges export gave it (when the file is one).
type chargeItem struct {
	crm.ChargeItem
	exported string
}

func (chargeItem) isPayload() {}

func parseCharge(v Row) (Item, chargeItem, error) {
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
	c.exported = strings.ToUpper(v.value("charge_status"))
	return Item{Action: action, Key: action}, c, nil
}

func chargeUnique(c chargeItem, u []Unique) []Unique {
	u = append(u, Unique{Column: "number", Value: c.Number, Fold: true})
	if c.ReferenceNumber != "" {
		u = append(u, Unique{Column: "reference_number", Value: c.ReferenceNumber, Fold: true})
	}
	return u
}

// chargeCall is one call of charges: the rows still to send (todo, indexes of
// items) shrink as read-backs find what came of some of them.
type chargeCall struct {
	x       Executor
	action  string
	items   []Item
	ps      []chargeItem
	out     []Result
	todo    []int
	failed  []crm.FailedCharge
	started time.Time // the first attempt
	resent  bool      // an accept whose answer was lost was sent again
}

// callCharges acknowledges or accepts the charges of items. A call that may
// have been applied (no answer, a 5xx, an answer without its failure set) is
// never taken as applied without positive evidence: an acknowledge is read
// back through the charges lists (a charge that left them was acknowledged
// only if it was listed before, by the export the file came from or by a list
// read of this run), an accept is sent again once (its answer, or a refusal
// saying the charge is already accepted, tells). Rows sent by a run that
// stopped before it knew (Uncertain) are read back before anything is sent.
func callCharges(ctx context.Context, x Executor, _ Intent, items []Item, ps []chargeItem) ([]Result, int, error) {
	c := &chargeCall{x: x, action: items[0].Action, items: items, ps: ps, out: make([]Result, len(items)), started: x.Now()}
	for i := range items {
		c.todo = append(c.todo, i)
	}
	attempts := 0
	var err error
	if anyUncertain(items) {
		var done bool
		if done, err = c.readBack(ctx); done {
			return fill(c.out, 0), 0, nil
		}
		if err != nil {
			err = &pacer.UnknownError{Err: fmt.Errorf("reading back the charges of a call a stopped run sent: %w", err)}
		}
	}
	if err == nil {
		attempts, err = x.Call(ctx, pacer.Attempt{Send: c.send, ReadBack: c.readBack, Strict: true})
	}
	switch {
	case err != nil && len(c.todo) == len(items):
		return nil, attempts, err // nothing known: the call as a whole
	case err != nil:
		for _, i := range c.todo {
			c.out[i] = FailedResult(err)
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
		c.failed, err = c.x.Client().AcceptCharges(ctx, set)
	} else {
		c.failed, err = c.x.Client().AcknowledgeCharges(ctx, set)
	}
	return err
}

// readBack finds what came of the rows still to send after an answer was
// lost, and reports whether none is left to send.
func (c *chargeCall) readBack(ctx context.Context) (bool, error) {
	if c.action == ActionAccept {
		return c.sendAgain(ctx)
	}
	return c.readLists(ctx)
}

// readLists reads the charges lists for the rows still to send: a charge
// still listed was not acknowledged (it is sent again); one that left them
// was acknowledged when it was listed before; one that nothing showed listed
// before is unknown (acknowledged, or no such charge), or failed NOT_PENDING
// when a complete read of the lists before the call did not have it.
func (c *chargeCall) readLists(ctx context.Context) (bool, error) {
	want := make(map[string]bool, len(c.todo))
	for _, i := range c.todo {
		want[SameID(c.ps[i].Number)] = true
	}
	prior := c.x.Memory().sighted.lastComplete() // the read this one replaces may be the one before the call
	listed, err := listedCharges(ctx, c.x, want)
	if err != nil {
		return false, err
	}
	still := c.todo[:0]
	for _, i := range c.todo {
		n := SameID(c.ps[i].Number)
		if listed[n] {
			still = append(still, i)
			continue
		}
		before, wasListed := c.listedBefore(i)
		switch {
		case wasListed:
			c.out[i] = c.readBackOK(i, fmt.Sprintf("%s: read back, the charge was listed before (%s) and is in neither charges list now", Past(c.action), before))
		case prior.absentBefore(n, c.started) && !c.items[i].Uncertain && c.items[i].Taken == nil:
			// (A charge an earlier call, of this run or another, may have
			// acknowledged before that read is not proven never pending.)
			c.out[i] = Result{Status: report.StatusFailed, Code: "NOT_PENDING",
				Message: "the charge was in neither charges list before the call (a complete read of both) nor after: already acknowledged, or no such charge; nothing was acknowledged"}
		default:
			c.out[i] = Result{Status: report.StatusUnknown, Code: "UNKNOWN_OUTCOME",
				Message: "the answer was lost and the charge is in neither charges list now, but nothing showed it listed before the call (no charge_status from an export, no list read): it was acknowledged, or it does not exist; check it in CRM.COM"}
		}
	}
	c.todo = still
	return len(c.todo) == 0, nil
}

// listedBefore says how row i's charge is known to have been listed: by the
// export the file came from, or by a list read of this run.
func (c *chargeCall) listedBefore(i int) (string, bool) {
	switch st := c.ps[i].exported; st {
	case "PENDING", "APPROVED", "DECLINED", "BAD_REQUEST", "REJECTED":
		return "the export this file came from has it " + st, true
	}
	if status, ok := c.x.Memory().sighted.seen(SameID(c.ps[i].Number)); ok {
		return "a read of the " + status + " list saw it", true
	}
	return "", false
}

// readBackOK is the result of row i proven applied by a read-back; a charge
// whose claim was taken over from a run that stopped was applied by that run,
// with the reference number it sent, which the server kept.
func (c *chargeCall) readBackOK(i int, msg string) Result {
	r := Result{Status: report.StatusOK, Code: CodeReadBack, Message: msg}
	if h := c.items[i].Taken; h != nil {
		ref := h.Detail
		r.Kept = &ref
		r.Message += fmt.Sprintf("; %s by run %s, which stopped before it knew", Past(c.action), h.RunID)
		if ref != "" {
			r.Message += ", with reference " + ref + ", which the server kept"
		}
		if own := c.ps[i].ReferenceNumber; own != "" && own != ref {
			r.Message += "; this row's reference " + own + " was not sent"
		}
	}
	return r
}

// sendAgain sends an accept whose answer was lost again, once: the answer
// says what came of each charge (a refusal saying it is already accepted
// proves the first); a second lost answer leaves the rows unknown. The
// charges lists cannot tell: the API does not say that accepted charges
// leave them.
func (c *chargeCall) sendAgain(ctx context.Context) (bool, error) {
	if c.resent {
		return false, errors.New("the answer of the accept sent again was lost too")
	}
	c.resent = true
	if _, err := c.x.Call(ctx, pacer.Attempt{Send: c.send, Again: true}); err != nil {
		return false, fmt.Errorf("sending the accept again: %w", err)
	}
	set := c.failures()
	found, stray := matchFailures(len(c.todo),
		func(n int) string { return c.ps[c.todo[n]].Number },
		func(n int) string { return c.ps[c.todo[n]].ReferenceNumber }, set)
	for n, i := range c.todo {
		switch f, bad := found[n]; {
		case stray != nil:
			c.out[i] = Unmatched(stray, 0)
		case bad && alreadyAccepted(f):
			c.out[i] = c.readBackOK(i, "accepted by the call whose answer was lost: the server refused it sent again as already accepted ("+f.text+")")
		case bad:
			c.out[i] = Result{Status: report.StatusFailed, Code: f.code, Message: f.text}
		default:
			c.out[i] = Result{Status: report.StatusOK, Message: "accepted: the first answer was lost; the answer of the accept sent again says so"}
		}
	}
	c.todo = c.todo[:0]
	return true, nil
}

// alreadyAccepted reports whether a failure entry says that the charge is
// accepted already. No code is documented: its words must say it.
func alreadyAccepted(f failure) bool {
	text := strings.ToLower(f.text)
	return strings.Contains(text, "already") && strings.Contains(text, "accepted") && !strings.Contains(text, "cannot be accepted")
}

// failures is the failure set of the last answer.
func (c *chargeCall) failures() []failure {
	set := make([]failure, len(c.failed))
	for n, f := range c.failed {
		set[n] = failure{id: f.Number, code: string(f.ErrorCode), text: f.ErrorDescription}
		if f.ReferenceNumber != nil {
			set[n].ref = *f.ReferenceNumber
		}
	}
	return set
}

// answered maps the failure set of the answer to the rows sent: the rows it
// names failed, the others are ok; an entry that names none of them makes
// every row sent unknown.
func (c *chargeCall) answered(attempts int) {
	found, stray := matchFailures(len(c.todo),
		func(n int) string { return c.ps[c.todo[n]].Number },
		func(n int) string { return c.ps[c.todo[n]].ReferenceNumber }, c.failures())
	for n, i := range c.todo {
		switch f, bad := found[n]; {
		case stray != nil:
			c.out[i] = Unmatched(stray, attempts)
		case bad:
			c.out[i] = Result{Status: report.StatusFailed, Code: f.code, Message: f.text}
		default:
			c.out[i] = Result{Status: report.StatusOK}
		}
	}
}

// fill sets the attempts of every result.
func fill(out []Result, attempts int) []Result {
	for i := range out {
		out[i].Attempts = attempts
	}
	return out
}

// maxListPages bounds the read-back of one charges list: 200 pages of 50.
const maxListPages = 200

// listedCharges reads the charges lists (charges/list NOT_PROCESSED, then
// PROCESSED: a charge Netflix processed is acknowledged from there) until it
// has seen every charge of want (by SameID) or both lists end, and returns
// those of want it saw: charges not acknowledged. Every charge it sees is
// noted as listed (x.sighted); a read of both lists to their ends is noted as
// complete.
func listedCharges(ctx context.Context, x Executor, want map[string]bool) (map[string]bool, error) {
	listed := map[string]bool{}
	all := map[string]bool{}
	for _, status := range []string{crm.ChargeStatusNotProcessed, crm.ChargeStatusProcessed} {
		err := scanCharges(ctx, x, status, func(number string) bool {
			n := SameID(number)
			x.Memory().sighted.see(n, status)
			if all != nil && len(all) < maxSighted {
				all[n] = true
			} else {
				all = nil
			}
			if want[n] {
				listed[n] = true
			}
			return len(listed) < len(want)
		})
		if err != nil || len(listed) == len(want) {
			return listed, err
		}
	}
	if all != nil {
		x.Memory().sighted.complete(x.Now(), all)
	}
	return listed, nil
}

// maxSighted bounds what a run remembers of the charges lists.
const maxSighted = 200_000

// sightings are the charges a run saw listed (their list), and its last read
// of both lists to their ends: what a read-back needs to know of the lists
// before a call.
type sightings struct {
	mu     sync.Mutex
	listed map[string]string
	last   completeRead
}

// completeRead is a read of both charges lists to their ends.
type completeRead struct {
	at  time.Time       // when it ended (zero: none)
	all map[string]bool // the charges it saw
}

func (s *sightings) see(number, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listed == nil {
		s.listed = map[string]string{}
	}
	if len(s.listed) < maxSighted {
		s.listed[number] = status
	}
}

func (s *sightings) seen(number string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status, ok := s.listed[number]
	return status, ok
}

func (s *sightings) complete(at time.Time, all map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = completeRead{at: at, all: all}
}

func (s *sightings) lastComplete() completeRead {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// absentBefore reports whether the read, ended before the call started, did
// not have the charge.
func (r completeRead) absentBefore(number string, call time.Time) bool {
	return !r.at.IsZero() && r.at.Before(call) && !r.all[number]
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
func scanCharges(ctx context.Context, x Executor, status string, see func(number string) bool) error {
	const size = 50
	seen := map[string]bool{}
	offset := 0
	for page := 0; page < maxListPages; page++ {
		var charges []crm.Charge
		_, err := x.Call(ctx, pacer.Attempt{Send: func(ctx context.Context) (err error) {
			charges, err = x.Client().ListCharges(ctx, crm.ListChargesRequest{
				NumberOfResults: size, ChargeStatus: status, Offset: offset, FieldsSet: []string{"number"}})
			return err
		}})
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

// ExportColumns are the columns of a charges export. The first four make it a
// valid charges job: fill reference_number, set action, run it.
var ExportColumns = []string{"number", "billing_system_customer_identifier", "reference_number", "action",
	"amount", "currency", "local_currency_amount", "local_currency", "charge_status", "paid_through_date",
	"received_on", "set_as_approved_on", "set_as_declined_on", "set_as_bad_request_on", "set_as_rejected_request_on",
	"amount_raw", "local_currency_amount_raw"}
