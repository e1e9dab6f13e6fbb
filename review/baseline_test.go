package review

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

func TestQuantileLikePercentileCont(t *testing.T) {
	// Expected values worked out by hand from percentile_cont's definition.
	cases := []struct {
		vals []float64
		q    float64
		want float64
	}{
		{[]float64{7}, 0.9, 7},
		{[]float64{1, 2}, 0.5, 1.5},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4, 5}, 0.1, 1.4},
		{[]float64{1, 2, 3, 4, 5}, 0.9, 4.6},
		{[]float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 0.1, 19},
		{[]float64{0, 100}, 0.25, 25},
		{[]float64{3, 3, 3}, 0.9, 3},
		{[]float64{1, 2, 3}, 1, 3},
		{[]float64{1, 2, 3}, 0, 1},
	}
	for _, c := range cases {
		if got := Quantile(c.vals, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", c.vals, c.q, got, c.want)
		}
	}
}

// seasonal is a generated SLI with a daily and a weekly shape plus noise: what request rates look like.
func seasonal(from time.Time, weeks int, step time.Duration, loc *time.Location, seed uint64) []Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []Sample
	for t := from; t.Before(from.Add(time.Duration(weeks) * 7 * 24 * time.Hour)); t = t.Add(step) {
		l := t.In(loc)
		hour := float64(l.Hour()) + float64(l.Minute())/60
		daily := 50 * math.Sin((hour-6)/24*2*math.Pi)
		weekly := 0.0
		if wd := l.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekly = -40
		}
		out = append(out, Sample{At: t, Value: 150 + daily + weekly + r.NormFloat64()*8})
	}
	return out
}

// independentBand selects the bucket's samples by calendar arithmetic, not by spans: the same
// local weekday and hour on each of the weeks local dates before at's, then sorts and interpolates.
func independentBand(samples []Sample, at time.Time, loc *time.Location, weeks int, lo, hi float64) (n int, med, low, high float64) {
	la := at.In(loc)
	dates := map[[3]int]bool{}
	for k := 1; k <= weeks; k++ {
		d := time.Date(la.Year(), la.Month(), la.Day()-7*k, 12, 0, 0, 0, loc)
		dates[[3]int{d.Year(), int(d.Month()), d.Day()}] = true
	}
	var vs []float64
	for _, s := range samples {
		if s.Gap {
			continue
		}
		l := s.At.In(loc)
		if l.Hour() == la.Hour() && dates[[3]int{l.Year(), int(l.Month()), l.Day()}] {
			vs = append(vs, s.Value)
		}
	}
	if len(vs) == 0 {
		return 0, 0, 0, 0
	}
	sort.Float64s(vs)
	q := func(p float64) float64 { // the textbook "R-7" definition, written out again
		h := (float64(len(vs)) - 1) * p
		i := int(h)
		if i+1 >= len(vs) {
			return vs[len(vs)-1]
		}
		return vs[i] + (h-float64(i))*(vs[i+1]-vs[i])
	}
	return len(vs), q(0.5), q(lo), q(hi)
}

func TestBaselineAgainstIndependentComputation(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	for _, tc := range []struct {
		name string
		loc  *time.Location
		from time.Time
	}{
		{"UTC", time.UTC, time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)},
		// Both DST changes of 2026 in Berlin (29 March, 25 October) fall inside the data.
		{"Berlin spring DST", berlin, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"Berlin autumn DST", berlin, time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)},
		{"New York autumn DST", ny, time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC)},
		{"half-hour zone", kolkata, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := seasonal(tc.from, 7, 5*time.Minute, tc.loc, 42)
			spec := NewBaselineSpec(4, 0.1, 0.9)
			checked := 0
			// Every hour of the last two weeks, at a minute inside the hour.
			for at := tc.from.Add(5*7*24*time.Hour + 17*time.Minute); at.Before(tc.from.Add(7 * 7 * 24 * time.Hour)); at = at.Add(time.Hour) {
				b := BaselineAt(samples, at, tc.loc, spec)
				n, med, lo, hi := independentBand(samples, at, tc.loc, 4, 0.1, 0.9)
				if b.Samples != n {
					t.Fatalf("at %s (%s): %d samples, independent count %d", at, at.In(tc.loc), b.Samples, n)
				}
				if n == 0 {
					continue // the local hour skipped by DST, four weeks running is impossible; one is fine
				}
				if !b.Known() {
					t.Fatalf("at %s: no band from %d samples", at, n)
				}
				for _, c := range []struct {
					name      string
					got, want float64
				}{{"median", *b.Median, med}, {"low", *b.Low, lo}, {"high", *b.High, hi}} {
					if math.Abs(c.got-c.want) > 1e-9 {
						t.Fatalf("at %s: %s = %v, independent %v", at.In(tc.loc), c.name, c.got, c.want)
					}
				}
				if b.HourOfWeek != HourOfWeek(at, tc.loc) {
					t.Fatalf("hour of week %d, want %d", b.HourOfWeek, HourOfWeek(at, tc.loc))
				}
				checked++
			}
			if checked < 300 {
				t.Fatalf("only %d hours checked", checked)
			}
		})
	}
}

