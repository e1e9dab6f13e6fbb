package collectors

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
	"github.com/opsreview/opsreview/review"
)

// restartRules has a rule with `for`, so that Prometheus keeps its ActiveAt in ALERTS_FOR_STATE
// and restores it after a restart (for-grace-period is set below the `for`).
const restartRules = `
groups:
  - name: restart
    interval: 1s
    rules:
      - alert: HighErrorRatio
        expr: demo_error_ratio > 0.5
        for: 2s
        labels:
          severity: critical
          team: payments
`

// restartOutage is how long Prometheus is down: five evaluation intervals.
const restartOutage = 5 * time.Second

// activation is one ActiveAt of the alert in Prometheus's own history, and its firing samples.
type activation struct {
	activeAt            int64
	firstFire, lastFire time.Time
}

// promActivations reads Prometheus's own history of the alert: the ActiveAt of each of its firing
// samples (ALERTS_FOR_STATE at the same evaluation), one activation per distinct ActiveAt; and the
// longest gap between two firing samples.
func promActivations(ctx context.Context, promAPI v1.API) ([]activation, time.Duration, error) {
	now := time.Now()
	read := func(q string) (model.Matrix, error) {
		v, _, _, err := promAPI.Query(ctx, q, now)
		if err != nil {
			return nil, err
		}
		return v.(model.Matrix), nil
	}
	firing, err := read(`ALERTS{alertstate="firing",alertname="HighErrorRatio"}[10m]`)
	if err != nil {
		return nil, 0, err
	}
	forState, err := read(`ALERTS_FOR_STATE{alertname="HighErrorRatio"}[10m]`)
	if err != nil {
		return nil, 0, err
	}
	if len(firing) != 1 || len(forState) != 1 {
		return nil, 0, fmt.Errorf("%d firing and %d ALERTS_FOR_STATE series", len(firing), len(forState))
	}
	activeAt := map[model.Time]int64{}
	for _, v := range forState[0].Values {
		activeAt[v.Timestamp] = int64(v.Value)
	}
	var out []activation
	var gap time.Duration
	for i, v := range firing[0].Values {
		a, ok := activeAt[v.Timestamp]
		if !ok {
			return nil, 0, fmt.Errorf("firing sample at %v without ALERTS_FOR_STATE", v.Timestamp.Time())
		}
		if i > 0 {
			gap = max(gap, v.Timestamp.Sub(firing[0].Values[i-1].Timestamp))
		}
		t := v.Timestamp.Time().UTC()
		if n := len(out); n > 0 && out[n-1].activeAt == a {
			out[n-1].lastFire = t
			continue
		}
		out = append(out, activation{activeAt: a, firstFire: t, lastFire: t})
	}
	return out, gap, nil
}

func TestE2EPrometheusRestartKeepsAFiringAlertOneEpisode(t *testing.T) {
	t.Parallel()
	restartScenario(t, nil, 1)
}

// With an outage tolerance shorter than the outage Prometheus does not restore the alert: it goes
// back to pending with a new ActiveAt and fires again. That is two episodes.
func TestE2EPrometheusRestartBackToPendingTwoEpisodes(t *testing.T) {
	t.Parallel()
	restartScenario(t, []string{"--rules.alert.for-outage-tolerance=2s"}, 2)
}

// restartScenario runs testPrometheusRestart until Prometheus itself behaves as the scenario needs
// (on a loaded machine a restarted Prometheus sometimes does not restore the alert's state, which is
// then two activations in its own history, and opsreview rightly stores two episodes), at most three
// times. Every attempt checks that the stored episodes equal Prometheus's activations.
func restartScenario(t *testing.T, flags []string, wantActivations int) {
	const attempts = 3
	for i := 1; ; i++ {
		got := testPrometheusRestart(t, flags, wantActivations)
		if got == wantActivations {
			return
		}
		if i == attempts {
			t.Fatalf("in %d attempts Prometheus's own history never had %d activations (last: %d)", attempts, wantActivations, got)
		}
		t.Logf("attempt %d: Prometheus's own history has %d activations, the scenario wants %d; again", i, got, wantActivations)
	}
}

