package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvListen, "")
	fromNothing, err := Load("")
	if err != nil {
		t.Fatalf("Load(\"\"): %v", err)
	}
	for name, c := range map[string]*Config{
		"no file":    fromNothing,
		"empty file": mustLoad(t, ""),
		"only null":  mustLoad(t, "listen:\ndatabase:\nteams:\n"),
	} {
		t.Run(name, func(t *testing.T) {
			want := &Config{
				Listen:    ":8080",
				Database:  Database{URL: "postgres://postgres@127.0.0.1:5432/opsreview?sslmode=disable"},
				Retention: Duration(400 * day),
				Webhook:   Webhook{MaxBody: 32 << 20},
				Alerts:    Alerts{FlapThreshold: Duration(5 * time.Minute), RefireWindow: Duration(30 * time.Minute), Ignore: []string{"Watchdog", "InfoInhibitor"}},
				Baseline:  Baseline{Weeks: 4, Band: []float64{0.1, 0.9}, AbnormalAfter: 3},
				Runbooks:  Runbooks{Annotations: []string{"runbook_url"}, MaxAge: Duration(90 * day), CheckInterval: Duration(6 * time.Hour)},
				Auth:      Auth{Mode: "none", Proxy: AuthProxy{Header: "X-Forwarded-User"}},
				TV:        TV{FrameAncestors: []string{"'self'"}},
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got  %+v\nwant %+v", c, want)
			}
		})
	}
}

