package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BasePath is the path prefix under which the sandbox serves the Web API methods,
// as a real CRM.COM installation does: BasePath + "netflix/charges/list".
const BasePath = "/crmapi/rest/v2/"

// Demo credentials accepted by the authentication methods.
const (
	DemoUsername     = "demo"
	DemoPassword     = "demo-secret"
	DemoOrganisation = "DEMO"
	DemoAPIKey       = "demo-api-key"
)

// Options configures a sandbox server: its timing, the faults it injects and the
// clock it reads. The zero value is a fault-free server on the wall clock.
type Options struct {
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// RateLimit is the server-side limit in requests per second (a token bucket
	// of RateBurst tokens). Excess requests are answered HTTP 429 with a
	// Retry-After header and nothing applied. 0 means no limit.
	RateLimit float64
	// RateBurst is the bucket size; 0 means max(1, ceil(RateLimit)).
	RateBurst int
	// FailRate is the fraction of requests answered HTTP 500 without applying
	// anything.
	FailRate float64
	// DropRate is the fraction of requests whose effect is applied and whose
	// connection is then closed without any answer.
	DropRate float64
	// TokenTTL is the lifetime of an authentication token; 0 means 2 hours.
	TokenTTL time.Duration
	// Seed makes the fault draws (and the generated netflix tokens)
	// deterministic.
	Seed int64
	// Charges is how many demo charges there are (numbered I00000001 up, two
	// in three PENDING); 0 means 300. Rehearsals of large charge jobs raise it.
	Charges int
	// Now is the server's clock (token expiry, rate limit, dates it stamps);
	// nil means time.Now.
	Now func() time.Time
	// KeepAccepted keeps accepted charges in charges/list (the API says only
	// that acknowledged charges leave it) and refuses a charge accepted again
	// ("5" already accepted) instead of a success that applies nothing.
	KeepAccepted bool
}

// Effect names one state change of the sandbox: the method that applied it and the
// thing it changed (an ESN, a charge number, a billing_system_customer_identifier or
// an installed item serial_number).
type Effect struct {
	Method string
	Key    string
}

// Server is an in-memory CRM.COM Web API emulator. It implements http.Handler and
// is safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	ttl    time.Duration
	secret []byte

	faultMu sync.Mutex
	faults  *mrand.Rand
	bucket  float64
	burst   float64
	last    time.Time

	mu       sync.Mutex
	calls    map[string]int
	applied  map[Effect]int
	logins   int
	jti      int
	released map[string]bool
	rng      *mrand.Rand // netflix tokens; separate so faults stay reproducible
	st       *state
}

// New returns a server loaded with the demo data (see the package documentation).
func New(opts Options) *Server {
	s := &Server{
		opts:     opts,
		now:      opts.Now,
		ttl:      opts.TokenTTL,
		secret:   make([]byte, 32),
		faults:   mrand.New(mrand.NewPCG(uint64(opts.Seed), 0x6661756c7473)),
		calls:    map[string]int{},
		applied:  map[Effect]int{},
		released: map[string]bool{},
		rng:      mrand.New(mrand.NewPCG(uint64(opts.Seed), 0x746f6b656e73)),
		st:       newDemoState(opts.Charges),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = 2 * time.Hour
	}
	if _, err := rand.Read(s.secret); err != nil {
		panic(fmt.Sprintf("sandbox: reading random secret: %v", err))
	}
	if opts.RateLimit > 0 {
		s.burst = float64(opts.RateBurst)
		if opts.RateBurst <= 0 {
			s.burst = math.Max(1, math.Ceil(opts.RateLimit))
		}
		s.bucket = s.burst
		s.last = s.now()
	}
	return s
}

// Applied returns a copy of how many times each state change was applied.
func (s *Server) Applied() map[Effect]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Effect]int, len(s.applied))
	for k, v := range s.applied {
		out[k] = v
	}
	return out
}

// Calls returns a copy of how many HTTP requests each method path received
// (relative to BasePath), faulted ones included.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Logins returns how many tokens the server has issued.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// apply records one state change; the caller holds s.mu.
func (s *Server) apply(method, key string) {
	s.applied[Effect{Method: method, Key: key}]++
}