func TestBaselineShapeIsRecovered(t *testing.T) {
	// The median of a Tuesday 15:00 bucket sits near the generated curve, far from a Saturday's.
	from := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	samples := seasonal(from, 5, 5*time.Minute, time.UTC, 7)
	spec := NewBaselineSpec(4, 0.1, 0.9)
	tue := BaselineAt(samples, time.Date(2026, 11, 3, 15, 10, 0, 0, time.UTC), time.UTC, spec)
	sat := BaselineAt(samples, time.Date(2026, 11, 7, 15, 10, 0, 0, time.UTC), time.UTC, spec)
	if !tue.Known() || !sat.Known() {
		t.Fatal("bands unknown")
	}
	if *tue.Median-*sat.Median < 30 {
		t.Errorf("Tuesday median %v, Saturday %v: the weekly shape is lost", *tue.Median, *sat.Median)
	}
	if !(*tue.Low < *tue.Median && *tue.Median < *tue.High) {
		t.Errorf("band out of order: %v %v %v", *tue.Low, *tue.Median, *tue.High)
	}
	if tue.Samples != 48 || tue.Weeks != 4 {
		t.Errorf("Tuesday bucket: %d samples over %d weeks, want 48 over 4", tue.Samples, tue.Weeks)
	}
}

func TestDSTBuckets(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// 25 October 2026: 03:00 CEST becomes 02:00 CET, so local 02:00–03:00 happens twice.
	fallback := HourSpan(time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), berlin)
	if got := fallback.To.Sub(fallback.From); got != 2*time.Hour {
		t.Errorf("the repeated hour spans %s, want 2h", got)
	}
	// 29 March 2026: 02:00 CET becomes 03:00 CEST; local 02:00 does not exist.
	normal := HourSpan(time.Date(2026, 3, 22, 1, 30, 0, 0, time.UTC), berlin) // Sunday 02:30 CET
	if _, ok := ShiftHour(normal.From, 1, berlin); ok {
		t.Error("ShiftHour found the skipped 02:00 of 29 March")
	}
	// A week with the DST change still maps Tuesday 15:00 local to the same bucket.
	a := time.Date(2026, 3, 24, 14, 10, 0, 0, time.UTC) // Tue 15:10 CET
	b := time.Date(2026, 3, 31, 13, 10, 0, 0, time.UTC) // Tue 15:10 CEST
	if HourOfWeek(a, berlin) != HourOfWeek(b, berlin) || HourOfWeek(a, berlin) != 24+15 {
		t.Errorf("hour of week %d and %d, want 39", HourOfWeek(a, berlin), HourOfWeek(b, berlin))
	}
	s, ok := ShiftHour(HourSpan(b, berlin).From, -1, berlin)
	if !ok || !s.Contains(a) {
		t.Errorf("one week before Tue 15:00 CEST is %v, want the hour holding %s", s, a)
	}
	// The repeated hour's bucket holds both hours' samples.
	from := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	samples := seasonal(from, 5, 5*time.Minute, berlin, 3)
	after := time.Date(2026, 11, 1, 1, 30, 0, 0, time.UTC) // Sunday 02:30 CET, a week after the change
	bd := BaselineAt(samples, after, berlin, NewBaselineSpec(4, 0.1, 0.9))
	if bd.Samples != 12*3+24 {
		t.Errorf("Sunday 02:00 bucket has %d samples, want 60 (three ordinary hours and the doubled one)", bd.Samples)
	}
}

func TestThinBuckets(t *testing.T) {
	at := time.Date(2026, 11, 24, 15, 30, 0, 0, time.UTC)
	spec := NewBaselineSpec(4, 0.1, 0.9)
	mk := func(weeksBack []int, per int) []Sample {
		var out []Sample
		for _, k := range weeksBack {
			h := time.Date(2026, 11, 24-7*k, 15, 0, 0, 0, time.UTC)
			for i := 0; i < per; i++ {
				out = append(out, Sample{At: h.Add(time.Duration(i) * 5 * time.Minute), Value: float64(i)})
			}
		}
		return out
	}
	cases := []struct {
		name    string
		samples []Sample
		known   bool
	}{
		{"no data", nil, false},
		{"one week only", mk([]int{1}, 12), false},
		{"two weeks, too few samples", mk([]int{1, 2}, 2), false},
		{"two weeks, enough", mk([]int{1, 3}, 3), true},
		{"data five weeks back does not count", mk([]int{5, 6}, 12), false},
		{"gaps do not count", append(mk([]int{1}, 12), Sample{At: time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC), Gap: true}), false},
	}
	for _, c := range cases {
		b := BaselineAt(c.samples, at, time.UTC, spec)
		if b.Known() != c.known {
			t.Errorf("%s: known = %v (samples %d, weeks %d), want %v", c.name, b.Known(), b.Samples, b.Weeks, c.known)
		}
		if !b.Known() && (b.Median != nil || b.Low != nil || b.High != nil) {
			t.Errorf("%s: numbers without enough data", c.name)
		}
	}
}

func TestAffectedHours(t *testing.T) {
	from := time.Date(2026, 11, 2, 10, 5, 0, 0, time.UTC)
	got := AffectedHours(from, from.Add(10*time.Minute), 4, time.UTC)
	if len(got) != 4 {
		t.Fatalf("got %d hours, want 4: %v", len(got), got)
	}
	for i, h := range got {
		want := time.Date(2026, 11, 2+7*(i+1), 10, 0, 0, 0, time.UTC)
		if !h.Equal(want) {
			t.Errorf("hour %d = %s, want %s", i, h, want)
		}
	}
	if n := len(AffectedHours(from, from.Add(2*time.Hour), 4, time.UTC)); n != 12 {
		t.Errorf("two hours and a bit touch %d hours later, want 12", n)
	}
}
