package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// A retry or a clustered replica's copy of a stored notification is counted without taking the
// fingerprint locks: it is stored as a delivery even while another ingest holds them, and the
// stored state is the same as after one delivery.
func TestRepeatedDeliveryIsCountedWithoutTheFingerprintLocks(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	n := Notification{Receiver: "pager", GroupKey: `{}:{alertname="DiskFull"}`, Status: "firing", ReceivedAt: t0,
		Alerts: []review.AlertReport{report(7, t0, time.Time{}, review.RoadWebhook), report(8, t0, time.Time{}, review.RoadWebhook)}}
	first, err := s.IngestNotification(ctx, n)
	if err != nil {
		t.Fatal(err)
	}

	// Another ingest holds the locks of fingerprints 7 and 8.
	tx, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock(1, k::int)) FROM unnest($1::bigint[]) AS k`,
		int64s(fingerprintLockKeys([]int64{7, 8}))); err != nil {
		t.Fatal(err)
	}

	copyCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	again := n
	again.ReceivedAt = t0.Add(3 * time.Second)
	res, err := s.IngestNotification(copyCtx, again)
	if err != nil {
		t.Fatalf("a copy of a stored notification waited for the fingerprint locks: %v", err)
	}
	if !res.Duplicate || res.ID != first.ID || res.Episodes != 2 || res.NewEpisodes != 0 {
		t.Fatalf("the copy: %+v; want a duplicate of %+v", res, first)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// A copy with a different annotation says something new: it goes through the ingest, and is
	// still recognised as the same notification there.
	changed := n
	changed.Alerts = append([]review.AlertReport(nil), n.Alerts...)
	changed.Alerts[0].Annotations = map[string]string{"summary": "now 97%"}
	if res, err := s.IngestNotification(ctx, changed); err != nil || !res.Duplicate {
		t.Fatalf("a changed copy: %+v %v; want it stored as a delivery of the same notification", res, err)
	}
	c, err := s.CountNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Notifications != 1 || c.Deliveries != 3 || c.Episodes != 2 {
		t.Fatalf("want 1 notification, 3 deliveries, 2 episodes; got %+v", c)
	}
}
