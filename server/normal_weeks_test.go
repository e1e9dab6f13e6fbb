package server

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// normalWeeksServer is a test server whose SLIs, in three time zones, have what the "Know your
// normal" section reports in the week before ts.now's: abnormal runs, gaps, a median that moved
// (+30 % over the last five weeks of nine), and an SLI with no data at all.
func normalWeeksServer(t *testing.T) *testServer {
	ts := newTestServer(t, "", func(c *config.Config) {
		for _, tm := range []struct{ name, tz string }{{"payments", "Europe/Berlin"}, {"search", "America/New_York"}} {
			team := config.Team{Name: tm.name, Timezone: tm.tz,
				BusinessHours: config.BusinessHours{Days: []string{"mon"}, Start: "08:00", End: "18:00"},
				SleepHours:    config.HourRange{Start: "22:00", End: "08:00"}}
			team.Location, _ = time.LoadLocation(tm.tz)
			c.Teams = append(c.Teams, team)
		}
		c.Sources.Prometheus = []config.PrometheusSource{{Name: "prom", URL: "http://127.0.0.1:9", Interval: config.Duration(time.Minute),
			Timeout: config.Duration(time.Second), Lookback: config.Duration(8 * 7 * 24 * time.Hour)}}
		step := config.Duration(5 * time.Minute)
		c.SLIs = []config.SLI{
			{Name: "checkout-rps", Source: "prom", Service: "checkout", Team: "payments", Direction: "higher-is-better", Step: step, Query: "a"},
			{Name: "checkout-errors", Source: "prom", Service: "checkout", Team: "payments", Direction: "lower-is-better", Step: step, Query: "b"},
			{Name: "search-latency", Source: "prom", Service: "search", Team: "search", Direction: "lower-is-better", Step: step, Query: "c"},
			{Name: "batch-lag", Source: "prom", Service: "batch", Direction: "lower-is-better", Step: step, Query: "d"},
		}
	})
	prev := review.WeekOf(ts.now, time.UTC).Previous()
	inPrev := func(at time.Time) bool {
		return at.After(prev.Start.Add(6*time.Hour)) && at.Before(prev.End.Add(-6*time.Hour))
	}
	fill := func(name string, seed uint64, val func(i int, at, local time.Time, r *rand.Rand) (float64, bool)) {
		x := ts.cfg.SLIByName(name)
		loc := ts.cfg.SLILocation(*x)
		job := store.BaselineJob{Loc: loc, Spec: review.NewBaselineSpec(ts.cfg.Baseline.Weeks, ts.cfg.Baseline.Band[0], ts.cfg.Baseline.Band[1])}
		ctx := context.Background()
		ref, err := ts.store.EnsureSLI(ctx, store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, job)
		if err != nil {
			t.Fatal(err)
		}
		if val == nil { // collected, nothing came back
			if err := ts.store.SaveSLISamples(ctx, ref.ID, nil, &ts.now, job); err != nil {
				t.Fatal(err)
			}
			return
		}
		r := rand.New(rand.NewPCG(seed, 7))
		end := ts.now.Truncate(5 * time.Minute)
		n := 9 * 7 * 288
		samples := make([]review.Sample, n)
		for i := range samples {
			at := end.Add(-time.Duration(n-1-i) * 5 * time.Minute)
			v, gap := val(i, at, at.In(loc), r)
			samples[i] = review.Sample{At: at, Value: v, Gap: gap}
		}
		for i := 0; i < n; i += 5000 {
			chunk := samples[i:min(i+5000, n)]
			to := chunk[len(chunk)-1].At
			if err := ts.store.SaveSLISamples(ctx, ref.ID, chunk, &to, job); err != nil {
				t.Fatal(err)
			}
		}
	}
	fill("checkout-errors", 0, nil)
	daily := func(l time.Time) float64 { return 40 * math.Sin(float64(l.Hour()-6)/24*2*math.Pi) }
	fill("checkout-rps", 1, func(i int, at, l time.Time, r *rand.Rand) (float64, bool) {
		v := 150 + daily(l) + r.NormFloat64()*6
		if inPrev(at) && i%700 < 5 { // runs of five samples far below
			v = 5
		}
		if inPrev(at) && i%900 < 30 { // two and a half hour gaps
			return 0, true
		}
		return v, false
	})
	fill("search-latency", 2, func(i int, at, l time.Time, r *rand.Rand) (float64, bool) {
		v := 0.2 + daily(l)/1000 + r.NormFloat64()*0.01
		if at.After(ts.now.Add(-35 * 24 * time.Hour)) {
			v *= 1.3 // the normal moved up
		}
		if inPrev(at) && i%500 < 4 {
			v = 3 // runs of four far above
		}
		return v, false
	})
	fill("batch-lag", 3, func(i int, at, l time.Time, r *rand.Rand) (float64, bool) {
		if inPrev(at) && l.Weekday() == time.Wednesday {
			return 0, true // a local day without data
		}
		return 60 + r.NormFloat64()*5, false
	})
	return ts
}

