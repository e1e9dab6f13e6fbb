package collectors

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// TestRetentionJobPrunesOnceAcrossInstances: the retention job runs in the collectors' loop; two
// instances share the database, one of them prunes (the other skips while it holds the lock, or
// finds nothing left), the episode older than retention is gone, the recent one stays, and the
// metrics say what was pruned and when.
func TestRetentionJobPrunesOnceAcrossInstances(t *testing.T) {
	st, url := newTestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfg := &config.Config{Retention: config.Duration(30 * 24 * time.Hour)}
	for i, start := range []time.Time{now.AddDate(0, 0, -40), now.AddDate(0, 0, -2)} {
		a := review.AlertReport{Fingerprint: uint64(i + 1), Labels: map[string]string{"alertname": "DiskFull"}, StartsAt: start,
			ObservedAt: start, EndsAt: start.Add(time.Hour), EndKind: review.EndResolved, Road: review.RoadWebhook}
		if _, err := st.IngestNotification(ctx, store.Notification{Receiver: "pager", GroupKey: "g", Status: "resolved",
			ReceivedAt: start.Add(time.Hour), Alerts: []review.AlertReport{a}}); err != nil {
			t.Fatal(err)
		}
	}
	st2, err := store.Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()

	var pruned float64
	for _, s := range []*store.Store{st, st2} {
		reg := prometheus.NewRegistry()
		job := NewRetention(cfg, s, Options{Now: func() time.Time { return now }, Registerer: reg})
		r, err := NewRunner(Options{Store: s, Now: func() time.Time { return now }}, job)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var m dto.Metric
		if err := job.pruned.WithLabelValues("episodes").Write(&m); err != nil {
			t.Fatal(err)
		}
		pruned += m.GetCounter().GetValue()
		if err := job.lastRun.Write(&m); err != nil || m.GetGauge().GetValue() == 0 {
			t.Errorf("last run not recorded: %v", err)
		}
	}
	if pruned != 1 {
		t.Errorf("episodes pruned over both instances: %v, want 1", pruned)
	}
	eps, err := st.Episodes(ctx, store.EpisodeFilter{From: now.AddDate(-1, 0, 0), To: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 || eps[0].Fingerprint != 2 {
		t.Fatalf("episodes left: %+v, want only the recent one", eps)
	}
	state, err := st.CollectorState(ctx, "retention", KindRetention)
	if err != nil || state.LastSuccess == nil {
		t.Fatalf("the retention run is not recorded as a collector run: %+v %v", state, err)
	}
}

// TestRetentionWithoutASettingKeepsEverything: a configuration built in code, without config.Load's
// defaults, has retention 0; the job must read that as "nothing configured", not "delete it all".
// It still compacts the daily fires.
func TestRetentionWithoutASettingKeepsEverything(t *testing.T) {
	st, _ := newTestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	start := now.AddDate(0, 0, -3)
	a := review.AlertReport{Fingerprint: 7, Labels: map[string]string{"alertname": "DiskFull"}, StartsAt: start,
		ObservedAt: start, EndsAt: start.Add(time.Hour), EndKind: review.EndResolved, Road: review.RoadWebhook}
	if _, err := st.IngestNotification(ctx, store.Notification{Receiver: "pager", GroupKey: "g", Status: "resolved",
		ReceivedAt: start.Add(time.Hour), Alerts: []review.AlertReport{a}}); err != nil {
		t.Fatal(err)
	}
	job := NewRetention(&config.Config{}, st, Options{Now: func() time.Time { return now }, Registerer: prometheus.NewRegistry()})
	if err := job.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	eps, err := st.Episodes(ctx, store.EpisodeFilter{From: now.AddDate(-1, 0, 0), To: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 {
		t.Fatalf("episodes left after a run without retention: %d, want 1", len(eps))
	}
	// The run still compacts the daily fires (the trends' rollup), which keep their count.
	var deltas int
	if err := st.DB().GetContext(ctx, &deltas, `SELECT count(*) FROM episode_day_fires WHERE delta`); err != nil {
		t.Fatal(err)
	}
	if deltas != 0 {
		t.Errorf("%d delta rows left in the daily fires after a run", deltas)
	}
	weekly, err := st.WeeklyFires(ctx, []time.Time{now.AddDate(0, 0, -7), now}, store.CountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := weekly["DiskFull"]; len(got) != 1 || got[0] != 1 {
		t.Errorf("trend after compaction: %v, want [1]", weekly)
	}
}
