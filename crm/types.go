package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Wire types of the CRM.COM Web API methods crmbatch drives. Field names and JSON
// tags are the API's own words (see shared/API.md), so a reader can grep for them.

// Status is the status object of every response envelope.
type Status struct {
	Code        string  `json:"code"`
	Message     *string `json:"message"`
	Description *string `json:"description"`
}

// Promotion is one entry of netflix/promotions/list.
type Promotion struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	Description   *string `json:"description"`
	EffectiveFrom *string `json:"effective_from"`
	ExpiresOn     *string `json:"expires_on"`
}

// Subscription is the data of netflix/subscriptions/show.
type Subscription struct {
	SubscriptionNumber string            `json:"subscription_number"`
	NetflixState       string            `json:"netflix_state"`
	LifeCycleState     string            `json:"life_cycle_state"`
	PromotionsSet      []json.RawMessage `json:"promotions_set,omitempty"`
	PricesSet          []json.RawMessage `json:"prices_set,omitempty"`
}

// Life cycle states of a subscription.
const (
	LifeCycleEffective    = "EFFECTIVE"
	LifeCycleNotEffective = "NOT_EFFECTIVE"
	LifeCycleCancelled    = "CANCELLED"
)

// CreateSubscriptionRequest is the body of netflix/subscriptions/create (token aside).
// The nested customer objects are kept as generic JSON objects: crmbatch builds them
// from dotted columns and must send integers and booleans with their JSON types.
type CreateSubscriptionRequest struct {
	BillingSystemCustomerIdentifier string         `json:"billing_system_customer_identifier"`
	PromotionCode                   string         `json:"promotion_code,omitempty"`
	Channel                         string         `json:"channel,omitempty"`
	ValidityDuration                *int64         `json:"validity_duration,omitempty"`
	CustomerFirstName               string         `json:"customer_first_name,omitempty"`
	CustomerLastName                string         `json:"customer_last_name,omitempty"`
	CustomerAddress                 map[string]any `json:"customer_address,omitempty"`
	CustomerEmail                   map[string]any `json:"customer_email,omitempty"`
	CustomerPhone                   map[string]any `json:"customer_phone,omitempty"`
}

// CreatedSubscription is the data of netflix/subscriptions/create.
type CreatedSubscription struct {
	SubscriptionNumber         string `json:"subscription_number"`
	NetflixToken               string `json:"netflix_token"`
	NetflixTokenExpirationDate string `json:"netflix_token_expiration_date"`
}

// Charge statuses accepted by netflix/charges/list.
const (
	ChargeStatusNotProcessed = "NOT_PROCESSED"
	ChargeStatusProcessed    = "PROCESSED"
)

// ListChargesRequest holds the query parameters of netflix/charges/list.
type ListChargesRequest struct {
	NumberOfResults int      // 1..50
	ChargeStatus    string   // NOT_PROCESSED or PROCESSED
	Offset          int      // 0, then increased by what was returned
	FieldsSet       []string // optional
}

// Charge is one entry of netflix/charges/list. Amounts stay json.Number so that the
// API's float noise (5.989999771118164) is never rounded through a float type.
type Charge struct {
	Number                          string      `json:"number"`
	BillingSystemCustomerIdentifier string      `json:"billing_system_customer_identifier"`
	Amount                          json.Number `json:"amount,omitempty"`
	Currency                        string      `json:"currency,omitempty"`
	LocalCurrencyAmount             json.Number `json:"local_currency_amount,omitempty"`
	LocalCurrency                   string      `json:"local_currency,omitempty"`
	PaidThroughDate                 *string     `json:"paid_through_date"`
	ChargeStatus                    string      `json:"charge_status"`
	ReceivedOn                      *string     `json:"received_on"`
	SetAsApprovedOn                 *string     `json:"set_as_approved_on"`
	SetAsDeclinedOn                 *string     `json:"set_as_declined_on"`
	SetAsBadRequestOn               *string     `json:"set_as_bad_request_on"`
	SetAsRejectedRequestOn          *string     `json:"set_as_rejected_request_on"`
}

// ChargeItem is one entry of acknowledged_charges_set / accepted_charges_set.
type ChargeItem struct {
	Number                          string `json:"number"`
	BillingSystemCustomerIdentifier string `json:"billing_system_customer_identifier"`
	ReferenceNumber                 string `json:"reference_number,omitempty"`
}

// FailedCharge is one entry of failed_charges_set: a charge of the call that was not
// acknowledged or accepted, with its own reason. The seed documents error_code as a
// String (its example: "1") and error_description as a Date (it is text); servers
// also send error_code as a number, so each field is read as text whatever its
// JSON type (null is "").
type FailedCharge struct {
	Number           string  `json:"number"`
	ReferenceNumber  *string `json:"reference_number"`
	ErrorCode        string  `json:"error_code"`
	ErrorDescription string  `json:"error_description"`
}

