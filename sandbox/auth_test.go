package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, c := start(t, Options{Now: clk.Now})
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"ok", map[string]any{"username": DemoUsername, "password": DemoPassword, "organisation": DemoOrganisation}, "OK"},
		{"ok with unit", map[string]any{"username": DemoUsername, "password": DemoPassword, "organisation": DemoOrganisation, "unit": "7"}, "OK"},
		{"wrong password", map[string]any{"username": DemoUsername, "password": "nope", "organisation": DemoOrganisation}, "AUTHENTICATION_FAILED"},
		{"wrong organisation", map[string]any{"username": DemoUsername, "password": DemoPassword, "organisation": "ACME"}, "AUTHENTICATION_FAILED"},
		{"missing organisation", map[string]any{"username": DemoUsername, "password": DemoPassword}, "MISSING_PARAMETER"},
		{"missing username", map[string]any{"password": DemoPassword, "organisation": DemoOrganisation}, "MISSING_PARAMETER"},
		{"wrong type", map[string]any{"username": 5, "password": DemoPassword, "organisation": DemoOrganisation}, "INVALID_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.mustPost("authentication/token", tc.body)
			wantCode(t, a, tc.want)
		})
	}
	if got := s.Logins(); got != 2 {
		t.Errorf("Logins() = %d, want 2", got)
	}

	t.Run("malformed body", func(t *testing.T) {
		a, err := c.postRaw("authentication/token", []byte(`{"username": "demo",`))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, a, "MALFORMED_REQUEST")
	})

	t.Run("claims", func(t *testing.T) {
		c.login()
		parts := strings.Split(c.token, ".")
		if len(parts) != 3 || len(c.token) <= 32 {
			t.Fatalf("token %q is not a JWT", c.token)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		iat, iok := claims["iat"].(string)
		exp, eok := claims["exp"].(string)
		if !iok || !eok {
			t.Fatalf("iat, exp = %#v, %#v: want JSON strings", claims["iat"], claims["exp"])
		}
		i, _ := strconv.ParseInt(iat, 10, 64)
		e, _ := strconv.ParseInt(exp, 10, 64)
		if i != clk.Now().Unix() || e-i != 7200 {
			t.Errorf("iat %s exp %s: want now and now+2h", iat, exp)
		}
		for _, k := range []string{"usr", "org", "oun"} {
			if _, ok := claims[k].(string); !ok {
				t.Errorf("claim %s missing", k)
			}
		}
	})
}

func TestLoginAPIKey(t *testing.T) {
	t.Parallel()
	_, c := start(t, Options{})
	for _, tc := range []struct {
		name, key, password, body, want string
	}{
		{"ok", DemoAPIKey, "", "", "OK"},
		{"ok with unit", DemoAPIKey, "", `{"unit": "2"}`, "OK"},
		{"wrong key", "other-key", "", "", "AUTHENTICATION_FAILED"},
		{"password set", DemoAPIKey, "x", "", "AUTHENTICATION_FAILED"},
		{"no key", "", "", "", "MISSING_PARAMETER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, c.base+"authentication/web_api_key/token", strings.NewReader(tc.body))
			if tc.key != "" {
				req.SetBasicAuth(tc.key, tc.password)
			}
			a, err := c.do(req)
			if err != nil {
				t.Fatal(err)
			}
			wantCode(t, a, tc.want)
			if tc.want == "OK" {
				var d struct{ Token string }
				c.decodeOK(a, &d)
				c.token = d.Token
				wantCode(t, c.mustGet("netflix/promotions/list", nil), "OK")
			}
		})
	}
}

func TestInvalidToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, c := startLoggedIn(t, Options{Now: clk.Now, TokenTTL: time.Hour})
	_, other := startLoggedIn(t, Options{Now: clk.Now})
	good := c.token

	released := func() string {
		c.login()
		tok := c.token
		wantCode(t, c.mustPost("authentication/token/release", map[string]any{}), "OK")
		return tok
	}()
	tampered := good[:len(good)-2] + "xx"

	for _, tc := range []struct {
		name    string
		token   string
		advance time.Duration
	}{
		{"missing", "", 0},
		{"malformed", "not-a-token", 0},
		{"unknown", other.token, 0},
		{"tampered", tampered, 0},
		{"released", released, 0},
		{"expired", good, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Advance(tc.advance)
			a := c.mustPost("netflix/operators/register_devices", map[string]any{
				"token":            tc.token,
				"group_identifier": map[string]string{"name": "OPERATOR1"},
				"devices":          devices("TOKEN-" + strings.ToUpper(strings.ReplaceAll(tc.name, " ", "-"))),
			})
			wantCode(t, a, "INVALID_TOKEN")
			if a.message() != "The token is invalid or has expired" {
				t.Errorf("message = %q", a.message())
			}
			g := c.mustGet("netflix/promotions/list", url.Values{"token": {tc.token}})
			wantCode(t, g, "INVALID_TOKEN")
		})
	}
	if n := len(s.Applied()); n != 0 {
		t.Errorf("Applied() has %d effects, want none", n)
	}

	t.Run("valid until expiry", func(t *testing.T) {
		c.login()
		clk.Advance(time.Hour - time.Second)
		wantCode(t, c.mustGet("netflix/promotions/list", nil), "OK")
		clk.Advance(time.Second)
		wantCode(t, c.mustGet("netflix/promotions/list", nil), "INVALID_TOKEN")
	})
}
