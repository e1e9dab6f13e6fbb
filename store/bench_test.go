package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// payload builds one webhook delivery of n distinct firing alerts, all new.
func payload(seq int64, n int) Notification {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second)
	ns := Notification{Receiver: "pager", GroupKey: fmt.Sprintf("{}:{g=\"%d\"}", seq), Status: "firing", ReceivedAt: start}
	for i := 0; i < n; i++ {
		fp := uint64(seq)<<20 | uint64(i)
		ns.Alerts = append(ns.Alerts, review.AlertReport{
			Fingerprint: fp, StartsAt: start, ObservedAt: start, Road: review.RoadWebhook,
			Labels:      map[string]string{"alertname": "DiskFull", "instance": fmt.Sprintf("host-%d-%d", seq, i), "severity": "page"},
			Annotations: map[string]string{"summary": "disk almost full", "runbook_url": "https://wiki.internal/disk"},
		})
	}
	return ns
}

// BenchmarkIngestWebhook100 stores concurrent 100-alert webhook payloads the way the handler does.
// Reported: alerts/s.
func BenchmarkIngestWebhook100(b *testing.B) {
	s := newTestStore(b)
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.IngestNotification(context.Background(), payload(seq.Add(1), 100)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "alerts/s")
}

// BenchmarkInsertPerAlert100 writes the same rows with one INSERT per alert in one transaction per
// payload: the naive baseline the webhook path is measured against.
func BenchmarkInsertPerAlert100(b *testing.B) {
	s := newTestStore(b)
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := payload(seq.Add(1), 100)
			tx, err := s.db.Beginx()
			if err != nil {
				b.Fatal(err)
			}
			for _, a := range n.Alerts {
				if _, err := tx.Exec(`
					INSERT INTO episodes (fingerprint, alertname, labels, annotations, starts_at, last_seen_at, via_webhook)
					VALUES ($1, $2, $3, $4, $5, $5, true)`,
					int64(a.Fingerprint), a.Alertname(), jsonText(a.Labels), jsonText(a.Annotations), a.StartsAt); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "alerts/s")
}

// BenchmarkCopy100 writes the same episode rows with COPY: the ceiling.
func BenchmarkCopy100(b *testing.B) {
	s := newTestStore(b)
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := payload(seq.Add(1), 100)
			tx, err := s.db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			stmt, err := tx.Prepare(pq.CopyIn("episodes", "fingerprint", "alertname", "labels", "annotations", "starts_at", "last_seen_at", "via_webhook"))
			if err != nil {
				b.Fatal(err)
			}
			for _, a := range n.Alerts {
				if _, err := stmt.Exec(int64(a.Fingerprint), a.Alertname(), jsonText(a.Labels), jsonText(a.Annotations), a.StartsAt, a.StartsAt, true); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := stmt.Exec(); err != nil {
				b.Fatal(err)
			}
			stmt.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "alerts/s")
}

// BenchmarkIngestReplicaCopies delivers each 100-alert notification three times at once, as three
// Alertmanager replicas with clustering off do (starts 200 ms apart, so the copies differ), with
// many groups in flight: the copies of one group queue for each other. Reported: alerts/s of
// distinct notifications, and the slowest delivery.
func BenchmarkIngestReplicaCopies(b *testing.B) {
	s := newTestStore(b)
	var seq atomic.Int64
	var slowest atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := payload(seq.Add(1), 100)
			done := make(chan error, 3)
			for r := 0; r < 3; r++ {
				c := n
				c.Alerts = append([]review.AlertReport(nil), n.Alerts...)
				for i := range c.Alerts {
					c.Alerts[i].StartsAt = c.Alerts[i].StartsAt.Add(time.Duration(r) * 200 * time.Millisecond)
				}
				go func() {
					began := time.Now()
					_, err := s.IngestNotification(context.Background(), c)
					if d := int64(time.Since(began)); d > slowest.Load() {
						slowest.Store(d)
					}
					done <- err
				}()
			}
			for r := 0; r < 3; r++ {
				if err := <-done; err != nil {
					b.Error(err)
				}
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "alerts/s")
	b.ReportMetric(time.Duration(slowest.Load()).Seconds(), "slowest-s")
}

// BenchmarkIngestWebhookFireResolve100 stores concurrent 100-alert payloads that fire and then
// resolve (the resolve ends every episode: the path where the daily rollup's firing time and
// flaps change). Reported: alerts/s, counting each alert once.
func BenchmarkIngestWebhookFireResolve100(b *testing.B) {
	s := newTestStore(b)
	var seq atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := payload(seq.Add(1), 100)
			if _, err := s.IngestNotification(context.Background(), n); err != nil {
				b.Fatal(err)
			}
			n.Status, n.ReceivedAt = "resolved", n.ReceivedAt.Add(4*time.Minute)
			for i := range n.Alerts {
				n.Alerts[i].EndsAt, n.Alerts[i].EndKind = n.Alerts[i].StartsAt.Add(4*time.Minute), review.EndResolved
				n.Alerts[i].ObservedAt = n.ReceivedAt
			}
			if _, err := s.IngestNotification(context.Background(), n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "alerts/s")
}
