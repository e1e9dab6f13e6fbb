package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
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

// ingestModes are compared in one run: the webhook path; the naive handler (one INSERT per
// alert, autocommit), the same in one transaction per payload, and raw COPY, each writing only the
// alerts' episodes (the first definition of the comparison); and the same three writing every row
// the webhook writes (the episodes, the notification, its links to them and the episodes' first
// notification to the receiver), which is what "the same rows" means in issue 6.
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
	{"one INSERT per row, autocommit, all rows", func(ctx context.Context, st *store.Store, n store.Notification) error {
		return insertAllRows(ctx, st.DB(), n)
	}},
	{"one INSERT per row, one tx, all rows", func(ctx context.Context, st *store.Store, n store.Notification) error {
		tx, err := st.DB().BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("beginning: %w", err)
		}
		defer tx.Rollback()
		if err := insertAllRows(ctx, tx, n); err != nil {
			return err
		}
		return tx.Commit()
	}},
	{"raw COPY, all rows", copyAllRows},
}

// Indexes of the modes in ingestModes, for the report.
const (
	modeWebhook = iota
	modeInsertAutocommit
	modeInsertTx
	modeCopy
	modeAllInsertAutocommit
	modeAllInsertTx
	modeAllCopy
)

// noteRow is the notification row a baseline writes for a payload, as the webhook would.
func noteRow(n store.Notification) (dedup, groupHash []byte) {
	d := sha256.Sum256([]byte("bench\x00" + n.Receiver + "\x00" + n.GroupKey))
	g := sha256.Sum256([]byte(n.GroupKey))
	return d[:], g[:]
}

const (
	insertNotification = `
	INSERT INTO notifications (dedup_key, receiver, group_key, group_key_hash, status, received_at, last_received_at,
	                           alerts, sent_at)
	VALUES ($1, $2, $3, $4, 'firing', $5, $5, $6, $5) RETURNING id`
	insertEpisodeID = insertEpisode + ` RETURNING id`
	insertLink      = `INSERT INTO notification_episodes (notification_id, episode_id, alert_status) VALUES ($1, $2, 'firing')`
	insertFirst     = `
	INSERT INTO receiver_episodes (receiver, episode_id, first_notification_id, first_sent_at, first_dedup_key,
	                               team, alertname, received_at)
	VALUES ($1, $2, $3, $4, $5, '', $6, $4)`
)

// insertAllRows writes a payload's rows one INSERT at a time: the notification, then per alert its
// episode, its link and its first notification (as a handler without batching would).
func insertAllRows(ctx context.Context, db sqlx.ExtContext, n store.Notification) error {
	dedup, groupHash := noteRow(n)
	var noteID int64
	if err := sqlx.GetContext(ctx, db, &noteID, insertNotification, dedup, n.Receiver, n.GroupKey, groupHash, n.ReceivedAt,
		len(n.Alerts)); err != nil {
		return fmt.Errorf("inserting the notification: %w", err)
	}
	for _, a := range n.Alerts {
		var id int64
		if err := sqlx.GetContext(ctx, db, &id, insertEpisodeID, int64(a.Fingerprint), a.Alertname(), jsonOf(a.Labels),
			jsonOf(a.Annotations), a.StartsAt); err != nil {
			return fmt.Errorf("inserting an alert: %w", err)
		}
		if _, err := db.ExecContext(ctx, insertLink, noteID, id); err != nil {
			return fmt.Errorf("linking an alert: %w", err)
		}
		if _, err := db.ExecContext(ctx, insertFirst, n.Receiver, id, noteID, n.ReceivedAt, dedup, a.Alertname()); err != nil {
			return fmt.Errorf("recording a first notification: %w", err)
		}
	}
	return nil
}

// copyAllRows writes a payload's rows with COPY, one per table, in one transaction, with ids
// taken from the sequences first.
func copyAllRows(ctx context.Context, st *store.Store, n store.Notification) error {
	tx, err := st.DB().BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning: %w", err)
	}
	defer tx.Rollback()
	var ids struct {
		Episodes pq.Int64Array `db:"episodes"`
		Note     int64         `db:"note"`
	}
	if err := tx.GetContext(ctx, &ids, `
		SELECT array(SELECT nextval('episodes_id_seq') FROM generate_series(1, $1)) AS episodes,
		       nextval('notifications_id_seq') AS note`, len(n.Alerts)); err != nil {
		return fmt.Errorf("taking ids: %w", err)
	}
	dedup, groupHash := noteRow(n)
	copyRows := func(table string, cols []string, rows func(add func(vals ...any) error) error) error {
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
		if err != nil {
			return fmt.Errorf("starting the copy into %s: %w", table, err)
		}
		defer stmt.Close()
		if err := rows(func(vals ...any) error { _, err := stmt.ExecContext(ctx, vals...); return err }); err != nil {
			return fmt.Errorf("copying into %s: %w", table, err)
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("finishing the copy into %s: %w", table, err)
		}
		return nil
	}
	if err := copyRows("notifications", []string{"id", "dedup_key", "receiver", "group_key", "group_key_hash", "status",
		"received_at", "last_received_at", "alerts", "sent_at"}, func(add func(...any) error) error {
		return add(ids.Note, dedup, n.Receiver, n.GroupKey, groupHash, "firing", n.ReceivedAt, n.ReceivedAt, len(n.Alerts), n.ReceivedAt)
	}); err != nil {
		return err
	}
	if err := copyRows("episodes", []string{"id", "fingerprint", "alertname", "labels", "annotations", "starts_at",
		"last_seen_at", "via_webhook"}, func(add func(...any) error) error {
		for i, a := range n.Alerts {
			if err := add(ids.Episodes[i], int64(a.Fingerprint), a.Alertname(), jsonOf(a.Labels), jsonOf(a.Annotations),
				a.StartsAt, a.StartsAt, true); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := copyRows("notification_episodes", []string{"notification_id", "episode_id", "alert_status"},
		func(add func(...any) error) error {
			for i := range n.Alerts {
				if err := add(ids.Note, ids.Episodes[i], "firing"); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
		return err
	}
	if err := copyRows("receiver_episodes", []string{"receiver", "episode_id", "first_notification_id", "first_sent_at",
		"first_dedup_key", "team", "alertname", "received_at"}, func(add func(...any) error) error {
		for i, a := range n.Alerts {
			if err := add(n.Receiver, ids.Episodes[i], ids.Note, n.ReceivedAt, dedup, "", a.Alertname(), n.ReceivedAt); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return tx.Commit()
}

// measureIngest runs each mode for ingestDuration with ingestWorkers concurrent writers, modes
// interleaved round by round so that a slow moment of the machine hits all of them, in a scratch
// database created afresh.
func measureIngest(ctx context.Context, o options) ([]ingestResult, error) {
	st, _, err := scratchStore(ctx, o.base, "opsreview_bench_ingest")
	if err != nil {
		return nil, err
	}
	defer st.Close()
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
