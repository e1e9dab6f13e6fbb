package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/server"
	"github.com/opsreview/opsreview/store"
)

// benchNow is the clock of the in-process server: two days after the data set ends, so the
// review of 2026-W47 is last week's.
var benchNow = dataEnd.Add(58 * time.Hour)

// benchWeek is the week every page shows.
const benchWeek = "2026-W47"

// stats summarises repeated timings.
type stats struct {
	n           int
	median, p95 time.Duration
}

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return stats{n: len(s), median: s[len(s)/2], p95: s[min(len(s)-1, int(float64(len(s))*0.95))]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// benchConfig is the configuration of the data set's fleet: one team per team label, every team's
// pager a paging receiver, and the data set's SLIs on a Prometheus source that is never contacted.
func benchConfig(sc Scale, dbURL string) (*config.Config, error) {
	os.Setenv("DATABASE_URL", dbURL)
	cfg, err := config.Load("")
	if err != nil {
		return nil, fmt.Errorf("loading the default config: %w", err)
	}
	cfg.Demo = false
	cfg.Database.URL = dbURL
	cfg.Teams = nil
	for i := 0; i < sc.Teams; i++ {
		cfg.Teams = append(cfg.Teams, config.Team{Name: teamName(i), Timezone: "UTC", Match: map[string]string{"team": teamName(i)},
			BusinessHours: config.BusinessHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"},
			SleepHours:    config.HourRange{Start: "22:00", End: "08:00"}, ToilBudget: config.Duration(20 * time.Hour), MinutesPerPage: 15})
		cfg.PagingReceivers = append(cfg.PagingReceivers, teamName(i)+"-pager")
	}
	cfg.Sources.Prometheus = []config.PrometheusSource{{Name: sliSource, URL: "http://prometheus.bench.invalid:9090",
		Interval: config.Duration(time.Minute), Timeout: config.Duration(30 * time.Second), Lookback: config.Duration(8 * 7 * 24 * time.Hour)}}
	cfg.SLIs = benchSLIDefs(sc)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating the bench config: %w", err)
	}
	return cfg, nil
}

// page is one URL measured, with the row label it gets in the table and its p95 target (zero:
// issue 6's for pages, by scope).
type page struct {
	name, scope, path string
	target            time.Duration
}

// busiestTeam is the team with the most episodes in the data set's last week: the one-team scope.
func busiestTeam(ctx context.Context, st *store.Store) (string, error) {
	var team string
	if err := st.DB().GetContext(ctx, &team, `
		SELECT team FROM episodes WHERE starts_at >= $1 GROUP BY team ORDER BY count(*) DESC, team LIMIT 1`,
		dataEnd.AddDate(0, 0, -7)); err != nil {
		return "", fmt.Errorf("finding the busiest team: %w", err)
	}
	return team, nil
}

// benchPages lists the pages measured, for the busiest team and for all teams.
func benchPages(ctx context.Context, st *store.Store) ([]page, error) {
	team, err := busiestTeam(ctx, st)
	if err != nil {
		return nil, err
	}
	var rule string
	if err := st.DB().GetContext(ctx, &rule, `
		SELECT alertname FROM episodes WHERE starts_at >= $1 GROUP BY alertname ORDER BY count(*) DESC, alertname LIMIT 1`,
		dataEnd.AddDate(0, 0, -28)); err != nil {
		return nil, fmt.Errorf("finding the noisiest rule: %w", err)
	}
	from, to := dataEnd.AddDate(0, 0, -7).Format(time.RFC3339), dataEnd.Format(time.RFC3339)
	from90 := dataEnd.AddDate(0, 0, -90).Format(time.RFC3339)
	return []page{
		{name: "/review", scope: "one team", path: "/review?week=" + benchWeek + "&team=" + team},
		{name: "/review", scope: "all teams", path: "/review?week=" + benchWeek},
		{name: "/api/v1/review", scope: "one team", path: "/api/v1/review?week=" + benchWeek + "&team=" + team},
		{name: "/api/v1/review", scope: "all teams", path: "/api/v1/review?week=" + benchWeek},
		{name: "/api/v1/alerts/noisy (7 d)", scope: "one team", path: "/api/v1/alerts/noisy?from=" + from + "&to=" + to + "&team=" + team},
		{name: "/api/v1/alerts/noisy (7 d)", scope: "all teams", path: "/api/v1/alerts/noisy?from=" + from + "&to=" + to},
		{name: "/api/v1/alerts/noisy (90 d)", scope: "all teams", path: "/api/v1/alerts/noisy?from=" + from90 + "&to=" + to},
		{name: "/alerts/{noisiest rule}", scope: "its team", path: "/alerts/" + rule + "?week=" + benchWeek},
	}, nil
}

