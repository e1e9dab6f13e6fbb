package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// benchServer is a server over a year of history: 50,000 episodes of 2,000 instances of 40 rules
// in two teams and unassigned, 20,000 of them paged, generated in SQL.
func benchServer(b *testing.B) *Server {
	b.Helper()
	url := storetest.NewURL(b)
	b.Setenv("DATABASE_URL", url)
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	reviewConfig(cfg)
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, url, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{`
		INSERT INTO episodes (fingerprint, alertname, team, labels, annotations, starts_at, ends_at, last_seen_at)
		SELECT f, 'Rule' || (f % 40), (ARRAY['payments', 'search', ''])[1 + (f % 40) % 3],
		       jsonb_build_object('alertname', 'Rule' || (f % 40), 'instance', 'host-' || f, 'team', 'x'),
		       CASE WHEN f % 4 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('runbook_url', 'https://wiki.example/r' || (f % 40)) END,
		       t.ts, t.ts + ((f * 7 + k * 13) % 180 + 1) * interval '1 minute', t.ts
		FROM generate_series(1, 2000) f, generate_series(0, 24) k,
		     LATERAL (SELECT timestamptz '2025-11-23T00:00:00Z' + k * interval '14 days 14 hours'
		                     + (f % 1000) * interval '17 minutes' AS ts) t`, `
		WITH e AS (SELECT id, starts_at FROM episodes WHERE id % 5 < 2),
		n AS (
		    INSERT INTO notifications (dedup_key, receiver, group_key, group_key_hash, status, received_at,
		                               last_received_at, alerts, sent_at)
		    SELECT int8send(e.id), 'pager', 'g', 'g', 'firing', e.starts_at + interval '30 seconds',
		           e.starts_at + interval '30 seconds', 1, e.starts_at
		    FROM e
		    RETURNING id, dedup_key, sent_at)
		INSERT INTO receiver_episodes (receiver, episode_id, first_notification_id, first_sent_at, first_dedup_key)
		SELECT 'pager', ('x' || encode(n.dedup_key, 'hex'))::bit(64)::bigint, n.id, n.sent_at, n.dedup_key FROM n`,
		`ANALYZE`,
	} {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			b.Fatalf("generating history: %v", err)
		}
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	srv, err := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func benchGet(b *testing.B, srv *Server, path string) {
	b.Helper()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, path, nil), 60_000)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
}

// BenchmarkReviewPage renders /review for one team and one week over a year of history.
func BenchmarkReviewPage(b *testing.B) {
	srv := benchServer(b)
	b.Run("one team", func(b *testing.B) { benchGet(b, srv, "/review?week=2026-W47&team=payments") })
	b.Run("all teams", func(b *testing.B) { benchGet(b, srv, "/review?week=2026-W47") })
	b.Run("noisy API one team", func(b *testing.B) {
		benchGet(b, srv, "/api/v1/alerts/noisy?from=2026-11-16T00:00:00Z&to=2026-11-23T00:00:00Z&team=payments")
	})
	b.Run("noisy API 90 days", func(b *testing.B) {
		benchGet(b, srv, "/api/v1/alerts/noisy?from=2026-08-25T00:00:00Z&to=2026-11-23T00:00:00Z")
	})
}
