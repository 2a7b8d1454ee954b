package crm

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// The API methods the client calls (shared/API.md).
var (
	methodPromotions           = method{path: "netflix/promotions/list", get: true, idempotent: true}
	methodShowSubscription     = method{path: "netflix/subscriptions/show", get: true, idempotent: true}
	methodCreateSubscription   = method{path: "netflix/subscriptions/create"}
	methodSuspendSubscription  = method{path: "netflix/subscriptions/suspend"}
	methodUnsuspendSubcription = method{path: "netflix/subscriptions/unsuspend"}
	methodCancelSubscription   = method{path: "netflix/subscriptions/cancel"}
	methodListCharges          = method{path: "netflix/charges/list", get: true, idempotent: true}
	methodAcknowledgeCharges   = method{path: "netflix/charges/acknowledge"}
	methodAcceptCharges        = method{path: "netflix/charges/accept"}
	methodRegisterDevices      = method{path: "netflix/operators/register_devices"}
	methodUnregisterDevices    = method{path: "netflix/operators/unregister_devices"}
	methodAddInstalledItems    = method{path: "subscriptions/installed_items/add"}
	methodRemoveInstalledItems = method{path: "subscriptions/installed_items/remove"}
	methodSwapInstalledItems   = method{path: "subscriptions/installed_items/swap"}
	methodMoveInstalledItems   = method{path: "subscriptions/installed_items/move_to_another_subscription"}
)

// Promotions returns the promotions applicable to the caller's operator
// (netflix/promotions/list).
func (c *Client) Promotions(ctx context.Context) ([]Promotion, error) {
	return do[[]Promotion](ctx, c, methodPromotions, nil)
}

