// Package sandbox is an embedded CRM.COM Web API emulator: an http.Handler with
// in-memory state, fault injection and effect counters. It serves every method of
// shared/API.md under BasePath, backs `crmbatch --sandbox` and `crmbatch sandbox`,
// and lets tests assert how many times each state change was applied (Applied).
//
// # Transport
//
// Every answer is the CRM.COM envelope {"data": ..., "status": {"code", "message",
// "description"}}; message and description are "" on success. A refused call is HTTP
// 200 with a non-OK code and a human message, and applies nothing. GET methods read
// their parameters (token included) from the query string, fields_set
// comma-separated; POST methods read a JSON object body that includes token. Unknown
// body fields are ignored (but for the installed-items forms below); a field of the
// wrong JSON type is INVALID_VALUE. fields_set filters the objects of
// promotions/list, subscriptions/show, charges/list and the installed-items
// methods to the named fields; unknown names are ignored.
//
// Status codes (whole call):
//
//	OK                                      success
//	MALFORMED_REQUEST                       the POST body is not a JSON object (or over 8 MiB)
//	MISSING_PARAMETER                       a mandatory parameter is absent or empty
//	INVALID_VALUE                           a parameter has a wrong type, format or value
//	AUTHENTICATION_FAILED                   wrong username/password/organisation or Web API key
//	INVALID_TOKEN                           token missing, malformed, unknown, released or expired
//	                                        ("The token is invalid or has expired")
//	NOT_FOUND                               unknown customer (subscriptions) or subscription number (installed items)
//	SUBSCRIPTION_EXISTS                     create for a customer whose subscription is not CANCELLED
//	INVALID_STATE                           a lifecycle change from the wrong state; installed items on a CANCELLED subscription
//	GROUP_NOT_FOUND                         group_identifier names no group
//	TOO_MANY_DEVICES                        more than 1000 devices
//	TOO_MANY_CHARGES                        more than 50 charges in acknowledged_/accepted_charges_set
//	TOO_MANY_RESULTS                        charges/list number_of_results above 50
//	TOO_MANY_INSTALLED_ITEMS                more than 50 installed items (or swap pairs)
//	ITEM_ALREADY_INSTALLED                  add of an installed item, or swap to one
//	ITEM_NOT_INSTALLED                      remove, swap-from or move of an item not on the source subscription
//	DUPLICATE_TRANSACTION_REFERENCE_NUMBER  transaction_reference_number of an earlier applied call
//
// Codes of injected faults and of the transport (see Faults):
//
//	TOO_MANY_REQUESTS  HTTP 429, with Retry-After
//	INTERNAL_ERROR     HTTP 500
//	UNKNOWN_METHOD     HTTP 404, a path that is no method
//	METHOD_NOT_ALLOWED HTTP 405, GET for a POST method or the reverse
//
// Per-item codes of failed_charges_set (error_code, error_description):
//
//	"1"  The specified charge was not issued for the specified customer (the seed's)
//	"2"  The specified charge does not exist
//	"3"  The specified reference number is already used for another charge
//	"4"  The specified charge was already processed by Netflix and cannot be accepted
//	"5"  The specified charge is already accepted (Options.KeepAccepted only)
//
// # Authentication
//
// authentication/token takes username, password and organisation (all mandatory:
// DemoUsername, DemoPassword, DemoOrganisation) and an optional unit (any value; the
// oun claim, "1" when absent). authentication/web_api_key/token takes DemoAPIKey as
// the HTTP Basic username with an empty password, and an optional JSON body with
// unit. Tokens are HS256 JWTs signed with a per-server random secret, with claims
// usr, org, oun, jti and iat/exp as JSON strings of epoch seconds; they expire
// Options.TokenTTL (2 h) after issue on Options.Now. authentication/token/release
// revokes the token (later use is INVALID_TOKEN). Logins counts issued tokens.
//
// # Choices where API.md says "unspecified"
//
//   - Subscriptions: create for a customer with a non-CANCELLED subscription is
//     SUBSCRIPTION_EXISTS; after CANCELLED a new subscription may be created and
//     becomes the customer's. suspend EFFECTIVE→NOT_EFFECTIVE, unsuspend
//     NOT_EFFECTIVE→EFFECTIVE, cancel EFFECTIVE|NOT_EFFECTIVE→CANCELLED; any other
//     transition is INVALID_STATE (so a resent suspend is refused: read back with
//     subscriptions/show). netflix_state mirrors life_cycle_state. promotion_code
//     must exist (INVALID_VALUE otherwise); its dates are not checked.
//     validity_duration must be a JSON integer 1..86400 (default 3600).
//     netflix_token_expiration_date is now + validity_duration in UTC. Nested
//     objects: type mandatory and from its list; email_address/number mandatory for
//     email/phone; floor a JSON integer; is_primary a boolean; udf_float_* numbers;
//     country_identifier an object of strings; every other field a string.
//     Created subscriptions are numbered from S0000003566 on.
//   - Charges: accepting or acknowledging a charge that is already accepted or
//     acknowledged, for the same customer, is a success that applies nothing (a
//     resend after a dropped connection is harmless); the charge keeps the first
//     reference_number it was given. A reference_number is unique across
//     acknowledge and accept. Accept needs a PENDING charge ("4" otherwise).
//     Acknowledged or accepted charges leave charges/list. With
//     Options.KeepAccepted, accepted charges stay in it (the API says only that
//     acknowledged ones leave) and accepting one again is refused ("5"). An item without number or
//     billing_system_customer_identifier fails the whole call (MISSING_PARAMETER);
//     an empty set is MISSING_PARAMETER.
//   - Devices: group_identifier must hold exactly one non-empty field among id, name,
//     alternative_code (INVALID_VALUE otherwise, MISSING_PARAMETER when absent). A
//     device fails (failed_devices_set) when its ESN is empty, longer than 64
//     characters, not [A-Za-z0-9._:-]+, or starts with BLOCKED; register fails for an
//     ESN registered to another group and is a no-op success for one already in the
//     group; unregister fails for an ESN never registered to the group and is a no-op
//     success for one already unregistered from it.
//   - Installed items: subscriptions and items are identified by number and
//     serial_number only. add and remove take installed_items_set; swap takes
//     installed_items_swap_set of {from_installed_item, to_installed_item};
//     move_to_another_subscription takes installed_items_swap_set (the seed's set
//     name) of {to_subscription, installed_item_identifier} (the vendor's move
//     object), subscription_identifier being the source; a call may move items to
//     several subscriptions. An installed_items_distribution_set is accepted
//     where the pages document one (add's and move's items) and refused
//     (INVALID_VALUE) on remove's items and either side of a swap; so are a
//     top-level to_subscription_identifier (an invented form of move), a set of
//     another method, and swap pairs sent to move. A call is all or nothing. An
//     unknown serial_number is free stock that add or swap-to may install.
//     transaction_reference_number is checked first, before the subscription: a
//     reused one is DUPLICATE_TRANSACTION_REFERENCE_NUMBER; only applied calls
//     use one up. The answer is a subscription action numbered SA000001 on,
//     life_cycle_state EXECUTED, with exactly the fields and nesting of the seed's
//     example response of the method (move, which has none, answers as swap;
//     only add's has scheduled_date): performed_by {person_name, username, id,
//     email} names performed_by_user_identifier's username or the demo user, the
//     subscription's account owner is a demo person. fields_set (a string in the
//     body) keeps the named fields, job (null) included when named.
//   - subscriptions/create: udf_date_* of the nested objects must be dates
//     YYYY-MM-DDTHH:MM:SS, as performed_on must.
//   - Dates the sandbox stamps are UTC in YYYY-MM-DDTHH:MM:SS.
//
// # Effects
//
// Applied counts each applied state change as Effect{Method, Key}: Key is the ESN
// (devices), the charge number (acknowledge, accept), the
// billing_system_customer_identifier (create, suspend, unsuspend, cancel) or the
// installed item serial_number (add, remove, move; swap counts both the from and
// the to serial). No-op successes count nothing. GET EffectsPath
// (/sandbox/effects, outside the Web API: no token, no fault) lists them, a
// sorted line per effect: method, key and times applied, tab-separated.
//
// # Faults
//
// Each request is handled in this order: counted in Calls; Options.Latency (cut
// short, with no answer, when the client goes away); the rate limit (a token bucket
// on Options.Now: HTTP 429, Retry-After in whole seconds ≥ 1, code
// TOO_MANY_REQUESTS); the FailRate draw (HTTP 500, INTERNAL_ERROR, nothing applied);
// handling (under one mutex); the DropRate draw (the connection is hijacked and
// closed without a byte written; the effect stays applied). Faults apply to every
// method, authentication included. Fault draws come from a math/rand/v2 PCG seeded
// with Options.Seed, taken only for the fault kinds whose rate is set, so a
// sequential client sees the same faults for the same seed.
//
// # Demo data
//
// The same on every server, whatever the seed:
//
//   - promotions "14" Test and "15" Test_2 (as in the seed), "16" Welcome;
//   - groups {id "1", name "OPERATOR1", alternative_code "OP1"} and {id "2",
//     name "OPERATOR2", alternative_code "OP2"}; ESN-DEMO-0001..ESN-DEMO-0010 are
//     registered to OPERATOR1;
//   - customers pci001..pci020 have EFFECTIVE subscriptions S0000000001..S0000000020,
//     each with one installed item SC-0001..SC-0020; pci021..pci040 (and any other
//     customer) have none;
//   - charges I00000001..I00000300, oldest first, received every 2h17m from
//     2025-01-01T08:00:00, for customers pci001..pci060 in turn; every third
//     (I00000003, I00000006, ...) is processed (APPROVED, DECLINED, BAD_REQUEST,
//     REJECTED in turn, with its set_as_*_on date), the other 200 are PENDING;
//     amounts carry float32 noise (5.989999771118164); every fifth is in EUR, the
//     rest USD; every tenth has local_currency GBP and a local_currency_amount.
package sandbox
