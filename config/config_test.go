package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// productExample is the config block of PRODUCT.md, verbatim but for the token file path.
const productExample = `
listen: ":8080"                           # OPSREVIEW_LISTEN / --listen win
metrics_listen: ""                        # serve /metrics on its own address when set
database: {url: postgres://…, read_url: ""}   # read_url: a read replica for page loads
retention: 400d
webhook: {token_file: /etc/opsreview/webhook-token, max_body: 32MiB}   # or token: "…"
teams:
  - name: payments
    timezone: Europe/Berlin
    match: {team: payments}               # alert labels that assign an alert to the team
    business_hours: {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}
    sleep_hours: {start: "22:00", end: "08:00"}   # every day; the rest is "evening"
    toil_budget: 20h
    minutes_per_page: 15
paging_receivers: [pagerduty-payments]    # notifications to these receivers are pages
alerts: {flap_threshold: 5m, refire_window: 30m, ignore: [Watchdog, InfoInhibitor]}
sources:
  prometheus:   [{name: prom-eu, url: "http://prometheus:9090", interval: 1m, lookback: 8w, timeout: 30s,
                  headers: {X-Scope-OrgID: team-a}, bearer_token_file: "", basic_auth: {username: "", password_file: ""}}]
  alertmanager: [{name: am, url: "http://alertmanager:9093", interval: 30s, timeout: 10s}]
slis:
  - {name: checkout-errors, source: prom-eu, service: checkout, team: payments, unit: ratio,
     direction: lower-is-better, step: 5m,
     query: 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'}
baseline: {weeks: 4, band: [0.1, 0.9], abnormal_after: 3}
runbooks: {annotations: [runbook_url], max_age: 90d, allow_hosts: [wiki.internal], check_interval: 6h}
auth:
  mode: none                              # none | proxy | basic
  proxy: {header: X-Forwarded-User, trusted: [10.0.0.5/32]}
  basic: {users_file: /etc/opsreview/users}   # "name:bcrypt-hash" lines
`

// writeFile writes content to a new file in the test's temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadDoc loads doc as a config file with the environment overrides cleared.
func loadDoc(t *testing.T, doc string) (*Config, error) {
	t.Helper()
	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvListen, "")
	return Load(writeFile(t, "opsreview.yml", doc))
}

func mustLoad(t *testing.T, doc string) *Config {
	t.Helper()
	c, err := loadDoc(t, doc)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestProductExample(t *testing.T) {
	token := writeFile(t, "webhook-token", "s3cret-webhook\n")
	c := mustLoad(t, strings.Replace(productExample, "/etc/opsreview/webhook-token", token, 1))

	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("listen", c.Listen, ":8080")
	check("metrics_listen", c.MetricsListen, "")
	check("database.url", c.Database.URL, "postgres://…")
	check("database.read_url", c.Database.ReadURL, "")
	check("retention", c.Retention.D(), 400*24*time.Hour)
	check("webhook.token", c.Webhook.Token, "s3cret-webhook")
	check("webhook.max_body", c.Webhook.MaxBody, ByteSize(32<<20))

	if len(c.Teams) != 1 {
		t.Fatalf("teams: got %d, want 1", len(c.Teams))
	}
	tm := c.Teams[0]
	check("team.name", tm.Name, "payments")
	check("team.timezone", tm.Timezone, "Europe/Berlin")
	check("team.location", tm.Location.String(), "Europe/Berlin")
	check("team.match", tm.Match, map[string]string{"team": "payments"})
	check("team.business_hours", tm.BusinessHours, BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"})
	check("team.sleep_hours", tm.SleepHours, HourRange{Start: "22:00", End: "08:00"})
	check("team.toil_budget", tm.ToilBudget.D(), 20*time.Hour)
	check("team.minutes_per_page", tm.MinutesPerPage, 15)

	check("paging_receivers", c.PagingReceivers, []string{"pagerduty-payments"})
	check("alerts", c.Alerts, Alerts{FlapThreshold: Duration(5 * time.Minute), RefireWindow: Duration(30 * time.Minute), Ignore: []string{"Watchdog", "InfoInhibitor"}})

	check("sources.prometheus", c.Sources.Prometheus, []PrometheusSource{{
		Name: "prom-eu", URL: "http://prometheus:9090", Interval: Duration(time.Minute),
		Lookback: Duration(8 * 7 * 24 * time.Hour), Timeout: Duration(30 * time.Second),
		HTTP: HTTP{Headers: map[string]string{"X-Scope-OrgID": "team-a"}},
	}})
	check("sources.alertmanager", c.Sources.Alertmanager, []AlertmanagerSource{{
		Name: "am", URL: "http://alertmanager:9093", Interval: Duration(30 * time.Second), Timeout: Duration(10 * time.Second),
	}})
	check("slis", c.SLIs, []SLI{{
		Name: "checkout-errors", Source: "prom-eu", Service: "checkout", Team: "payments", Unit: "ratio",
		Direction: "lower-is-better", Step: Duration(5 * time.Minute),
		Query: `sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))`,
	}})
	check("baseline", c.Baseline, Baseline{Weeks: 4, Band: []float64{0.1, 0.9}, AbnormalAfter: 3})
	check("runbooks", c.Runbooks, Runbooks{
		Annotations: []string{"runbook_url"}, MaxAge: Duration(90 * 24 * time.Hour),
		AllowHosts: []string{"wiki.internal"}, CheckInterval: Duration(6 * time.Hour),
	})
	check("auth", c.Auth, Auth{
		Mode:  "none",
		Proxy: AuthProxy{Header: "X-Forwarded-User", Trusted: []string{"10.0.0.5/32"}},
		Basic: AuthBasic{UsersFile: "/etc/opsreview/users"},
	})
}

func TestLookups(t *testing.T) {
	c := mustLoad(t, `
teams:
  - {name: payments, match: {team: payments}}
  - {name: nobody}
  - {name: platform, match: {team: platform, env: prod}}
paging_receivers: [pager]
`)
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"team": "payments", "env": "prod"}, "payments"},
		{map[string]string{"team": "platform", "env": "prod"}, "platform"},
		{map[string]string{"team": "platform", "env": "dev"}, ""},
		{map[string]string{}, ""},
	} {
		if got := c.TeamFor(tc.labels); got != tc.want {
			t.Errorf("TeamFor(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
	if !c.Ignored("Watchdog") || c.Ignored("HighLatency") {
		t.Error("Ignored: want the default list Watchdog, InfoInhibitor")
	}
	if !c.IsPaging("pager") || c.IsPaging("slack") {
		t.Error("IsPaging: want only pager")
	}
	if c.TeamByName("platform") == nil || c.TeamByName("ghost") != nil {
		t.Error("TeamByName: want platform found, ghost not")
	}
}
