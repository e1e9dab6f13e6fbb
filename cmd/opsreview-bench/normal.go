package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/server"
	"github.com/opsreview/opsreview/store"
)

// Issue 6's targets for know your normal and the TV; the pages' own are in report.
const (
	sliAPITarget = 50 * time.Millisecond
	tvTarget     = 50 * time.Millisecond
)

// normalResult is what the know-your-normal measurements found.
type normalResult struct {
	pages     []page
	lat       map[string]stats
	tv        []page // the TV panels, in-process
	tvLat     map[string]stats
	baselines *baselineResult
}

// baselineResult is one full recomputation of every SLI's baselines.
type baselineResult struct {
	slis  int
	rows  int64 // baselines stored after it
	total time.Duration
	per   stats // per SLI
}

// sliPageSLI is the SLI whose own page and API are measured: the team's first SLI with an
// objective (its page and API also read 28 days of samples for the objective's figures).
func sliPageSLI(cfg *config.Config, team string) (string, error) {
	for _, x := range cfg.SLIs {
		if x.Team == team && x.Objective != nil {
			return x.Name, nil
		}
	}
	return "", fmt.Errorf("team %s has no SLI with an objective", team)
}

// benchNormalPages lists the know-your-normal pages measured: /normal for the busiest team and
// for all teams, one SLI's page and its API.
func benchNormalPages(ctx context.Context, st *store.Store, cfg *config.Config) ([]page, error) {
	team, err := busiestTeam(ctx, st)
	if err != nil {
		return nil, err
	}
	sli, err := sliPageSLI(cfg, team)
	if err != nil {
		return nil, err
	}
	return []page{
		{name: "/normal", scope: "one team", path: "/normal?team=" + team},
		{name: "/normal", scope: "all teams", path: "/normal"},
		{name: "/normal/{sli}", scope: "one SLI", path: "/normal/" + sli},
		{name: "/api/v1/slis/{name}/normal", scope: "one SLI", path: "/api/v1/slis/" + sli + "/normal", target: sliAPITarget},
	}, nil
}

// benchTVPanels lists every TV panel for the busiest team and for all teams.
func benchTVPanels(ctx context.Context, st *store.Store) ([]page, error) {
	team, err := busiestTeam(ctx, st)
	if err != nil {
		return nil, err
	}
	var out []page
	for _, p := range tvPanels {
		out = append(out,
			page{name: "/tv/panel/" + p, scope: "one team", path: "/tv/panel/" + p + "?team=" + team, target: tvTarget},
			page{name: "/tv/panel/" + p, scope: "all teams", path: "/tv/panel/" + p, target: tvTarget})
	}
	return out, nil
}

// measureTV requests each TV panel in-process as measurePages does the pages. The TV caches each
// panel for its refresh interval (10 s; the runbooks panel a minute) and, while the fragment is
// recent, answers the previous one and refreshes it in the background: the server's clock moves on
// by 4 minutes before every request, past three intervals of every panel, so each request loads and
// renders its panel before answering, as a screen switched on does. A panel answered unchanged (a
// cache hit: its "updated" time would have moved) is an error.
func measureTV(ctx context.Context, o options, st *store.Store, cfg *config.Config, panels []page) (map[string]stats, error) {
	var clock atomic.Int64
	clock.Store(benchNow.UnixNano())
	srv, err := server.New(server.Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }, PageCacheTTL: -1})
	if err != nil {
		return nil, fmt.Errorf("building the server: %w", err)
	}
	out := map[string]stats{}
	for _, p := range panels {
		clock.Store(benchNow.UnixNano())
		var ds []time.Duration
		var prev []byte
		for i := -1; i < o.runs; i++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			clock.Add(int64(4 * time.Minute)) // older than tvWaitAfter intervals of any panel: loaded inline
			t0 := time.Now()
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, p.path, nil), 120_000)
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", p.path, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", p.path, err)
			}
			if resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("GET %s: status %d", p.path, resp.StatusCode)
			}
			if i >= 0 {
				ds = append(ds, time.Since(t0))
				if bytes.Equal(body, prev) {
					return nil, fmt.Errorf("GET %s answered the previous fragment: the TV cache was not refreshed, so this would time a cache hit", p.path)
				}
			}
			prev = body
		}
		out[p.path] = summarize(ds)
		fmt.Fprintf(o.log, "%-28s %-9s median %s ms p95 %s ms\n", p.name, p.scope, ms(out[p.path].median), ms(out[p.path].p95))
	}
	return out, nil
}

// measureBaselines times one full recomputation of every SLI's baselines with the product's job
// (store.RebuildBaselines, what the collector runs for an SLI when the baseline settings change),
// one SLI after another as the collector does. The rows it rewrites are the same; the table is
// vacuumed afterwards, as autovacuum would, so later page measurements read it as before.
func measureBaselines(ctx context.Context, o options, st *store.Store, cfg *config.Config) (*baselineResult, error) {
	ids, err := sliIDs(ctx, st.DB(), cfg)
	if err != nil {
		return nil, err
	}
	took := make([]time.Duration, len(ids))
	t0 := time.Now()
	if err := rebuildAllBaselines(ctx, st, cfg, ids, 1, took); err != nil {
		return nil, err
	}
	r := &baselineResult{slis: len(ids), total: time.Since(t0), per: summarize(took)}
	if _, err := st.DB().ExecContext(ctx, `VACUUM (ANALYZE) sli_baselines`); err != nil {
		return nil, fmt.Errorf("vacuuming the SLI baselines: %w", err)
	}
	if err := st.DB().GetContext(ctx, &r.rows, `SELECT count(*) FROM sli_baselines`); err != nil {
		return nil, fmt.Errorf("counting baselines: %w", err)
	}
	fmt.Fprintf(o.log, "baseline recomputation: %d SLIs, %d baselines in %s (median %s ms, p95 %s ms per SLI)\n",
		r.slis, r.rows, r.total.Round(time.Millisecond), ms(r.per.median), ms(r.per.p95))
	return r, nil
}

// measureNormal runs the know-your-normal measurements o asks for: the pages and API, the TV
// panels, the baseline recomputation (last: it rewrites the baselines the others read).
func measureNormal(ctx context.Context, o options, st *store.Store, cfg *config.Config) (*normalResult, error) {
	r := &normalResult{}
	var err error
	if o.wants("normal") {
		if r.pages, err = benchNormalPages(ctx, st, cfg); err != nil {
			return nil, err
		}
		if r.lat, err = measurePages(ctx, o, st, cfg, r.pages); err != nil {
			return nil, err
		}
	}
	if o.wants("tv") {
		if r.tv, err = benchTVPanels(ctx, st); err != nil {
			return nil, err
		}
		if r.tvLat, err = measureTV(ctx, o, st, cfg, r.tv); err != nil {
			return nil, err
		}
	}
	if o.wants("baselines") {
		if r.baselines, err = measureBaselines(ctx, o, st, cfg); err != nil {
			return nil, err
		}
	}
	return r, nil
}