// liveNormal is the section computed straight from the samples and bands, as NormalReview did
// before the figures were stored.
func liveNormal(t *testing.T, ts *testServer, week review.Week, team *string) NormalSectionView {
	t.Helper()
	ctx := context.Background()
	v := NormalSectionView{Week: week.String()}
	var slis []config.SLI
	var names []string
	for _, x := range ts.cfg.SLIs {
		if team == nil || x.Team == *team {
			slis, names = append(slis, x), append(names, x.Name)
		}
	}
	end := week.End
	if ts.now.Before(end) {
		end = ts.now
	}
	cur, err := ts.store.SLISeries(ctx, names, week.Start, end)
	if err != nil {
		t.Fatal(err)
	}
	back := 4 * 7 * 24 * time.Hour
	old, err := ts.store.SLIBands(ctx, names, week.Start.Add(-back), end.Add(-back))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range slis {
		loc := ts.cfg.SLILocation(x)
		ser := cur[x.Name]
		if ser == nil {
			if h := review.HoursWithoutData(nil, week.Start, end, loc); h > 0 {
				v.NoData = append(v.NoData, NormalNoDataRow{Name: x.Name, Service: x.Service, Hours: h})
			}
			continue
		}
		runs := review.AbnormalRuns(ser.Points, review.Direction(x.Direction), ts.cfg.Baseline.AbnormalAfter)
		if len(runs) > 0 {
			row := NormalAbnormalRow{Name: x.Name, Service: x.Service, Runs: len(runs)}
			for _, r := range runs {
				row.Abnormal += time.Duration(r.Samples) * x.Step.D()
			}
			v.MostAbnormal = append(v.MostAbnormal, row)
		}
		if h := review.HoursWithoutData(ser.Points, week.Start, end, loc); h > 0 {
			v.NoData = append(v.NoData, NormalNoDataRow{Name: x.Name, Service: x.Service, Hours: h})
		}
		if o := old[x.Name]; o != nil {
			if shift, hours, ok := review.MedianShift(ser.Bands, o.Bands); ok && math.Abs(shift) >= minShift {
				v.Moved = append(v.Moved, NormalMovedRow{Name: x.Name, Service: x.Service, Shift: shift,
					ShiftText: signed(shift*100) + " %", Hours: hours})
			}
		}
	}
	sort.SliceStable(v.MostAbnormal, func(i, j int) bool { return v.MostAbnormal[i].Abnormal > v.MostAbnormal[j].Abnormal })
	sort.SliceStable(v.Moved, func(i, j int) bool { return math.Abs(v.Moved[i].Shift) > math.Abs(v.Moved[j].Shift) })
	sort.SliceStable(v.NoData, func(i, j int) bool { return v.NoData[i].Hours > v.NoData[j].Hours })
	return v
}

func storedNormalWeeks(t *testing.T, ts *testServer, week review.Week) int {
	t.Helper()
	var n int
	if err := ts.store.DB().Get(&n, `SELECT count(*) FROM sli_normal_weeks WHERE window_start = $1`, week.Start); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkNormal builds the section twice (the second from what the first stored) and compares both
// with the live computation.
func checkNormal(t *testing.T, ts *testServer, week review.Week, team *string) NormalSectionView {
	t.Helper()
	want := liveNormal(t, ts, week, team)
	for pass := range 2 {
		got, err := ts.NormalReview(context.Background(), week, team)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("week %s team %v build %d:\n got %+v\nwant %+v", week, team, pass+1, got, want)
		}
	}
	return want
}

