package config

import (
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// applyDefaults fills every unset key with its documented default.
func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = ":8080"
	}
	if c.Database.URL == "" {
		c.Database.URL = "postgres://postgres@127.0.0.1:5432/opsreview?sslmode=disable"
	}
	if c.Retention == 0 {
		c.Retention = Duration(400 * day)
	}
	if c.Webhook.MaxBody == 0 {
		c.Webhook.MaxBody = 32 << 20
	}
	for i := range c.Teams {
		c.Teams[i].applyDefaults()
	}
	if c.Alerts.FlapThreshold == 0 {
		c.Alerts.FlapThreshold = Duration(5 * time.Minute)
	}
	if c.Alerts.RefireWindow == 0 {
		c.Alerts.RefireWindow = Duration(30 * time.Minute)
	}
	if c.TV.FrameAncestors == nil {
		c.TV.FrameAncestors = []string{"'self'"}
	}
	if c.Alerts.Ignore == nil {
		c.Alerts.Ignore = []string{"Watchdog", "InfoInhibitor"}
	}
	for i := range c.Sources.Prometheus {
		s := &c.Sources.Prometheus[i]
		if s.Interval == 0 {
			s.Interval = Duration(time.Minute)
		}
		if s.Lookback == 0 {
			s.Lookback = Duration(8 * week)
		}
		if s.Timeout == 0 {
			s.Timeout = Duration(30 * time.Second)
		}
	}
	for i := range c.Sources.Alertmanager {
		s := &c.Sources.Alertmanager[i]
		if s.Interval == 0 {
			s.Interval = Duration(30 * time.Second)
		}
		if s.Timeout == 0 {
			s.Timeout = Duration(10 * time.Second)
		}
	}
	for i := range c.SLIs {
		s := &c.SLIs[i]
		if s.Step == 0 {
			s.Step = Duration(5 * time.Minute)
		}
		if s.Source == "" && len(c.Sources.Prometheus) == 1 {
			s.Source = c.Sources.Prometheus[0].Name
		}
	}
	if c.Baseline.Weeks == 0 {
		c.Baseline.Weeks = 4
	}
	if len(c.Baseline.Band) == 0 {
		c.Baseline.Band = []float64{0.1, 0.9}
	}
	if c.Baseline.AbnormalAfter == 0 {
		c.Baseline.AbnormalAfter = 3
	}
	if len(c.Runbooks.Annotations) == 0 {
		c.Runbooks.Annotations = []string{"runbook_url"}
	}
	if c.Runbooks.MaxAge == 0 {
		c.Runbooks.MaxAge = Duration(90 * day)
	}
	if c.Runbooks.CheckInterval == 0 {
		c.Runbooks.CheckInterval = Duration(6 * time.Hour)
	}
	if c.Auth.Mode == "" {
		c.Auth.Mode = "none"
	}
	if c.Auth.Proxy.Header == "" {
		c.Auth.Proxy.Header = "X-Forwarded-User"
	}
}

// applyDefaults fills a team's unset keys: UTC, Mon–Fri 08–18 business, 22–08 sleep.
func (t *Team) applyDefaults() {
	if t.Timezone == "" {
		t.Timezone = "UTC"
	}
	if len(t.BusinessHours.Days) == 0 {
		t.BusinessHours.Days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	if t.BusinessHours.Start == "" {
		t.BusinessHours.Start = "08:00"
	}
	if t.BusinessHours.End == "" {
		t.BusinessHours.End = "18:00"
	}
	if t.SleepHours.Start == "" {
		t.SleepHours.Start = "22:00"
	}
	if t.SleepHours.End == "" {
		t.SleepHours.End = "08:00"
	}
	if t.ToilBudget == 0 {
		t.ToilBudget = Duration(20 * time.Hour)
	}
	if t.MinutesPerPage == 0 {
		t.MinutesPerPage = 15
	}
}
