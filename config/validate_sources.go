package config

import (
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// headerNameRe is an HTTP header field name (an RFC 9110 token).
var headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func (c *Config) validateSources(k *checker) {
	names := map[string]bool{}
	source := func(where, name, raw string, interval, timeout Duration, h HTTP) {
		if !nameRe.MatchString(name) {
			k.add("%s.name: %q is not valid (letters, digits, _ . -)", where, name)
		} else if names[name] {
			k.add("%s.name: source name %q is used twice", where, name)
		}
		names[name] = true
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			k.add("%s.url: %q is not an http(s) URL", where, redactURL(raw))
		}
		k.positive(where+".interval", interval)
		k.positive(where+".timeout", timeout)
		for _, name := range slices.Sorted(maps.Keys(h.Headers)) {
			if !headerNameRe.MatchString(name) {
				k.add("%s.headers: %q is not a valid header name", where, name)
			}
		}
		if h.BasicAuth.Password != "" && h.BasicAuth.Username == "" {
			k.add("%s.basic_auth.username: required with a password", where)
		}
		if h.BearerToken != "" && h.BasicAuth.Username != "" {
			k.add("%s: set either a bearer token or basic_auth, not both", where)
		}
	}
	for i, s := range c.Sources.Prometheus {
		where := fmt.Sprintf("sources.prometheus[%d]", i)
		source(where, s.Name, s.URL, s.Interval, s.Timeout, s.HTTP)
		k.positive(where+".lookback", s.Lookback)
	}
	for i, s := range c.Sources.Alertmanager {
		source(fmt.Sprintf("sources.alertmanager[%d]", i), s.Name, s.URL, s.Interval, s.Timeout, s.HTTP)
	}
}

func (c *Config) validateSLIs(k *checker) {
	seen := map[string]bool{}
	for i, s := range c.SLIs {
		where := fmt.Sprintf("slis[%d]", i)
		if !nameRe.MatchString(s.Name) {
			k.add("%s.name: %q is not valid (letters, digits, _ . -)", where, s.Name)
		} else if seen[s.Name] {
			k.add("%s.name: SLI %q is declared twice", where, s.Name)
		}
		seen[s.Name] = true
		if strings.TrimSpace(s.Query) == "" {
			k.add("%s.query: required", where)
		}
		if s.Direction != "higher-is-better" && s.Direction != "lower-is-better" {
			k.add("%s.direction: %q must be higher-is-better or lower-is-better", where, s.Direction)
		}
		found := false
		for _, p := range c.Sources.Prometheus {
			found = found || p.Name == s.Source
		}
		switch {
		case s.Source == "" && len(c.Sources.Prometheus) == 0:
			k.add("%s.source: required, and sources.prometheus lists no source", where)
		case s.Source == "":
			k.add("%s.source: required when there are several Prometheus sources", where)
		case !found:
			k.add("%s.source: %q is not a configured Prometheus source", where, s.Source)
		}
		if s.Team != "" && c.TeamByName(s.Team) == nil {
			k.add("%s.team: %q is not a configured team", where, s.Team)
		}
		k.positive(where+".step", s.Step)
	}
}

func (c *Config) validateAuth(k *checker) {
	a := c.Auth
	switch a.Mode {
	case "none", "proxy", "basic":
	default:
		k.add("auth.mode: %q must be none, proxy or basic", a.Mode)
	}
	for i, t := range a.Proxy.Trusted {
		if _, err := netip.ParsePrefix(t); err != nil {
			if _, err := netip.ParseAddr(t); err != nil {
				k.add("auth.proxy.trusted[%d]: %q is not an address or CIDR like 10.0.0.5/32", i, t)
			}
		}
	}
	if a.Mode == "proxy" {
		if !headerNameRe.MatchString(a.Proxy.Header) {
			k.add("auth.proxy.header: %q is not a valid header name", a.Proxy.Header)
		}
		if len(a.Proxy.Trusted) == 0 {
			k.add("auth.proxy.trusted: required with mode proxy, or any client could claim to be anyone")
		}
	}
	if a.Mode == "basic" && len(a.Basic.Users) == 0 {
		k.add("auth.basic: mode basic needs at least one user in users or users_file")
	}
	for _, name := range slices.Sorted(maps.Keys(a.Basic.Users)) {
		hash := a.Basic.Users[name]
		if name == "" || strings.Contains(name, ":") {
			k.add("auth.basic.users: %q is not a valid user name", name)
		}
		if !isBcrypt(hash) { // never print the value: it may be a password pasted by mistake
			k.add("auth.basic.users.%s: not a bcrypt hash (want $2a$, $2b$ or $2y$ and 60 characters, e.g. from htpasswd -nB)", name)
		}
	}
}

func (c *Config) validateTV(k *checker) {
	for i, src := range c.TV.FrameAncestors {
		switch src {
		case "'self'", "'none'":
			continue
		}
		u, err := url.Parse(src)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || strings.ContainsAny(src, " ;,'\"") {
			k.add("tv.frame_ancestors[%d]: %q must be 'self', 'none' or an origin like https://dash.example.com", i, src)
		}
	}
	if len(c.TV.FrameAncestors) > 1 && slices.Contains(c.TV.FrameAncestors, "'none'") {
		k.add("tv.frame_ancestors: 'none' cannot be combined with other sources")
	}
}

func isBcrypt(h string) bool {
	return len(h) == 60 && (strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$"))
}
