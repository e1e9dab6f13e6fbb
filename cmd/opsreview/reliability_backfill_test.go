package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/store/storetest"
)

const backfillRules = `
groups:
  - name: outage
    interval: 1s
    rules:
      - alert: PgOutageRule
        expr: pg_outage_fire > 0
        labels:
          severity: page
`

// Scenario 3: Postgres is down for much longer than Alertmanager's group interval while a real
// Prometheus rule fires and resolves for several instances entirely inside the outage. Alertmanager's
// notifications of those alerts fail until it gives them up, and the API poll finds nothing after
// the outage; they come back from Prometheus's ALERTS history, marked backfilled on the API and the
// episodes page. An alert that fired before the outage and resolved inside it keeps its webhook
// episode and gets its end. The truth is Prometheus's own ALERTS series. The outage lasts 20 s (60 s
// under OPSREVIEW_SOAK=1); the group interval is 1 s.
func TestReliabilityPostgresDownAlertsBackfilled(t *testing.T) {
	outage := 20 * time.Second
	inside := 5
	if soak() {
		outage, inside = 60*time.Second, 50
	}
	ctx := upstreamtest.Context(t)
	cl := storetest.NewCluster(t)
	addr := freeAddr(t)
	target := upstreamtest.NewTarget(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "instance_id"},
	})
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets: []string{target.Addr}, Alertmanagers: []string{am.URL}, Rules: backfillRules,
	})
	p := startProgram(t, cl.URL("postgres"), fmt.Sprintf(`
paging_receivers: [opsreview]
sources:
  prometheus: [{name: prom, url: %q, interval: 1s, lookback: 1h, timeout: 10s}]
  alertmanager: [{name: am, url: %q, interval: 1s, timeout: 5s}]
`, prom.URL, am.URL), addr)
	began := time.Now().Add(-time.Minute)
	id := func(i int) map[string]string { return map[string]string{"instance_id": fmt.Sprintf("i%03d", i)} }

	// Before the outage: one alert fires and is stored by the webhook.
	target.Set("pg_outage_fire", id(0), 1)
	waitFor(t, "the alert firing before the outage to be stored", 30*time.Second, func() bool {
		eps := p.episodes(t, "PgOutageRule")
		return len(eps) == 1 && slices.Contains(eps[0].Roads, "webhook")
	})

	cl.Stop()
	down := time.Now()
	time.Sleep(time.Second)
	for i := 1; i <= inside; i++ {
		target.Set("pg_outage_fire", id(i), 1)
	}
	time.Sleep(4 * time.Second) // a few evaluations and failed notifications
	target.Set("pg_outage_fire", id(0), 0)
	for i := 1; i <= inside; i++ {
		target.Set("pg_outage_fire", id(i), 0)
	}
	// Alertmanager gives a failing notification up after its 10 s timeout; the next flush of a
	// group whose alerts all resolved sends nothing.
	time.Sleep(time.Until(down.Add(outage)))
	cl.Start()

	truth := prometheusTruth(ctx, t, prom.URL, "PgOutageRule", began)
	if len(truth) != inside+1 {
		t.Fatalf("Prometheus's ALERTS history holds %d episodes, want %d", len(truth), inside+1)
	}
	o := newOracle(0)
	o.tolerance = 2 * time.Second // one evaluation interval each side, and Postgres's rounding
	for _, te := range truth {
		o.truth[labelKey(te.labels)] = append(o.truth[labelKey(te.labels)], te)
		o.names[te.labels["alertname"]] = true
	}
	// ALERTS history is read 30 s behind now, so that a remote backend has every sample.
	rep := o.settle(t, p.URL, 120*time.Second)
	t.Logf("Postgres down %v; %v", outage, rep)
	if !rep.clean() {
		t.Fatalf("after the outage: %v", rep)
	}
	var backfilled int
	for _, e := range p.episodes(t, "PgOutageRule") {
		firstInside := e.Labels["instance_id"] != "i000"
		switch {
		case firstInside && (!e.Backfilled || !slices.Equal(e.Roads, []string{"prometheus"})):
			t.Errorf("%v fired and resolved inside the outage: want it marked backfilled, from Prometheus alone; roads %v, backfilled %v",
				e.Labels, e.Roads, e.Backfilled)
		case firstInside:
			backfilled++
		case e.Backfilled || !slices.Contains(e.Roads, "webhook"):
			t.Errorf("the alert notified before the outage lost its webhook road: roads %v, backfilled %v", e.Roads, e.Backfilled)
		}
	}
	// The episodes page says so too.
	page := getBody(t, p.URL+"/episodes?alertname=PgOutageRule")
	if n := strings.Count(page, `class="badge badge-backfilled"`); n != backfilled {
		t.Errorf("the episodes page marks %d episodes backfilled, want %d", n, backfilled)
	}
	t.Logf("%d episodes came back from ALERTS history, marked backfilled", backfilled)
}

// prometheusTruth reads ALERTS{alertstate="firing"} of alertname from Prometheus at its evaluation
// resolution since from, and returns each run of samples as a true episode: start at its first
// sample, end one evaluation (1 s) after its last, open when it is still firing.
func prometheusTruth(ctx context.Context, t *testing.T, promURL, alertname string, from time.Time) []*trueEpisode {
	t.Helper()
	now := time.Now()
	q := url.Values{
		"query": {fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing"}`, alertname)},
		"start": {fmt.Sprintf("%d", from.Unix())}, "end": {fmt.Sprintf("%d", now.Unix())}, "step": {"1"},
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, promURL+"/api/v1/query_range?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("reading ALERTS from Prometheus: %v", err)
	}
	var out []*trueEpisode
	for _, s := range body.Data.Result {
		labels := map[string]string{}
		for k, v := range s.Metric {
			if k != "__name__" && k != "alertstate" {
				labels[k] = v
			}
		}
		var cur *trueEpisode
		var last time.Time
		flush := func() {
			if cur == nil {
				return
			}
			if now.Sub(last) > 2*time.Second {
				end := last.Add(time.Second)
				cur.end = &end
			}
			out = append(out, cur)
		}
		for _, v := range s.Values {
			ts := time.Unix(int64(v[0].(float64)), 0).UTC()
			if cur != nil && ts.Sub(last) > 2*time.Second {
				flush()
				cur = nil
			}
			if cur == nil {
				cur = &trueEpisode{labels: labels, start: ts}
			}
			last = ts
		}
		flush()
	}
	return out
}

// getBody fetches a page and returns its body, failing the test unless it answers 200.
func getBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return string(b)
}
