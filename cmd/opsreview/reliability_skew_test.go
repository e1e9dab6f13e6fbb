package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

const skewRules = `
groups:
  - name: skew
    interval: 1s
    rules:
      - alert: SkewRule
        expr: skew_error_ratio > 0.5
        labels: {severity: critical, team: payments}
`

// Scenario 6: opsreview's clock 15 minutes ahead of and behind a real Prometheus and Alertmanager
// (OPSREVIEW_CLOCK_OFFSET: libfaketime has no effect on Go). opsreview runs as a child process
// collecting both sources every second and receiving Alertmanager's webhook. The oracle's alerts
// (pushed to Alertmanager with explicit times, some still firing, some resolved) and a rule that
// really fires and resolves are stored as they would be without skew: the same episodes, with
// starts and ends from the sources' timestamps; the watermarks are never ahead of the source; the
// skew is reported as opsreview_source_clock_skew_seconds.
func TestReliabilityClockSkew(t *testing.T) {
	bin := buildOpsreview(t)
	for _, offset := range []time.Duration{15 * time.Minute, -15 * time.Minute} {
		t.Run(fmt.Sprintf("offset%+v", offset), func(t *testing.T) { clockSkewTrial(t, bin, offset) })
	}
}

func clockSkewTrial(t *testing.T, bin string, offset time.Duration) {
	ctx := upstreamtest.Context(t)
	dbURL := storetestURL(t)
	addr := freeAddr(t)
	target := upstreamtest.NewTarget(t)
	svc := map[string]string{"service": "checkout"}
	target.Set("skew_error_ratio", svc, 0)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "group"},
	})
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets: []string{target.Addr}, Alertmanagers: []string{am.URL}, Rules: skewRules,
	})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "opsreview.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
paging_receivers: [opsreview]
teams:
  - {name: payments, match: {team: payments}}
sources:
  prometheus: [{name: prom, url: %q, interval: 1s, lookback: 1h, timeout: 10s}]
  alertmanager: [{name: am, url: %q, interval: 1s, timeout: 5s}]
`, prom.URL, am.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, bin: bin, args: []string{"serve", "--config", cfg, "--listen", addr},
		env:     []string{"DATABASE_URL=" + dbURL, clockOffsetEnv + "=" + offset.String()},
		logPath: filepath.Join(dir, "opsreview.log"), url: "http://" + addr}
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			b, _ := os.ReadFile(c.logPath)
			t.Logf("opsreview output:\n%s", b)
		}
	})
	c.start()

	// The oracle's lifecycles: 40 alerts in 4 groups fire 50 minutes ago; half resolve 20 minutes
	// ago, the rest keep firing (Alertmanager gives them an endsAt a few minutes ahead of its now,
	// which a clock 15 minutes ahead would take for a resolve).
	o := newOracle(0, am)
	all := instances("Skew", 4, 10)
	var resolved, firing []map[string]string
	for i, l := range all {
		if i%2 == 0 {
			resolved = append(resolved, l)
		} else {
			firing = append(firing, l)
		}
	}
	base := time.Now().Add(-50 * time.Minute).Truncate(time.Second)
	o.fire(ctx, t, all, base)
	o.resolve(ctx, t, resolved, base.Add(30*time.Minute))

	// A rule that really fires for a few seconds.
	fired := time.Now()
	target.Set("skew_error_ratio", svc, 0.9)
	waitFor(t, "the rule's episode", 30*time.Second, func() bool { return len(recentEpisodes(t, c.url, "SkewRule")) == 1 })
	time.Sleep(3 * time.Second)
	ended := time.Now()
	target.Set("skew_error_ratio", svc, 0)

	rep := o.settle(t, c.url, 60*time.Second)
	var rule apiEpisode
	waitFor(t, "the rule's episode to end, seen by the webhook and ALERTS history", 60*time.Second, func() bool {
		eps := recentEpisodes(t, c.url, "SkewRule")
		if len(eps) != 1 || eps[0].EndsAt == nil || !strings.Contains(strings.Join(eps[0].Roads, ","), "prometheus") {
			return false
		}
		rule = eps[0]
		return true
	})
	// Several more polls of both sources, with their alerts still firing.
	time.Sleep(3 * time.Second)
	if rep2, err := o.check(t, c.url); err != nil || !rep2.clean() {
		t.Fatalf("later polls changed the episodes: %v %v", rep2, err)
	}
	if !rep.clean() {
		t.Fatalf("clock %+v: %v", offset, rep)
	}
	if eps := recentEpisodes(t, c.url, "SkewRule"); len(eps) != 1 {
		t.Fatalf("the rule's episode stored %d times: %+v", len(eps), eps)
	}
	const eval = time.Second
	if rule.StartsAt.Before(fired.Add(-eval)) || rule.StartsAt.After(fired.Add(3*eval)) ||
		rule.EndsAt.Before(ended.Add(-eval)) || rule.EndsAt.After(ended.Add(3*eval)) {
		t.Errorf("rule episode %v – %v, want the sources' times (gauge set %v, reset %v)", rule.StartsAt, *rule.EndsAt, fired, ended)
	}

	// The watermarks are in the sources' time: never ahead of it, not 15 minutes behind.
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wms []struct {
		Kind string    `db:"kind"`
		At   time.Time `db:"watermark"`
	}
	if err := db.Select(&wms, `SELECT kind, watermark FROM collector_state WHERE watermark IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, w := range wms {
		if w.At.After(now) || w.At.Before(now.Add(-time.Minute)) {
			t.Errorf("%s watermark %v, want within a minute before the sources' now %v", w.Kind, w.At, now)
		}
	}
	if len(wms) < 2 {
		t.Errorf("watermarks: %+v", wms)
	}

	// The skew, as our metric reports it: the sources are -offset from us, within the Date header's second.
	skews := metricValues(t, c.url, "opsreview_source_clock_skew_seconds")
	for _, kind := range []string{"prometheus", "alertmanager"} {
		v, ok := skews[kind]
		if !ok || v > -offset.Seconds()+2 || v < -offset.Seconds()-2 {
			t.Errorf("opsreview_source_clock_skew_seconds{kind=%q} = %v (reported: %v), want %v", kind, v, ok, -offset.Seconds())
		}
	}
	t.Logf("clock %+v: %v; rule episode %s (gauge %s); skew reported %v; watermarks %+v",
		offset, rep, rule.EndsAt.Sub(rule.StartsAt).Round(time.Millisecond), ended.Sub(fired).Round(time.Millisecond), skews, wms)
}

// recentEpisodes lists alertname's episodes of the last hour of the real clock (an explicit window:
// opsreview's own default window ends at its own, skewed, now).
func recentEpisodes(t *testing.T, base, alertname string) []apiEpisode {
	t.Helper()
	q := url.Values{"alertname": {alertname}, "from": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		"to": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	resp, err := http.Get(base + "/api/v1/episodes?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Items []apiEpisode `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/episodes: %s %v", resp.Status, err)
	}
	return body.Items
}

// metricValues returns the values of one gauge by its kind label, from opsreview's /metrics.
func metricValues(t *testing.T, base, name string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name+"{") {
			continue
		}
		i := strings.Index(l, `kind="`)
		if i < 0 {
			continue
		}
		kind := l[i+6:]
		kind = kind[:strings.IndexByte(kind, '"')]
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err == nil {
			out[kind] = v
		}
	}
	return out
}
