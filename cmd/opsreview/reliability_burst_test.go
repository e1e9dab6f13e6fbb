package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// Scenario 4, short version: a burst through three Alertmanager replicas. The replicas run with
// clustering off (each notifies opsreview on its own, so every notification arrives three times, as
// from a cluster whose gossip lags), and each is told starts 200 ms apart from the previous one, as
// from two Prometheus servers. 1,000 alerts in 50 groups fire at once, half resolve, a quarter fire
// again: nothing lost, nothing doubled. OPSREVIEW_SOAK=1 uses 100 groups of 100 alerts.
func TestReliabilityBurstThroughReplicas(t *testing.T) {
	groups, perGroup := 50, 20
	if soak() {
		groups, perGroup = 100, 100
	}
	ctx := upstreamtest.Context(t)
	addr := freeAddr(t)
	var ams []*upstreamtest.Alertmanager
	for i := 0; i < 3; i++ {
		ams = append(ams, upstreamtest.StartAlertmanager(t, upstreamtest.AlertmanagerOptions{
			WebhookURL: "http://" + addr + "/api/v1/alertmanager/webhook",
			GroupBy:    []string{"alertname", "group"},
		}))
	}
	p := startProgram(t, storetestURL(t), "paging_receivers: [opsreview]\n", addr)
	o := newOracle(200*time.Millisecond, ams...)

	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	all := instances("ReplicaBurst", groups, perGroup)
	step := func(what string) {
		t.Helper()
		rep := o.settle(t, p.URL, 120*time.Second)
		t.Logf("%s: %v", what, rep)
		if !rep.clean() {
			t.Fatalf("%s: %v", what, rep)
		}
	}
	o.fire(ctx, t, all, base)
	step("all fire")
	half := all[:len(all)/2]
	o.resolve(ctx, t, half, base.Add(10*time.Minute))
	step("half resolve")
	quarter := half[:len(half)/2]
	o.fire(ctx, t, quarter, base.Add(20*time.Minute))
	o.resolve(ctx, t, all[len(all)/2:], base.Add(25*time.Minute))
	step("a quarter fire again, the other half resolve")
	t.Logf("webhook: %s; p99 %s", oneLineMetric(p.metric(t, "opsreview_webhook_requests_total")),
		histogramQuantile(p.metric(t, "opsreview_webhook_duration_seconds_bucket"), 0.99))
}

// histogramQuantile estimates a quantile from Prometheus text-format bucket lines, as the upper
// bound of the bucket it falls in (for a figure in a log, not an assertion).
func histogramQuantile(buckets string, q float64) string {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, l := range strings.Split(buckets, "\n") {
		i, j := strings.Index(l, `le="`), strings.LastIndexByte(l, ' ')
		if i < 0 || j < 0 {
			continue
		}
		le := l[i+4:]
		le = le[:strings.IndexByte(le, '"')]
		ub, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(l[j+1:], 64)
		if err1 == nil && err2 == nil {
			bs = append(bs, bucket{ub, n})
		}
	}
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return "n/a"
	}
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= q*total {
			if math.IsInf(b.le, 1) {
				return "over the largest bucket"
			}
			return fmt.Sprintf("≤ %v", time.Duration(b.le*float64(time.Second)))
		}
	}
	return "n/a"
}
