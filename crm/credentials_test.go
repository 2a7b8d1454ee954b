package crm

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/fault"
)

func TestCredentialsFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pwFile := write("pw", "file-pa55 word\n")
	keyFile := write("key", "file-key\r\n")
	emptyFile := write("empty", "\n")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Credentials
		wantErr string // substring; "" = no error
	}{
		{
			name: "username set",
			env:  map[string]string{EnvUsername: "jack", EnvPassword: " spaced pw ", EnvOrganisation: "ORG", EnvUnit: "2"},
			want: Credentials{Username: "jack", Password: " spaced pw ", Organisation: "ORG", Unit: "2"},
		},
		{
			name: "password file",
			env:  map[string]string{EnvUsername: "jack", EnvPasswordFile: pwFile, EnvOrganisation: "ORG"},
			want: Credentials{Username: "jack", Password: "file-pa55 word", Organisation: "ORG"},
		},
		{
			name: "api key",
			env:  map[string]string{EnvAPIKey: "k3y"},
			want: Credentials{APIKey: "k3y"},
		},
		{
			name: "api key file with a partial username set",
			env:  map[string]string{EnvAPIKeyFile: keyFile, EnvUsername: "jack"},
			want: Credentials{APIKey: "file-key", Username: "jack"},
		},
		{
			name:    "nothing",
			env:     map[string]string{},
			wantErr: "CRMBATCH_USERNAME, CRMBATCH_PASSWORD (or CRMBATCH_PASSWORD_FILE), CRMBATCH_ORGANISATION not set\nhint: ",
		},
		{
			name:    "no organisation",
			env:     map[string]string{EnvUsername: "jack", EnvPassword: "pw-secret"},
			wantErr: "CRMBATCH_ORGANISATION not set\nhint: ",
		},
		{
			name:    "password twice",
			env:     map[string]string{EnvUsername: "jack", EnvPassword: "pw-secret", EnvPasswordFile: pwFile, EnvOrganisation: "ORG"},
			wantErr: "both CRMBATCH_PASSWORD and CRMBATCH_PASSWORD_FILE are set",
		},
		{
			name:    "missing file",
			env:     map[string]string{EnvAPIKeyFile: filepath.Join(dir, "nope")},
			wantErr: "reading CRMBATCH_API_KEY_FILE",
		},
		{
			name:    "empty file",
			env:     map[string]string{EnvAPIKeyFile: emptyFile},
			wantErr: "is empty",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CredentialsFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(fault.Describe(err), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				for _, s := range []string{"pw-secret", "file-pa55"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error shows a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %#v", []any{got.Username, got.Password, got.Organisation, got.Unit, got.APIKey})
			}
		})
	}
}

func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	logger := slog.New(slog.NewTextHandler(&log, nil))
	for _, tc := range []struct {
		name  string
		creds Credentials
		want  string
	}{
		{"password", Credentials{Username: "jack", Password: "pa55-s3cret", Organisation: "ORG"}, `username: "jack", password: redacted`},
		{"api key", Credentials{APIKey: "k3y-s3cret", Unit: "1"}, "api_key: redacted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fmt.Sprintf("%v %+v %#v %s", tc.creds, tc.creds, tc.creds, tc.creds)
			if !strings.Contains(s, tc.want) {
				t.Errorf("%s lacks %q", s, tc.want)
			}
			if strings.Contains(s, "s3cret") {
				t.Errorf("secret shows in %s", s)
			}
			c, err := New(Config{BaseURL: "https://crm.example.com/crmapi/rest/v2", Credentials: tc.creds})
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "s3cret") || !strings.Contains(s, "https://crm.example.com/crmapi/rest/v2/") {
				t.Errorf("client prints as %s", s)
			}
		})
	}
	logger.Info("login", "credentials", Credentials{Username: "jack", Password: "pa55-s3cret", APIKey: "k3y-s3cret"})
	if strings.Contains(log.String(), "s3cret") || !strings.Contains(log.String(), "credentials.password=redacted") {
		t.Errorf("log line %q", log.String())
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{BaseURL: "http://127.0.0.1:8080/crmapi/rest/v2", Credentials: testCreds}, ""},
		{"no url", Config{Credentials: testCreds}, "no endpoint"},
		{"not http", Config{BaseURL: "ftp://x/crmapi/rest/v2/", Credentials: testCreds}, "not an http(s) URL"},
		{"relative", Config{BaseURL: "crm.example.com/crmapi", Credentials: testCreds}, "not an http(s) URL"},
		{"user info", Config{BaseURL: "https://jack:pw@crm.example.com/", Credentials: testCreds}, "must not hold credentials"},
		{"no credentials", Config{BaseURL: "https://crm.example.com/"}, "incomplete credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.cfg)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("New: %v, want %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("error shows the URL's password: %v", err)
			}
		})
	}
}
