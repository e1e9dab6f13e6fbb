package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// ingestMode is one way of storing the alerts of 100-alert payloads.
type ingestMode struct {
	name  string
	write func(ctx context.Context, st *store.Store, n store.Notification) error
}

// ingestResult is one mode's throughput (median over runs) and payload latency.
type ingestResult struct {
	name      string
	alertsPS  []float64
	latencies []time.Duration
}

const (
	ingestWorkers  = 8
	ingestAlerts   = 100
	ingestDuration = 3 * time.Second
)

// benchPayload builds one webhook delivery of n distinct firing alerts, all new.
func benchPayload(seq int64, n int) store.Notification {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second)
	ns := store.Notification{Receiver: "team-00-pager", GroupKey: fmt.Sprintf(`{}:{g="%d"}`, seq), Status: "firing", ReceivedAt: start}
	for i := 0; i < n; i++ {
		ns.Alerts = append(ns.Alerts, review.AlertReport{
			Fingerprint: uint64(seq)<<20 | uint64(i), StartsAt: start, ObservedAt: start, Road: review.RoadWebhook,
			Labels:      map[string]string{"alertname": "DiskFull", "instance": fmt.Sprintf("host-%d-%d", seq, i), "severity": "page"},
			Annotations: map[string]string{"summary": "disk almost full", "runbook_url": "https://wiki.internal/disk"},
		})
	}
	return ns
}

func jsonOf(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}

const insertEpisode = `
	INSERT INTO episodes (fingerprint, alertname, labels, annotations, starts_at, last_seen_at, via_webhook)
	VALUES ($1, $2, $3, $4, $5, $5, true)`

// ingestModes are compared in one run, on the same rows: the webhook path, the naive handler
// (one INSERT per alert, autocommit), the same in one transaction per payload, and raw COPY.
var ingestModes = []ingestMode{
	{"webhook (IngestNotification)", func(ctx context.Context, st *store.Store, n store.Notification) error {
		_, err := st.IngestNotification(ctx, n)
		return err
	}},
	{"one INSERT per alert, autocommit", func(ctx context.Context, st *store.Store, n store.Notification) error {
		for _, a := range n.Alerts {
			if _, err := st.DB().ExecContext(ctx, insertEpisode, int64(a.Fingerprint), a.Alertname(), jsonOf(a.Labels),
				jsonOf(a.Annotations), a.StartsAt); err != nil {
				return fmt.Errorf("inserting an alert: %w", err)
			}
		}
		return nil
	}},
	{"one INSERT per alert, one tx", func(ctx context.Context, st *store.Store, n store.Notification) error {
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("beginning: %w", err)
		}
		defer tx.Rollback()
		for _, a := range n.Alerts {
			if _, err := tx.ExecContext(ctx, insertEpisode, int64(a.Fingerprint), a.Alertname(), jsonOf(a.Labels),
				jsonOf(a.Annotations), a.StartsAt); err != nil {
				return fmt.Errorf("inserting an alert: %w", err)
			}
		}
		return tx.Commit()
	}},
	{"raw COPY", func(ctx context.Context, st *store.Store, n store.Notification) error {
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("beginning: %w", err)
		}
		defer tx.Rollback()
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn("episodes", "fingerprint", "alertname", "labels", "annotations",
			"starts_at", "last_seen_at", "via_webhook"))
		if err != nil {
			return fmt.Errorf("starting the copy: %w", err)
		}
		for _, a := range n.Alerts {
			if _, err := stmt.ExecContext(ctx, int64(a.Fingerprint), a.Alertname(), jsonOf(a.Labels), jsonOf(a.Annotations),
				a.StartsAt, a.StartsAt, true); err != nil {
				return fmt.Errorf("copying an alert: %w", err)
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("finishing the copy: %w", err)
		}
		stmt.Close()
		return tx.Commit()
	}},
}

// measureIngest runs each mode for ingestDuration with ingestWorkers concurrent writers, modes
// interleaved round by round so that a slow moment of the machine hits all of them, in a scratch
// database created afresh.
func measureIngest(ctx context.Context, o options) ([]ingestResult, error) {
	const name = "opsreview_bench_ingest"
	if err := recreateDatabase(ctx, o.base, name); err != nil {
		return nil, err
	}
	dbURL, err := withDatabase(o.base, name)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dbURL, "")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	rounds := max(3, min(o.runs/6, 5))
	out := make([]ingestResult, len(ingestModes))
	var seq atomic.Int64
	for round := 0; round < rounds; round++ {
		for i, m := range ingestModes {
			out[i].name = m.name
			n, lat, err := ingestRound(ctx, st, m, &seq)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
			out[i].alertsPS = append(out[i].alertsPS, n)
			out[i].latencies = append(out[i].latencies, lat...)
			fmt.Fprintf(o.log, "ingest round %d %-34s %8.0f alerts/s\n", round+1, m.name, n)
		}
	}
	return out, nil
}

func ingestRound(ctx context.Context, st *store.Store, m ingestMode, seq *atomic.Int64) (float64, []time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		firstErr error
		wg       sync.WaitGroup
		alerts   atomic.Int64
	)
	start := time.Now()
	deadline := start.Add(ingestDuration)
	for w := 0; w < ingestWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				n := benchPayload(seq.Add(1), ingestAlerts)
				t0 := time.Now()
				if err := m.write(ctx, st, n); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				d := time.Since(t0)
				alerts.Add(ingestAlerts)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return float64(alerts.Load()) / time.Since(start).Seconds(), lat, firstErr
}
