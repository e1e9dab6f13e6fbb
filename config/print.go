package config

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Secret is what Redacted puts in place of every secret value.
const Secret = "<secret>"

// Redacted returns a deep copy of c with every secret replaced by Secret: the webhook token,
// bearer tokens, basic-auth passwords, passwords in the database and source URLs, credential-like
// headers and the basic users' hashes. File paths stay, so the output shows where secrets come from.
// Empty secrets stay empty, so the output also shows which are unset.
func (c *Config) Redacted() *Config {
	r := *c
	r.Database.URL = redactDSN(c.Database.URL)
	r.Database.ReadURL = redactDSN(c.Database.ReadURL)
	r.Webhook.Token = hide(c.Webhook.Token)
	r.Teams = slices.Clone(c.Teams)
	for i := range r.Teams {
		t := &r.Teams[i]
		t.Match = maps.Clone(t.Match)
		t.BusinessHours.Days = slices.Clone(t.BusinessHours.Days)
	}
	r.PagingReceivers = slices.Clone(c.PagingReceivers)
	r.Alerts.Ignore = slices.Clone(c.Alerts.Ignore)
	r.Sources.Prometheus = slices.Clone(c.Sources.Prometheus)
	for i := range r.Sources.Prometheus {
		s := &r.Sources.Prometheus[i]
		s.URL, s.HTTP = redactURL(s.URL), s.HTTP.redacted()
	}
	r.Sources.Alertmanager = slices.Clone(c.Sources.Alertmanager)
	for i := range r.Sources.Alertmanager {
		s := &r.Sources.Alertmanager[i]
		s.URL, s.HTTP = redactURL(s.URL), s.HTTP.redacted()
	}
	r.SLIs = slices.Clone(c.SLIs)
	for i := range r.SLIs {
		if o := r.SLIs[i].Objective; o != nil {
			v := *o
			r.SLIs[i].Objective = &v
		}
	}
	r.Baseline.Band = slices.Clone(c.Baseline.Band)
	r.Runbooks.Annotations = slices.Clone(c.Runbooks.Annotations)
	r.Runbooks.AllowHosts = slices.Clone(c.Runbooks.AllowHosts)
	r.Auth.Proxy.Trusted = slices.Clone(c.Auth.Proxy.Trusted)
	r.Auth.Basic.Users = nil
	if c.Auth.Basic.Users != nil {
		r.Auth.Basic.Users = make(map[string]string, len(c.Auth.Basic.Users))
		for name, hash := range c.Auth.Basic.Users {
			r.Auth.Basic.Users[name] = hide(hash)
		}
	}
	return &r
}

// WriteYAML writes the effective configuration as YAML, redacted, with durations in Prometheus
// form and sizes like 32MiB. It is what opsreview --check-config prints.
func (c *Config) WriteYAML(w io.Writer) error {
	if _, err := io.WriteString(w, "# effective opsreview configuration; secrets are shown as "+Secret+"\n"); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(c.Redacted()); err != nil {
		return fmt.Errorf("writing config as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("writing config as YAML: %w", err)
	}
	return nil
}

func (h HTTP) redacted() HTTP {
	h.BearerToken = hide(h.BearerToken)
	h.BasicAuth.Password = hide(h.BasicAuth.Password)
	if h.Headers != nil {
		headers := make(map[string]string, len(h.Headers))
		for name, v := range h.Headers {
			if sensitiveHeader(name) {
				v = hide(v)
			}
			headers[name] = v
		}
		h.Headers = headers
	}
	return h
}

// sensitiveHeader guesses whether a header carries a credential (Authorization, X-Api-Key…);
// tenant headers such as X-Scope-OrgID are kept, they help debugging and grant nothing alone.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "token", "key", "secret", "pass", "cookie", "session", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func hide(v string) string {
	if v == "" {
		return ""
	}
	return Secret
}

var (
	dsnPasswordRe   = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)
	queryPasswordRe = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#]*`)
)

// redactDSN hides the password in a Postgres connection string, URL or key=value form.
func redactDSN(dsn string) string {
	if dsn != "" && !strings.Contains(dsn, "://") {
		return dsnPasswordRe.ReplaceAllString(dsn, "${1}="+Secret)
	}
	return redactURL(dsn)
}

// redactURL hides the password in a URL's user info and in password query parameters. It works
// on the text rather than re-encoding a parsed URL, so the rest reads exactly as the user wrote
// it, and so that a URL too malformed to parse leaks nothing either. When in doubt about where
// the user info ends it hides too much rather than too little.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return queryPasswordRe.ReplaceAllString(raw, "${1}"+Secret)
	}
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
			rest = user + ":" + Secret + rest[at:]
		}
	}
	return scheme + "://" + queryPasswordRe.ReplaceAllString(rest, "${1}"+Secret)
}
