package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// amReport is a poll of Alertmanager's API seeing fingerprint fp firing since t0.
func amReport(fp uint64, source string, observed time.Time) review.AlertReport {
	r := report(fp, t0, time.Time{}, review.RoadAlertmanager)
	r.Source, r.ObservedAt = source, observed
	return r
}

func episodeOf(t *testing.T, s *Store, fp uint64) review.Episode {
	t.Helper()
	for _, e := range allEpisodes(t, s) {
		if e.Fingerprint == fp {
			return e
		}
	}
	t.Fatalf("no episode of %d", fp)
	return review.Episode{}
}

func poll(t *testing.T, s *Store, p VanishPoll) VanishResult {
	t.Helper()
	res, err := s.CloseVanished(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCloseVanishedTwoPollsClose(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	seen := t0.Add(5 * time.Minute)
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", seen), amReport(2, "am", seen)}, nil); err != nil {
		t.Fatal(err)
	}
	// Poll 1: fingerprint 2 is missing once — not enough.
	if res := poll(t, s, VanishPoll{Source: "am", Present: []uint64{1}}); res != (VanishResult{Missing: 1}) {
		t.Fatalf("poll 1: %+v", res)
	}
	if !episodeOf(t, s, 2).Open() {
		t.Fatal("one missing poll must not close an episode")
	}
	// Poll 2: missing again — closed at its last sighting, as inferred.
	if res := poll(t, s, VanishPoll{Source: "am", Present: []uint64{1}}); res != (VanishResult{Closed: 1}) {
		t.Fatalf("poll 2: %+v", res)
	}
	e := episodeOf(t, s, 2)
	if e.Open() || !e.EndsAt.Equal(seen) || e.EndKind != review.EndInferred {
		t.Fatalf("want closed at %v (inferred), got %+v", seen, e)
	}
	if !episodeOf(t, s, 1).Open() {
		t.Fatal("a present alert must stay open")
	}
}

func TestCloseVanishedPresentAgainResets(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", t0.Add(time.Minute))}, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, s, VanishPoll{Source: "am"})
	if res := poll(t, s, VanishPoll{Source: "am", Present: []uint64{1}}); res != (VanishResult{Reset: 1}) {
		t.Fatalf("present again: %+v", res)
	}
	if res := poll(t, s, VanishPoll{Source: "am"}); res != (VanishResult{Missing: 1}) {
		t.Fatalf("misses must be consecutive: %+v", res)
	}
	if !episodeOf(t, s, 1).Open() {
		t.Fatal("closed after non-consecutive misses")
	}
}

func TestCloseVanishedRestartResets(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", t0.Add(time.Minute))}, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, s, VanishPoll{Source: "am"})
	if res := poll(t, s, VanishPoll{Source: "am", Restarted: true}); res != (VanishResult{Reset: 1}) {
		t.Fatalf("restart: %+v", res)
	}
	if !episodeOf(t, s, 1).Open() {
		t.Fatal("an Alertmanager restart must not close episodes")
	}
	if res := poll(t, s, VanishPoll{Source: "am"}); res != (VanishResult{Missing: 1}) {
		t.Fatalf("after restart the count starts over: %+v", res)
	}
}

func TestCloseVanishedScope(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	at := t0.Add(time.Minute)
	hook := report(3, t0, time.Time{}, review.RoadWebhook)
	prom := report(4, t0, time.Time{}, review.RoadPrometheus)
	prom.Source = "prom"
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", at), amReport(2, "other", at), hook, prom}, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		poll(t, s, VanishPoll{Source: "am"})
	}
	for fp, open := range map[uint64]bool{1: false, 2: true, 3: true, 4: true} {
		if episodeOf(t, s, fp).Open() != open {
			t.Fatalf("fingerprint %d: open = %v, want %v", fp, !open, open)
		}
	}
	// The only Alertmanager also closes what only the webhook saw.
	poll(t, s, VanishPoll{Source: "am", IncludeWebhook: true})
	poll(t, s, VanishPoll{Source: "am", IncludeWebhook: true})
	if episodeOf(t, s, 3).Open() || !episodeOf(t, s, 4).Open() {
		t.Fatal("want the webhook episode closed and the Prometheus one left to its history")
	}
}

func TestClosedByVanishReopensWhenSeenAgain(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", t0.Add(time.Minute))}, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, s, VanishPoll{Source: "am"})
	poll(t, s, VanishPoll{Source: "am"})
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", t0.Add(5*time.Minute))}, nil); err != nil {
		t.Fatal(err)
	}
	if eps := allEpisodes(t, s); len(eps) != 1 || !eps[0].Open() {
		t.Fatalf("a wrong guess must be undone, not doubled: %+v", eps)
	}
}

// A young Alertmanager may not have heard of every alert, but one it listed itself since opsreview
// first polled it is gone when it is missing: closed; one last seen before is left open.
func TestCloseVanishedYoungAlertmanagerClosesWhatItListedItself(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	since := t0.Add(10 * time.Minute)
	before, after := t0.Add(time.Minute), since.Add(time.Minute)
	if err := s.IngestAlerts(ctx, []review.AlertReport{amReport(1, "am", before), amReport(2, "am", after)}, nil); err != nil {
		t.Fatal(err)
	}
	young := VanishPoll{Source: "am", Restarted: true, SeenSince: since}
	poll(t, s, young)
	if res := poll(t, s, young); res != (VanishResult{Closed: 1}) {
		t.Fatalf("second poll of a young Alertmanager: %+v", res)
	}
	if !episodeOf(t, s, 1).Open() {
		t.Fatal("an episode last seen before this Alertmanager process was polled must stay open")
	}
	if e := episodeOf(t, s, 2); e.Open() || !e.EndsAt.Equal(after) || e.EndKind != review.EndInferred {
		t.Fatalf("want the alert it listed itself closed at %v, got %+v", after, e)
	}
}
