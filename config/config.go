// Package config turns opsreview's YAML file into a typed, validated configuration with defaults.
package config

import (
	"time"
)

// Config is the whole configuration file. Keys may be added, never renamed: users' files depend on them.
type Config struct {
	Listen          string   `yaml:"listen"`
	MetricsListen   string   `yaml:"metrics_listen"`
	Database        Database `yaml:"database"`
	Retention       Duration `yaml:"retention"`
	Webhook         Webhook  `yaml:"webhook"`
	Teams           []Team   `yaml:"teams"`
	PagingReceivers []string `yaml:"paging_receivers"`
	Alerts          Alerts   `yaml:"alerts"`
	Sources         Sources  `yaml:"sources"`
	SLIs            []SLI    `yaml:"slis"`
	Baseline        Baseline `yaml:"baseline"`
	Runbooks        Runbooks `yaml:"runbooks"`
	Auth            Auth     `yaml:"auth"`
	TV              TV       `yaml:"tv"`
	Demo            bool     `yaml:"-"` // set when no config file was given and demo data is served
}

// Database says where Postgres is. DATABASE_URL in the environment overrides URL.
type Database struct {
	URL     string `yaml:"url"`
	ReadURL string `yaml:"read_url"`
}

// Webhook configures the Alertmanager webhook receiver. Load fills Token from TokenFile.
type Webhook struct {
	Token     string   `yaml:"token"`
	TokenFile string   `yaml:"token_file"`
	MaxBody   ByteSize `yaml:"max_body"`
}

// Team owns the alerts whose labels match, and has its own timezone and working hours.
type Team struct {
	Name           string            `yaml:"name"`
	Timezone       string            `yaml:"timezone"`
	Match          map[string]string `yaml:"match"`
	BusinessHours  BusinessHours     `yaml:"business_hours"`
	SleepHours     HourRange         `yaml:"sleep_hours"`
	ToilBudget     Duration          `yaml:"toil_budget"`
	MinutesPerPage int               `yaml:"minutes_per_page"`

	Location *time.Location `yaml:"-"`
}

// BusinessHours are the weekdays and the clock range counted as business hours.
type BusinessHours struct {
	Days  []string `yaml:"days"`
	Start string   `yaml:"start"`
	End   string   `yaml:"end"`
}

// HourRange is a clock range, e.g. 22:00 to 08:00; it may wrap past midnight.
type HourRange struct {
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

// Alerts holds the episode rules shared by every team.
type Alerts struct {
	FlapThreshold Duration `yaml:"flap_threshold"`
	RefireWindow  Duration `yaml:"refire_window"`
	Ignore        []string `yaml:"ignore"`
}

// Sources lists the upstream servers the collectors read.
type Sources struct {
	Prometheus   []PrometheusSource   `yaml:"prometheus"`
	Alertmanager []AlertmanagerSource `yaml:"alertmanager"`
}

// PrometheusSource is one Prometheus-compatible query API (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics).
type PrometheusSource struct {
	Name     string   `yaml:"name"`
	URL      string   `yaml:"url"`
	Interval Duration `yaml:"interval"`
	Lookback Duration `yaml:"lookback"`
	Timeout  Duration `yaml:"timeout"`
	HTTP     `yaml:",inline"`
}

// AlertmanagerSource is one Alertmanager whose v2 API is polled.
type AlertmanagerSource struct {
	Name     string   `yaml:"name"`
	URL      string   `yaml:"url"`
	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
	HTTP     `yaml:",inline"`
}

// HTTP is how a source is reached: extra headers and optional credentials. Load fills
// BearerToken and BasicAuth.Password from their files.
type HTTP struct {
	Headers         map[string]string `yaml:"headers"`
	BearerToken     string            `yaml:"bearer_token"`
	BearerTokenFile string            `yaml:"bearer_token_file"`
	BasicAuth       BasicAuth         `yaml:"basic_auth"`
}

// BasicAuth is a username with a password, inline or from a file.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// SLI is a named PromQL expression that must return one series.
type SLI struct {
	Name      string   `yaml:"name"`
	Source    string   `yaml:"source"`
	Service   string   `yaml:"service"`
	Team      string   `yaml:"team"`
	Unit      string   `yaml:"unit"`
	Direction string   `yaml:"direction"`
	Objective *float64 `yaml:"objective"`
	Step      Duration `yaml:"step"`
	Query     string   `yaml:"query"`
}

// Baseline configures "know your normal".
type Baseline struct {
	Weeks         int       `yaml:"weeks"`
	Band          []float64 `yaml:"band"`
	AbnormalAfter int       `yaml:"abnormal_after"`
}

// Runbooks configures runbook discovery and checking.
type Runbooks struct {
	Annotations   []string `yaml:"annotations"`
	MaxAge        Duration `yaml:"max_age"`
	AllowHosts    []string `yaml:"allow_hosts"`
	CheckInterval Duration `yaml:"check_interval"`
}

// Auth selects how people sign in.
type Auth struct {
	Mode  string    `yaml:"mode"`
	Proxy AuthProxy `yaml:"proxy"`
	Basic AuthBasic `yaml:"basic"`
}

// AuthProxy trusts an identity header from listed proxy addresses.
type AuthProxy struct {
	Header  string   `yaml:"header"`
	Trusted []string `yaml:"trusted"`
}

// AuthBasic lists users with bcrypt hashes, inline or in a file of "name:hash" lines.
// With mode basic, Load adds the users of UsersFile to Users.
type AuthBasic struct {
	Users     map[string]string `yaml:"users"`
	UsersFile string            `yaml:"users_file"`
}

// TV configures the wall TV page.
type TV struct {
	// FrameAncestors are the CSP frame-ancestors sources allowed to embed /tv in a frame
	// (a dashboard wall, a kiosk page): 'self', 'none' or origins like https://dash.example.com.
	FrameAncestors []string `yaml:"frame_ancestors"`
}

// TeamByName returns the named team, or nil.
func (c *Config) TeamByName(name string) *Team {
	for i := range c.Teams {
		if c.Teams[i].Name == name {
			return &c.Teams[i]
		}
	}
	return nil
}

// TeamFor returns the name of the first team whose match labels all equal the alert's, or "" (unassigned).
func (c *Config) TeamFor(labels map[string]string) string {
	for _, t := range c.Teams {
		if len(t.Match) == 0 {
			continue
		}
		ok := true
		for k, v := range t.Match {
			if labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return t.Name
		}
	}
	return ""
}

// Ignored reports whether alerts with this alertname are left out of every count.
func (c *Config) Ignored(alertname string) bool {
	for _, a := range c.Alerts.Ignore {
		if a == alertname {
			return true
		}
	}
	return false
}

// IsPaging reports whether notifications to this receiver are pages.
func (c *Config) IsPaging(receiver string) bool {
	for _, r := range c.PagingReceivers {
		if r == receiver {
			return true
		}
	}
	return false
}
