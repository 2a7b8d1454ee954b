package crm

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/crmbatch/crmbatch/fault"
)

// Credentials are what the client logs in with: a username, password and
// organisation (and optionally a unit), or a Web API key. When APIKey is set it is
// used and the other fields but Unit are ignored.
//
// String, GoString and LogValue never reveal Password or APIKey, so a Credentials
// value may be printed or logged.
type Credentials struct {
	Username     string
	Password     string
	Organisation string
	Unit         string
	APIKey       string
}

// Environment variables read by CredentialsFromEnv.
const (
	EnvUsername     = "CRMBATCH_USERNAME"
	EnvPassword     = "CRMBATCH_PASSWORD"
	EnvPasswordFile = "CRMBATCH_PASSWORD_FILE"
	EnvOrganisation = "CRMBATCH_ORGANISATION"
	EnvUnit         = "CRMBATCH_UNIT"
	EnvAPIKey       = "CRMBATCH_API_KEY"
	EnvAPIKeyFile   = "CRMBATCH_API_KEY_FILE"
)

func redacted(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "redacted"
}

// String describes the credentials without their secrets.
func (c Credentials) String() string {
	if c.APIKey != "" {
		return fmt.Sprintf("crm.Credentials{api_key: %s, unit: %q}", redacted(c.APIKey), c.Unit)
	}
	return fmt.Sprintf("crm.Credentials{username: %q, password: %s, organisation: %q, unit: %q}",
		c.Username, redacted(c.Password), c.Organisation, c.Unit)
}

// GoString is String, so that %#v does not reveal the secrets either.
func (c Credentials) GoString() string { return c.String() }

// LogValue logs the credentials without their secrets.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", c.Username),
		slog.String("password", redacted(c.Password)),
		slog.String("organisation", c.Organisation),
		slog.String("unit", c.Unit),
		slog.String("api_key", redacted(c.APIKey)),
	)
}

// usable reports whether the credentials are enough to log in.
func (c Credentials) usable() bool {
	return c.APIKey != "" || (c.Username != "" && c.Password != "" && c.Organisation != "")
}

// CredentialsFromEnv reads the credentials from the environment through getenv
// (os.Getenv in production): CRMBATCH_USERNAME, CRMBATCH_PASSWORD,
// CRMBATCH_ORGANISATION and the optional CRMBATCH_UNIT, or CRMBATCH_API_KEY.
// CRMBATCH_PASSWORD_FILE and CRMBATCH_API_KEY_FILE name files holding the secret
// instead (a trailing newline is dropped). It fails when neither a complete
// username/password/organisation set nor an API key is given.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Credentials{
		Username:     get(EnvUsername),
		Organisation: get(EnvOrganisation),
		Unit:         get(EnvUnit),
	}
	var err error
	if c.Password, err = SecretFromEnv(getenv, EnvPassword, EnvPasswordFile); err != nil {
		return Credentials{}, err
	}
	if c.APIKey, err = SecretFromEnv(getenv, EnvAPIKey, EnvAPIKeyFile); err != nil {
		return Credentials{}, err
	}
	if c.usable() {
		return c, nil
	}
	var missing []string
	if c.Username == "" {
		missing = append(missing, EnvUsername)
	}
	if c.Password == "" {
		missing = append(missing, EnvPassword+" (or "+EnvPasswordFile+")")
	}
	if c.Organisation == "" {
		missing = append(missing, EnvOrganisation)
	}
	return Credentials{}, fault.WithHint(fmt.Errorf("crm: no credentials: %s not set", strings.Join(missing, ", ")),
		fmt.Sprintf("set %s, %s and %s (optionally %s), or %s; secrets may also be read from files named by %s or %s",
			EnvUsername, EnvPassword, EnvOrganisation, EnvUnit, EnvAPIKey, EnvPasswordFile, EnvAPIKeyFile))
}

// SecretFromEnv reads a secret from the variable name or from the file named by
// fileVar (a trailing newline dropped). Setting both is an error, since it is
// unclear which one is meant. The error never holds the secret.
func SecretFromEnv(getenv func(string) string, name, fileVar string) (string, error) {
	value, path := getenv(name), strings.TrimSpace(getenv(fileVar))
	if path == "" {
		return value, nil
	}
	if value != "" {
		return "", fault.WithHint(fmt.Errorf("crm: both %s and %s are set", name, fileVar), "unset one of them")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fault.WithHint(fmt.Errorf("crm: reading %s %s: %w", fileVar, strconv.Quote(path), err),
			fileVar+" must name a readable file holding only the secret")
	}
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", fault.WithHint(fmt.Errorf("crm: %s %s is empty", fileVar, strconv.Quote(path)), "write the secret into it")
	}
	return s, nil
}

// SecretFileWarnings says which of the secret files named in the environment
// (CRMBATCH_PASSWORD_FILE, CRMBATCH_API_KEY_FILE) other users can read or write:
// such a file should be chmod 600. Each warning's hint says what to do.
func SecretFileWarnings(getenv func(string) string) []error {
	var warnings []error
	for _, v := range []string{EnvPasswordFile, EnvAPIKeyFile} {
		path := strings.TrimSpace(getenv(v))
		if path == "" {
			continue
		}
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm()&0o077 == 0 {
			continue
		}
		warnings = append(warnings, fault.WithHint(fmt.Errorf("%s %s is readable by other users (mode %v)", v, strconv.Quote(path), info.Mode().Perm()),
			"chmod 600 "+strconv.Quote(path)))
	}
	return warnings
}
