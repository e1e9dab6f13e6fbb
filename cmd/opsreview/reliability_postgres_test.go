package main

import (
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/store/storetest"
)

// Scenario 1: Postgres is killed (pg_ctl stop -m immediate) in the middle of a burst of alerts from
// a real Alertmanager. While it is down the webhook answers 503; once it is back ingest resumes within
// 10 s, and after quiescence nothing is lost or doubled. The outage lasts 6 s (30 s under
// OPSREVIEW_SOAK=1).
func TestReliabilityPostgresKilledDuringBurst(t *testing.T) {
	if !soak() {
		// Seen on a loaded machine: one group's firing notification was still being retried when
		// the test resolved its alerts; Alertmanager then gave that flush up ("notify retry canceled
		// after 7 attempts") and never sends a resolved-only notification for a group whose firing
		// one never got through. Such alerts reach opsreview only through the Alertmanager API poll
		// (while they are active) or ALERTS history (scenario 3), neither of which this scenario
		// configures, so on a slow machine it can report them lost. It runs in `make soak` until it
		// configures those roads; TestE2EPostgresDownAlertmanagerRetries keeps the
		// 503-retry-stored-once path in `make test`.
		t.Skip("soak only (OPSREVIEW_SOAK=1): see the comment")
	}
	outage := 6 * time.Second
	if soak() {
		outage = 30 * time.Second
	}
	ctx := upstreamtest.Context(t)
	cl := storetest.NewCluster(t)
	addr := freeAddr(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "group"},
	})
	p := startProgram(t, cl.URL("postgres"), "paging_receivers: [opsreview]\n", addr)
	o := newOracle(0, am)

	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	all := instances("PgBurst", 20, 10)
	before, during := all[:100], all[100:]
	o.fire(ctx, t, before, base)
	if rep := o.settle(t, p.URL, 60*time.Second); !rep.clean() {
		t.Fatalf("before the outage: %v", rep)
	}

	// The burst: Postgres dies, and while it is down alerts keep firing and resolving.
	cl.Stop()
	down := time.Now()
	probe := webhookBody(t, "firing", hostileAlert("PgProbe", nil))
	if code, body, err := postRaw(t, p.URL, probe, nil); err != nil || code != 503 {
		t.Errorf("with Postgres down the webhook answered %d %s (%v), want 503", code, body, err)
	}
	for i := 0; i < 5; i++ {
		o.fire(ctx, t, during[i*20:(i+1)*20], base.Add(time.Duration(i+1)*time.Minute))
		o.resolve(ctx, t, before[i*10:(i+1)*10], base.Add(10*time.Minute))
		time.Sleep(outage / 6)
	}
	waitFor(t, "opsreview to answer Alertmanager 503", outage, func() bool {
		return strings.Contains(p.metric(t, "opsreview_webhook_requests_total"), `code="503"`)
	})
	time.Sleep(time.Until(down.Add(outage)))
	cl.Start()
	up := time.Now()

	// Ingest resumes: the first delivery that is stored after Postgres accepts connections again.
	var resumed time.Duration
	waitFor(t, "the webhook to store again", 10*time.Second, func() bool {
		code, _, err := postRaw(t, p.URL, probe, nil)
		resumed = time.Since(up)
		return err == nil && code == 200
	})
	o.resolve(ctx, t, during[:50], base.Add(20*time.Minute))
	rep := o.settle(t, p.URL, 90*time.Second)
	t.Logf("Postgres down %v; ingest resumed %v after it came back; %v; webhook answers: %s",
		outage, resumed.Round(10*time.Millisecond), rep, oneLineMetric(p.metric(t, "opsreview_webhook_requests_total")))
	if !rep.clean() {
		t.Fatalf("after the outage: %v", rep)
	}
}

// oneLineMetric joins metric lines for a log line.
func oneLineMetric(s string) string { return strings.ReplaceAll(s, "\n", ", ") }
