package main

import (
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/store/storetest"
)

func storetestURL(t *testing.T) string { return storetest.NewURL(t) }

// While Postgres is stopped a real Alertmanager's deliveries are answered 503; Alertmanager retries,
// and once Postgres is back every alert is stored exactly once.
func TestE2EPostgresDownAlertmanagerRetries(t *testing.T) {
	ctx := upstreamtest.Context(t)
	cl := storetest.NewCluster(t)
	addr := freeAddr(t)
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "instance"},
	})
	p := startProgram(t, cl.URL("postgres"), "paging_receivers: [opsreview]\n", addr)

	start := time.Now().Add(-time.Minute).UTC()
	alert := func(name string) upstreamtest.Alert {
		return upstreamtest.Alert{Labels: map[string]string{"alertname": name, "instance": "db-1", "severity": "page"},
			Annotations: map[string]string{"summary": "disk"}, StartsAt: start}
	}
	if err := am.PostAlerts(ctx, []upstreamtest.Alert{alert("BeforeOutage")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first alert to be stored", 30*time.Second, func() bool { return len(p.episodes(t, "BeforeOutage")) == 1 })

	cl.Stop()
	if err := am.PostAlerts(ctx, []upstreamtest.Alert{alert("DuringOutage")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "opsreview to answer Alertmanager 503", 30*time.Second, func() bool {
		return strings.Contains(p.metric(t, "opsreview_webhook_requests_total"), `code="503"`)
	})
	cl.Start()
	waitFor(t, "Alertmanager's retry to be stored", 60*time.Second, func() bool { return len(p.episodes(t, "DuringOutage")) >= 1 })
	// Let Alertmanager's repeat and retry traffic settle, then count.
	time.Sleep(3 * time.Second)
	for _, name := range []string{"BeforeOutage", "DuringOutage"} {
		eps := p.episodes(t, name)
		if len(eps) != 1 {
			t.Fatalf("%s: want exactly 1 episode, got %d: %+v", name, len(eps), eps)
		}
		if d := eps[0].StartsAt.Sub(start); d < -time.Second || d > time.Second {
			t.Fatalf("%s: stored start %v, Alertmanager was told %v", name, eps[0].StartsAt, start)
		}
	}
}
