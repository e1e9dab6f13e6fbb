package collectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// until runs step, then checks cond, until cond holds; it fails the test with cond's last word
// when ctx (upstreamtest.Context: shortly before the test binary's deadline) ends first.
func until(ctx context.Context, t *testing.T, what string, step func() error, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		if err := step(); err != nil {
			last = "step: " + err.Error()
		} else {
			ok, why := cond()
			if ok {
				return
			}
			last = why
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never happened; last: %s", what, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

const e2eRules = `
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: HighErrorRatio
        expr: demo_error_ratio > 0.5
        labels:
          severity: critical
          team: payments
        annotations:
          summary: 'Error ratio of {{ $labels.service }} is {{ $value }}'
          runbook_url: https://runbooks.example.org/HighErrorRatio
`

func e2eConfig(promURL, amURL string) *config.Config {
	cfg := testConfig(promURL, amURL)
	if promURL != "" {
		cfg.Sources.Prometheus[0].HTTP = config.HTTP{}
	}
	return cfg
}

// TestE2EPrometheusAndAlertmanagerMeet runs the collectors against real Prometheus and
// Alertmanager: the ALERTS history (with the external labels added) and Alertmanager's alert
// are one episode, the rule is in the inventory, and the episode ends when the alert resolves.
func TestE2EPrometheusAndAlertmanagerMeet(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	target := upstreamtest.NewTarget(t)
	service := map[string]string{"service": "checkout"}
	target.Set("demo_error_ratio", service, 0)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{GroupBy: []string{"alertname"}})
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets: []string{target.Addr}, ExternalLabels: map[string]string{"env": "e2e"},
		Alertmanagers: []string{am.URL}, Rules: e2eRules,
	})
	st, _ := newTestStore(t)
	r, err := New(e2eConfig(prom.URL, am.URL), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.collectors {
		if p, ok := c.(*prometheusCollector); ok {
			p.delay = 0 // a local Prometheus has its samples at once
		}
	}
	collect := func() error { return r.RunOnce(ctx) }

	target.Set("demo_error_ratio", service, 0.9)
	until(ctx, t, "one open episode seen by both roads", collect, func() (bool, string) {
		eps := episodes(t, st)
		if len(eps) != 1 || !eps[0].Open() || !eps[0].ViaPrometheus || !eps[0].ViaAlertmanager {
			return false, fmt.Sprintf("%+v", eps)
		}
		return true, ""
	})
	e := episodes(t, st)[0]
	if e.Labels["env"] != "e2e" || e.Team != "payments" || e.Annotations["runbook_url"] == "" {
		t.Fatalf("episode: %+v", e)
	}
	rules, err := st.AlertRules(ctx, store.RuleFilter{Source: "prom"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Alertname != "HighErrorRatio" || rules[0].GroupInterval != time.Second ||
		rules[0].Runbook([]string{"runbook_url"}) != "https://runbooks.example.org/HighErrorRatio" {
		t.Fatalf("rules: %+v", rules)
	}
	if state, _ := st.CollectorState(ctx, "prom", KindPrometheus); state.ExternalLabels["env"] != "e2e" {
		t.Fatalf("external labels: %+v", state.ExternalLabels)
	}

	target.Set("demo_error_ratio", service, 0)
	until(ctx, t, "the episode closed", collect, func() (bool, string) {
		eps := episodes(t, st)
		if len(eps) != 1 || eps[0].Open() {
			return false, fmt.Sprintf("%+v", eps)
		}
		return true, ""
	})
	e = episodes(t, st)[0]
	if e.EndKind != review.EndBackfill && e.EndKind != review.EndInferred || !e.EndsAt.After(e.StartsAt) {
		t.Fatalf("closed episode: %+v", e)
	}
}

// TestE2EAlertmanagerRestartAndVanish posts alerts the way Prometheus does: after a restart
// Alertmanager's API is empty, which must not count as the alert vanishing; an alert that resolved
// is closed after two polls; a silence marks the episode silenced.
func TestE2EAlertmanagerRestartAndVanish(t *testing.T) {
	t.Parallel()
	ctx := upstreamtest.Context(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{})
	st, _ := newTestStore(t)
	r, err := New(e2eConfig("", am.URL), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.collectors[0].(*alertmanagerCollector).grace = 0 // only the restart itself protects
	start := time.Now().Add(-time.Minute).UTC()
	alert := upstreamtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "instance": "a", "team": "payments"},
		StartsAt: start, EndsAt: time.Now().Add(10 * time.Minute)}
	post := func() {
		t.Helper()
		if err := am.PostAlerts(ctx, []upstreamtest.Alert{alert}); err != nil {
			t.Fatal(err)
		}
	}
	poll := func() {
		t.Helper()
		if err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	open := func() int { return len(openEpisodes(t, st)) }

	post()
	if _, err := am.Silence(ctx, []upstreamtest.Matcher{{Name: "alertname", Value: "DiskFull"}}, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	until(ctx, t, "the silenced alert stored", func() error { return r.RunOnce(ctx) }, func() (bool, string) {
		eps := openEpisodes(t, st)
		return len(eps) == 1 && eps[0].Silenced, fmt.Sprintf("%+v", eps)
	})
	if sl, _ := st.Silences(ctx, "am"); len(sl) != 1 || sl[0].State != "active" || sl[0].Matchers[0].Value != "DiskFull" {
		t.Fatalf("silences: %+v", sl)
	}

	am.Restart() // alerts are not persisted: the API is empty until Prometheus resends
	poll()       // the restart: counters reset, nothing counted
	poll()       // missing once
	if open() != 1 {
		t.Fatal("an Alertmanager restart closed an episode")
	}
	post() // Prometheus resends
	poll()
	if eps := episodes(t, st); len(eps) != 1 || !eps[0].Open() {
		t.Fatalf("want the same episode open, got %+v", eps)
	}

	alert.EndsAt = time.Now().Add(-time.Second) // resolved
	post()
	poll()
	if open() != 1 {
		t.Fatal("one missing poll closed the episode")
	}
	poll()
	eps := episodes(t, st)
	if len(eps) != 1 || eps[0].Open() || eps[0].EndKind != review.EndInferred {
		t.Fatalf("want the episode closed as inferred after two missing polls, got %+v", eps)
	}
}
