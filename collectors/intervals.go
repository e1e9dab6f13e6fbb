package collectors

import (
	"sort"
	"time"
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
	if len(ts) == 0 {
		return nil
	}
	if eval <= 0 {
		eval = defaultEvalInterval
	}
	maxGap := 2 * eval
	var out []firing
	cur := firing{first: ts[0], last: ts[0]}
	for _, t := range ts[1:] {
		if t.Sub(cur.last) > maxGap {
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
	}
	return out
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
