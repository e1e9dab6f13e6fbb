package config

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	clockRe     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
	nameRe      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	weekday     = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}
)

// Problems is everything wrong with a configuration, each problem naming its key. It prints on
// one line, so that a bad config stops the program with one clear line listing all of them.
type Problems []error

// Error joins the problems with "; ".
func (p Problems) Error() string {
	msgs := make([]string, len(p))
	for i, e := range p {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As look at each problem.
func (p Problems) Unwrap() []error { return p }

// checker collects problems; each check adds to it rather than stopping at the first.
type checker struct{ p Problems }

func (k *checker) add(format string, a ...any) { k.p = append(k.p, fmt.Errorf(format, a...)) }

func (k *checker) positive(key string, d Duration) {
	if d <= 0 {
		k.add("%s: must be positive", key)
	}
}

func (k *checker) nonEmpty(key string, list []string) {
	for i, v := range list {
		if strings.TrimSpace(v) == "" {
			k.add("%s[%d]: must not be empty", key, i)
		}
	}
}

// Validate checks the whole configuration and reports every problem at once, each naming its
// key (teams[0].timezone: unknown time zone Mars/Base). It fills Location on every team.
// It expects defaults applied, as Load does.
func (c *Config) Validate() error {
	k := &checker{}
	c.validateServer(k)
	c.validateTeams(k)
	c.validateSources(k)
	c.validateSLIs(k)
	c.validateAnalysis(k)
	c.validateAuth(k)
	c.validateTV(k)
	if len(k.p) == 0 {
		return nil
	}
	return k.p
}

func (c *Config) validateServer(k *checker) {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		k.add("listen: %q is not an address like :8080", c.Listen)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			k.add("metrics_listen: %q is not an address like :9090", c.MetricsListen)
		} else if c.MetricsListen == c.Listen {
			k.add("metrics_listen: %q is the same as listen; leave it empty to serve /metrics there", c.MetricsListen)
		}
	}
	if c.Database.URL == "" {
		k.add("database.url: required (or %s)", EnvDatabaseURL)
	}
	k.positive("retention", c.Retention)
	if c.Webhook.MaxBody < 1024 {
		k.add("webhook.max_body: %s is too small (at least 1KiB)", c.Webhook.MaxBody)
	}
	k.nonEmpty("paging_receivers", c.PagingReceivers)
}

func (c *Config) validateTeams(k *checker) {
	seen := map[string]bool{}
	for i := range c.Teams {
		t := &c.Teams[i]
		where := fmt.Sprintf("teams[%d]", i)
		if !nameRe.MatchString(t.Name) || t.Name == Unassigned {
			k.add("%s.name: %q is not a valid team name (letters, digits, _ . -; not %q)", where, t.Name, Unassigned)
		} else if seen[t.Name] {
			k.add("%s.name: team %q is declared twice", where, t.Name)
		}
		seen[t.Name] = true
		if loc, err := time.LoadLocation(t.Timezone); err != nil {
			k.add("%s.timezone: %v", where, err)
		} else {
			t.Location = loc
		}
		for _, name := range slices.Sorted(maps.Keys(t.Match)) {
			if !labelNameRe.MatchString(name) {
				k.add("%s.match: %q is not a valid label name", where, name)
			}
		}
		days := map[string]bool{}
		for _, d := range t.BusinessHours.Days {
			if !weekday[d] {
				k.add("%s.business_hours.days: %q is not one of mon, tue, wed, thu, fri, sat, sun", where, d)
			} else if days[d] {
				k.add("%s.business_hours.days: %q is listed twice", where, d)
			}
			days[d] = true
		}
		start := k.clock(where+".business_hours.start", t.BusinessHours.Start)
		end := k.clock(where+".business_hours.end", t.BusinessHours.End)
		if start >= 0 && end >= 0 && start >= end {
			k.add("%s.business_hours: start %s must be before end %s (sleep_hours may wrap midnight, business hours may not)",
				where, t.BusinessHours.Start, t.BusinessHours.End)
		}
		k.clock(where+".sleep_hours.start", t.SleepHours.Start)
		k.clock(where+".sleep_hours.end", t.SleepHours.End)
		if t.ToilBudget < 0 {
			k.add("%s.toil_budget: must not be negative", where)
		}
		if t.MinutesPerPage < 0 {
			k.add("%s.minutes_per_page: must not be negative", where)
		}
	}
}

// clock checks a clock time and returns its minute of the day, or -1.
func (k *checker) clock(key, v string) int {
	m, ok := parseClock(v)
	if !ok {
		k.add("%s: %q is not a clock time like 08:00", key, v)
		return -1
	}
	return m
}

func (c *Config) validateAnalysis(k *checker) {
	if c.Alerts.FlapThreshold < 0 {
		k.add("alerts.flap_threshold: must not be negative")
	}
	if c.Alerts.RefireWindow < 0 {
		k.add("alerts.refire_window: must not be negative")
	}
	k.nonEmpty("alerts.ignore", c.Alerts.Ignore)
	if c.Baseline.Weeks < 1 {
		k.add("baseline.weeks: must be at least 1")
	}
	if b := c.Baseline.Band; len(b) != 2 || b[0] < 0 || b[1] > 1 || b[0] >= b[1] {
		k.add("baseline.band: %v: want two quantiles like [0.1, 0.9], low below high, within [0, 1]", b)
	}
	if c.Baseline.AbnormalAfter < 1 {
		k.add("baseline.abnormal_after: must be at least 1")
	}
	k.nonEmpty("runbooks.annotations", c.Runbooks.Annotations)
	k.positive("runbooks.max_age", c.Runbooks.MaxAge)
	k.positive("runbooks.check_interval", c.Runbooks.CheckInterval)
	for i, h := range c.Runbooks.AllowHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			k.add("runbooks.allow_hosts[%d]: %q: want a host name like wiki.internal, not a URL", i, h)
		}
	}
}
