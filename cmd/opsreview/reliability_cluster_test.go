package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// Scenario 4 through a real three-replica Alertmanager cluster (gossip on loopback): every alert is
// posted to all three replicas, as one Prometheus sends it; 50 groups of 20 alerts fire at once,
// half resolve, a quarter fire again while the rest resolve. Under OPSREVIEW_SOAK=1, 100 groups of
// 100 alerts, in new cycles for at least a minute. Nothing is lost or doubled, no delivery fails or
// times out at Alertmanager, and the pages keep answering throughout.
//
// It runs under `make soak` only, where issue 7 puts the three-replica cluster: once in about seven
// runs of the short version under CI load, the re-fired alerts of four groups never arrived within
// the settle time (no error in opsreview's log, none counted at Alertmanager before the test stopped),
// which is not explained yet; `make test` covers scenario 4 with TestReliabilityBurstThroughReplicas.
func TestReliabilityBurstThroughCluster(t *testing.T) {
	if !soak() {
		t.Skip("the three-replica cluster runs under make soak (OPSREVIEW_SOAK=1)")
	}
	groups, perGroup, minimum := 100, 100, time.Minute
	ctx := upstreamtest.Context(t)
	addr := freeAddr(t)
	ams := upstreamtest.StartAlertmanagerCluster(t, upstreamtest.AlertmanagerOptions{
		WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
		GroupBy:    []string{"alertname", "group"},
	}, 3)
	p := startProgram(t, storetestURL(t), "paging_receivers: [opsreview]\n", addr)
	o := newOracle(0, ams...)

	// A reader on the pages during the bursts, as a team looking at the dashboard would be.
	stop := make(chan struct{})
	var pagesWG sync.WaitGroup
	var pageMu sync.Mutex
	var pageFailures []string
	var pageSlowest time.Duration
	var slowestPage string
	var pageLoads int
	pagesWG.Add(1)
	go func() {
		defer pagesWG.Done()
		for i := 0; ; i++ {
			path := []string{"/episodes", "/review", "/tv"}[i%3]
			select {
			case <-stop:
				return
			default:
			}
			began := time.Now()
			resp, err := http.Get(p.URL + path)
			took := time.Since(began)
			pageMu.Lock()
			pageLoads++
			if took > pageSlowest {
				pageSlowest, slowestPage = took, path
			}
			if err != nil {
				pageFailures = append(pageFailures, fmt.Sprintf("%s: %v", path, err))
			} else {
				if resp.StatusCode != http.StatusOK {
					pageFailures = append(pageFailures, fmt.Sprintf("%s: %s", path, resp.Status))
				}
				resp.Body.Close()
			}
			pageMu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	}()

	step := func(what string) {
		t.Helper()
		rep := o.settle(t, p.URL, 180*time.Second)
		t.Logf("%s: %v", what, rep)
		if !rep.clean() {
			var failed, sent float64
			for _, am := range ams {
				failed += amWebhookCounter(t, am.URL, "alertmanager_notification_requests_failed_total")
				sent += amWebhookCounter(t, am.URL, "alertmanager_notification_requests_total")
			}
			t.Fatalf("%s: %v (Alertmanager requests %v, failed %v; opsreview %s)", what, rep, sent, failed,
				oneLineMetric(p.metric(t, "opsreview_webhook_requests_total")))
		}
	}
	began := time.Now()
	cycles := 0
	for cycles == 0 || time.Since(began) < minimum {
		base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
		all := instances(fmt.Sprintf("ClusterBurst%d", cycles), groups, perGroup)
		o.fire(ctx, t, all, base)
		step("all fire")
		half := all[:len(all)/2]
		o.resolve(ctx, t, half, base.Add(10*time.Minute))
		step("half resolve")
		quarter := half[:len(half)/2]
		o.fire(ctx, t, quarter, base.Add(20*time.Minute))
		o.resolve(ctx, t, all[len(all)/2:], base.Add(25*time.Minute))
		step("a quarter fire again, the other half resolve")
		cycles++
	}
	close(stop)
	pagesWG.Wait()

	var failed, sent float64
	for _, am := range ams {
		failed += amWebhookCounter(t, am.URL, "alertmanager_notification_requests_failed_total")
		sent += amWebhookCounter(t, am.URL, "alertmanager_notification_requests_total")
	}
	t.Logf("%d cycles of %d groups × %d alerts in %v; webhook: %s; p99 %s; Alertmanager requests %v, failed %v; %d page loads, slowest %v (%s)",
		cycles, groups, perGroup, time.Since(began).Round(time.Second), oneLineMetric(p.metric(t, "opsreview_webhook_requests_total")),
		histogramQuantile(p.metric(t, "opsreview_webhook_duration_seconds_bucket"), 0.99), sent, failed, pageLoads, pageSlowest.Round(time.Millisecond), slowestPage)
	if failed > 0 {
		t.Errorf("%v webhook requests failed at Alertmanager (an error answer or its timeout)", failed)
	}
	if len(pageFailures) > 0 {
		t.Errorf("pages failed during the burst: %v", pageFailures)
	}
}
