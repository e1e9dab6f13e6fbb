package config

import (
	"errors"
	"strings"
	"testing"
)

// Well-formed bcrypt hashes (never of a real password).
const (
	hashA = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	hashB = "$2y$05$C6UzMDM.H6dfI/f/IKcEeOxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
)

const prom = `sources: {prometheus: [{name: prom, url: "http://prom:9090"}]}` + "\n"

func TestValidateProblems(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"listen without port", "listen: '8080'", `listen: "8080" is not an address like :8080`},
		{"metrics_listen bad", "metrics_listen: metrics", `metrics_listen: "metrics" is not an address`},
		{"metrics_listen same as listen", "listen: :8080\nmetrics_listen: :8080", `metrics_listen: ":8080" is the same as listen`},
		{"max_body too small", "webhook: {max_body: 512B}", "webhook.max_body: 512B is too small (at least 1KiB)"},
		{"empty paging receiver", "paging_receivers: [pager, '']", "paging_receivers[1]: must not be empty"},

		{"team name missing", "teams: [{timezone: UTC}]", `teams[0].name: "" is not a valid team name`},
		{"team named unassigned", "teams: [{name: unassigned}]", `teams[0].name: "unassigned" is not a valid team name`},
		{"team twice", "teams: [{name: a}, {name: a}]", `teams[1].name: team "a" is declared twice`},
		{"unknown time zone", "teams: [{name: a, timezone: Mars/Base}]", "teams[0].timezone: unknown time zone Mars/Base"},
		{"bad match label", "teams: [{name: a, match: {team-name: a}}]", `teams[0].match: "team-name" is not a valid label name`},
		{"bad day", "teams: [{name: a, business_hours: {days: [monday]}}]", `teams[0].business_hours.days: "monday" is not one of mon`},
		{"day twice", "teams: [{name: a, business_hours: {days: [mon, mon]}}]", `teams[0].business_hours.days: "mon" is listed twice`},
		{"bad clock", "teams: [{name: a, business_hours: {start: '8am'}}]", `teams[0].business_hours.start: "8am" is not a clock time like 08:00`},
		{"clock without leading zero", "teams: [{name: a, sleep_hours: {end: '8:00'}}]", `teams[0].sleep_hours.end: "8:00" is not a clock time`},
		{"clock 24:30", "teams: [{name: a, sleep_hours: {start: '24:30'}}]", `teams[0].sleep_hours.start: "24:30" is not a clock time`},
		{"business end before start", "teams: [{name: a, business_hours: {start: '18:00', end: '08:00'}}]",
			"teams[0].business_hours: start 18:00 must be before end 08:00"},
		{"business empty", "teams: [{name: a, business_hours: {start: '09:00', end: '09:00'}}]", "teams[0].business_hours: start 09:00 must be before end 09:00"},
		{"negative minutes_per_page", "teams: [{name: a, minutes_per_page: -5}]", "teams[0].minutes_per_page: must not be negative"},

		{"empty ignore entry", "alerts: {ignore: [Watchdog, '']}", "alerts.ignore[1]: must not be empty"},

		{"source name bad", `sources: {prometheus: [{name: "prom eu", url: "http://p"}]}`, `sources.prometheus[0].name: "prom eu" is not valid`},
		{"source name twice", `sources: {prometheus: [{name: x, url: "http://p"}], alertmanager: [{name: x, url: "http://a"}]}`,
			`sources.alertmanager[0].name: source name "x" is used twice`},
		{"source url missing", `sources: {alertmanager: [{name: am}]}`, `sources.alertmanager[0].url: "" is not an http(s) URL`},
		{"source url no scheme", `sources: {prometheus: [{name: p, url: "prometheus:9090"}]}`, `sources.prometheus[0].url: "prometheus:9090" is not an http(s) URL`},
		{"source url hides password", `sources: {prometheus: [{name: p, url: "ftp://u:hunter2@p"}]}`, `sources.prometheus[0].url: "ftp://u:<secret>@p" is not an http(s) URL`},
		{"bad header name", `sources: {prometheus: [{name: p, url: "http://p", headers: {"X Org": a}}]}`, `sources.prometheus[0].headers: "X Org" is not a valid header name`},
		{"password without username", `sources: {prometheus: [{name: p, url: "http://p", basic_auth: {password: pw}}]}`,
			"sources.prometheus[0].basic_auth.username: required with a password"},
		{"bearer and basic", `sources: {prometheus: [{name: p, url: "http://p", bearer_token: t, basic_auth: {username: u, password: pw}}]}`,
			"sources.prometheus[0]: set either a bearer token or basic_auth, not both"},

		{"sli name bad", prom + "slis: [{name: 'a b', direction: lower-is-better, query: up}]", `slis[0].name: "a b" is not valid`},
		{"sli twice", prom + "slis: [{name: a, direction: lower-is-better, query: up}, {name: a, direction: lower-is-better, query: up}]",
			`slis[1].name: SLI "a" is declared twice`},
		{"sli query missing", prom + "slis: [{name: a, direction: lower-is-better}]", "slis[0].query: required"},
		{"sli direction", prom + "slis: [{name: a, direction: down, query: up}]", `slis[0].direction: "down" must be higher-is-better or lower-is-better`},
		{"sli source unknown", prom + "slis: [{name: a, source: thanos, direction: lower-is-better, query: up}]",
			`slis[0].source: "thanos" is not a configured Prometheus source`},
		{"sli source needed", `sources: {prometheus: [{name: a, url: "http://a"}, {name: b, url: "http://b"}]}` + "\nslis: [{name: s, direction: lower-is-better, query: up}]",
			"slis[0].source: required when there are several Prometheus sources"},
		{"sli without sources", "slis: [{name: s, direction: lower-is-better, query: up}]", "slis[0].source: required, and sources.prometheus lists no source"},
		{"sli team unknown", prom + "slis: [{name: a, team: ghosts, direction: lower-is-better, query: up}]", `slis[0].team: "ghosts" is not a configured team`},

		{"baseline weeks", "baseline: {weeks: -1}", "baseline.weeks: must be at least 1"},
		{"baseline band order", "baseline: {band: [0.9, 0.1]}", "baseline.band: [0.9 0.1]: want two quantiles"},
		{"baseline band range", "baseline: {band: [0.1, 90]}", "baseline.band: [0.1 90]: want two quantiles"},
		{"baseline band length", "baseline: {band: [0.5]}", "baseline.band: [0.5]: want two quantiles"},
		{"abnormal_after", "baseline: {abnormal_after: -2}", "baseline.abnormal_after: must be at least 1"},
		{"runbook annotation empty", "runbooks: {annotations: ['']}", "runbooks.annotations[0]: must not be empty"},
		{"allow_hosts URL", "runbooks: {allow_hosts: ['https://wiki.internal/']}", `runbooks.allow_hosts[0]: "https://wiki.internal/": want a host name`},

		{"auth mode", "auth: {mode: oauth}", `auth.mode: "oauth" must be none, proxy or basic`},
		{"proxy without trusted", "auth: {mode: proxy}", "auth.proxy.trusted: required with mode proxy"},
		{"proxy trusted bad", "auth: {proxy: {trusted: [10.0.0.0/33]}}", `auth.proxy.trusted[0]: "10.0.0.0/33" is not an address or CIDR`},
		{"proxy header bad", "auth: {mode: proxy, proxy: {header: 'X User', trusted: [10.0.0.5]}}", `auth.proxy.header: "X User" is not a valid header name`},
		{"basic without users", "auth: {mode: basic}", "auth.basic: mode basic needs at least one user"},
		{"basic plain password", "auth: {mode: basic, basic: {users: {alice: hunter2}}}", "auth.basic.users.alice: not a bcrypt hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDoc(t, tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant it to contain %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error prints a secret: %v", err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"sleep wraps midnight", "teams: [{name: a, sleep_hours: {start: '23:00', end: '07:00'}}]"},
		{"sleep within a day", "teams: [{name: a, sleep_hours: {start: '00:00', end: '06:00'}}]"},
		{"no sleep hours", "teams: [{name: a, sleep_hours: {start: '00:00', end: '00:00'}}]"},
		{"business to midnight", "teams: [{name: a, business_hours: {days: [sat, sun], start: '00:00', end: '24:00'}}]"},
		{"objective outside [0,1]", prom + "slis: [{name: p99, unit: ratio, objective: 250, direction: lower-is-better, query: up}]"},
		{"proxy with an address", "auth: {mode: proxy, proxy: {trusted: [10.0.0.5, 'fd00::/8']}}"},
		{"basic with users", "auth: {mode: basic, basic: {users: {alice: '" + hashA + "', bob: '" + hashB + "'}}}"},
		{"tenant header", `sources: {prometheus: [{name: mimir, url: "https://mimir/prometheus", headers: {X-Scope-OrgID: team-a}}]}`},
		{"empty credentials", `sources: {prometheus: [{name: p, url: "http://p", bearer_token_file: "", basic_auth: {username: "", password_file: ""}}]}`},
		{"metrics on its own port", "metrics_listen: 127.0.0.1:9090"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadDoc(t, tc.doc); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := loadDoc(t, `
listen: nowhere
teams: [{name: a, timezone: Mars/Base}, {name: a}]
paging_receivers: ['']
auth: {mode: sometimes}
`)
	var p Problems
	if !errors.As(err, &p) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{"listen:", "teams[0].timezone: unknown time zone Mars/Base", "teams[1].name:", "paging_receivers[0]:", "auth.mode:"}
	if len(p) != len(want) {
		t.Fatalf("want %d problems, got %d: %v", len(want), len(p), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

func TestValidateFillsLocation(t *testing.T) {
	c := &Config{Teams: []Team{{Name: "a", Timezone: "America/New_York"}}}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Teams[0].Location == nil || c.Teams[0].Location.String() != "America/New_York" {
		t.Errorf("Location = %v", c.Teams[0].Location)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate must be repeatable: %v", err)
	}
}