// measurePages drives the Fiber app in-process: one warm-up, then runs sequential requests per page.
func measurePages(ctx context.Context, o options, st *store.Store, cfg *config.Config, pages []page) (map[string]stats, error) {
	srv, err := server.New(server.Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return benchNow },
		// Every run builds its page: a cached page costs one data-version read, which is not what
		// the targets are about.
		PageCacheTTL: -1})
	if err != nil {
		return nil, fmt.Errorf("building the server: %w", err)
	}
	out := map[string]stats{}
	for _, p := range pages {
		var ds []time.Duration
		for i := -1; i < o.runs; i++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t0 := time.Now()
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, p.path, nil), 120_000)
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", p.path, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("GET %s: status %d", p.path, resp.StatusCode)
			}
			if i >= 0 {
				ds = append(ds, time.Since(t0))
			}
		}
		out[p.path] = summarize(ds)
		fmt.Fprintf(o.log, "%-28s %-9s median %s ms p95 %s ms\n", p.name, p.scope, ms(out[p.path].median), ms(out[p.path].p95))
	}
	return out, nil
}

// measure runs every measurement against the data set at dbURL and prints the report.
func measure(ctx context.Context, o options, dbURL string) error {
	st, err := store.Open(ctx, dbURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	// A data set generated before a new migration gets it here, as `serve` would at start.
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		// A backfill rewrote rows: on a live database autovacuum would now reset the visibility map
		// (index-only scans) and the statistics; do it before measuring.
		fmt.Fprintf(o.log, "applied migrations %v; vacuuming\n", applied)
		if _, err := st.DB().ExecContext(ctx, `VACUUM (ANALYZE)`); err != nil {
			return fmt.Errorf("vacuuming after migrations: %w", err)
		}
	}
	cfg, err := benchConfig(o.scale, dbURL)
	if err != nil {
		return err
	}
	if _, err := st.SetFlapRules(ctx, time.Duration(cfg.Alerts.FlapThreshold), time.Duration(cfg.Alerts.RefireWindow)); err != nil {
		return err
	}
	var counts datasetCounts
	if err := st.DB().GetContext(ctx, &counts, `
		SELECT (SELECT count(*) FROM episodes) AS episodes, (SELECT count(*) FROM notifications) AS notifications,
		       (SELECT count(*) FROM receiver_episodes) AS pages, (SELECT count(*) FROM slis) AS slis,
		       (SELECT count(*) FROM sli_samples) AS sli_samples`); err != nil {
		return fmt.Errorf("counting the data set: %w", err)
	}
	pages, err := benchPages(ctx, st)
	if err != nil {
		return err
	}
	var ingest []ingestResult
	if o.wants("ingest") {
		if ingest, err = measureIngest(ctx, o); err != nil {
			return err
		}
	}
	lat := map[string]stats{}
	if o.wants("pages") {
		if lat, err = measurePages(ctx, o, st, cfg, pages); err != nil {
			return err
		}
	}
	normal, err := measureNormal(ctx, o, st, cfg)
	if err != nil {
		return err
	}
	var load *loadResult
	if o.only != "" && o.wants("load") && o.serveBin == "" {
		return fmt.Errorf("--only load needs --serve-bin: the opsreview binary to run as serve")
	}
	if o.serveBin != "" && o.wants("load") {
		if load, err = measureServe(ctx, o, cfg, pages); err != nil {
			return err
		}
	}
	report(o, counts, ingest, pages, lat, normal, load)
	return nil
}

// measureIngestOnly measures ingest alone, without touching the data set.
func measureIngestOnly(ctx context.Context, o options) error {
	ingest, err := measureIngest(ctx, o)
	if err != nil {
		return err
	}
	report(o, datasetCounts{}, ingest, nil, nil, nil, nil)
	return nil
}

// datasetCounts are the data set's sizes, for the report.
type datasetCounts struct {
	Episodes      int64 `db:"episodes"`
	Notifications int64 `db:"notifications"`
	Pages         int64 `db:"pages"`
	SLIs          int64 `db:"slis"`
	SLISamples    int64 `db:"sli_samples"`
}

// machine describes where the figures were measured.
func machine(ctx context.Context) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.Split(string(b), "\n")[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %d GB RAM", (kb+512*1024)/(1024*1024))
	}
	pg := "Postgres"
	if out, err := exec.CommandContext(ctx, "psql", "--version").Output(); err == nil {
		pg = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, %d cores%s; %s; %s %s/%s", cpu, runtime.NumCPU(), mem, pg, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
