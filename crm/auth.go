package crm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Authentication methods.
var (
	methodLogin       = method{path: "authentication/token", idempotent: true}
	methodLoginAPIKey = method{path: "authentication/web_api_key/token", idempotent: true}
)

// loginFlight is a login in progress; the callers that need a token meanwhile wait
// for it instead of logging in themselves.
type loginFlight struct {
	done chan struct{}
	err  error
}

// Login logs in now, replacing the current token. Calls log in by themselves
// when needed; Login lets a run check its credentials before sending anything.
func (c *Client) Login(ctx context.Context) error {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	_, _, err := c.token(ctx, gen)
	return err
}

// Logins returns how many logins the client has performed successfully.
func (c *Client) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}

// token returns a token of a generation newer than stale that is not due for
// renewal, with its generation, logging in when there is none. Logins are
// single-flight: concurrent callers wait for the one login in progress, and a
// caller whose refused token is older than the current one gets the current one.
func (c *Client) token(ctx context.Context, stale uint64) (string, uint64, error) {
	for {
		c.mu.Lock()
		if c.tok != "" && c.gen > stale && (c.renewAt.IsZero() || c.now().Before(c.renewAt)) {
			tok, gen := c.tok, c.gen
			c.mu.Unlock()
			return tok, gen, nil
		}
		if f := c.flight; f != nil {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", 0, canceled(ctx, c.loginMethod().path)
			}
			// A login that failed because its own caller went away says nothing
			// about ours: try again (and lead the next login if need be).
			if f.err != nil && !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
				return "", 0, f.err
			}
			continue
		}
		f := &loginFlight{done: make(chan struct{})}
		c.flight = f
		c.mu.Unlock()

		tok, renewAt, err := c.login(ctx)

		c.mu.Lock()
		if err == nil {
			c.tok, c.renewAt = tok, renewAt
			c.gen++
			c.logins++
			c.rememberToken(tok)
		}
		f.err = err
		c.flight = nil
		close(f.done)
		c.mu.Unlock()
		if err != nil {
			return "", 0, err
		}
	}
}

func (c *Client) loginMethod() method {
	if c.creds.APIKey != "" {
		return methodLoginAPIKey
	}
	return methodLogin
}

// login asks for a new token and works out when to renew it. A refused login is
// an Auth error; a transport failure keeps its class.
func (c *Client) login(ctx context.Context) (string, time.Time, error) {
	m := c.loginMethod()
	var params any
	if c.creds.APIKey != "" {
		params = struct {
			Unit string `json:"unit,omitempty"`
		}{c.creds.Unit}
	} else {
		params = struct {
			Username     string `json:"username"`
			Password     string `json:"password"`
			Organisation string `json:"organisation"`
			Unit         string `json:"unit,omitempty"`
		}{c.creds.Username, c.creds.Password, c.creds.Organisation, c.creds.Unit}
	}
	r, err := newRequest(m, params)
	if err != nil {
		return "", time.Time{}, err
	}
	r.apiKey = c.creds.APIKey
	if err := c.waitTurn(ctx, r); err != nil {
		return "", time.Time{}, err
	}
	issued := c.now()
	data, err := c.send(ctx, r, "")
	var e *Error
	if errors.As(err, &e) && e.Class == Permanent {
		e.Class = Auth // refused: wrong credentials, or a 4xx
	}
	if err != nil {
		return "", time.Time{}, err
	}
	v, err := decode[struct {
		Token string `json:"token"`
	}](m, data)
	if err == nil && v.Token == "" {
		err = &Error{Method: m.path, Class: Auth, HTTPStatus: 200, Message: "the answer holds no token"}
	}
	if err != nil {
		return "", time.Time{}, err
	}
	c.log.DebugContext(ctx, "crm logged in", "method", m.path)
	return v.Token, c.renewTime(issued, tokenExpiry(v.Token)), nil
}

// renewTime is when a token issued at issued and expiring at exp is due for
// renewal: RenewBefore ahead of exp, or half-way when the token lives shorter than
// that. Zero (renew only when refused) when exp is unknown or already past by our
// clock, which then cannot be trusted against the server's.
func (c *Client) renewTime(issued, exp time.Time) time.Time {
	if exp.IsZero() || !exp.After(issued) {
		return time.Time{}
	}
	at := exp.Add(-c.renewBefore)
	if !at.After(issued) {
		at = issued.Add(exp.Sub(issued) / 2)
	}
	return at
}

// tokenExpiry reads the exp claim of a JWT token without checking its signature:
// a JSON number or a JSON string of epoch seconds. Zero for an opaque token.
func tokenExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.RawMessage `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || len(claims.Exp) == 0 {
		return time.Time{}
	}
	text := string(claims.Exp)
	if unquoted, err := strconv.Unquote(text); err == nil {
		text = strings.TrimSpace(unquoted) // real CRM.COM tokens: "1488299402"
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}
