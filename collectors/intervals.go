package collectors

import (
	"math"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// defaultEvalInterval stands in for a series with a single sample and no known rule: Prometheus's
// default evaluation interval.
const defaultEvalInterval = time.Minute

// firing is one run of ALERTS samples of one series.
type firing struct {
	first, last time.Time
	open        bool      // the run reaches the chunk's end: still firing as far as we know
	end         time.Time // for a closed run: one evaluation interval after its last sample
}

// splitFiring cuts the sorted sample times of one series into firing runs: a gap of more than
// twice the evaluation interval means the alert resolved in between (a single missed evaluation
// is not a resolve). A run whose last sample lies within that distance of chunkEnd is still open;
// any other run ended one evaluation interval after its last sample, as Prometheus would have
// resolved it at the next evaluation.
func splitFiring(ts []time.Time, eval time.Duration, chunkEnd time.Time) []firing {
	return splitFiringActive(ts, eval, chunkEnd, nil)
}

// activeAtFunc returns the alert's ActiveAt (Unix seconds, from ALERTS_FOR_STATE) as of the
// firing sample at t, and false when no ALERTS_FOR_STATE sample tells.
type activeAtFunc func(t time.Time) (int64, bool)

// splitFiringActive is splitFiring with the alert's ActiveAt: where ActiveAt is known on both sides
// of two consecutive samples it alone decides. The same ActiveAt across a gap (a Prometheus restart
// that restored the alert's state) is one run; an ActiveAt after the previous firing sample is a new
// activation (a restart that dropped the alert back to pending, a quick re-fire), so a new run even
// without a gap. Where it is unknown (rules without ALERTS_FOR_STATE, remote engines) the
// gap decides, as in splitFiring.
func splitFiringActive(ts []time.Time, eval time.Duration, chunkEnd time.Time, activeAt activeAtFunc) []firing {
	if len(ts) == 0 {
		return nil
	}
	if eval <= 0 {
		eval = defaultEvalInterval
	}
	maxGap := 2 * eval
	newRun := func(prev, t time.Time) bool {
		if activeAt != nil {
			a, okA := activeAt(prev)
			b, okB := activeAt(t)
			if okA && okB {
				// A new activation began after the alert was last seen firing. An ActiveAt at or
				// before that is the same activation: restored after a restart, or told by another
				// replica (a deduplicating engine) that activated it an evaluation apart.
				return b != a && b > prev.Unix()
			}
		}
		return t.Sub(prev) > maxGap
	}
	var out []firing
	cur := firing{first: ts[0], last: ts[0]}
	for _, t := range ts[1:] {
		if newRun(cur.last, t) {
			out = append(out, cur)
			cur = firing{first: t}
		}
		cur.last = t
	}
	out = append(out, cur)
	for i := range out {
		f := &out[i]
		if chunkEnd.Sub(f.last) <= maxGap {
			f.open = true
			continue
		}
		f.end = f.last.Add(eval)
		if i+1 < len(out) && !f.end.Before(out[i+1].first) {
			// A new activation without a resolve in between (a quick re-fire, or a restart that
			// dropped the alert back to pending): the run ended where the next began.
			f.end = out[i+1].first.Add(-time.Millisecond)
		}
	}
	return out
}

// forStateIndex holds ALERTS_FOR_STATE samples by the alert's label fingerprint (the series'
// labels without __name__), sorted by time.
type forStateIndex map[model.Fingerprint][]model.SamplePair

// indexForState indexes an ALERTS_FOR_STATE answer.
func indexForState(m model.Matrix) forStateIndex {
	idx := make(forStateIndex, len(m))
	for _, s := range m {
		ls := make(model.LabelSet, len(s.Metric))
		for k, v := range s.Metric {
			if k != model.MetricNameLabel {
				ls[k] = v
			}
		}
		vs := append([]model.SamplePair(nil), s.Values...)
		sort.Slice(vs, func(i, j int) bool { return vs[i].Timestamp < vs[j].Timestamp })
		fp := ls.Fingerprint()
		idx[fp] = append(idx[fp], vs...)
	}
	return idx
}

// lookup returns the ActiveAt function of one alert (its labels without __name__ and alertstate):
// the value of the latest ALERTS_FOR_STATE sample at or before t and no older than maxAge (the
// same evaluation writes both series; a pending sample before the first firing one carries the
// same ActiveAt). nil when the alert has no ALERTS_FOR_STATE samples.
func (idx forStateIndex) lookup(fp model.Fingerprint, maxAge time.Duration) activeAtFunc {
	vs := idx[fp]
	if len(vs) == 0 {
		return nil
	}
	return func(t time.Time) (int64, bool) {
		ts := model.TimeFromUnixNano(t.UnixNano())
		i := sort.Search(len(vs), func(i int) bool { return vs[i].Timestamp > ts }) - 1
		if i < 0 || t.Sub(vs[i].Timestamp.Time()) > maxAge {
			return 0, false
		}
		v := float64(vs[i].Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
		return int64(math.Round(v)), true
	}
}

// medianSpacing estimates a series' evaluation interval from its samples, for alerts whose rule
// is unknown; 0 when there are fewer than two samples.
func medianSpacing(ts []time.Time) time.Duration {
	if len(ts) < 2 {
		return 0
	}
	d := make([]time.Duration, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		d[i-1] = ts[i].Sub(ts[i-1])
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// chunk is a span of history read with one query: (from, to], plus an overlap before from.
type chunk struct{ from, to time.Time }

// planChunks cuts (from, to] at UTC midnights, so that a closed day is read in one query, once.
func planChunks(from, to time.Time) []chunk {
	var out []chunk
	from, to = from.UTC(), to.UTC()
	for from.Before(to) {
		end := from.Truncate(24 * time.Hour).Add(24 * time.Hour)
		if end.After(to) {
			end = to
		}
		out = append(out, chunk{from: from, to: end})
		from = end
	}
	return out
}
