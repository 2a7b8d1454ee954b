package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
// (netflix/subscriptions/show). The seed says several subscriptions may be
// returned: data may be one object or an array of them. Of an array it returns
// the customer's current one: the last that is not CANCELLED, else the last. An
// answer with no subscription at all is a Permanent error (nothing to show).
func (c *Client) ShowSubscription(ctx context.Context, billingSystemCustomerIdentifier string) (*Subscription, error) {
	subs, err := c.ShowSubscriptions(ctx, billingSystemCustomerIdentifier)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, &Error{Method: methodShowSubscription.path, Class: Permanent, HTTPStatus: 200,
			Message: "the answer holds no subscription for " + billingSystemCustomerIdentifier}
	}
	cur := &subs[len(subs)-1]
	for i := len(subs) - 1; i >= 0; i-- {
		if subs[i].LifeCycleState != LifeCycleCancelled {
			cur = &subs[i]
			break
		}
	}
	return cur, nil
}

// ShowSubscriptions returns every subscription netflix/subscriptions/show gives
// for a customer, whether its data is one object or an array.
func (c *Client) ShowSubscriptions(ctx context.Context, billingSystemCustomerIdentifier string) ([]Subscription, error) {
	q := url.Values{"billing_system_customer_identifier": {billingSystemCustomerIdentifier}}
	raw, err := do[json.RawMessage](ctx, c, methodShowSubscription, q)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		return decode[[]Subscription](methodShowSubscription, raw)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	v, err := decode[Subscription](methodShowSubscription, raw)
	if err != nil {
		return nil, err
	}
	return []Subscription{v}, nil
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
// (subscriptions/installed_items/add): InstalledItemsSet, whose items may name
// their provisioning distributors. Set TransactionReferenceNumber to make a
// resend after an Ambiguous error safe.
func (c *Client) AddInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodAddInstalledItems, req)
}

// RemoveInstalledItems removes installed items from a subscription
// (subscriptions/installed_items/remove): InstalledItemsSet, with no
// distribution set (remove documents none).
func (c *Client) RemoveInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodRemoveInstalledItems, req)
}

// SwapInstalledItems swaps installed items of a subscription for others
// (subscriptions/installed_items/swap); the pairs go in InstalledItemsSwapSet.
func (c *Client) SwapInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodSwapInstalledItems, req)
}

// MoveInstalledItems moves installed items from SubscriptionIdentifier (the
// source) to the ToSubscription of each entry of InstalledItemsMoveSet
// (subscriptions/installed_items/move_to_another_subscription).
func (c *Client) MoveInstalledItems(ctx context.Context, req InstalledItemsRequest) (*SubscriptionAction, error) {
	return c.installedItems(ctx, methodMoveInstalledItems, req)
}

// checkInstalledItems refuses, before sending, a request that puts a set where
// its method documents none: the server would ignore it or refuse the call.
func checkInstalledItems(m method, req InstalledItemsRequest) error {
	n := map[string]int{"installed_items_set": len(req.InstalledItemsSet),
		"installed_items_swap_set of swap pairs": len(req.InstalledItemsSwapSet),
		"installed_items_swap_set of moves":      len(req.InstalledItemsMoveSet)}
	want := map[method]string{methodAddInstalledItems: "installed_items_set", methodRemoveInstalledItems: "installed_items_set",
		methodSwapInstalledItems: "installed_items_swap_set of swap pairs", methodMoveInstalledItems: "installed_items_swap_set of moves"}[m]
	bad := func(format string, args ...any) error {
		return &Error{Method: m.path, Class: Permanent, Message: "cannot send the request: " + fmt.Sprintf(format, args...)}
	}
	for set, k := range n {
		if set != want && k > 0 {
			return bad("%s takes %s, not %s", m.path, want, set)
		}
	}
	if n[want] == 0 {
		return bad("%s is empty", want)
	}
	if m == methodRemoveInstalledItems {
		for _, it := range req.InstalledItemsSet {
			if len(it.InstalledItemsDistributionSet) > 0 {
				return bad("remove documents no installed_items_distribution_set")
			}
		}
	}
	return nil
}

func (c *Client) installedItems(ctx context.Context, m method, req InstalledItemsRequest) (*SubscriptionAction, error) {
	if err := checkInstalledItems(m, req); err != nil {
		return nil, err
	}
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