// ShowSubscription returns the subscription of a customer
// (netflix/subscriptions/show).
func (c *Client) ShowSubscription(ctx context.Context, billingSystemCustomerIdentifier string) (*Subscription, error) {
	q := url.Values{"billing_system_customer_identifier": {billingSystemCustomerIdentifier}}
	v, err := do[Subscription](ctx, c, methodShowSubscription, q)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateSubscription creates a customer's subscription
// (netflix/subscriptions/create). It is not idempotent: after an Ambiguous error,
// read the state back with ShowSubscription before sending it again.
func (c *Client) CreateSubscription(ctx context.Context, req CreateSubscriptionRequest) (*CreatedSubscription, error) {
	v, err := do[CreatedSubscription](ctx, c, methodCreateSubscription, req)
	if err != nil {
		return nil, err
	}
	if v.SubscriptionNumber == "" {
		return nil, incomplete(methodCreateSubscription, "subscription_number")
	}
	return &v, nil
}

type customerParams struct {
	BillingSystemCustomerIdentifier string `json:"billing_system_customer_identifier"`
}

// SuspendSubscription suspends a customer's subscription
// (netflix/subscriptions/suspend).
func (c *Client) SuspendSubscription(ctx context.Context, customer string) error {
	_, err := do[json.RawMessage](ctx, c, methodSuspendSubscription, customerParams{customer})
	return err
}

// UnsuspendSubscription unsuspends a customer's subscription
// (netflix/subscriptions/unsuspend).
func (c *Client) UnsuspendSubscription(ctx context.Context, customer string) error {
	_, err := do[json.RawMessage](ctx, c, methodUnsuspendSubcription, customerParams{customer})
	return err
}

// CancelSubscription cancels a customer's subscription
// (netflix/subscriptions/cancel).
func (c *Client) CancelSubscription(ctx context.Context, customer string) error {
	_, err := do[json.RawMessage](ctx, c, methodCancelSubscription, customerParams{customer})
	return err
}

// ListCharges returns one page of charges, oldest first (netflix/charges/list).
func (c *Client) ListCharges(ctx context.Context, req ListChargesRequest) ([]Charge, error) {
	q := url.Values{
		"number_of_results": {strconv.Itoa(req.NumberOfResults)},
		"charge_status":     {req.ChargeStatus},
		"offset":            {strconv.Itoa(req.Offset)},
	}
	if len(req.FieldsSet) > 0 {
		q.Set("fields_set", strings.Join(req.FieldsSet, ","))
	}
	v, err := do[struct {
		ChargesSet []Charge `json:"charges_set"`
	}](ctx, c, methodListCharges, q)
	return v.ChargesSet, err
}

type failedCharges struct {
	FailedChargesSet *[]FailedCharge `json:"failed_charges_set"`
}

// incomplete is the error of an OK answer without the data that says what was
// applied: the call may have been applied, in whole or in part.
func incomplete(m method, what string) error {
	return &Error{Method: m.path, Class: Ambiguous, HTTPStatus: 200,
		Message: "the answer is OK but has no " + what + ", so what was applied is not known"}
}

// AcknowledgeCharges acknowledges up to 50 charges (netflix/charges/acknowledge)
// and returns those that failed, each with its reason; the others succeeded.
func (c *Client) AcknowledgeCharges(ctx context.Context, items []ChargeItem) ([]FailedCharge, error) {
	v, err := do[failedCharges](ctx, c, methodAcknowledgeCharges, struct {
		Set []ChargeItem `json:"acknowledged_charges_set"`
	}{items})
	return failedChargesOf(methodAcknowledgeCharges, v, err)
}

func failedChargesOf(m method, v failedCharges, err error) ([]FailedCharge, error) {
	if err != nil {
		return nil, err
	}
	if v.FailedChargesSet == nil {
		return nil, incomplete(m, "failed_charges_set")
	}
	return *v.FailedChargesSet, nil
}

// AcceptCharges accepts up to 50 charges not yet processed by Netflix
// (netflix/charges/accept) and returns those that failed; the others succeeded.
func (c *Client) AcceptCharges(ctx context.Context, items []ChargeItem) ([]FailedCharge, error) {
	v, err := do[failedCharges](ctx, c, methodAcceptCharges, struct {
		Set []ChargeItem `json:"accepted_charges_set"`
	}{items})
	return failedChargesOf(methodAcceptCharges, v, err)
}

type devicesParams struct {
	GroupIdentifier GroupIdentifier `json:"group_identifier"`
	Devices         []Device        `json:"devices"`
}

type failedDevices struct {
	FailedDevicesSet *[]Device `json:"failed_devices_set"`
}

func failedDevicesOf(m method, v failedDevices, err error) ([]Device, error) {
	if err != nil {
		return nil, err
	}
	if v.FailedDevicesSet == nil {
		return nil, incomplete(m, "failed_devices_set")
	}
	return *v.FailedDevicesSet, nil
}

// RegisterDevices registers up to 1000 devices against an operator group
// (netflix/operators/register_devices) and returns those that failed; the others
// succeeded.
func (c *Client) RegisterDevices(ctx context.Context, group GroupIdentifier, devices []Device) (failed []Device, err error) {
	v, err := do[failedDevices](ctx, c, methodRegisterDevices, devicesParams{group, devices})
	return failedDevicesOf(methodRegisterDevices, v, err)
}

// UnregisterDevices unregisters up to 1000 devices from an operator group
// (netflix/operators/unregister_devices) and returns those that failed; the others
// succeeded.
func (c *Client) UnregisterDevices(ctx context.Context, group GroupIdentifier, devices []Device) (failed []Device, err error) {
	v, err := do[failedDevices](ctx, c, methodUnregisterDevices, devicesParams{group, devices})
	return failedDevicesOf(methodUnregisterDevices, v, err)
}

// AddInstalledItems adds installed items to a subscription
// (subscriptions/installed_items/add). Set TransactionReferenceNumber to make a
// resend after an Ambiguous error safe.
func (c *Client) AddInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodAddInstalledItems, req)
}

// RemoveInstalledItems removes installed items from a subscription
// (subscriptions/installed_items/remove).
func (c *Client) RemoveInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodRemoveInstalledItems, req)
}

// SwapInstalledItems swaps installed items of a subscription for others
// (subscriptions/installed_items/swap); the pairs go in InstalledItemsSwapSet.
func (c *Client) SwapInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodSwapInstalledItems, req)
}

// MoveInstalledItems moves installed items from SubscriptionIdentifier to
// ToSubscriptionIdentifier
// (subscriptions/installed_items/move_to_another_subscription).
func (c *Client) MoveInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodMoveInstalledItems, req)
}

func (c *Client) installedItems(ctx context.Context, m method, req InstalledItemsRequest) (*SubscriptionAction, error) {
	raw, err := do[json.RawMessage](ctx, c, m, req)
	if err != nil {
		return nil, err
	}
	a, err := decode[SubscriptionAction](m, raw)
	if err != nil {
		return nil, err
	}
	a.Raw = raw
	return &a, nil
}
