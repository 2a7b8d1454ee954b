package sandbox

import (
	"fmt"
	"time"
)

// dateLayout is the API's date format: no zone.
const dateLayout = "2006-01-02T15:04:05"

// state is everything the sandbox remembers; guarded by Server.mu.
type state struct {
	promotions []promotion
	groups     []group
	// devices maps an ESN to the id of the group it is registered to.
	devices map[string]string
	// unregistered holds the (group id, ESN) pairs unregistered at least once.
	unregistered map[[2]string]bool

	subscriptions map[string]*subscription // by billing_system_customer_identifier (the latest)
	byNumber      map[string]*subscription // by subscription number, cancelled ones included
	nextSub       int

	charges    []*charge // oldest first
	chargeByNo map[string]*charge
	references map[string]string // charge reference_number -> charge number

	items      map[string]string // installed item serial_number -> subscription number
	txRefs     map[string]string // transaction_reference_number -> subscription action number
	nextAction int
}

type promotion struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	Description   *string `json:"description"`
	EffectiveFrom *string `json:"effective_from"`
	ExpiresOn     *string `json:"expires_on"`
}

type group struct {
	id, name, alternativeCode string
}

type subscription struct {
	number    string
	customer  string
	state     string
	promotion *promotion
}

type charge struct {
	number          string
	customer        string
	amount          float64
	currency        string
	localAmount     *float64
	localCurrency   *string
	paidThrough     string
	status          string
	receivedOn      string
	statusOn        string // date of the processed status, "" while PENDING
	acknowledged    bool
	accepted        bool
	referenceNumber string
}

func strp(s string) *string { return &s }

// Demo data sizes.
const (
	demoCharges         = 300
	demoChargeCustomers = 60
	demoSubscriptions   = 20
	demoDevices         = 10
	firstCreatedSub     = 3566 // numbers of created subscriptions continue the seed's S0000003566
)

// newDemoState builds the demo data. It is a pure function of nothing: the same on
// every server whatever the seed, so samples may name its customers and charges.
func newDemoState(charges int) *state {
	if charges <= 0 {
		charges = demoCharges
	}
	st := &state{
		promotions: []promotion{
			{Code: "14", Name: "Test", EffectiveFrom: strp("2017-01-01T00:00:00")},
			{Code: "15", Name: "Test_2", EffectiveFrom: strp("2017-02-01T00:00:00")},
			{Code: "16", Name: "Welcome", Description: strp("First three months at half price"), EffectiveFrom: strp("2024-01-01T00:00:00"), ExpiresOn: strp("2030-12-31T23:59:59")},
		},
		groups: []group{
			{id: "1", name: "OPERATOR1", alternativeCode: "OP1"},
			{id: "2", name: "OPERATOR2", alternativeCode: "OP2"},
		},
		devices:       map[string]string{},
		unregistered:  map[[2]string]bool{},
		subscriptions: map[string]*subscription{},
		byNumber:      map[string]*subscription{},
		nextSub:       firstCreatedSub,
		chargeByNo:    map[string]*charge{},
		references:    map[string]string{},
		items:         map[string]string{},
		txRefs:        map[string]string{},
		nextAction:    1,
	}
	for i := 1; i <= demoDevices; i++ {
		st.devices[fmt.Sprintf("ESN-DEMO-%04d", i)] = "1"
	}
	for i := 1; i <= demoSubscriptions; i++ {
		sub := &subscription{number: fmt.Sprintf("S%010d", i), customer: fmt.Sprintf("pci%03d", i), state: "EFFECTIVE"}
		st.subscriptions[sub.customer] = sub
		st.byNumber[sub.number] = sub
		st.items[fmt.Sprintf("SC-%04d", i)] = sub.number
	}
	prices := []float32{5.99, 7.99, 9.99, 11.99, 13.99, 2.99, 1.99}
	processed := []string{"APPROVED", "DECLINED", "BAD_REQUEST", "REJECTED"}
	base := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := 1; i <= charges; i++ {
		received := base.Add(time.Duration(i-1)*(2*time.Hour+17*time.Minute) + time.Duration(i*37%60)*time.Second)
		price := prices[i%len(prices)]
		c := &charge{
			number:      fmt.Sprintf("I%08d", i),
			customer:    fmt.Sprintf("pci%03d", (i-1)%demoChargeCustomers+1),
			amount:      float64(price), // float32 noise, as the real API: 5.989999771118164
			currency:    "USD",
			paidThrough: time.Date(received.Year(), received.Month(), received.Day()+30, 2, 0, 0, 0, time.UTC).Format(dateLayout),
			status:      "PENDING",
			receivedOn:  received.Format(dateLayout),
		}
		if i%5 == 0 {
			c.currency = "EUR"
		}
		if i%10 == 0 {
			local := float64(price * 0.85)
			c.localAmount, c.localCurrency = &local, strp("GBP")
		}
		if i%3 == 0 {
			c.status = processed[(i/3-1)%len(processed)]
			c.statusOn = received.Add(3*time.Minute + 20*time.Second).Format(dateLayout)
		}
		st.charges = append(st.charges, c)
		st.chargeByNo[c.number] = c
	}
	return st
}

// DeviceGroup returns the name of the group the ESN is registered to.
func (s *Server) DeviceGroup(esn string) (group string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.devices[esn]
	if !ok {
		return "", false
	}
	for _, g := range s.st.groups {
		if g.id == id {
			return g.name, true
		}
	}
	return "", false
}

// Subscription returns the number and life cycle state of the customer's latest
// subscription.
func (s *Server) Subscription(customer string) (number, lifeCycleState string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.st.subscriptions[customer]
	if !ok {
		return "", "", false
	}
	return sub.number, sub.state, true
}

// Charge reports whether the charge exists and was acknowledged or accepted.
func (s *Server) Charge(number string) (acknowledged, accepted, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.chargeByNo[number]
	if !ok {
		return false, false, false
	}
	return c.acknowledged, c.accepted, true
}

// ChargeReferenceNumber returns the reference_number recorded for the charge by the
// first acknowledge or accept that carried one.
func (s *Server) ChargeReferenceNumber(number string) (referenceNumber string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.chargeByNo[number]
	if !ok || c.referenceNumber == "" {
		return "", false
	}
	return c.referenceNumber, true
}

// ChargeTotals returns how many charges netflix/charges/list would return in all
// for chargeStatus (NOT_PROCESSED or PROCESSED) now, across all pages.
func (s *Server) ChargeTotals(chargeStatus string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.st.charges {
		if c.listed(chargeStatus, s.opts.KeepAccepted) {
			n++
		}
	}
	return n
}

// InstalledItemSubscription returns the number of the subscription the installed
// item is on.
func (s *Server) InstalledItemSubscription(serial string) (subscriptionNumber string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.st.items[serial]
	return n, ok
}
