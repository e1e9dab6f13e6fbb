package main

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/store/storetest"
)

const e2eRules = `
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: E2EHighErrorRatio
        expr: e2e_error_ratio > 0.5
        labels:
          severity: critical
          team: payments
        annotations:
          summary: 'Error ratio of {{ $labels.service }} is {{ $value }}'
          runbook_url: https://runbooks.example.org/E2EHighErrorRatio
      - alert: E2ESilenced
        expr: e2e_silenced > 0
        labels:
          severity: warning
`

func e2eConfig(promURL, amURL string) string {
	return fmt.Sprintf(`
paging_receivers: [opsreview]
teams:
  - {name: payments, timezone: Europe/Berlin, match: {team: payments}}
sources:
  prometheus: [{name: prom, url: %q, interval: 1s, lookback: 1h, timeout: 10s}]
  alertmanager: [{name: am, url: %q, interval: 1s, timeout: 5s}]
`, promURL, amURL)
}

// A rule really fires and resolves: the episode arrives by webhook and by ALERTS history, and is
// stored exactly once, with start and end within one evaluation interval of the truth.
func TestE2ERuleFiresAndResolvesStoredOnce(t *testing.T) {
	addr := freeAddr(t)
	target := upstreamtest.NewTarget(t)
	svc := map[string]string{"service": "checkout"}
	target.Set("e2e_error_ratio", svc, 0)
	target.Set("e2e_silenced", svc, 0)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "service"},
	})
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets: []string{target.Addr}, ExternalLabels: map[string]string{"env": "e2e"},
		Alertmanagers: []string{am.URL}, Rules: e2eRules,
	})
	p := startProgram(t, storetest.NewURL(t), e2eConfig(prom.URL, am.URL), addr)

	fired := time.Now()
	target.Set("e2e_error_ratio", svc, 0.9)
	waitFor(t, "the firing episode", 30*time.Second, func() bool {
		eps := p.episodes(t, "E2EHighErrorRatio")
		return len(eps) == 1 && eps[0].EndsAt == nil
	})
	time.Sleep(3 * time.Second) // let it fire for a few evaluations
	resolved := time.Now()
	target.Set("e2e_error_ratio", svc, 0)
	var ep apiEpisode
	waitFor(t, "the episode to end and be seen by the webhook and ALERTS history", 60*time.Second, func() bool {
		eps := p.episodes(t, "E2EHighErrorRatio")
		if len(eps) != 1 || eps[0].EndsAt == nil {
			return false
		}
		ep = eps[0]
		return slices.Contains(ep.Roads, "webhook") && slices.Contains(ep.Roads, "prometheus")
	})
	// Let later collector runs and Alertmanager repeats pass: still exactly one.
	time.Sleep(3 * time.Second)
	if eps := p.episodes(t, "E2EHighErrorRatio"); len(eps) != 1 {
		t.Fatalf("want exactly one episode, got %d: %+v", len(eps), eps)
	}
	const eval = time.Second
	// The truth: firing from the first evaluation after a scrape saw the new value.
	if ep.StartsAt.Before(fired.Add(-eval)) || ep.StartsAt.After(fired.Add(2*eval+eval)) {
		t.Errorf("start %v is not within one evaluation of the truth (gauge set at %v)", ep.StartsAt, fired)
	}
	if ep.EndsAt.Before(resolved.Add(-eval)) || ep.EndsAt.After(resolved.Add(2*eval+eval)) {
		t.Errorf("end %v is not within one evaluation of the truth (gauge reset at %v)", ep.EndsAt, resolved)
	}
	if ep.Labels["env"] != "e2e" || ep.Labels["team"] != "payments" {
		t.Errorf("labels %v: want the external label env=e2e and team=payments", ep.Labels)
	}
}

// A silenced alert never reaches the webhook, but still becomes an episode (from Alertmanager's API
// and from ALERTS history).
func TestE2ESilencedAlertStillBecomesAnEpisode(t *testing.T) {
	ctx := upstreamtest.Context(t)
	addr := freeAddr(t)
	target := upstreamtest.NewTarget(t)
	svc := map[string]string{"service": "checkout"}
	target.Set("e2e_error_ratio", svc, 0)
	target.Set("e2e_silenced", svc, 0)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
	})
	if _, err := am.Silence(ctx, []upstreamtest.Matcher{{Name: "alertname", Value: "E2ESilenced"}},
		time.Now().Add(-time.Minute), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets: []string{target.Addr}, ExternalLabels: map[string]string{"env": "e2e"},
		Alertmanagers: []string{am.URL}, Rules: e2eRules,
	})
	p := startProgram(t, storetest.NewURL(t), e2eConfig(prom.URL, am.URL), addr)
	target.Set("e2e_silenced", svc, 1)
	waitFor(t, "the silenced alert's episode", 60*time.Second, func() bool {
		eps := p.episodes(t, "E2ESilenced")
		return len(eps) == 1 && eps[0].Silenced && !slices.Contains(eps[0].Roads, "webhook")
	})
}
