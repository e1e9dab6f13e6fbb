package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

var t0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

func report(fp uint64, start time.Time, end time.Time, road review.Road) review.AlertReport {
	r := review.AlertReport{
		Fingerprint: fp, Labels: map[string]string{"alertname": "DiskFull", "instance": "a"},
		Annotations: map[string]string{"summary": "disk"}, StartsAt: start, ObservedAt: start.Add(time.Second),
		Road: road,
	}
	if !end.IsZero() {
		r.EndsAt, r.EndKind = end, review.EndResolved
	}
	return r
}

func allEpisodes(t *testing.T, s *Store) []review.Episode {
	t.Helper()
	eps, err := s.Episodes(context.Background(), EpisodeFilter{From: t0.Add(-time.Hour * 24 * 365), To: t0.Add(time.Hour * 24 * 365)})
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

func TestIngestFiringThenResolvedIsOneEpisode(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.IngestAlerts(ctx, []review.AlertReport{report(7, t0, time.Time{}, review.RoadWebhook)}, nil); err != nil {
		t.Fatal(err)
	}
	eps := allEpisodes(t, s)
	if len(eps) != 1 || !eps[0].Open() {
		t.Fatalf("want one open episode, got %+v", eps)
	}
	end := t0.Add(10 * time.Minute)
	if err := s.IngestAlerts(ctx, []review.AlertReport{report(7, t0, end, review.RoadWebhook)}, nil); err != nil {
		t.Fatal(err)
	}
	eps = allEpisodes(t, s)
	if len(eps) != 1 || eps[0].EndsAt == nil || !eps[0].EndsAt.Equal(end) || eps[0].EndKind != review.EndResolved {
		t.Fatalf("want one episode ending at %v, got %+v", end, eps)
	}
}

func TestIngestResolvedBeforeFiringAndReplicaStarts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	end := t0.Add(10 * time.Minute)
	// resolved first, then a stale firing, then a replica's firing that started 20s earlier
	for _, r := range []review.AlertReport{
		report(7, t0, end, review.RoadWebhook),
		report(7, t0, time.Time{}, review.RoadWebhook),
		report(7, t0.Add(-20*time.Second), time.Time{}, review.RoadWebhook),
	} {
		if err := s.IngestAlerts(ctx, []review.AlertReport{r}, nil); err != nil {
			t.Fatal(err)
		}
	}
	eps := allEpisodes(t, s)
	if len(eps) != 1 {
		t.Fatalf("want 1 episode, got %d: %+v", len(eps), eps)
	}
	if eps[0].EndsAt == nil || !eps[0].EndsAt.Equal(end) {
		t.Fatalf("stale firing reopened the episode: %+v", eps[0])
	}
	if !eps[0].StartsAt.Equal(t0.Add(-20 * time.Second)) {
		t.Fatalf("want the earliest start, got %v", eps[0].StartsAt)
	}
}

func TestIngestRefireIsASecondEpisode(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	rs := []review.AlertReport{
		report(7, t0, t0.Add(2*time.Minute), review.RoadWebhook),
		report(7, t0.Add(10*time.Minute), time.Time{}, review.RoadWebhook),
	}
	if err := s.IngestAlerts(ctx, rs, nil); err != nil {
		t.Fatal(err)
	}
	if eps := allEpisodes(t, s); len(eps) != 2 {
		t.Fatalf("want 2 episodes, got %+v", eps)
	}
}

// One payload that resolves a stored open episode and reports its refire writes both in one
// statement: the refire overlaps the stored row as it was until the update lands, which the
// exclusion constraint (deferrable) accepts because it checks at the end of the statement. The
// stored state is the same as after two payloads, and gaps and day counts follow.
func TestIngestResolveAndRefireInOnePayload(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.IngestAlerts(ctx, []review.AlertReport{report(7, t0, time.Time{}, review.RoadWebhook)}, nil); err != nil {
		t.Fatal(err)
	}
	end, refire := t0.Add(2*time.Minute), t0.Add(10*time.Minute)
	rs := []review.AlertReport{report(7, t0, end, review.RoadWebhook), report(7, refire, time.Time{}, review.RoadWebhook)}
	if err := s.IngestAlerts(ctx, rs, nil); err != nil {
		t.Fatalf("resolving and refiring in one payload: %v", err)
	}
	eps := allEpisodes(t, s)
	if len(eps) != 2 {
		t.Fatalf("want 2 episodes, got %+v", eps)
	}
	// newest first
	if !eps[1].StartsAt.Equal(t0) || eps[1].EndsAt == nil || !eps[1].EndsAt.Equal(end) || !eps[0].StartsAt.Equal(refire) || !eps[0].Open() {
		t.Fatalf("want [%v, %v] then an open episode from %v, got %+v", t0, end, refire, eps)
	}
	var gap *string
	if err := s.DB().GetContext(ctx, &gap, `SELECT gap_before::text FROM episodes WHERE starts_at = $1`, refire); err != nil {
		t.Fatal(err)
	}
	if gap == nil || *gap != "00:08:00" {
		t.Fatalf("gap before the refire: %v; want 00:08:00", gap)
	}
	var fires int
	if err := s.DB().GetContext(ctx, &fires, `SELECT sum(fires) FROM episode_day_fires`); err != nil {
		t.Fatal(err)
	}
	if fires != 2 {
		t.Fatalf("day fires: %d; want 2", fires)
	}
}

func TestConcurrentDeliveriesStoreOneEpisode(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := Notification{Receiver: "pager", GroupKey: "{}:{alertname=\"DiskFull\"}", Status: "firing",
				ReceivedAt: t0.Add(time.Duration(i) * time.Second),
				Alerts:     []review.AlertReport{report(7, t0.Add(time.Duration(i)*time.Second), time.Time{}, review.RoadWebhook)}}
			if _, err := s.IngestNotification(ctx, n); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if eps := allEpisodes(t, s); len(eps) != 1 {
		t.Fatalf("want 1 episode from 8 concurrent copies, got %d", len(eps))
	}
	c, err := s.CountNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Notifications != 1 || c.Deliveries != 8 {
		t.Fatalf("want 1 notification with 8 deliveries, got %+v", c)
	}
}

func TestDatabaseRejectsOverlappingEpisodes(t *testing.T) {
	s := newTestStore(t)
	_, err := s.DB().Exec(`
		INSERT INTO episodes (fingerprint, alertname, labels, starts_at, last_seen_at)
		VALUES (1, 'A', '{}', $1, $1), (1, 'A', '{}', $2, $2)`, t0, t0.Add(time.Hour))
	if err == nil {
		t.Fatal("two open episodes of one fingerprint were accepted")
	}
}

// Alertmanager sends nanosecond times; Postgres keeps microseconds. A notification must still be
// linked to the episode it opened, or its page is lost.
func TestNanosecondStartsStillLinkNotifications(t *testing.T) {
	s := newTestStore(t)
	start := t0.Add(123456789 * time.Nanosecond)
	n := Notification{Receiver: "pager", GroupKey: "g", Status: "firing", ReceivedAt: start,
		Alerts: []review.AlertReport{report(7, start, time.Time{}, review.RoadWebhook)}}
	res, err := s.IngestNotification(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if res.Episodes != 1 || res.NewEpisodes != 1 {
		t.Fatalf("the notification must carry its new episode: %+v", res)
	}
}
