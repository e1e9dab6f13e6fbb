package review

import (
	"math"
	"time"
)

// Side says where a value lies against its band.
type Side string

// Where a value can lie. Outside on the good side is shown but is not a problem.
const (
	SideUnknown Side = ""       // no value, or no band to compare with
	SideInside  Side = "inside" // within [low, high]
	SideBad     Side = "bad"    // outside, the way the SLI gets worse
	SideGood    Side = "good"   // outside, the way the SLI gets better
)

// SideOf places v against band b for an SLI of direction dir.
func SideOf(v float64, b Band, dir Direction) Side {
	if !b.Known() || math.IsNaN(v) {
		return SideUnknown
	}
	switch {
	case v > *b.High:
		if dir == HigherIsBetter {
			return SideGood
		}
		return SideBad
	case v < *b.Low:
		if dir == HigherIsBetter {
			return SideBad
		}
		return SideGood
	}
	return SideInside
}

// Point is one sample with the band of its hour.
type Point struct {
	Sample
	Band Band
}

// Normal is the answer to "is this normal?" at one moment.
type Normal struct {
	At       time.Time
	Value    *float64   // the latest sample at or before At, if fresh enough
	ValueAt  *time.Time // when that sample was taken
	Band     Band       // the band of the hour that contains At
	Side     Side
	Abnormal bool       // the last K samples were all outside the band on the bad side
	Since    *time.Time // the first sample of that run, when Abnormal
	// SinceBefore is set when the run goes back to the first point given: it started even earlier.
	SinceBefore bool
	// FromFirst is set when the samples on the bad side back from the value, however few, go back
	// to the first point given: earlier points could make the run longer (abnormal, or abnormal
	// since earlier), so a caller that gave a short window reads a longer one.
	FromFirst bool
}

// Judge answers "is this normal at at?" from points in ascending time order ending at or before
// at (later ones are ignored), the band of at's hour, the SLI's direction and K. The value is the
// latest sample no older than fresh; gaps are skipped (they neither extend nor break a run), a
// sample with no band breaks one.
func Judge(points []Point, at time.Time, band Band, dir Direction, k int, fresh time.Duration) Normal {
	n := Normal{At: at, Band: band}
	end := len(points)
	for end > 0 && points[end-1].At.After(at) {
		end--
	}
	last := -1
	for i := end - 1; i >= 0; i-- {
		if !points[i].Gap {
			last = i
			break
		}
	}
	if last < 0 || at.Sub(points[last].At) > fresh {
		return n
	}
	p := points[last]
	v, t := p.Value, p.At
	n.Value, n.ValueAt = &v, &t
	n.Side = SideOf(v, band, dir)
	run, first := 0, -1
	for i := last; i >= 0; i-- {
		if points[i].Gap {
			continue
		}
		if SideOf(points[i].Value, points[i].Band, dir) != SideBad {
			break
		}
		run++
		first = i
	}
	if k < 1 {
		k = 1
	}
	n.FromFirst = first >= 0 && first == firstSample(points)
	if run >= k {
		n.Abnormal = true
		s := points[first].At
		n.Since = &s
		n.SinceBefore = n.FromFirst
	}
	return n
}

func firstSample(points []Point) int {
	for i, p := range points {
		if !p.Gap {
			return i
		}
	}
	return -1
}

// Run is a stretch of consecutive samples outside the band on the bad side.
type Run struct {
	From, Last time.Time // first and last sample of the run
	Samples    int
}

// AbnormalRuns returns the runs of at least k consecutive bad-side samples in points (ascending);
// gaps are skipped, samples with no band break a run.
func AbnormalRuns(points []Point, dir Direction, k int) []Run {
	var out []Run
	var cur Run
	flush := func() {
		if cur.Samples >= max(k, 1) {
			out = append(out, cur)
		}
		cur = Run{}
	}
	for _, p := range points {
		if p.Gap {
			continue
		}
		if SideOf(p.Value, p.Band, dir) != SideBad {
			flush()
			continue
		}
		if cur.Samples == 0 {
			cur.From = p.At
		}
		cur.Last = p.At
		cur.Samples++
	}
	flush()
	return out
}