// UnmarshalJSON reads each field as text: a JSON string, number or boolean as
// written, null as absent.
func (f *FailedCharge) UnmarshalJSON(b []byte) error {
	var w struct {
		Number           text  `json:"number"`
		ReferenceNumber  *text `json:"reference_number"`
		ErrorCode        text  `json:"error_code"`
		ErrorDescription text  `json:"error_description"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = FailedCharge{Number: string(w.Number), ErrorCode: string(w.ErrorCode), ErrorDescription: string(w.ErrorDescription)}
	if w.ReferenceNumber != nil {
		s := string(*w.ReferenceNumber)
		f.ReferenceNumber = &s
	}
	return nil
}

// text is a JSON value read as text: a string as it is, a number or a boolean as
// written (1 is "1"), null as "". Objects and arrays are refused.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("a JSON %s where text was expected", map[byte]string{'{': "object", '[': "array"}[b[0]])
	default:
		var n json.Number
		if string(b) == "true" || string(b) == "false" {
			*t = text(b)
			return nil
		}
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*t = text(n)
	}
	return nil
}

// GroupIdentifier names an operator group: exactly one field is set.
type GroupIdentifier struct {
	ID              string `json:"id,omitempty"`
	Name            string `json:"name,omitempty"`
	AlternativeCode string `json:"alternative_code,omitempty"`
}

// Device is one entry of devices and failed_devices_set.
type Device struct {
	ESN string `json:"esn"`
}

// Identifier is a generic CRM.COM identifier object ({"number": "S60250"},
// {"name": "Main"}, {"username": "JackH"}, {"serial_number": "..."}).
type Identifier map[string]string

// InstalledItem is one entry of installed_items_set: add's items (which may name
// their provisioning distributors) and remove's (which document none).
type InstalledItem struct {
	InstalledItemIdentifier       Identifier                  `json:"installed_item_identifier"`
	InstalledItemsDistributionSet []InstalledItemDistribution `json:"installed_items_distribution_set,omitempty"`
}

// InstalledItemDistribution is one entry of installed_items_distribution_set.
type InstalledItemDistribution struct {
	ProvisioningDistributorIdentifier Identifier `json:"provisioning_distributor_identifier"`
}

// InstalledItemRef is one side of a swap pair: the item only (the swap object
// documents no installed_items_distribution_set).
type InstalledItemRef struct {
	InstalledItemIdentifier Identifier `json:"installed_item_identifier"`
}

// InstalledItemSwap is one entry of swap's installed_items_swap_set.
type InstalledItemSwap struct {
	FromInstalledItem InstalledItemRef `json:"from_installed_item"`
	ToInstalledItem   InstalledItemRef `json:"to_installed_item"`
}

// InstalledItemMove is one entry of move_to_another_subscription's
// installed_items_swap_set (the seed's set name; the vendor's
// subscription_installed_items_move object gives the item's fields): the item,
// its destination subscription ({"number": ...} or {"id": ...}) and, optionally,
// its provisioning distributors.
type InstalledItemMove struct {
	ToSubscription                Identifier                  `json:"to_subscription"`
	InstalledItemIdentifier       Identifier                  `json:"installed_item_identifier"`
	InstalledItemsDistributionSet []InstalledItemDistribution `json:"installed_items_distribution_set,omitempty"`
}

// InstalledItemsRequest is the body (token aside) of the four
// subscriptions/installed_items methods. Each method takes one of the sets:
// InstalledItemsSet (add, remove), InstalledItemsSwapSet (swap) or
// InstalledItemsMoveSet (move_to_another_subscription, sent as
// installed_items_swap_set). SubscriptionIdentifier is the subscription changed,
// the source of a move. Dates (PerformedOn) are YYYY-MM-DDTHH:MM:SS.
type InstalledItemsRequest struct {
	SubscriptionIdentifier     Identifier          `json:"subscription_identifier"`
	ActionTypeIdentifier       Identifier          `json:"action_type_identifier,omitempty"`
	SubActionTypeIdentifier    Identifier          `json:"sub_action_type_identifier,omitempty"`
	JobIdentifier              Identifier          `json:"job_identifier,omitempty"`
	PerformedByUserIdentifier  Identifier          `json:"performed_by_user_identifier,omitempty"`
	PerformedOn                string              `json:"performed_on,omitempty"`
	TransactionReferenceNumber string              `json:"transaction_reference_number,omitempty"`
	InstalledItemsSet          []InstalledItem     `json:"installed_items_set,omitempty"`
	InstalledItemsSwapSet      []InstalledItemSwap `json:"-"`
	InstalledItemsMoveSet      []InstalledItemMove `json:"-"`
}

// MarshalJSON sends InstalledItemsSwapSet or InstalledItemsMoveSet as
// installed_items_swap_set, the name both methods document.
func (r InstalledItemsRequest) MarshalJSON() ([]byte, error) {
	type plain InstalledItemsRequest // without this method
	var set any
	switch {
	case r.InstalledItemsSwapSet != nil && r.InstalledItemsMoveSet != nil:
		return nil, errors.New("both swap pairs and moves in one request")
	case r.InstalledItemsSwapSet != nil:
		set = r.InstalledItemsSwapSet
	case r.InstalledItemsMoveSet != nil:
		set = r.InstalledItemsMoveSet
	}
	return json.Marshal(struct {
		plain
		Set any `json:"installed_items_swap_set,omitempty"`
	}{plain(r), set})
}

// SubscriptionAction is the data of the installed_items methods: the subscription
// action that carried out the change. Fields beyond these are kept in Raw.
type SubscriptionAction struct {
	Number         string          `json:"number"`
	LifeCycleState string          `json:"life_cycle_state"`
	Raw            json.RawMessage `json:"-"`
}
