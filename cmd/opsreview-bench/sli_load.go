package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/collectors"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// sliDatasetVersion changes whenever the SLI generator changes what it writes. The SLI part has
// its own marker row in bench_dataset (scale "<scale>/slis"), so a change here regenerates the
// SLIs alone, in place, and an episode data set generated before SLIs existed gets them added.
const sliDatasetVersion = 1

// sliMarker is the bench_dataset scale of a scale's SLI part.
func sliMarker(sc Scale) string { return sc.Name + "/slis" }

// sliCounts is what ensureSLIs loaded.
type sliCounts struct {
	SLIs, Samples, Gaps, Baselines int64
}

// ensureSLIs makes sure the data set at dbURL holds the SLI part of (scale, seed), generating it
// in place (and only it) when the marker is missing or from another seed or version.
func ensureSLIs(ctx context.Context, dbURL string, sc Scale, seed uint64, log io.Writer) error {
	if sc.SLIs == 0 {
		return nil
	}
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dbURL, err)
	}
	defer db.Close()
	var n int
	if err := db.GetContext(ctx, &n, `
		SELECT count(*) FROM bench_dataset WHERE scale = $1 AND seed = $2 AND version = $3 AND complete`,
		sliMarker(sc), int64(seed), sliDatasetVersion); err != nil {
		return fmt.Errorf("reading the SLI marker: %w", err)
	}
	if n == 1 {
		fmt.Fprintf(log, "SLIs (scale %s, seed %d) are present: reusing them\n", sc.Name, seed)
		return nil
	}
	began := time.Now()
	c, err := generateSLIs(ctx, dbURL, sc, seed, log)
	if err != nil {
		return fmt.Errorf("generating the SLIs: %w", err)
	}
	fmt.Fprintf(log, "generated %d SLIs (%d samples, %d of them gaps; %d baselines) in %s\n",
		c.SLIs, c.Samples, c.Gaps, c.Baselines, time.Since(began).Round(time.Second))
	return nil
}

