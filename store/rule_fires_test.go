package store

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// TestRuleFiresMatchesTheRawEpisodes: the rule page's counts by quarter hour add up to the same
// hour-of-week heatmap as the raw episodes in any time zone (half-hour and quarter-hour offsets,
// a DST change in the window), its latest episodes are the newest raw ones, and their flaps are
// those review.CountFlaps finds looking back across the window's start.
func TestRuleFiresMatchesTheRawEpisodes(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	from, to := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var reports []review.AlertReport
	for fp := uint64(1); fp <= 6; fp++ {
		at := from.Add(-6 * time.Hour) // some start before the window: flaps look back across it
		for at.Before(to.Add(3 * time.Hour)) {
			d := time.Duration(1+rng.IntN(90)) * time.Minute
			r := report(fp, at, at.Add(d), review.RoadWebhook)
			r.Labels = map[string]string{"alertname": "Flappy", "instance": string(rune('a' + fp))}
			if fp == 6 {
				r.Labels["alertname"] = "Other"
			}
			reports = append(reports, r)
			at = at.Add(d + time.Duration(rng.IntN(4*60))*time.Minute + time.Duration(rng.IntN(60))*time.Second)
		}
	}
	if err := s.IngestAlerts(ctx, reports, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Episodes(ctx, EpisodeFilter{Alertname: "Flappy", From: from.Add(-24 * time.Hour), To: to.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var inWindow []review.Episode
	var starts []time.Time
	for _, e := range raw {
		if !e.StartsAt.Before(from) && e.StartsAt.Before(to) {
			inWindow = append(inWindow, e)
			starts = append(starts, e.StartsAt)
		}
	}
	const threshold, refire = 5 * time.Minute, 30 * time.Minute
	const latest = 40
	got, err := s.RuleFires(ctx, RuleFiresFilter{Alertname: "Flappy", From: from, To: to, Latest: latest,
		FlapThreshold: threshold, RefireWindow: refire})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != len(inWindow) || len(inWindow) < 3*latest {
		t.Fatalf("total %d, want %d (fixture: more than %d)", got.Total, len(inWindow), 3*latest)
	}
	for _, tz := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"} {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		var heat [7][24]int
		for _, q := range got.Quarters {
			how := review.HourOfWeek(q.At, loc)
			heat[how/24][how%24] += q.Fires
		}
		if want := review.FiresByHourOfWeek(starts, loc); heat != want {
			t.Errorf("%s: the heatmap from quarter hours differs from the raw episodes'", tz)
		}
	}
	if len(got.Latest) != latest {
		t.Fatalf("%d latest episodes, want %d", len(got.Latest), latest)
	}
	// Flaps of the raw episodes, every earlier episode of each instance in view.
	flaps := map[int64]bool{}
	prev := map[uint64]*time.Time{}
	for i := len(raw) - 1; i >= 0; i-- { // raw is newest first
		e := raw[i]
		flaps[e.ID] = review.IsFlap(e, prev[e.Fingerprint], threshold, refire)
		prev[e.Fingerprint] = e.EndsAt
	}
	nflaps := 0
	for i, e := range got.Latest {
		w := inWindow[i]
		if e.Fingerprint != w.Fingerprint || !e.StartsAt.Equal(w.StartsAt) || e.EndsAt == nil || !e.EndsAt.Equal(*w.EndsAt) {
			t.Fatalf("latest %d: %+v, want the raw %+v", i, e, w)
		}
		if e.Flap != flaps[w.ID] {
			t.Errorf("latest %d (%v): flap %v, raw %v", i, e.StartsAt, e.Flap, flaps[w.ID])
		}
		if e.Flap {
			nflaps++
		}
	}
	if nflaps == 0 || nflaps == latest {
		t.Errorf("fixture: %d of %d latest are flaps, want some", nflaps, latest)
	}
	if got.Newest == nil || got.Newest.ID != inWindow[0].ID || got.Newest.Labels["instance"] == "" {
		t.Errorf("newest: %+v, want the raw newest with its labels", got.Newest)
	}
	// A team filter and a rule with no episodes.
	nobody := "nobody"
	if none, err := s.RuleFires(ctx, RuleFiresFilter{Alertname: "Flappy", Team: &nobody, From: from, To: to, Latest: 5}); err != nil ||
		none.Total != 0 || len(none.Latest) != 0 || none.Newest != nil {
		t.Errorf("another team: %+v %v", none, err)
	}
}
