package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// wave is a generated SLI with daily and weekly seasonality, noise and a few gaps.
func wave(from time.Time, n int, step time.Duration, loc *time.Location) []review.Sample {
	r := rand.New(rand.NewPCG(9, 9))
	out := make([]review.Sample, n)
	for i := range out {
		t := from.Add(time.Duration(i) * step)
		l := t.In(loc)
		v := 100 + 40*math.Sin(float64(l.Hour())/24*2*math.Pi) + r.NormFloat64()*5
		if l.Weekday() == time.Sunday {
			v -= 30
		}
		out[i] = review.Sample{At: t, Value: v, Gap: r.IntN(50) == 0}
	}
	return out
}

func xminSum(t *testing.T, s *Store) (rows, sum int64) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT count(*), coalesce(sum(xmin::text::bigint), 0) FROM sli_samples`).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	var b int64
	if err := s.db.QueryRow(`SELECT coalesce(sum(xmin::text::bigint), 0) FROM sli_baselines`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return rows, sum + b
}

// TestBaselinesSQLMatchPure stores six weeks across the autumn DST change in Berlin in chunks, as
// the collector does, and checks every materialized band against review.BaselineAt.
func TestBaselinesSQLMatchPure(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	job := BaselineJob{Loc: berlin, Spec: review.NewBaselineSpec(4, 0.1, 0.9)}
	ref, err := s.EnsureSLI(ctx, SLIDef{Name: "checkout-rps", Source: "prom", Query: "sum(rate(x[5m]))", Step: 5 * time.Minute}, job)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	samples := wave(from, 6*7*288, 5*time.Minute, berlin)
	save := func() {
		for i := 0; i < len(samples); i += 3000 {
			chunk := samples[i:min(i+3000, len(samples))]
			end := chunk[len(chunk)-1].At
			if err := s.SaveSLISamples(ctx, ref.ID, chunk, &end, job); err != nil {
				t.Fatal(err)
			}
		}
	}
	save()
	end := samples[len(samples)-1].At
	ser, err := s.SLISeries(ctx, []string{"checkout-rps"}, from, end)
	if err != nil {
		t.Fatal(err)
	}
	got := ser["checkout-rps"]
	if len(got.Points) != len(samples) {
		t.Fatalf("%d points read back, want %d", len(got.Points), len(samples))
	}
	checked := 0
	for at := from.Add(7 * 24 * time.Hour); at.Before(end); at = at.Add(time.Hour) {
		want := review.BaselineAt(samples, at, berlin, job.Spec)
		b := got.BandAt(at)
		if b.Samples != want.Samples || b.Weeks != want.Weeks || b.Known() != want.Known() {
			t.Fatalf("at %s: stored %d samples/%d weeks known=%v, pure %d/%d known=%v",
				at.In(berlin), b.Samples, b.Weeks, b.Known(), want.Samples, want.Weeks, want.Known())
		}
		if want.Known() {
			for _, c := range [][2]float64{{*b.Median, *want.Median}, {*b.Low, *want.Low}, {*b.High, *want.High}} {
				if math.Abs(c[0]-c[1]) > 1e-9 {
					t.Fatalf("at %s: stored %v, pure %v", at.In(berlin), c[0], c[1])
				}
			}
			checked++
		}
	}
	if checked < 500 {
		t.Fatalf("only %d bands checked", checked)
	}
	// Each point carries its own hour's band.
	p := got.Points[len(got.Points)-10]
	if p.Band.HourStart != review.HourSpan(p.At, berlin).From {
		t.Errorf("point at %s carries the band of %s", p.At, p.Band.HourStart)
	}

	// Re-running the same chunks changes no row, twice.
	rows1, x1 := xminSum(t, s)
	save()
	save()
	rows2, x2 := xminSum(t, s)
	if rows1 != rows2 || x1 != x2 {
		t.Errorf("re-runs changed rows: %d→%d rows, xmin sum %d→%d", rows1, rows2, x1, x2)
	}

	// A gap never overwrites a value.
	first := samples[1]
	if first.Gap {
		t.Fatal("generator changed: sample 1 is a gap")
	}
	if err := s.SaveSLISamples(ctx, ref.ID, []review.Sample{{At: first.At, Gap: true}}, nil, job); err != nil {
		t.Fatal(err)
	}
	var v *float64
	if err := s.db.Get(&v, `SELECT value FROM sli_samples WHERE sli_id = $1 AND at = $2`, ref.ID, first.At); err != nil || v == nil {
		t.Errorf("value after a gap re-query: %v, %v", v, err)
	}

	// Changing the time zone rebuilds the baselines in the new zone.
	utcJob := BaselineJob{Loc: time.UTC, Spec: job.Spec}
	if _, err := s.EnsureSLI(ctx, SLIDef{Name: "checkout-rps", Source: "prom", Query: "sum(rate(x[5m]))", Step: 5 * time.Minute}, utcJob); err != nil {
		t.Fatal(err)
	}
	ser, _ = s.SLISeries(ctx, []string{"checkout-rps"}, end.Add(-24*time.Hour), end)
	at := end.Add(-5 * time.Hour)
	want := review.BaselineAt(samples, at, time.UTC, job.Spec)
	if b := ser["checkout-rps"].BandAt(at); !b.Known() || math.Abs(*b.Median-*want.Median) > 1e-9 {
		t.Errorf("after the zone change: %+v, want median %v", b, *want.Median)
	}

	// Changing the query starts over.
	ref2, err := s.EnsureSLI(ctx, SLIDef{Name: "checkout-rps", Source: "prom", Query: "sum(rate(y[5m]))", Step: 5 * time.Minute}, utcJob)
	if err != nil || ref2.CollectedTo != nil {
		t.Errorf("after a query change: watermark %v, %v", ref2.CollectedTo, err)
	}
	if rows, _ := xminSum(t, s); rows != 0 {
		t.Errorf("%d samples kept after the query changed", rows)
	}
}

// TestSLIReferenceChecked: samples and baselines must name a stored SLI (checked once per statement
// since 0098, as the foreign keys did per row), and deleting an SLI deletes its rows.
func TestSLIReferenceChecked(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	job := BaselineJob{Loc: time.UTC, Spec: review.NewBaselineSpec(4, 0.1, 0.9)}
	ref, err := s.EnsureSLI(ctx, SLIDef{Name: "kept", Source: "prom", Query: "q", Step: 5 * time.Minute}, job)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	samples := wave(from, 2*7*288, 5*time.Minute, time.UTC)
	if err := s.SaveSLISamples(ctx, ref.ID, samples, nil, job); err != nil {
		t.Fatal(err)
	}
	gone := ref.ID + 1000
	if err := s.SaveSLISamples(ctx, gone, samples[:10], nil, job); err == nil {
		t.Error("samples of an SLI that is not stored were accepted")
	}
	if _, err := s.db.Exec(`INSERT INTO sli_baselines (sli_id, hour_start, hour_end, hour_of_week, samples, weeks)
		VALUES ($1, $2, $3, 0, 0, 0)`, gone, from, from.Add(time.Hour)); err == nil {
		t.Error("a baseline of an SLI that is not stored was accepted")
	}
	if _, err := s.db.Exec(`UPDATE sli_samples SET sli_id = $1 WHERE sli_id = $2 AND at = $3`, gone, ref.ID, from); err == nil {
		t.Error("a sample was moved to an SLI that is not stored")
	}
	var samplesLeft, bandsLeft int
	count := func() {
		t.Helper()
		if err := s.db.QueryRow(`SELECT (SELECT count(*) FROM sli_samples), (SELECT count(*) FROM sli_baselines)`).
			Scan(&samplesLeft, &bandsLeft); err != nil {
			t.Fatal(err)
		}
	}
	count()
	if samplesLeft != len(samples) || bandsLeft == 0 {
		t.Fatalf("%d samples and %d baselines stored, want %d and some", samplesLeft, bandsLeft, len(samples))
	}
	if _, err := s.db.Exec(`DELETE FROM slis WHERE id = $1`, ref.ID); err != nil {
		t.Fatal(err)
	}
	count()
	if samplesLeft != 0 || bandsLeft != 0 {
		t.Errorf("after deleting the SLI: %d samples and %d baselines left", samplesLeft, bandsLeft)
	}
}

// TestBaselinesMatchSQLRecomputation recomputes every stored band from the raw samples with
// Postgres's percentile_cont (UTC: each window is the same hour 1 to 4 weeks earlier) and compares.
func TestBaselinesMatchSQLRecomputation(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	job := BaselineJob{Loc: time.UTC, Spec: review.NewBaselineSpec(4, 0.1, 0.9)}
	ref, err := s.EnsureSLI(ctx, SLIDef{Name: "oracle", Source: "prom", Query: "q", Step: 5 * time.Minute}, job)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)
	samples := wave(from, 7*7*288, 5*time.Minute, time.UTC)
	for i := 0; i < len(samples); i += 7000 { // chunks that do not end on an hour
		chunk := samples[i:min(i+7000, len(samples))]
		end := chunk[len(chunk)-1].At
		if err := s.SaveSLISamples(ctx, ref.ID, chunk, &end, job); err != nil {
			t.Fatal(err)
		}
	}
	var checked, wrong int
	if err := s.db.QueryRow(`
		WITH want AS (
		    SELECT b.hour_start, count(x.value) AS samples, count(DISTINCT x.k) AS weeks,
		           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.value) AS median,
		           percentile_cont(0.1) WITHIN GROUP (ORDER BY x.value) AS low,
		           percentile_cont(0.9) WITHIN GROUP (ORDER BY x.value) AS high
		    FROM sli_baselines b
		    LEFT JOIN LATERAL (
		        SELECT k, value FROM generate_series(1, 4) k
		        JOIN sli_samples s ON s.sli_id = b.sli_id AND s.value IS NOT NULL
		         AND s.at >= b.hour_start - k * interval '1 week' AND s.at < b.hour_start - k * interval '1 week' + interval '1 hour'
		    ) x ON true
		    WHERE b.sli_id = $1
		    GROUP BY b.hour_start
		)
		SELECT count(*), count(*) FILTER (WHERE b.samples <> w.samples OR b.weeks <> w.weeks
		           OR (b.median IS NULL) <> (w.samples < $2 OR w.weeks < $3)
		           OR abs(b.median - w.median) > 1e-9 OR abs(b.low - w.low) > 1e-9 OR abs(b.high - w.high) > 1e-9)
		FROM sli_baselines b JOIN want w USING (hour_start) WHERE b.sli_id = $1`,
		ref.ID, job.Spec.MinSamples, job.Spec.MinWeeks).Scan(&checked, &wrong); err != nil {
		t.Fatal(err)
	}
	// Every hour from a week after the first sample to four weeks after the last has a band.
	if want := (7 - 1 + 4) * 7 * 24; checked < want-1 || wrong != 0 {
		t.Errorf("%d bands checked (want about %d), %d differ from percentile_cont over the raw samples", checked, want, wrong)
	}
}

// TestEachFloat reads Postgres float8[] text as SLISeries receives it, NULLs included.
func TestEachFloat(t *testing.T) {
	var got []string
	err := eachFloat([]byte("{1795600800,NULL,-2.5e-05,0.1}"), func(k int, v float64, null bool) {
		got = append(got, fmt.Sprintf("%d:%v:%v", k, v, null))
	})
	if want := "[0:1.7956008e+09:false 1:0:true 2:-2.5e-05:false 3:0.1:false]"; err != nil || fmt.Sprint(got) != want {
		t.Errorf("got %v %v, want %s", got, err, want)
	}
	if err := eachFloat([]byte("{}"), func(int, float64, bool) { t.Error("an element in {}") }); err != nil {
		t.Error(err)
	}
	if err := eachFloat([]byte("1,2"), func(int, float64, bool) {}); err == nil {
		t.Error("no error for a non-array")
	}
}

// TestSLIStatesOfSomeOrAll: the states of the SLIs named (a team's), or of every SLI for nil.
func TestSLIStatesOfSomeOrAll(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	job := BaselineJob{Loc: time.UTC, Spec: review.NewBaselineSpec(4, 0.1, 0.9)}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := s.EnsureSLI(ctx, SLIDef{Name: name, Source: "prom", Query: "q", Step: 5 * time.Minute}, job); err != nil {
			t.Fatal(err)
		}
	}
	names := func(m map[string]SLIState) string {
		var out []string
		for n, st := range m {
			if st.Name != n {
				t.Errorf("state of %q is %q's", n, st.Name)
			}
			out = append(out, n)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		only []string
		want string
	}{{nil, "a,b,c"}, {[]string{"c", "a", "nope"}, "a,c"}, {[]string{}, ""}} {
		got, err := s.SLIStates(ctx, c.only)
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != c.want {
			t.Errorf("SLIStates(%q) = %s, want %s", c.only, names(got), c.want)
		}
	}
}
