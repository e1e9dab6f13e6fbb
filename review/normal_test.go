package review

import (
	"testing"
	"time"
)

func band(lo, med, hi float64) Band { return Band{Low: &lo, Median: &med, High: &hi} }

func TestSideOf(t *testing.T) {
	b := band(10, 15, 20)
	cases := []struct {
		v    float64
		dir  Direction
		want Side
	}{
		{15, LowerIsBetter, SideInside}, {10, LowerIsBetter, SideInside}, {20, HigherIsBetter, SideInside},
		{25, LowerIsBetter, SideBad}, {5, LowerIsBetter, SideGood},
		{25, HigherIsBetter, SideGood}, {5, HigherIsBetter, SideBad},
	}
	for _, c := range cases {
		if got := SideOf(c.v, b, c.dir); got != c.want {
			t.Errorf("SideOf(%v, %s) = %q, want %q", c.v, c.dir, got, c.want)
		}
	}
	if got := SideOf(1, Band{}, LowerIsBetter); got != SideUnknown {
		t.Errorf("no band: %q", got)
	}
}

func TestJudge(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	b := band(1, 2, 3)
	mk := func(vals ...float64) []Point {
		ps := make([]Point, len(vals))
		for i, v := range vals {
			ps[i] = Point{Sample: Sample{At: t0.Add(time.Duration(i) * 5 * time.Minute), Value: v, Gap: v < 0}, Band: b}
		}
		return ps
	}
	at := func(ps []Point) time.Time { return ps[len(ps)-1].At.Add(time.Minute) }
	cases := []struct {
		name     string
		pts      []Point
		dir      Direction
		abnormal bool
		since    int  // index of the first sample of the run
		first    bool // the bad-side run goes back to the first sample
	}{
		{"inside", mk(2, 2, 2, 2), LowerIsBetter, false, 0, false},
		{"two out is not yet abnormal", mk(2, 2, 9, 9), LowerIsBetter, false, 0, false},
		{"three out", mk(2, 9, 9, 9), LowerIsBetter, true, 1, false},
		{"four out, since the first", mk(2, 9, 9, 9, 9), LowerIsBetter, true, 1, false},
		{"good side is no problem", mk(2, 0.1, 0.1, 0.1), LowerIsBetter, false, 0, false},
		{"higher-is-better low is bad", mk(2, 0.1, 0.1, 0.1), HigherIsBetter, true, 1, false},
		{"back inside ends it", mk(9, 9, 9, 2), LowerIsBetter, false, 0, false},
		{"a gap neither breaks nor counts", mk(2, 9, -1, 9, 9), LowerIsBetter, true, 1, false},
		{"out from the first sample", mk(9, 9, 9), LowerIsBetter, true, 0, true},
		{"two out from the first sample: earlier ones could make it abnormal", mk(-1, 9, -1, 9), LowerIsBetter, false, 0, true},
	}
	for _, c := range cases {
		n := Judge(c.pts, at(c.pts), b, c.dir, 3, time.Hour)
		if n.FromFirst != c.first || n.SinceBefore != (c.first && c.abnormal) {
			t.Errorf("%s: from the first %v, since before %v; want %v", c.name, n.FromFirst, n.SinceBefore, c.first)
		}
		if n.Abnormal != c.abnormal {
			t.Errorf("%s: abnormal = %v, want %v", c.name, n.Abnormal, c.abnormal)
			continue
		}
		if c.abnormal && !n.Since.Equal(c.pts[c.since].At) {
			t.Errorf("%s: since %s, want %s", c.name, n.Since, c.pts[c.since].At)
		}
		if !c.abnormal && n.Since != nil {
			t.Errorf("%s: since set while normal", c.name)
		}
	}
	// Stale data: no value, not abnormal.
	pts := mk(9, 9, 9)
	if n := Judge(pts, pts[2].At.Add(2*time.Hour), b, LowerIsBetter, 3, time.Hour); n.Value != nil || n.Abnormal {
		t.Errorf("stale: value %v abnormal %v", n.Value, n.Abnormal)
	}
	// Points after at are ignored.
	if n := Judge(mk(2, 9, 9, 9), t0.Add(5*time.Minute), b, LowerIsBetter, 3, time.Hour); n.Abnormal || *n.Value != 9 {
		t.Errorf("future points used: %+v", n)
	}
	runs := AbnormalRuns(mk(9, 9, 9, 2, 9, 9, 2, 9, 9, 9, 9), LowerIsBetter, 3)
	if len(runs) != 2 || runs[0].Samples != 3 || runs[1].Samples != 4 {
		t.Errorf("runs = %+v", runs)
	}
}

func TestObjective(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	week := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var ss []Sample
	for at := now.Add(-28 * 24 * time.Hour).Add(5 * time.Minute); !at.After(now); at = at.Add(5 * time.Minute) {
		v := 0.005 // half the allowed 1 % error ratio
		if at.After(now.Add(-time.Hour)) {
			v = 0.03 // the last hour burns at three times the rate
		}
		ss = append(ss, Sample{At: at, Value: v})
	}
	st := Objective(ss, 0.01, LowerIsBetter, true, week, now)
	if st.WeekMet == nil || st.BudgetLeft == nil || st.BurnRate == nil {
		t.Fatalf("missing numbers: %+v", st)
	}
	weekSamples := float64(now.Sub(week)/(5*time.Minute)) + 1
	if want := (weekSamples - 12) / weekSamples; abs(*st.WeekMet-want) > 1e-9 {
		t.Errorf("week met %v, want %v", *st.WeekMet, want)
	}
	if abs(*st.BurnRate-3) > 1e-9 {
		t.Errorf("burn rate %v, want 3", *st.BurnRate)
	}
	n := float64(len(ss))
	if want := 1 - ((n-12)*0.005+12*0.03)/n/0.01; abs(*st.BudgetLeft-want) > 1e-9 {
		t.Errorf("budget left %v, want %v", *st.BudgetLeft, want)
	}
	if st := Objective(ss, 0.99, HigherIsBetter, false, week, now); st.BudgetLeft != nil || st.WeekMet == nil || *st.WeekMet != 0 {
		t.Errorf("non-ratio: %+v", st)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