// testPrometheusRestart makes a rule fire, stops Prometheus for restartOutage while it fires, starts
// it again on the same data and port, and compares the episodes stored from the ALERTS road (no
// Alertmanager, no webhook) with Prometheus's own history: one per ActiveAt that fired.
func testPrometheusRestart(t *testing.T, flags []string, wantActivations int) int {
	ctx := upstreamtest.Context(t)
	target := upstreamtest.NewTarget(t)
	service := map[string]string{"service": "checkout"}
	target.Set("demo_error_ratio", service, 0.9)
	prom := upstreamtest.StartPrometheus(t, upstreamtest.PrometheusOptions{
		Targets: []string{target.Addr}, Rules: restartRules,
		Flags: append([]string{"--rules.alert.for-grace-period=1s"}, flags...),
	})
	pc, err := api.NewClient(api.Config{Address: prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	promAPI := v1.NewAPI(pc)
	st, _ := newTestStore(t)
	r, err := New(e2eConfig(prom.URL, ""), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.collectors[0].(*prometheusCollector).delay = 0
	collect := func() error { return r.RunOnce(ctx) }

	until(ctx, t, "the firing alert stored", collect, func() (bool, string) {
		eps := episodes(t, st)
		return len(eps) == 1 && eps[0].Open() && eps[0].ViaPrometheus, fmt.Sprintf("%+v", eps)
	})
	before := episodes(t, st)[0]

	prom.Stop()
	stopped := time.Now()
	for time.Since(stopped) < restartOutage {
		if err := collect(); err == nil {
			t.Fatal("a run against a stopped Prometheus reported success")
		}
		time.Sleep(time.Second)
	}
	prom.Start()
	restarted := time.Now()

	// Until Prometheus fires again after the restart and the collector has read past that, then
	// until the stored episodes are Prometheus's activations.
	var truth []activation
	var gap time.Duration
	until(ctx, t, "the stored episodes equal Prometheus's activations", collect, func() (bool, string) {
		var err error
		truth, gap, err = promActivations(ctx, promAPI)
		if err != nil {
			return false, err.Error()
		}
		last := truth[len(truth)-1]
		if !last.lastFire.After(restarted) {
			return false, "not firing again yet"
		}
		state, err := st.CollectorState(ctx, "prom", KindPrometheus)
		if err != nil || state.Watermark == nil || state.Watermark.Before(last.lastFire) {
			return false, fmt.Sprintf("watermark %v before the last firing sample %v", state.Watermark, last.lastFire)
		}
		eps := episodes(t, st)
		sort.Slice(eps, func(i, j int) bool { return eps[i].StartsAt.Before(eps[j].StartsAt) })
		if len(eps) != len(truth) {
			return false, fmt.Sprintf("%d episodes %+v, Prometheus has %d activations %+v", len(eps), eps, len(truth), truth)
		}
		for i, a := range truth {
			e := eps[i]
			if !e.StartsAt.Equal(a.firstFire) {
				return false, fmt.Sprintf("episode %d starts %v, Prometheus fired at %v", i, e.StartsAt, a.firstFire)
			}
			if i+1 < len(truth) {
				if wantEnd := a.lastFire.Add(time.Second); e.Open() || !e.EndsAt.Equal(wantEnd) || e.EndKind != review.EndBackfill {
					return false, fmt.Sprintf("episode %d: want a backfill end at %v, got %+v", i, wantEnd, e)
				}
			} else if !e.Open() {
				return false, fmt.Sprintf("the last episode is closed while the alert fires: %+v", e)
			}
		}
		return true, ""
	})
	if len(truth) != wantActivations {
		t.Logf("Prometheus's own history: %+v", truth)
		return len(truth)
	}
	kept := false
	for _, e := range episodes(t, st) {
		kept = kept || e.ID == before.ID && e.StartsAt.Equal(before.StartsAt)
	}
	if !kept {
		t.Fatalf("the episode stored before the restart was replaced: before %+v, now %+v", before, episodes(t, st))
	}
	t.Logf("stopped to ready again %s, no firing sample for %s; %d activation(s) in Prometheus, as many episodes stored %s after it was ready",
		restarted.Sub(stopped).Round(100*time.Millisecond), gap, len(truth), time.Since(restarted).Round(100*time.Millisecond))
	return len(truth)
}
