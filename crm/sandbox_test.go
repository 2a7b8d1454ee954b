package crm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/sandbox"
)

var demoCreds = crm.Credentials{Username: sandbox.DemoUsername, Password: sandbox.DemoPassword, Organisation: sandbox.DemoOrganisation}

// clock is a clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv.URL + sandbox.BasePath
}

func newClient(t *testing.T, cfg crm.Config) *crm.Client {
	t.Helper()
	if cfg.Credentials == (crm.Credentials{}) {
		cfg.Credentials = demoCreds
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	c, err := crm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSandboxMethods calls every client method once against the sandbox.
func TestSandboxMethods(t *testing.T) {
	t.Parallel()
	for _, creds := range []struct {
		name  string
		creds crm.Credentials
	}{
		{"password", demoCreds},
		{"api key", crm.Credentials{APIKey: sandbox.DemoAPIKey, Unit: "7"}},
	} {
		t.Run(creds.name, func(t *testing.T) {
			t.Parallel()
			sb, base := startSandbox(t, sandbox.Options{})
			c := newClient(t, crm.Config{BaseURL: strings.TrimSuffix(base, "/"), Credentials: creds.creds})
			ctx := t.Context()
			step := func(name string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}

			promotions, err := c.Promotions(ctx)
			step("promotions", err)
			if len(promotions) < 2 || promotions[0].Code != "14" || promotions[1].Code != "15" {
				t.Errorf("promotions = %+v", promotions)
			}

			sub, err := c.ShowSubscription(ctx, "pci001")
			step("show", err)
			if sub.SubscriptionNumber != "S0000000001" || sub.LifeCycleState != crm.LifeCycleEffective {
				t.Errorf("show pci001 = %+v", sub)
			}
			_, err = c.ShowSubscription(ctx, "pci021")
			if crm.ClassOf(err) != crm.Permanent || !strings.Contains(err.Error(), "NOT_FOUND") {
				t.Errorf("show pci021: %v, want a permanent NOT_FOUND", err)
			}

			step("suspend", c.SuspendSubscription(ctx, "pci002"))
			step("unsuspend", c.UnsuspendSubscription(ctx, "pci002"))
			step("cancel", c.CancelSubscription(ctx, "pci002"))
			if _, state, _ := sb.Subscription("pci002"); state != crm.LifeCycleCancelled {
				t.Errorf("pci002 is %s after cancel", state)
			}

			d := int64(600)
			created, err := c.CreateSubscription(ctx, crm.CreateSubscriptionRequest{
				BillingSystemCustomerIdentifier: "pci021", PromotionCode: "14", Channel: "WEB", ValidityDuration: &d,
				CustomerFirstName: "Ada", CustomerLastName: "Lovelace",
				CustomerAddress: map[string]any{"type": "HOME", "street_name": "Main", "floor": 2, "country_identifier": map[string]any{"two_character_code": "CY"}},
				CustomerEmail:   map[string]any{"type": "PERSONAL", "email_address": "ada@example.com", "is_primary": true},
			})
			step("create", err)
			if created.SubscriptionNumber != "S0000003566" || created.NetflixToken == "" || created.NetflixTokenExpirationDate == "" {
				t.Errorf("created = %+v", created)
			}

			charges, err := c.ListCharges(ctx, crm.ListChargesRequest{NumberOfResults: 50, ChargeStatus: crm.ChargeStatusNotProcessed})
			step("list charges", err)
			if len(charges) != 50 || charges[0].Number != "I00000001" || charges[0].ChargeStatus != "PENDING" || charges[0].Amount == "" {
				t.Fatalf("charges: %d, first %+v", len(charges), charges[0])
			}
			page, err := c.ListCharges(ctx, crm.ListChargesRequest{NumberOfResults: 2, ChargeStatus: crm.ChargeStatusNotProcessed, Offset: 1, FieldsSet: []string{"number", "amount"}})
			step("list charges page", err)
			if len(page) != 2 || page[0].Number != charges[1].Number || page[0].Amount != charges[1].Amount || page[0].BillingSystemCustomerIdentifier != "" {
				t.Errorf("page = %+v", page)
			}

			failed, err := c.AcknowledgeCharges(ctx, []crm.ChargeItem{
				{Number: charges[0].Number, BillingSystemCustomerIdentifier: charges[0].BillingSystemCustomerIdentifier, ReferenceNumber: "FIN-1"},
				{Number: charges[1].Number, BillingSystemCustomerIdentifier: "someone-else"},
			})
			step("acknowledge", err)
			if len(failed) != 1 || failed[0].Number != charges[1].Number || failed[0].ErrorCode != "1" {
				t.Errorf("acknowledge failed = %+v", failed)
			}
			failed, err = c.AcceptCharges(ctx, []crm.ChargeItem{{Number: charges[2].Number, BillingSystemCustomerIdentifier: charges[2].BillingSystemCustomerIdentifier}})
			step("accept", err)
			if len(failed) != 0 {
				t.Errorf("accept failed = %+v", failed)
			}
			if ack, _, _ := sb.Charge(charges[0].Number); !ack {
				t.Errorf("%s not acknowledged", charges[0].Number)
			}
			if _, acc, _ := sb.Charge(charges[2].Number); !acc {
				t.Errorf("%s not accepted", charges[2].Number)
			}

			fdev, err := c.RegisterDevices(ctx, crm.GroupIdentifier{Name: "OPERATOR1"}, []crm.Device{{ESN: "ESN-T-1"}, {ESN: "ESN-T-2"}, {ESN: "BLOCKED-1"}})
			step("register", err)
			if len(fdev) != 1 || fdev[0].ESN != "BLOCKED-1" {
				t.Errorf("register failed = %+v", fdev)
			}
			fdev, err = c.UnregisterDevices(ctx, crm.GroupIdentifier{AlternativeCode: "OP1"}, []crm.Device{{ESN: "ESN-T-1"}})
			step("unregister", err)
			if len(fdev) != 0 {
				t.Errorf("unregister failed = %+v", fdev)
			}

			item := func(serial string) crm.InstalledItem {
				return crm.InstalledItem{InstalledItemIdentifier: crm.Identifier{"serial_number": serial}}
			}
			act, err := c.AddInstalledItems(ctx, crm.InstalledItemsRequest{
				SubscriptionIdentifier: crm.Identifier{"number": "S0000000003"}, TransactionReferenceNumber: "run1-add",
				InstalledItemsSet: []crm.InstalledItem{item("SC-NEW-1")},
			})
			step("add", err)
			if act.LifeCycleState != "EXECUTED" || act.Number == "" || !bytes.Contains(act.Raw, []byte("S0000000003")) {
				t.Errorf("add = %+v", act)
			}
			_, err = c.AddInstalledItems(ctx, crm.InstalledItemsRequest{
				SubscriptionIdentifier: crm.Identifier{"number": "S0000000003"}, TransactionReferenceNumber: "run1-add",
				InstalledItemsSet: []crm.InstalledItem{item("SC-NEW-2")},
			})
			if crm.ClassOf(err) != crm.Permanent || !strings.Contains(err.Error(), "DUPLICATE_TRANSACTION_REFERENCE_NUMBER") {
				t.Errorf("resent add: %v", err)
			}
			_, err = c.SwapInstalledItems(ctx, crm.InstalledItemsRequest{
				SubscriptionIdentifier: crm.Identifier{"number": "S0000000003"},
				InstalledItemsSwapSet: []crm.InstalledItemSwap{{
					FromInstalledItem: crm.InstalledItemRef{InstalledItemIdentifier: crm.Identifier{"serial_number": "SC-0003"}},
					ToInstalledItem:   crm.InstalledItemRef{InstalledItemIdentifier: crm.Identifier{"serial_number": "SC-NEW-3"}},
				}},
			})
			step("swap", err)
			_, err = c.MoveInstalledItems(ctx, crm.InstalledItemsRequest{
				SubscriptionIdentifier: crm.Identifier{"number": "S0000000003"},
				InstalledItemsMoveSet: []crm.InstalledItemMove{{
					ToSubscription:          crm.Identifier{"number": "S0000000004"},
					InstalledItemIdentifier: crm.Identifier{"serial_number": "SC-NEW-3"},
				}},
			})
			step("move", err)
			if sub, _ := sb.InstalledItemSubscription("SC-NEW-3"); sub != "S0000000004" {
				t.Errorf("SC-NEW-3 is on %q after move", sub)
			}
			_, err = c.RemoveInstalledItems(ctx, crm.InstalledItemsRequest{
				SubscriptionIdentifier: crm.Identifier{"number": "S0000000003"},
				InstalledItemsSet:      []crm.InstalledItem{item("SC-NEW-1")},
			})
			step("remove", err)
			if sub, ok := sb.InstalledItemSubscription("SC-NEW-1"); ok {
				t.Errorf("SC-NEW-1 still on %q after remove", sub)
			}
			if c.Logins() != 1 || sb.Logins() != 1 {
				t.Errorf("client logins %d, server logins %d, want 1", c.Logins(), sb.Logins())
			}
		})
	}
}

// TestSandboxLoginRefused checks that wrong credentials are an Auth error.
func TestSandboxLoginRefused(t *testing.T) {
	t.Parallel()
	_, base := startSandbox(t, sandbox.Options{})
	for _, tc := range []struct {
		name  string
		creds crm.Credentials
	}{
		{"password", crm.Credentials{Username: sandbox.DemoUsername, Password: "wrong", Organisation: sandbox.DemoOrganisation}},
		{"api key", crm.Credentials{APIKey: "wrong-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, crm.Config{BaseURL: base, Credentials: tc.creds})
			err := c.Login(t.Context())
			if crm.ClassOf(err) != crm.Auth || !strings.Contains(err.Error(), "AUTHENTICATION_FAILED") || !strings.Contains(fault.Describe(err), "hint:") {
				t.Errorf("Login: %v, want an auth error", err)
			}
			if _, err := c.Promotions(t.Context()); crm.ClassOf(err) != crm.Auth {
				t.Errorf("Promotions: %v, want an auth error", err)
			}
			if c.Logins() != 0 {
				t.Errorf("Logins() = %d", c.Logins())
			}
		})
	}
}

// TestSandboxTokenRenewal lets tokens expire on a controlled clock: calls go on
// succeeding, and 32 concurrent callers of an expired token share one login,
// whether the client sees the expiry coming (exp claim) or only when the server
// refuses the token (the client's clock lags the server's).
func TestSandboxTokenRenewal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		skewed bool // the client's clock stands still
	}{
		{name: "before exp"},
		{name: "refused token", skewed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server, client := newClock(), newClock()
			now := server.Now
			if tc.skewed {
				now = client.Now
			}
			sb, base := startSandbox(t, sandbox.Options{TokenTTL: 10 * time.Minute, Now: server.Now})
			c := newClient(t, crm.Config{BaseURL: base, Now: now})
			ctx := t.Context()
			if _, err := c.Promotions(ctx); err != nil {
				t.Fatal(err)
			}
			server.Add(11 * time.Minute) // the token has expired
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			start := make(chan struct{})
			for range 32 {
				wg.Go(func() {
					<-start
					_, err := c.Promotions(ctx)
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("call after expiry: %v", err)
				}
			}
			if c.Logins() != 2 || sb.Logins() != 2 {
				t.Errorf("client logins %d, server logins %d, want 2", c.Logins(), sb.Logins())
			}
			// Still valid a while later: no new login.
			server.Add(time.Minute)
			if _, err := c.ShowSubscription(ctx, "pci001"); err != nil {
				t.Fatal(err)
			}
			if c.Logins() != 2 {
				t.Errorf("logins %d after a call with a valid token", c.Logins())
			}
			calls := sb.Calls()["netflix/promotions/list"]
			if tc.skewed {
				if calls <= 33 {
					t.Errorf("%d promotions/list calls: no refused token replayed", calls)
				}
			} else if calls != 33 {
				t.Errorf("%d promotions/list calls, want 33: a token was refused", calls)
			}
		})
	}
}

