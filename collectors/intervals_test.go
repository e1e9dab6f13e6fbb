package collectors

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

var base = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

func at(secs ...int) []time.Time {
	out := make([]time.Time, len(secs))
	for i, s := range secs {
		out[i] = base.Add(time.Duration(s) * time.Second)
	}
	return out
}

func TestSplitFiring(t *testing.T) {
	type run struct {
		first, last int
		open        bool
		end         int
	}
	cases := []struct {
		name     string
		samples  []time.Time
		eval     time.Duration
		chunkEnd int
		want     []run
	}{
		{"one run still open", at(0, 15, 30, 45), 15 * time.Second, 60, []run{{0, 45, true, 0}}},
		{"one run that ended", at(0, 15, 30), 15 * time.Second, 300, []run{{0, 30, false, 45}}},
		{"a missed evaluation is no resolve", at(0, 15, 45, 60), 15 * time.Second, 70, []run{{0, 60, true, 0}}},
		{"a longer gap splits", at(0, 15, 60, 75), 15 * time.Second, 300,
			[]run{{0, 15, false, 30}, {60, 75, false, 90}}},
		{"last sample two intervals before the end is open", at(0, 15), 15 * time.Second, 45, []run{{0, 15, true, 0}}},
		{"just beyond is closed", at(0, 15), 15 * time.Second, 46, []run{{0, 15, false, 30}}},
		{"single sample", at(100), time.Minute, 1000, []run{{100, 100, false, 160}}},
		{"no interval known: default", at(0), 0, 3600, []run{{0, 0, false, 60}}},
		{"no samples", nil, time.Minute, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := splitFiring(c.samples, c.eval, base.Add(time.Duration(c.chunkEnd)*time.Second))
			if len(got) != len(c.want) {
				t.Fatalf("got %d runs, want %d: %+v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				g := got[i]
				if !g.first.Equal(at(w.first)[0]) || !g.last.Equal(at(w.last)[0]) || g.open != w.open {
					t.Fatalf("run %d: got %+v, want %+v", i, g, w)
				}
				if !w.open && !g.end.Equal(at(w.end)[0]) {
					t.Fatalf("run %d: end %v, want +%ds", i, g.end, w.end)
				}
			}
		})
	}
}

func TestMedianSpacing(t *testing.T) {
	cases := []struct {
		samples []time.Time
		want    time.Duration
	}{
		{at(0), 0},
		{at(0, 10), 10 * time.Second},
		{at(0, 10, 20, 100), 10 * time.Second},
		{at(0, 5, 30, 70, 75), 15 * time.Second}, // gaps 5, 25, 40, 5: mean of the middle two
	}
	for _, c := range cases {
		if got := medianSpacing(c.samples); got != c.want {
			t.Errorf("medianSpacing(%v) = %v, want %v", c.samples, got, c.want)
		}
	}
}

func TestPlanChunks(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	got := planChunks(day(20, 15), day(23, 9))
	want := []chunk{{day(20, 15), day(21, 0)}, {day(21, 0), day(22, 0)}, {day(22, 0), day(23, 0)}, {day(23, 0), day(23, 9)}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !got[i].from.Equal(want[i].from) || !got[i].to.Equal(want[i].to) {
			t.Fatalf("chunk %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if c := planChunks(day(23, 9), day(23, 9)); len(c) != 0 {
		t.Fatalf("nothing to read, got %v", c)
	}
	// A zone other than UTC still cuts at UTC midnight.
	berlin := time.FixedZone("CET", 3600)
	c := planChunks(time.Date(2026, 11, 22, 23, 30, 0, 0, berlin), time.Date(2026, 11, 23, 2, 0, 0, 0, berlin))
	if len(c) != 2 || !c[0].to.Equal(day(23, 0)) {
		t.Fatalf("want a cut at UTC midnight, got %v", c)
	}
}

// activeAts builds an ActiveAt lookup from ALERTS_FOR_STATE samples given as {second, activeAt}
// pairs, through the same index the reader uses.
func activeAts(eval time.Duration, samples ...[2]int) activeAtFunc {
	if len(samples) == 0 {
		return nil
	}
	s := &model.SampleStream{Metric: model.Metric{"__name__": "ALERTS_FOR_STATE", "alertname": "A"}}
	for _, p := range samples {
		t := base.Add(time.Duration(p[0]) * time.Second)
		s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()),
			Value: model.SampleValue(base.Unix() + int64(p[1]))})
	}
	return indexForState(model.Matrix{s}).lookup(model.LabelSet{"alertname": "A"}.Fingerprint(), 2*eval)
}

