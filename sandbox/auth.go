package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// jwtHeader is the fixed header of every token, as CRM.COM R12 issues them.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))

// claims are the token claims; iat and exp are JSON strings of epoch seconds, as
// in real CRM.COM tokens.
type claims struct {
	User         string `json:"usr"`
	Organisation string `json:"org"`
	Unit         string `json:"oun"`
	Expires      string `json:"exp"`
	IssuedAt     string `json:"iat"`
	ID           string `json:"jti"`
}

// issue signs a new token; the caller holds s.mu.
func (s *Server) issue(user, unit string, now time.Time) string {
	if unit == "" {
		unit = "1"
	}
	s.jti++
	s.logins++
	c := claims{
		User:         user,
		Organisation: DemoOrganisation,
		Unit:         unit,
		IssuedAt:     strconv.FormatInt(now.Unix(), 10),
		Expires:      strconv.FormatInt(now.Add(s.ttl).Unix(), 10),
		ID:           fmt.Sprintf("%032X", s.jti),
	}
	payload, _ := json.Marshal(c)
	signed := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + s.sign(signed)
}

func (s *Server) sign(signed string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(signed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validToken reports whether token was issued by this server, is not released and
// has not expired at now; the caller holds s.mu.
func (s *Server) validToken(token string, now time.Time) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader || s.released[token] {
		return false
	}
	if !hmac.Equal([]byte(parts[2]), []byte(s.sign(parts[0]+"."+parts[1]))) {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c claims
	if json.Unmarshal(payload, &c) != nil {
		return false
	}
	exp, err := strconv.ParseInt(c.Expires, 10, 64)
	return err == nil && now.Unix() < exp
}

func (s *Server) login(q *request) reply {
	var p struct {
		Username     string `json:"username"`
		Password     string `json:"password"`
		Organisation string `json:"organisation"`
		Unit         string `json:"unit"`
	}
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	for _, f := range []struct{ name, v string }{{"username", p.Username}, {"password", p.Password}, {"organisation", p.Organisation}} {
		if f.v == "" {
			return fail("MISSING_PARAMETER", "%s is mandatory", f.name)
		}
	}
	if p.Username != DemoUsername || p.Password != DemoPassword || p.Organisation != DemoOrganisation {
		return fail("AUTHENTICATION_FAILED", "The username, password or organisation is wrong")
	}
	return ok(map[string]string{"token": s.issue(p.Username, p.Unit, q.now)})
}

func (s *Server) loginAPIKey(q *request) reply {
	var p struct {
		Unit string `json:"unit"`
	}
	if bad := q.decode(&p); bad != nil {
		return *bad
	}
	key, password, found := q.http.BasicAuth()
	if !found || key == "" {
		return fail("MISSING_PARAMETER", "the Web API key must be sent as the HTTP Basic auth username")
	}
	if key != DemoAPIKey || password != "" {
		return fail("AUTHENTICATION_FAILED", "The Web API key is wrong")
	}
	return ok(map[string]string{"token": s.issue(DemoUsername, p.Unit, q.now)})
}

func (s *Server) release(q *request) reply {
	t := q.token()
	if t == "" {
		return fail("MISSING_PARAMETER", "token is mandatory")
	}
	if !s.validToken(t, q.now) {
		return fail("INVALID_TOKEN", "The token is invalid or has expired")
	}
	s.released[t] = true
	return ok(nil)
}