// generateSLIs replaces the SLI tables' rows with the SLIs of (scale, seed): definitions stored
// the way the collector stores them (EnsureSLI), samples with COPY (primary key and foreign key
// dropped meanwhile, rebuilt after), then every baseline computed by the product's own job
// (RebuildBaselines), two SLIs at a time.
func generateSLIs(ctx context.Context, dbURL string, sc Scale, seed uint64, log io.Writer) (sliCounts, error) {
	var c sliCounts
	st, err := store.Open(ctx, dbURL, "")
	if err != nil {
		return c, err
	}
	defer st.Close()
	db := st.DB()
	cfg, err := benchConfig(sc, dbURL)
	if err != nil {
		return c, err
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM bench_dataset WHERE scale = $1`, sliMarker(sc)); err != nil {
		return c, fmt.Errorf("clearing the SLI marker: %w", err)
	}
	if _, err := db.ExecContext(ctx, `TRUNCATE slis, sli_samples, sli_baselines RESTART IDENTITY`); err != nil {
		return c, fmt.Errorf("clearing the SLI tables: %w", err)
	}
	t0 := time.Now()
	series := make([]*sliSeries, len(cfg.SLIs))
	ids := make([]int64, len(cfg.SLIs))
	for i, x := range cfg.SLIs {
		ref, err := st.EnsureSLI(ctx, store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, collectors.Job(cfg, x))
		if err != nil {
			return c, err
		}
		ids[i], series[i] = ref.ID, newSLISeries(x, sc.SLIWeeks, seed)
	}
	saved, err := dropBulkIndexes(ctx, db, []string{"sli_samples"})
	if err != nil {
		return c, err
	}
	// Steps in time order, every SLI's at each: the heap then looks like a collector's writes,
	// one SLI's samples scattered over it (the primary key's INCLUDE (value) is there for that).
	cp := startCopy(ctx, db, "sli_samples", "sli_id", "at", "value")
	first := sliEnd.Add(-time.Duration(sc.SLIWeeks) * 7 * 24 * time.Hour).Add(sliStep)
	for t := first; !t.After(sliEnd) && ctx.Err() == nil; t = t.Add(sliStep) {
		for i, s := range series {
			if t.Before(s.start) {
				continue
			}
			if v, ok := s.at(t); ok {
				cp.send(ids[i], t, v)
			} else {
				cp.send(ids[i], t, nil)
				c.Gaps++
			}
		}
	}
	close(cp.rows)
	if err := errors.Join(<-cp.done, ctx.Err()); err != nil {
		return c, err
	}
	c.SLIs, c.Samples = int64(len(series)), int64(cp.n)
	fmt.Fprintf(log, "copied %d SLI samples in %s\n", cp.n, time.Since(t0).Round(time.Second))
	t0 = time.Now()
	if err := restoreIndexes(ctx, db, saved); err != nil {
		return c, err
	}
	if _, err := db.ExecContext(ctx, `UPDATE slis SET collected_to = $1`, sliEnd); err != nil {
		return c, fmt.Errorf("setting the SLI watermarks: %w", err)
	}
	// The baseline job reads the samples with index-only scans: they need the visibility map.
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) slis, sli_samples`); err != nil {
		return c, fmt.Errorf("vacuuming the SLI samples: %w", err)
	}
	fmt.Fprintf(log, "rebuilt the SLI samples' keys and vacuumed in %s\n", time.Since(t0).Round(time.Second))
	t0 = time.Now()
	if err := rebuildAllBaselines(ctx, st, cfg, ids, 2, nil); err != nil {
		return c, err
	}
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) sli_baselines`); err != nil {
		return c, fmt.Errorf("vacuuming the SLI baselines: %w", err)
	}
	if err := db.GetContext(ctx, &c.Baselines, `SELECT count(*) FROM sli_baselines`); err != nil {
		return c, fmt.Errorf("counting baselines: %w", err)
	}
	fmt.Fprintf(log, "computed %d baselines in %s\n", c.Baselines, time.Since(t0).Round(time.Second))
	if _, err := db.ExecContext(ctx, `INSERT INTO bench_dataset VALUES ($1, $2, $3, true, now())`,
		sliMarker(sc), int64(seed), sliDatasetVersion); err != nil {
		return c, fmt.Errorf("marking the SLIs complete: %w", err)
	}
	return c, nil
}

// rebuildAllBaselines recomputes every baseline of the SLIs ids (cfg.SLIs' order) with the
// product's job, workers SLIs at a time; took, when not nil, gets each SLI's time.
func rebuildAllBaselines(ctx context.Context, st *store.Store, cfg *config.Config, ids []int64, workers int, took []time.Duration) error {
	var (
		wg   sync.WaitGroup
		next = make(chan int)
		errs = make([]error, len(ids))
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				if err := st.RebuildBaselines(ctx, ids[i], collectors.Job(cfg, cfg.SLIs[i])); err != nil {
					errs[i] = fmt.Errorf("rebuilding the baselines of %s: %w", cfg.SLIs[i].Name, err)
				}
				if took != nil {
					took[i] = time.Since(t0)
				}
			}
		}()
	}
	for i := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(append(errs, ctx.Err())...)
}

// sliIDs returns the stored ids of cfg's SLIs, in cfg's order.
func sliIDs(ctx context.Context, db *sqlx.DB, cfg *config.Config) ([]int64, error) {
	names := make([]string, len(cfg.SLIs))
	for i, x := range cfg.SLIs {
		names[i] = x.Name
	}
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT id, name FROM slis WHERE name = ANY($1)`, pq.Array(names)); err != nil {
		return nil, fmt.Errorf("reading SLI ids: %w", err)
	}
	byName := map[string]int64{}
	for _, r := range rows {
		byName[r.Name] = r.ID
	}
	ids := make([]int64, len(names))
	for i, n := range names {
		id, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("SLI %s is not in the data set", n)
		}
		ids[i] = id
	}
	return ids, nil
}