// every returns {t, activeAt} for t from..to by step.
func every(from, to, step, activeAt int) [][2]int {
	var out [][2]int
	for t := from; t <= to; t += step {
		out = append(out, [2]int{t, activeAt})
	}
	return out
}

func TestSplitFiringActive(t *testing.T) {
	type run struct {
		first, last int
		open        bool
		end         int
	}
	const eval = 5 * time.Second
	cat := func(parts ...[][2]int) [][2]int {
		var out [][2]int
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name     string
		firing   []time.Time
		forState [][2]int // {second, ActiveAt second}
		chunkEnd int
		want     []run
	}{
		{"no ALERTS_FOR_STATE: a restart's gap splits, as before",
			at(0, 5, 10, 60, 65), nil, 70, []run{{0, 10, false, 15}, {60, 65, true, 0}}},
		{"a restart that restored the alert: the same ActiveAt joins the runs",
			at(0, 5, 10, 60, 65), cat(every(0, 10, 5, -10), every(60, 65, 5, -10)), 70, []run{{0, 65, true, 0}}},
		{"restored, then resolved after the restart",
			at(0, 5, 10, 60, 65), cat(every(0, 10, 5, -10), every(60, 65, 5, -10)), 300, []run{{0, 65, false, 70}}},
		{"the restart dropped it back to pending: a new ActiveAt is a second episode",
			at(0, 5, 10, 70, 75), cat(every(0, 10, 5, -10), every(55, 75, 5, 55)), 80, []run{{0, 10, false, 15}, {70, 75, true, 0}}},
		{"a pending sample before the first firing one tells the new ActiveAt",
			at(0, 5, 10, 70), cat(every(0, 10, 5, -10), every(60, 65, 5, 60)), 300, []run{{0, 10, false, 15}, {70, 70, false, 75}}},
		{"a new activation without a gap ends the first run where the second begins",
			at(0, 5, 10, 15, 20), cat(every(0, 10, 5, 0), every(15, 20, 5, 15)), 25, []run{{0, 10, false, 15}, {15, 20, true, 0}}},
		{"ActiveAt unknown on one side of the gap: the gap decides",
			at(0, 5, 10, 60, 65), every(0, 10, 5, -10), 70, []run{{0, 10, false, 15}, {60, 65, true, 0}}},
		{"an ALERTS_FOR_STATE sample too old to speak for the firing one: the gap decides",
			at(0, 5, 10, 60, 65), cat(every(0, 10, 5, -10), every(40, 40, 5, -10)), 70, []run{{0, 10, false, 15}, {60, 65, true, 0}}},
		{"another replica's ActiveAt, an evaluation apart, is the same activation",
			at(0, 5, 10, 15, 20), cat(every(0, 10, 5, 0), every(15, 20, 5, 3)), 25, []run{{0, 20, true, 0}}},
		{"a missed evaluation with the same ActiveAt stays one run",
			at(0, 5, 15, 20), every(0, 20, 5, 0), 25, []run{{0, 20, true, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := splitFiringActive(c.firing, eval, base.Add(time.Duration(c.chunkEnd)*time.Second), activeAts(eval, c.forState...))
			if len(got) != len(c.want) {
				t.Fatalf("got %d runs, want %d: %+v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				g := got[i]
				if !g.first.Equal(at(w.first)[0]) || !g.last.Equal(at(w.last)[0]) || g.open != w.open {
					t.Fatalf("run %d: got %+v, want %+v", i, g, w)
				}
				wantEnd := at(w.end)[0]
				if i+1 < len(c.want) && w.end == c.want[i+1].first {
					wantEnd = wantEnd.Add(-time.Millisecond)
				}
				if !w.open && !g.end.Equal(wantEnd) {
					t.Fatalf("run %d: end %v, want %v", i, g.end, wantEnd)
				}
			}
		})
	}
}