// ServeHTTP answers one Web API request, injecting the configured faults in this
// order: latency, rate limit, failure, handling, drop.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == EffectsPath && r.Method == http.MethodGet {
		s.serveEffects(w)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, BasePath)
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()

	// Read the body first: only then does net/http watch the connection and
	// cancel the context when the client goes away during the latency.
	var body []byte
	var bodyErr error
	if r.Method == http.MethodPost {
		body, bodyErr = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if wait, limited := s.limit(); limited {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		writeReply(w, failHTTP(http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "rate limit exceeded: retry after %d s", wait))
		return
	}
	if s.draw(s.opts.FailRate) {
		writeReply(w, failHTTP(http.StatusInternalServerError, "INTERNAL_ERROR", "injected server failure: nothing was applied"))
		return
	}
	rep := s.handle(name, r, body, bodyErr)
	if s.draw(s.opts.DropRate) {
		drop(w)
		return
	}
	writeReply(w, rep)
}

// EffectsPath is where the sandbox lists what it applied, outside the Web API
// (no token, no fault): a line per effect, "method<TAB>key<TAB>times applied",
// sorted, so that a script against `crmbatch sandbox` can check that every
// effect was applied once.
const EffectsPath = "/sandbox/effects"

func (s *Server) serveEffects(w http.ResponseWriter) {
	applied := s.Applied()
	lines := make([]string, 0, len(applied))
	for e, n := range applied {
		lines = append(lines, e.Method+"\t"+e.Key+"\t"+strconv.Itoa(n)+"\n")
	}
	sort.Strings(lines)
	w.Header().Set("Content-Type", "text/tab-separated-values; charset=utf-8")
	for _, l := range lines {
		io.WriteString(w, l)
	}
}

