package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/store/storetest"
)

// Scenario 1: Postgres goes away in the middle of a burst of alerts from a real Alertmanager, first
// as a network fault (a TCP proxy between opsreview and Postgres resets every connection and refuses
// new ones), then as a crash (pg_ctl stop -m immediate). While it is away the webhook answers 503;
// once it is back ingest resumes within 10 s, and after quiescence nothing is lost or doubled. The
// outage lasts 6 s (30 s under OPSREVIEW_SOAK=1).
//
// A group whose firing notification is still failing when its alerts resolve never gets a
// resolved-only notification from Alertmanager: the Alertmanager API collector (polled every
// second here) has stored those alerts as firing and closes them when they vanish, with an end
// inferred from the last poll that listed them. Alerts that fire and resolve entirely inside an
// outage are visible to neither road; Prometheus's ALERTS history recovers them (scenario 3).
func TestReliabilityPostgresKilledDuringBurst(t *testing.T) {
	outage := 6 * time.Second
	if soak() {
		outage = 30 * time.Second
	}
	ctx := upstreamtest.Context(t)
	cl := storetest.NewCluster(t)
	pgURL, err := url.Parse(cl.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := upstreamtest.NewFaultProxy(t, pgURL.Host)
	pgURL.Host = proxy.Addr
	addr := freeAddr(t)
	hook := upstreamtest.NewFaultProxy(t, addr) // between Alertmanager and the webhook
	am := upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + hook.Addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "group"},
	})
	const poll = time.Second
	p := startProgram(t, pgURL.String(), fmt.Sprintf(`
paging_receivers: [opsreview]
sources:
  alertmanager: [{name: am, url: %q, interval: %s, timeout: 5s}]
`, am.URL, poll), addr)
	o := newOracle(0, am)
	o.inferredSlack = poll + 2*time.Second

	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	all := instances("PgBurst", 20, 10)
	before, during := all[:100], all[100:]
	o.fire(ctx, t, before, base)
	if rep := o.settle(t, p.URL, 60*time.Second); !rep.clean() {
		t.Fatalf("before the outage: %v", rep)
	}

	// The burst: Postgres goes away, and while it is away alerts keep firing and resolving.
	probe := webhookBody(t, "firing", hostileAlert("PgProbe", nil))
	answers503 := func(what string) {
		t.Helper()
		if code, body, err := postRaw(t, p.URL, probe, nil); err != nil || code != 503 {
			t.Errorf("%s the webhook answered %d %s (%v), want 503", what, code, body, err)
		}
	}
	down := time.Now()
	proxy.Refuse() // every open connection reset, new ones refused
	answers503("with every Postgres connection reset and new ones refused")
	for i := 0; i < 5; i++ {
		if i == 2 {
			// Half way: the network comes back, and Postgres crashes.
			cl.Stop()
			if err := proxy.Pass(); err != nil {
				t.Fatal(err)
			}
			answers503("with Postgres killed")
		}
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
	// Every alert that fired during the outage is stored (by webhook retries or the API poll)
	// before half of them resolve, now.
	if rep := o.settle(t, p.URL, 90*time.Second); !rep.clean() {
		t.Fatalf("after the outage, before resolving: %v", rep)
	}
	o.resolve(ctx, t, during[:50], time.Now())
	if rep := o.settle(t, p.URL, 90*time.Second); !rep.clean() {
		t.Fatalf("after the outage: %v", rep)
	}

	// The case Alertmanager never recovers from: groups whose firing notification failed until
	// after their alerts resolved. The webhook is unreachable while they fire (the API poll
	// stores them) and resolve, and until Alertmanager has given up that flush (its 10 s
	// notification timeout); it then sends nothing for them at all.
	lone := instances("PgNeverNotified", 2, 10)
	hook.Refuse()
	o.fire(ctx, t, lone, time.Now().Add(-time.Minute))
	waitFor(t, "the API poll to store the alerts the webhook could not deliver", 30*time.Second, func() bool {
		n := 0
		for _, name := range []string{"PgNeverNotified_g00", "PgNeverNotified_g01"} {
			eps, err := allEpisodes(p.URL, name)
			if err != nil {
				t.Fatal(err)
			}
			n += len(eps)
		}
		return n == len(lone)
	})
	o.resolve(ctx, t, lone, time.Now())
	time.Sleep(12 * time.Second)
	if err := hook.Pass(); err != nil {
		t.Fatal(err)
	}
	rep := o.settle(t, p.URL, 90*time.Second)
	t.Logf("Postgres away %v (half reset by the proxy, half killed); ingest resumed %v after it came back; %v; webhook answers: %s; ends inferred by the API poll: %d",
		outage, resumed.Round(10*time.Millisecond), rep, oneLineMetric(p.metric(t, "opsreview_webhook_requests_total")), inferredEnds(t, p.URL, o))
	if !rep.clean() {
		t.Fatalf("after groups never notified: %v", rep)
	}
	if n := inferredEnds(t, p.URL, o); n < len(lone) {
		t.Fatalf("%d ends inferred by the API poll, want at least the %d alerts never notified", n, len(lone))
	}
}

// inferredEnds counts the oracle's stored episodes whose end was inferred by the API poll.
func inferredEnds(t *testing.T, base string, o *oracle) int {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for name := range o.names {
		eps, err := allEpisodes(base, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range eps {
			if e.EndKind == "inferred" {
				n++
			}
		}
	}
	return n
}

// oneLineMetric joins metric lines for a log line.
func oneLineMetric(s string) string { return strings.ReplaceAll(s, "\n", ", ") }
