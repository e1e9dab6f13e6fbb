package main

import (
	"context"
	"database/sql"
	"io"
	"math"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// TestSLIGenerateIsReproducible: the same seed gives the same samples, another seed other ones,
// and every SLI of a full scale has a realistic definition the config accepts.
func TestSLIGenerateIsReproducible(t *testing.T) {
	sig := func(seed uint64) (n, gaps int, sum float64) {
		sc := scales["smoke"]
		for _, x := range benchSLIDefs(sc) {
			s := newSLISeries(x, sc.SLIWeeks, seed)
			for at := s.start; !at.After(sliEnd); at = at.Add(sliStep) {
				v, ok := s.at(at)
				if !ok {
					gaps++
					continue
				}
				n++
				sum += v
			}
		}
		return n, gaps, sum
	}
	n1, g1, s1 := sig(7)
	n2, g2, s2 := sig(7)
	n3, g3, s3 := sig(8)
	if n1 != n2 || g1 != g2 || s1 != s2 {
		t.Errorf("seed 7 twice: %d/%d/%g and %d/%d/%g", n1, g1, s1, n2, g2, s2)
	}
	if n1 == n3 && g1 == g3 && s1 == s3 {
		t.Errorf("seeds 7 and 8 gave the same samples")
	}
	if g1 == 0 {
		t.Errorf("no gaps in the smoke SLIs")
	}
	sc := scales["month"]
	cfg, err := benchConfig(sc, "postgres://localhost/none")
	if err != nil {
		t.Fatal(err)
	}
	teams := map[string]int{}
	for _, x := range cfg.SLIs {
		teams[x.Team]++
	}
	if len(cfg.SLIs) != 500 || len(teams) != 50 || teams[teamName(0)] != 10 {
		t.Errorf("month SLIs: %d over %d teams (%d for %s); want 500, 10 per team", len(cfg.SLIs), len(teams), teams[teamName(0)], teamName(0))
	}
}

// checkSLIs checks the SLI part of a generated data set: every SLI stored with its samples and
// watermark; the materialized baselines equal a recomputation from the raw samples
// (review.BaselineAt); and regenerating the SLI part alone, in place, gives the same rows and
// leaves the episodes alone.
func checkSLIs(t *testing.T, st *store.Store, url string, cfg *config.Config, sc Scale) {
	t.Helper()
	ctx := context.Background()
	type sums struct {
		SLIs, Samples, Gaps, Baselines, Known, Episodes int64
		Sum                                             float64
		CollectedTo                                     time.Time `db:"collected_to"`
	}
	read := func() sums {
		var c sums
		if err := st.DB().GetContext(ctx, &c, `
			SELECT (SELECT count(*) FROM slis) AS slis, count(*) AS samples, count(*) FILTER (WHERE value IS NULL) AS gaps,
			       coalesce(sum(value), 0) AS sum, (SELECT count(*) FROM sli_baselines) AS baselines,
			       (SELECT count(*) FROM sli_baselines WHERE median IS NOT NULL) AS known,
			       (SELECT count(*) FROM episodes) AS episodes, (SELECT min(collected_to) FROM slis) AS collected_to
			FROM sli_samples`); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := read()
	perSLI := int64(sc.SLIWeeks * 7 * 24 * 12)
	if c.SLIs != int64(sc.SLIs) || c.Samples < perSLI*c.SLIs*9/10 || c.Samples > perSLI*c.SLIs || c.Gaps == 0 ||
		c.Known < c.Baselines/2 || !c.CollectedTo.Equal(sliEnd) {
		t.Errorf("unexpected SLI part: %+v (want %d SLIs of up to %d samples)", c, sc.SLIs, perSLI)
	}

	// The baselines of a few hours of each SLI against review.BaselineAt over the raw samples.
	spec := collectors.Job(cfg, cfg.SLIs[0]).Spec
	checked := 0
	for _, x := range cfg.SLIs {
		var raw []struct {
			At    time.Time       `db:"at"`
			Value sql.NullFloat64 `db:"value"`
		}
		if err := st.DB().SelectContext(ctx, &raw, `
			SELECT s.at, s.value FROM sli_samples s JOIN slis l ON l.id = s.sli_id WHERE l.name = $1`, x.Name); err != nil {
			t.Fatal(err)
		}
		samples := make([]review.Sample, len(raw))
		for i, r := range raw {
			samples[i] = review.Sample{At: r.At, Value: r.Value.Float64, Gap: !r.Value.Valid}
		}
		for _, h := range []time.Time{sliEnd.Truncate(time.Hour), sliEnd.Add(-9 * 24 * time.Hour).Truncate(time.Hour), sliRestart.from.Add(7 * 24 * time.Hour).Truncate(time.Hour)} {
			want := review.BaselineAt(samples, h, time.UTC, spec)
			var got struct {
				Samples, Weeks    int
				Median, Low, High sql.NullFloat64
			}
			if err := st.DB().GetContext(ctx, &got, `
				SELECT b.samples, b.weeks, b.median, b.low, b.high FROM sli_baselines b JOIN slis l ON l.id = b.sli_id
				WHERE l.name = $1 AND b.hour_start = $2`, x.Name, h); err != nil {
				t.Fatalf("%s at %s: %v", x.Name, h, err)
			}
			same := func(a *float64, b sql.NullFloat64) bool {
				return (a == nil) == !b.Valid && (a == nil || math.Abs(*a-b.Float64) <= 1e-9*math.Max(1, math.Abs(*a)))
			}
			if got.Samples != want.Samples || got.Weeks != want.Weeks || !same(want.Median, got.Median) ||
				!same(want.Low, got.Low) || !same(want.High, got.High) {
				t.Errorf("%s at %s: stored baseline %+v, recomputed %+v", x.Name, h, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no baseline checked")
	}

	// Regenerated alone, in place: the same rows; the episodes untouched.
	if _, err := st.DB().ExecContext(ctx, `DELETE FROM bench_dataset WHERE scale = $1`, sliMarker(sc)); err != nil {
		t.Fatal(err)
	}
	if err := ensureSLIs(ctx, url, sc, 1, io.Discard); err != nil {
		t.Fatal(err)
	}
	again := read()
	// The sum may be added up in another order (parallel workers): equal to rounding.
	if math.Abs(again.Sum-c.Sum) <= 1e-9*math.Abs(c.Sum) {
		again.Sum = c.Sum
	}
	if again != c {
		t.Errorf("regenerated SLI part differs: %+v, first %+v", again, c)
	}
	if ok, err := datasetPresent(ctx, url, sc, 1); err != nil || !ok {
		t.Errorf("the episode data set is no longer marked present after regenerating the SLIs: %v %v", ok, err)
	}
}
