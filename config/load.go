package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables that override the file: deployments set them without editing it.
const (
	EnvDatabaseURL = "DATABASE_URL"
	EnvListen      = "OPSREVIEW_LISTEN"
)

// Load reads the file at path (none: defaults only), applies the DATABASE_URL and
// OPSREVIEW_LISTEN overrides, fills defaults, reads secrets from their files and validates.
// A bad file yields one error listing every problem, each naming its key.
func Load(path string) (*Config, error) {
	c, err := load(path)
	if err != nil {
		if path == "" {
			return nil, fmt.Errorf("loading config: %w", err)
		}
		return nil, fmt.Errorf("loading config %s: %w", path, err)
	}
	return c, nil
}

// Parse is Load for a configuration held in memory (the built-in demo configuration): the same
// environment overrides, defaults, secrets and validation.
func Parse(text []byte) (*Config, error) {
	c, err := parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing config: %w", err)
	}
	return c, nil
}

func load(path string) (*Config, error) {
	if path == "" {
		return parse(nil)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(b)
}

func parse(text []byte) (*Config, error) {
	c := &Config{}
	if len(text) > 0 {
		if err := decodeStrict(text, c); err != nil {
			return nil, err
		}
	}
	if v := os.Getenv(EnvDatabaseURL); v != "" {
		c.Database.URL = v
	}
	if v := os.Getenv(EnvListen); v != "" {
		c.Listen = v
	}
	c.applyDefaults()
	problems := c.secretConflicts()
	if len(problems) == 0 {
		problems = c.readSecrets()
	}
	var invalid Problems
	if errors.As(c.Validate(), &invalid) {
		problems = append(problems, invalid...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

// secretConflicts reports secrets given both inline and as a file: which one wins would be a guess.
func (c *Config) secretConflicts() Problems {
	var p Problems
	both := func(where, key, inline, file string) {
		if inline != "" && file != "" {
			p = append(p, fmt.Errorf("%s.%s_file: set either %s or %s_file, not both", where, key, key, key))
		}
	}
	both("webhook", "token", c.Webhook.Token, c.Webhook.TokenFile)
	for i, s := range c.Sources.Prometheus {
		s.HTTP.conflicts(fmt.Sprintf("sources.prometheus[%d]", i), both)
	}
	for i, s := range c.Sources.Alertmanager {
		s.HTTP.conflicts(fmt.Sprintf("sources.alertmanager[%d]", i), both)
	}
	return p
}

func (h *HTTP) conflicts(where string, both func(where, key, inline, file string)) {
	both(where, "bearer_token", h.BearerToken, h.BearerTokenFile)
	both(where+".basic_auth", "password", h.BasicAuth.Password, h.BasicAuth.PasswordFile)
}

// readSecrets fills each secret from its *_file key, so the rest of the program sees only values.
func (c *Config) readSecrets() Problems {
	var p Problems
	read := func(key, file string, dst *string) {
		if file == "" {
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			p = append(p, fmt.Errorf("%s: %w", key, err))
			return
		}
		v := strings.TrimSpace(string(b))
		if v == "" { // an empty token file would silently switch authentication off
			p = append(p, fmt.Errorf("%s: %s is empty", key, file))
			return
		}
		*dst = v
	}
	read("webhook.token_file", c.Webhook.TokenFile, &c.Webhook.Token)
	for i := range c.Sources.Prometheus {
		c.Sources.Prometheus[i].HTTP.readSecrets(fmt.Sprintf("sources.prometheus[%d]", i), read)
	}
	for i := range c.Sources.Alertmanager {
		c.Sources.Alertmanager[i].HTTP.readSecrets(fmt.Sprintf("sources.alertmanager[%d]", i), read)
	}
	if c.Auth.Mode == "basic" && c.Auth.Basic.UsersFile != "" {
		if err := c.Auth.Basic.readUsersFile(); err != nil {
			p = append(p, fmt.Errorf("auth.basic.users_file: %w", err))
		}
	}
	return p
}

func (h *HTTP) readSecrets(where string, read func(key, file string, dst *string)) {
	read(where+".bearer_token_file", h.BearerTokenFile, &h.BearerToken)
	read(where+".basic_auth.password_file", h.BasicAuth.PasswordFile, &h.BasicAuth.Password)
}

// readUsersFile adds the file's "name:bcrypt-hash" lines to Users; blank lines and # comments are skipped.
func (a *AuthBasic) readUsersFile() error {
	b, err := os.ReadFile(a.UsersFile)
	if err != nil {
		return err
	}
	if a.Users == nil {
		a.Users = map[string]string{}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		name, hash = strings.TrimSpace(name), strings.TrimSpace(hash)
		if !ok || name == "" || hash == "" {
			return fmt.Errorf("%s line %d: want name:bcrypt-hash", a.UsersFile, n)
		}
		if _, dup := a.Users[name]; dup {
			return fmt.Errorf("%s line %d: user %q is defined twice", a.UsersFile, n, name)
		}
		a.Users[name] = hash
	}
	return sc.Err()
}