// TestSandboxSecretsNeverShow runs a session with a refused login, failing calls
// and token renewals, capturing the Debug log and every error string: none holds
// the password, the API key or any token the server issued.
func TestSandboxSecretsNeverShow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sb, base := startSandbox(t, sandbox.Options{TokenTTL: 10 * time.Minute, Now: clk.Now, FailRate: 0.2, Seed: 7})
	rec := &tokenRecorder{next: http.DefaultTransport}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var texts []string
	add := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%v|%+v|%#v", err, err, err))
		}
	}
	cfg := crm.Config{BaseURL: base, HTTPClient: &http.Client{Transport: rec}, Now: clk.Now, Logger: logger}

	bad := cfg
	bad.Credentials = crm.Credentials{Username: sandbox.DemoUsername, Password: "Wr0ng-Pa55word", Organisation: sandbox.DemoOrganisation}
	badKey := cfg
	badKey.Credentials = crm.Credentials{APIKey: "Wr0ng-Api-Key"}
	for _, cfg := range []crm.Config{bad, badKey} {
		c := newClient(t, cfg)
		add(c.Login(t.Context()))
		_, err := c.Promotions(t.Context())
		add(err)
		texts = append(texts, fmt.Sprintf("%v %+v %#v %s", cfg.Credentials, cfg.Credentials, cfg.Credentials, c))
	}

	keyCfg := cfg
	keyCfg.Credentials = crm.Credentials{APIKey: sandbox.DemoAPIKey}
	for _, cfg := range []crm.Config{cfg, keyCfg} {
		c := newClient(t, cfg)
		for i := range 30 {
			if i%10 == 9 {
				clk.Add(11 * time.Minute)
			}
			_, err := c.Promotions(t.Context())
			add(err)
			_, err = c.ShowSubscription(t.Context(), fmt.Sprintf("pci%03d", 15+i))
			add(err)
			_, err = c.ListCharges(t.Context(), crm.ListChargesRequest{NumberOfResults: 51, ChargeStatus: "NOT_PROCESSED"})
			add(err)
			add(c.SuspendSubscription(t.Context(), "pci030"))
		}
		texts = append(texts, fmt.Sprintf("%v %+v %#v %s", cfg.Credentials, cfg.Credentials, cfg.Credentials, c))
	}
	if sb.Logins() < 4 {
		t.Errorf("only %d logins: the run did not renew its token", sb.Logins())
	}
	tokens := rec.all()
	if len(tokens) < 4 {
		t.Fatalf("recorded %d tokens", len(tokens))
	}
	if !strings.Contains(logs.String(), `"http_status":500`) || !strings.Contains(logs.String(), `"method":"netflix/charges/list"`) {
		t.Errorf("the log misses the calls:\n%s", logs.String())
	}
	secrets := append([]string{sandbox.DemoPassword, sandbox.DemoAPIKey, "Wr0ng-Pa55word", "Wr0ng-Api-Key"}, tokens...)
	texts = append(texts, strings.Split(logs.String(), "\n")...)
	t.Logf("checking %d texts and %d log bytes against %d secrets", len(texts), logs.Len(), len(secrets))
	for _, s := range secrets {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("secret %.12s... shows in %q", s, text)
			}
		}
	}
	// A token's parts must not show either (the JWT payload says who logged in).
	for _, tok := range tokens {
		if parts := strings.Split(tok, "."); len(parts) == 3 && strings.Contains(logs.String(), parts[2]) {
			t.Errorf("a token signature shows in the log")
		}
	}
}