// limit takes a token from the rate-limit bucket; when none is left it reports
// limited and the whole seconds to wait.
func (s *Server) limit() (wait int, limited bool) {
	if s.opts.RateLimit <= 0 {
		return 0, false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	now := s.now()
	if elapsed := now.Sub(s.last).Seconds(); elapsed > 0 {
		s.bucket = math.Min(s.burst, s.bucket+elapsed*s.opts.RateLimit)
	}
	s.last = now
	if s.bucket >= 1 {
		s.bucket--
		return 0, false
	}
	secs := int(math.Ceil((1 - s.bucket) / s.opts.RateLimit))
	return max(1, secs), true
}

// draw reports whether a fault of the given rate happens to this request. Draws
// are only taken when the rate is set, so each fault kind has its own
// reproducible sequence for a given seed and configuration.
func (s *Server) draw(rate float64) bool {
	if rate <= 0 {
		return false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults.Float64() < rate
}

// drop closes the client's connection without writing anything.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2 and recorders: abort the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// reply is the answer to one request before it is written.
type reply struct {
	httpStatus int
	data       any
	code       string
	message    string
}

func ok(data any) reply { return reply{httpStatus: http.StatusOK, data: data, code: "OK"} }

// fail is a non-OK answer of the whole call, sent with HTTP 200 as CRM.COM does.
func fail(code, format string, args ...any) reply {
	return failHTTP(http.StatusOK, code, format, args...)
}

func failHTTP(status int, code, format string, args ...any) reply {
	return reply{httpStatus: status, code: code, message: fmt.Sprintf(format, args...)}
}

type envelopeStatus struct {
	Code        string `json:"code"`
	Message     string `json:"message"`
	Description string `json:"description"`
}

type envelope struct {
	Data   any            `json:"data"`
	Status envelopeStatus `json:"status"`
}

func writeReply(w http.ResponseWriter, rep reply) {
	body, err := json.Marshal(envelope{Data: rep.data, Status: envelopeStatus{Code: rep.code, Message: rep.message}})
	if err != nil {
		body, _ = json.Marshal(envelope{Status: envelopeStatus{Code: "INTERNAL_ERROR", Message: "encoding the response failed"}})
		rep.httpStatus = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.httpStatus)
	w.Write(body)
}

// request is a parsed call: its parameters, from the query string (GET) or the
// JSON body (POST).
type request struct {
	http  *http.Request
	query url.Values
	raw   []byte                     // POST body, "{}" when empty
	body  map[string]json.RawMessage // POST body fields
	now   time.Time
}

// decode unmarshals the POST body into v; a field of the wrong JSON type is an
// INVALID_VALUE failure naming the field.
func (q *request) decode(v any) *reply {
	err := json.Unmarshal(q.raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		r := fail("INVALID_VALUE", "%s must be a JSON %s, not %s", te.Field, te.Type.String(), te.Value)
		return &r
	}
	r := fail("MALFORMED_REQUEST", "the request body is not valid JSON: %v", err)
	return &r
}

type handler func(s *Server, q *request) reply

type route struct {
	method string // HTTP method
	auth   bool   // needs a valid token
	handle handler
}

var routes = map[string]route{
	"authentication/token":                                       {http.MethodPost, false, (*Server).login},
	"authentication/web_api_key/token":                           {http.MethodPost, false, (*Server).loginAPIKey},
	"authentication/token/release":                               {http.MethodPost, false, (*Server).release},
	"netflix/promotions/list":                                    {http.MethodGet, true, (*Server).listPromotions},
	"netflix/subscriptions/show":                                 {http.MethodGet, true, (*Server).showSubscription},
	"netflix/subscriptions/create":                               {http.MethodPost, true, (*Server).createSubscription},
	"netflix/subscriptions/suspend":                              {http.MethodPost, true, (*Server).suspendSubscription},
	"netflix/subscriptions/unsuspend":                            {http.MethodPost, true, (*Server).unsuspendSubscription},
	"netflix/subscriptions/cancel":                               {http.MethodPost, true, (*Server).cancelSubscription},
	"netflix/charges/list":                                       {http.MethodGet, true, (*Server).listCharges},
	"netflix/charges/acknowledge":                                {http.MethodPost, true, (*Server).acknowledgeCharges},
	"netflix/charges/accept":                                     {http.MethodPost, true, (*Server).acceptCharges},
	"netflix/operators/register_devices":                         {http.MethodPost, true, (*Server).registerDevices},
	"netflix/operators/unregister_devices":                       {http.MethodPost, true, (*Server).unregisterDevices},
	"subscriptions/installed_items/add":                          {http.MethodPost, true, (*Server).addInstalledItems},
	"subscriptions/installed_items/remove":                       {http.MethodPost, true, (*Server).removeInstalledItems},
	"subscriptions/installed_items/swap":                         {http.MethodPost, true, (*Server).swapInstalledItems},
	"subscriptions/installed_items/move_to_another_subscription": {http.MethodPost, true, (*Server).moveInstalledItems},
}

// maxBody bounds a request body; 1000 devices of 64-character ESNs fit many times.
const maxBody = 8 << 20

// handle parses and authenticates the request, then runs its method under the
// state mutex.
func (s *Server) handle(name string, r *http.Request, raw []byte, bodyErr error) reply {
	rt, found := routes[name]
	if !found || !strings.HasPrefix(r.URL.Path, BasePath) {
		return failHTTP(http.StatusNotFound, "UNKNOWN_METHOD", "no Web API method at %s", r.URL.Path)
	}
	if r.Method != rt.method {
		return failHTTP(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "%s takes HTTP %s, not %s", name, rt.method, r.Method)
	}
	q := &request{http: r, query: r.URL.Query(), raw: []byte("{}"), now: s.now()}
	if r.Method == http.MethodPost {
		if bodyErr != nil {
			return fail("MALFORMED_REQUEST", "reading the request body: %v", bodyErr)
		}
		if len(raw) > maxBody {
			return fail("MALFORMED_REQUEST", "the request body is larger than %d bytes", maxBody)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			q.raw = raw
		}
		if err := json.Unmarshal(q.raw, &q.body); err != nil || q.body == nil {
			return fail("MALFORMED_REQUEST", "the request body must be a JSON object")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt.auth {
		if !s.validToken(q.token(), q.now) {
			return fail("INVALID_TOKEN", "The token is invalid or has expired")
		}
	}
	return rt.handle(s, q)
}

// token is the token parameter of the call: from the body of a POST, else from
// the query string.
func (q *request) token() string {
	if raw, ok := q.body["token"]; ok {
		var t string
		if json.Unmarshal(raw, &t) == nil {
			return t
		}
		return ""
	}
	return q.query.Get("token")
}