func TestNestedDefaults(t *testing.T) {
	c := mustLoad(t, `
teams: [{name: payments}]
alerts: {ignore: []}
sources:
  prometheus: [{name: prom, url: "http://prom:9090"}]
  alertmanager: [{name: am, url: "http://am:9093"}]
slis: [{name: errors, direction: lower-is-better, query: up}]
`)
	tm := c.Teams[0]
	if tm.Timezone != "UTC" || tm.Location != time.UTC || tm.MinutesPerPage != 15 || tm.ToilBudget.D() != 20*time.Hour ||
		!reflect.DeepEqual(tm.BusinessHours, BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"}) ||
		tm.SleepHours != (HourRange{Start: "22:00", End: "08:00"}) {
		t.Errorf("team defaults: %+v", tm)
	}
	if len(c.Alerts.Ignore) != 0 {
		t.Errorf("alerts.ignore: [] must switch the default list off, got %v", c.Alerts.Ignore)
	}
	p := c.Sources.Prometheus[0]
	if p.Interval.D() != time.Minute || p.Lookback.D() != 8*week || p.Timeout.D() != 30*time.Second {
		t.Errorf("prometheus defaults: %+v", p)
	}
	a := c.Sources.Alertmanager[0]
	if a.Interval.D() != 30*time.Second || a.Timeout.D() != 10*time.Second {
		t.Errorf("alertmanager defaults: %+v", a)
	}
	if s := c.SLIs[0]; s.Source != "prom" || s.Step.D() != 5*time.Minute {
		t.Errorf("sli defaults: want the only source and step 5m, got %+v", s)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	path := writeFile(t, "opsreview.yml", "listen: :9000\ndatabase: {url: postgres://file@db/opsreview}\n")
	t.Setenv(EnvDatabaseURL, "postgres://env@db/opsreview")
	t.Setenv(EnvListen, "127.0.0.1:7000")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.URL != "postgres://env@db/opsreview" || c.Listen != "127.0.0.1:7000" {
		t.Errorf("environment must win over the file: url %q, listen %q", c.Database.URL, c.Listen)
	}

	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvListen, "")
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if c.Database.URL != "postgres://file@db/opsreview" || c.Listen != ":9000" {
		t.Errorf("without environment the file holds: url %q, listen %q", c.Database.URL, c.Listen)
	}
}

func TestSecretsFromFiles(t *testing.T) {
	token := writeFile(t, "token", "  webhook-token\n")
	bearer := writeFile(t, "bearer", "bearer-token\n")
	password := writeFile(t, "password", "am-password")
	users := writeFile(t, "users", "# people\n\nalice:"+hashA+"\n bob : "+hashB+"\n")
	c := mustLoad(t, `
webhook: {token_file: `+token+`}
sources:
  prometheus: [{name: prom, url: "http://prom:9090", bearer_token_file: `+bearer+`}]
  alertmanager: [{name: am, url: "http://am:9093", basic_auth: {username: ops, password_file: `+password+`}}]
auth: {mode: basic, basic: {users_file: `+users+`}}
`)
	if c.Webhook.Token != "webhook-token" || c.Webhook.TokenFile != token {
		t.Errorf("webhook: %+v", c.Webhook)
	}
	if got := c.Sources.Prometheus[0].BearerToken; got != "bearer-token" {
		t.Errorf("bearer token: %q", got)
	}
	if got := c.Sources.Alertmanager[0].BasicAuth.Password; got != "am-password" {
		t.Errorf("basic auth password: %q", got)
	}
	if want := map[string]string{"alice": hashA, "bob": hashB}; !reflect.DeepEqual(c.Auth.Basic.Users, want) {
		t.Errorf("users: %v", c.Auth.Basic.Users)
	}
}

func TestSecretFileProblems(t *testing.T) {
	empty := writeFile(t, "empty", "\n")
	bad := writeFile(t, "users", "alice\n")
	for _, tc := range []struct{ name, doc, want string }{
		{"missing file", "webhook: {token_file: /nonexistent/token}", "webhook.token_file: open /nonexistent/token"},
		{"empty file", "webhook: {token_file: " + empty + "}", "webhook.token_file: " + empty + " is empty"},
		{"missing password file", `sources: {alertmanager: [{name: am, url: "http://am", basic_auth: {username: u, password_file: /nonexistent/pw}}]}`,
			"sources.alertmanager[0].basic_auth.password_file: open /nonexistent/pw"},
		{"bad users file", "auth: {mode: basic, basic: {users_file: " + bad + "}}", "auth.basic.users_file: " + bad + " line 1: want name:bcrypt-hash"},
		{"users file ignored unless basic", "auth: {mode: none, basic: {users_file: /nonexistent/users}}", ""},
		{"token twice", "webhook: {token: abc, token_file: /x}", "webhook.token_file: set either token or token_file, not both"},
		{"bearer twice", `sources: {prometheus: [{name: p, url: "http://p", bearer_token: a, bearer_token_file: /x}]}`,
			"sources.prometheus[0].bearer_token_file: set either bearer_token or bearer_token_file, not both"},
		{"password twice", `sources: {prometheus: [{name: p, url: "http://p", basic_auth: {username: u, password: a, password_file: /x}}]}`,
			"sources.prometheus[0].basic_auth.password_file: set either password or password_file, not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDoc(t, tc.doc)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("want no error, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown top-level key", "listen: :8080\nlisten_addr: :9090\n", `line 2: top level: unknown key "listen_addr"`},
		{"typo suggests", "teams:\n  - name: a\n    bussiness_hours: {}\n", `line 3: teams[0]: unknown key "bussiness_hours" (did you mean "business_hours"?)`},
		{"unknown nested key", "sources:\n  prometheus:\n    - name: p\n      url: http://p\n      basic_auth: {user: x}\n",
			`line 5: sources.prometheus[0].basic_auth: unknown key "user" (did you mean "username"?)`},
		{"location is not a key", "teams: [{name: a, location: UTC}]", `line 1: teams[0]: unknown key "location"`},
		{"bad duration", "retention: 400 days\n", `line 1: retention: unknown unit " days" in duration "400 days"`},
		{"duration without unit", "alerts:\n  flap_threshold: 300\n", `line 2: alerts.flap_threshold: not a valid duration string: "300"`},
		{"bad size", "webhook: {max_body: 32MB5}", `line 1: webhook.max_body: invalid size "32MB5"`},
		{"bad int", "baseline: {weeks: four}", "line 1: baseline.weeks: cannot unmarshal !!str `four` into int"},
		{"scalar for list", "paging_receivers: pagerduty\n", `line 1: paging_receivers: want a list, got "pagerduty"`},
		{"list for mapping", "database: [postgres://x]\n", "line 1: database: want a mapping (key: value), got a list"},
		{"mapping in headers", "sources: {prometheus: [{name: p, url: 'http://p', headers: {X-A: {b: c}}}]}",
			"line 1: sources.prometheus[0].headers.X-A: cannot unmarshal !!map into string"},
		{"syntax", "teams: [\n", "yaml: line 1: did not find expected node content"},
		{"duplicate key", "listen: :1\nlisten: :2\n", `mapping key "listen" already defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDoc(t, tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseProblemsAllAtOnce(t *testing.T) {
	_, err := loadDoc(t, "listn: :8080\nretention: forever\nteams: [{name: a, tz: UTC}]\n")
	var p Problems
	if !errors.As(err, &p) || len(p) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error must be one line: %q", err)
	}
	if !strings.HasPrefix(err.Error(), "loading config ") {
		t.Errorf("the error must say what was being done: %q", err)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	c := mustLoad(t, `
teams:
  - {name: a, match: &m {team: shared}}
  - {name: b, match: *m}
sources:
  prometheus:
    - <<: {interval: 2m, timeout: 20s}
      name: prom
      url: http://prom:9090
`)
	if got := c.Sources.Prometheus[0].Interval.D(); got != 2*time.Minute {
		t.Errorf("merged interval: %v", got)
	}
	if got := c.Teams[1].Match["team"]; got != "shared" {
		t.Errorf("aliased match: %q", got)
	}
}