func TestNormalWeeksStored(t *testing.T) {
	ts := normalWeeksServer(t)
	payments, search, none := "payments", "search", ""
	for _, tz := range []string{"Europe/Berlin", "America/New_York", "UTC"} {
		loc, _ := time.LoadLocation(tz)
		week := review.WeekOf(ts.now, loc).Previous()
		for _, team := range []*string{nil, &payments, &search, &none} {
			v := checkNormal(t, ts, week, team)
			if team == nil && tz == "Europe/Berlin" && (len(v.MostAbnormal) < 2 || len(v.Moved) == 0 || len(v.NoData) < 3) {
				t.Fatalf("the fixture must show runs, a moved normal and gaps: %+v", v)
			}
		}
		if n := storedNormalWeeks(t, ts, week); n != 4 {
			t.Errorf("week %s: %d SLIs' figures stored, want all 4", week, n)
		}
	}
	// The current week is computed live, never stored.
	cur := review.WeekOf(ts.now, ts.cfg.SLILocation(ts.cfg.SLIs[0]))
	checkNormal(t, ts, cur, nil)
	if n := storedNormalWeeks(t, ts, cur); n != 0 {
		t.Errorf("the current week has %d stored rows", n)
	}
}

func TestNormalWeeksLateSample(t *testing.T) {
	ts := normalWeeksServer(t)
	loc := ts.cfg.SLILocation(ts.cfg.SLIs[0])
	week := review.WeekOf(ts.now, loc).Previous()
	before := checkNormal(t, ts, week, nil)
	if storedNormalWeeks(t, ts, week) == 0 {
		t.Fatal("nothing stored")
	}
	// A late run of abnormal samples for the SLI without data, in the middle of the stored week.
	x := ts.cfg.SLIByName("checkout-errors")
	xloc := ts.cfg.SLILocation(*x)
	job := store.BaselineJob{Loc: xloc, Spec: review.NewBaselineSpec(ts.cfg.Baseline.Weeks, ts.cfg.Baseline.Band[0], ts.cfg.Baseline.Band[1])}
	ref, err := ts.store.EnsureSLI(context.Background(), store.SLIDef{Name: x.Name, Source: x.Source, Query: x.Query, Step: x.Step.D()}, job)
	if err != nil {
		t.Fatal(err)
	}
	at := week.Start.Add(50 * time.Hour)
	if err := ts.store.SaveSLISamples(context.Background(), ref.ID, []review.Sample{{At: at, Value: 0.5}}, nil, job); err != nil {
		t.Fatal(err)
	}
	after := checkNormal(t, ts, week, nil)
	if reflect.DeepEqual(before.NoData, after.NoData) {
		t.Errorf("a late sample did not change the hours without data: %+v", after.NoData)
	}
	// A sample deleted and the whole table emptied: the stored figures go with them.
	if _, err := ts.store.DB().Exec(`DELETE FROM sli_samples WHERE sli_id = $1`, ref.ID); err != nil {
		t.Fatal(err)
	}
	if got := checkNormal(t, ts, week, nil); !reflect.DeepEqual(got, before) {
		t.Errorf("after deleting the late sample:\n got %+v\nwant %+v", got, before)
	}
	if _, err := ts.store.DB().Exec(`UPDATE sli_samples SET value = value * 3 WHERE at BETWEEN $1 AND $2`,
		week.Start.Add(30*time.Hour), week.Start.Add(40*time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkNormal(t, ts, week, nil)
	// The bands of four weeks earlier alone: the normal has moved by another amount.
	back := 4 * 7 * 24 * time.Hour
	if _, err := ts.store.DB().Exec(`UPDATE sli_baselines SET median = median * 2 WHERE hour_start >= $1 AND hour_start < $2`,
		week.Start.Add(-back), week.End.Add(-back)); err != nil {
		t.Fatal(err)
	}
	if got := checkNormal(t, ts, week, nil); reflect.DeepEqual(got.Moved, before.Moved) {
		t.Errorf("earlier bands changed, the shift did not: %+v", got.Moved)
	}
	if _, err := ts.store.DB().Exec(`TRUNCATE sli_samples, sli_baselines`); err != nil {
		t.Fatal(err)
	}
	checkNormal(t, ts, week, nil)
}

func TestNormalWeeksParameters(t *testing.T) {
	ts := normalWeeksServer(t)
	loc := ts.cfg.SLILocation(ts.cfg.SLIs[0])
	week := review.WeekOf(ts.now, loc).Previous()
	before := checkNormal(t, ts, week, nil)
	ts.cfg.Baseline.AbnormalAfter = 5
	after := checkNormal(t, ts, week, nil)
	if reflect.DeepEqual(before.MostAbnormal, after.MostAbnormal) {
		t.Errorf("abnormal_after 3 and 5 give the same runs: %+v", after.MostAbnormal)
	}
}
