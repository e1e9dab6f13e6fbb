package review

import "time"

// AlertRule is one alerting rule as a Prometheus-compatible source reports it.
type AlertRule struct {
	ID            int64
	Source        string // the configured source name
	File          string // the rule file the group came from
	Group         string
	GroupInterval time.Duration // the group's evaluation interval
	Alertname     string
	Expr          string
	For           time.Duration
	Labels        map[string]string
	Annotations   map[string]string // raw templates, as written in the rule file
	Health        string            // ok, err or unknown
	LastError     string
	FirstSeen     time.Time
	LastSeen      time.Time
	GoneAt        *time.Time // when the rule was first missing from its source; nil while present
}

// Gone reports whether the rule has disappeared from its source.
func (r AlertRule) Gone() bool { return r.GoneAt != nil }

// Runbook returns the first non-empty annotation among keys (e.g. runbook_url), or "".
func (r AlertRule) Runbook(keys []string) string {
	for _, k := range keys {
		if v := r.Annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

// AlertRuleVersion is the content of a rule from the moment it was first seen that way.
type AlertRuleVersion struct {
	RuleID      int64
	SeenAt      time.Time
	Expr        string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
}
