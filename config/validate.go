package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

var (
	clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	weekday = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}
)

// Validate checks the whole configuration and reports every problem, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.Database.URL == "" {
		add("database.url: required (or DATABASE_URL)")
	}
	if c.Webhook.MaxBody < 1024 {
		add("webhook.max_body: %s is too small (at least 1KiB)", c.Webhook.MaxBody)
	}
	teams := map[string]bool{}
	for i := range c.Teams {
		t := &c.Teams[i]
		where := fmt.Sprintf("teams[%d]", i)
		if !nameRe.MatchString(t.Name) || t.Name == "unassigned" {
			add("%s.name: %q is not a valid team name", where, t.Name)
		}
		if teams[t.Name] {
			add("%s.name: team %q is declared twice", where, t.Name)
		}
		teams[t.Name] = true
		loc, err := time.LoadLocation(t.Timezone)
		if err != nil {
			add("%s.timezone: %v", where, err)
		} else {
			t.Location = loc
		}
		for _, d := range t.BusinessHours.Days {
			if !weekday[d] {
				add("%s.business_hours.days: %q is not one of mon, tue, wed, thu, fri, sat, sun", where, d)
			}
		}
		for key, v := range map[string]string{
			"business_hours.start": t.BusinessHours.Start, "business_hours.end": t.BusinessHours.End,
			"sleep_hours.start": t.SleepHours.Start, "sleep_hours.end": t.SleepHours.End,
		} {
			if !clockRe.MatchString(v) {
				add("%s.%s: %q is not a clock time like 08:00", where, key, v)
			}
		}
		if t.MinutesPerPage < 0 {
			add("%s.minutes_per_page: must not be negative", where)
		}
	}
	if c.Alerts.FlapThreshold < 0 || c.Alerts.RefireWindow < 0 {
		add("alerts: flap_threshold and refire_window must not be negative")
	}
	names := map[string]bool{}
	checkSource := func(kind, name, raw string, interval, timeout Duration) {
		where := fmt.Sprintf("sources.%s[%s]", kind, name)
		if !nameRe.MatchString(name) {
			add("sources.%s: name %q is not valid (letters, digits, _ . -)", kind, name)
		}
		if names[name] {
			add("%s: source name %q is used twice", where, name)
		}
		names[name] = true
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("%s.url: %q is not an http(s) URL", where, raw)
		}
		if interval <= 0 {
			add("%s.interval: must be positive", where)
		}
		if timeout <= 0 {
			add("%s.timeout: must be positive", where)
		}
	}
	for _, s := range c.Sources.Prometheus {
		checkSource("prometheus", s.Name, s.URL, s.Interval, s.Timeout)
		if s.Lookback <= 0 {
			add("sources.prometheus[%s].lookback: must be positive", s.Name)
		}
	}
	for _, s := range c.Sources.Alertmanager {
		checkSource("alertmanager", s.Name, s.URL, s.Interval, s.Timeout)
	}
	slis := map[string]bool{}
	for i, s := range c.SLIs {
		where := fmt.Sprintf("slis[%d]", i)
		if !nameRe.MatchString(s.Name) {
			add("%s.name: %q is not valid (letters, digits, _ . -)", where, s.Name)
		}
		if slis[s.Name] {
			add("%s.name: SLI %q is declared twice", where, s.Name)
		}
		slis[s.Name] = true
		if s.Query == "" {
			add("%s.query: required", where)
		}
		if s.Direction != "higher-is-better" && s.Direction != "lower-is-better" {
			add("%s.direction: %q must be higher-is-better or lower-is-better", where, s.Direction)
		}
		found := false
		for _, p := range c.Sources.Prometheus {
			found = found || p.Name == s.Source
		}
		if !found {
			add("%s.source: %q is not a configured Prometheus source", where, s.Source)
		}
		if s.Team != "" && !teams[s.Team] {
			add("%s.team: %q is not a configured team", where, s.Team)
		}
		if s.Step <= 0 {
			add("%s.step: must be positive", where)
		}
	}
	if c.Baseline.Weeks < 1 {
		add("baseline.weeks: must be at least 1")
	}
	if len(c.Baseline.Band) != 2 || c.Baseline.Band[0] < 0 || c.Baseline.Band[1] > 1 || c.Baseline.Band[0] >= c.Baseline.Band[1] {
		add("baseline.band: want two quantiles like [0.1, 0.9], low below high")
	}
	if c.Baseline.AbnormalAfter < 1 {
		add("baseline.abnormal_after: must be at least 1")
	}
	switch c.Auth.Mode {
	case "none", "proxy", "basic":
	default:
		add("auth.mode: %q must be none, proxy or basic", c.Auth.Mode)
	}
	return errors.Join(errs...)
}