// tokenRecorder is an http.RoundTripper that records every token sent, in the
// query string or the JSON body.
type tokenRecorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	tokens map[string]bool
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	tok := req.URL.Query().Get("token")
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		var body struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(b, &body) == nil && body.Token != "" {
			tok = body.Token
		}
	}
	if tok != "" {
		r.mu.Lock()
		if r.tokens == nil {
			r.tokens = map[string]bool{}
		}
		r.tokens[tok] = true
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *tokenRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for t := range r.tokens {
		out = append(out, t)
	}
	return out
}

// TestSandboxFaults checks the classes of the sandbox's injected faults.
func TestSandboxFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts sandbox.Options
		want crm.Class
	}{
		{"failure", sandbox.Options{FailRate: 1}, crm.Transient},
		{"rate limit", sandbox.Options{RateLimit: 0.001, RateBurst: 1}, crm.Transient},
		{"drop", sandbox.Options{DropRate: 1}, crm.Transient}, // the login is dropped: idempotent
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, base := startSandbox(t, tc.opts)
			c := newClient(t, crm.Config{BaseURL: base})
			if err := c.Login(t.Context()); err != nil && tc.name != "rate limit" {
				if crm.ClassOf(err) != tc.want {
					t.Errorf("login: %v, want %v", err, tc.want)
				}
				return
			}
			err := c.SuspendSubscription(t.Context(), "pci001")
			if crm.ClassOf(err) != tc.want {
				t.Errorf("suspend: %v, want %v", err, tc.want)
			}
			var e *crm.Error
			if tc.name == "rate limit" && (!errors.As(err, &e) || e.RetryAfter < time.Second) {
				t.Errorf("no Retry-After in %v", err)
			}
		})
	}
	t.Run("drop after apply", func(t *testing.T) {
		t.Parallel()
		// DropRate applies to the login too: retry it until a draw lets it through.
		sb, base := startSandbox(t, sandbox.Options{DropRate: 0.5, Seed: 3})
		c := newClient(t, crm.Config{BaseURL: base})
		ctx := context.Background()
		for i := 0; ; i++ {
			err := c.Login(ctx)
			if err == nil {
				break
			}
			if i == 20 || !crm.IsRetryable(err) {
				t.Fatalf("login: %v", err)
			}
		}
		for i := range 20 {
			customer := fmt.Sprintf("pci%03d", i+1)
			err := c.SuspendSubscription(ctx, customer)
			if err == nil {
				continue
			}
			if !crm.IsAmbiguous(err) {
				t.Fatalf("suspend %s: %v, want ambiguous", customer, err)
			}
			if n := sb.Applied()[sandbox.Effect{Method: "netflix/subscriptions/suspend", Key: customer}]; n != 1 {
				t.Errorf("ambiguous suspend of %s applied %d times", customer, n)
			}
			return
		}
		t.Error("no drop in 20 calls")
	})
}
