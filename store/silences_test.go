package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

func TestUpsertSilences(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	sl := review.Silence{
		ID: "a1", StartsAt: t0, EndsAt: t0.Add(time.Hour), UpdatedAt: t0, CreatedBy: "ann", Comment: "maintenance",
		State:    "active",
		Matchers: []review.SilenceMatcher{{Name: "alertname", Value: "DiskFull", IsEqual: true}, {Name: "env", Value: "dev.*", IsRegex: true}},
	}
	if err := s.UpsertSilences(ctx, "am", []review.Silence{sl}); err != nil {
		t.Fatal(err)
	}
	sl.State, sl.EndsAt, sl.UpdatedAt = "expired", t0.Add(10*time.Minute), t0.Add(10*time.Minute)
	if err := s.UpsertSilences(ctx, "am", []review.Silence{sl}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertSilences(ctx, "am2", []review.Silence{sl}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Silences(ctx, "am")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("want one silence, got %+v", got)
	}
	g := got[0]
	if g.Source != "am" || g.State != "expired" || !g.EndsAt.Equal(t0.Add(10*time.Minute)) || g.Comment != "maintenance" ||
		len(g.Matchers) != 2 || !g.Matchers[1].IsRegex || !g.Matchers[0].IsEqual || g.Matchers[1].IsEqual {
		t.Fatalf("silence not stored as updated: %+v", g)
	}
	if all, _ := s.Silences(ctx, ""); len(all) != 2 {
		t.Fatalf("want the silence from both sources, got %d", len(all))
	}
}

func TestSilencedFires(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	r1 := report(1, t0, time.Time{}, review.RoadAlertmanager)
	r1.Silenced = true
	r2 := report(2, t0.Add(time.Minute), time.Time{}, review.RoadWebhook)
	if err := s.IngestAlerts(ctx, []review.AlertReport{r1, r2}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.SilencedFires(ctx, EpisodeFilter{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (review.SilencedFires{Alertname: "DiskFull", Fires: 2, Silenced: 1}) {
		t.Fatalf("want DiskFull 2 fires, 1 silenced; got %+v", got)
	}
}
