package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// benchSLIs is how many SLIs the benchmarks load (8 weeks of 5-minute samples each);
// OPSREVIEW_BENCH_SLIS overrides the product's target of 500.
func benchSLIs() int {
	if n, err := strconv.Atoi(os.Getenv("OPSREVIEW_BENCH_SLIS")); err == nil && n > 0 {
		return n
	}
	return 500
}

// bigNormalServer loads n SLIs x 8 weeks of 5-minute samples with SQL, computes every baseline
// (reporting how long that took) and returns a server over them.
func bigNormalServer(b *testing.B, n int) *Server {
	b.Helper()
	url := storetest.NewURL(b)
	b.Setenv("DATABASE_URL", url)
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Sources.Prometheus = []config.PrometheusSource{{Name: "prom", URL: "http://127.0.0.1:9",
		Interval: config.Duration(time.Minute), Timeout: config.Duration(time.Second), Lookback: config.Duration(8 * 7 * 24 * time.Hour)}}
	for i := 0; i < n; i++ {
		cfg.SLIs = append(cfg.SLIs, config.SLI{Name: fmt.Sprintf("sli-%03d", i), Source: "prom", Service: fmt.Sprintf("svc-%02d", i%40),
			Unit: "req/s", Direction: "higher-is-better", Step: config.Duration(5 * time.Minute), Query: "sum(rate(x[5m]))"})
	}
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
	now := time.Date(2026, 11, 24, 15, 2, 0, 0, time.UTC)
	job := store.BaselineJob{Loc: time.UTC, Spec: review.NewBaselineSpec(4, 0.1, 0.9)}
	ids := make([]int64, n)
	for i, x := range cfg.SLIs {
		ref, err := st.EnsureSLI(ctx, store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, job)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = ref.ID
	}
	began := time.Now()
	if _, err := st.DB().ExecContext(ctx, `
		INSERT INTO sli_samples (sli_id, at, value)
		SELECT l.id, t, 150 + 40 * sin(extract(epoch FROM t) / 86400 * 2 * pi()) + random() * 10
		FROM slis l, generate_series($1::timestamptz - interval '8 weeks', $1::timestamptz, interval '5 minutes') AS t`,
		now.Truncate(5*time.Minute)); err != nil {
		b.Fatal(err)
	}
	st.DB().ExecContext(ctx, `VACUUM ANALYZE sli_samples`) // autovacuum does this in production
	b.Logf("loaded %d SLIs x 8 weeks of 5-minute samples in %s", n, time.Since(began).Round(time.Millisecond))
	began = time.Now()
	for _, id := range ids {
		if err := st.RebuildBaselines(ctx, id, job); err != nil {
			b.Fatal(err)
		}
	}
	all := time.Since(began)
	b.Logf("baselines of all %d SLIs rebuilt from scratch in %s (%s per SLI)", n, all.Round(time.Millisecond), (all / time.Duration(n)).Round(time.Millisecond))
	began = time.Now()
	for _, id := range ids {
		to := now.Truncate(5 * time.Minute)
		if err := st.SaveSLISamples(ctx, id, []review.Sample{{At: to, Value: 150}}, &to, job); err != nil {
			b.Fatal(err)
		}
	}
	tick := time.Since(began)
	b.Logf("one forward step stored with its baselines for all %d SLIs in %s (%s per SLI)", n, tick.Round(time.Millisecond), (tick / time.Duration(n)).Round(time.Microsecond))
	srv, err := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkNormalLarge measures the on-call pages and API over benchSLIs() SLIs x 8 weeks.
func BenchmarkNormalLarge(b *testing.B) {
	srv := bigNormalServer(b, benchSLIs())
	for _, path := range []string{"/api/v1/slis/sli-007/normal", "/api/v1/slis/sli-007/normal?at=2026-11-10T03:30:00Z",
		"/normal/sli-007", "/normal?service=svc-07", "/api/v1/slis"} {
		b.Run(path, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				resp, err := srv.App().Test(httptest.NewRequest("GET", path, nil), 60_000)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("GET %s: %v %v", path, resp.StatusCode, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
