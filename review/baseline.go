package review

import (
	"math"
	"sort"
	"time"
)

// Direction says which way an SLI gets worse.
type Direction string

// The two directions of an SLI.
const (
	HigherIsBetter Direction = "higher-is-better"
	LowerIsBetter  Direction = "lower-is-better"
)

// HoursPerWeek is the number of hour-of-week buckets of a baseline.
const HoursPerWeek = 168

// Sample is one value of an SLI at one aligned step. A gap (no value: the source had none) is a
// Sample with Gap set; gaps are stored so nobody mistakes them for missing collection, and they
// never count in a baseline.
type Sample struct {
	At    time.Time
	Value float64
	Gap   bool
}

// BaselineSpec says how a baseline is computed: over Weeks weeks, band from quantile Low to High.
// A bucket needs samples from at least MinWeeks of those weeks and MinSamples samples in all, or it
// has no numbers ("not enough data").
type BaselineSpec struct {
	Weeks      int
	Low, High  float64
	MinWeeks   int
	MinSamples int
}

// DefaultMinSamples is the fewest samples a baseline bucket needs: half an hour at 5-minute steps.
const DefaultMinSamples = 6

// NewBaselineSpec returns the spec for weeks and band with the default thresholds: at least two of
// the weeks (one when weeks is 1) and DefaultMinSamples samples.
func NewBaselineSpec(weeks int, low, high float64) BaselineSpec {
	return BaselineSpec{Weeks: weeks, Low: low, High: high, MinWeeks: min(2, weeks), MinSamples: DefaultMinSamples}
}

// Band is the baseline of one hour occurrence: the median and band of the same local hour of the
// week over the weeks before it. Median, Low and High are nil when there was not enough data.
type Band struct {
	HourStart  time.Time // the start of the hour occurrence this band applies to
	HourOfWeek int       // 0 = Monday 00:00–01:00 local time
	Samples    int       // samples the numbers come from
	Weeks      int       // weeks that contributed at least one sample
	Median     *float64
	Low, High  *float64
}

// Known reports whether the band has numbers.
func (b Band) Known() bool { return b.Median != nil }

// Span is a half-open interval of time [From, To).
type Span struct{ From, To time.Time }

// Contains reports whether t is in the span.
func (s Span) Contains(t time.Time) bool { return !t.Before(s.From) && t.Before(s.To) }

// HourOfWeek returns the local hour of the week of t in loc: 0 is Monday 00:00–01:00, 167 Sunday
// 23:00–24:00 (ISO weeks start on Monday).
func HourOfWeek(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	return ((int(l.Weekday())+6)%7)*24 + l.Hour()
}

// quarter is the granularity of UTC offsets: every real time zone is a whole number of quarter
// hours from UTC, so local hour boundaries fall on UTC quarter hours.
const quarter = 15 * time.Minute

type localHour struct {
	y    int
	m    time.Month
	d, h int
}

func localHourOf(t time.Time, loc *time.Location) localHour {
	l := t.In(loc)
	return localHour{l.Year(), l.Month(), l.Day(), l.Hour()}
}

// HourSpan returns the occurrence of the local hour that contains t: every instant whose local
// date and hour in loc are those of t. It is one hour long except across a DST change, where the
// repeated hour is two hours long (and the skipped one never contains anything).
func HourSpan(t time.Time, loc *time.Location) Span {
	want := localHourOf(t, loc)
	from := t.Truncate(quarter)
	for localHourOf(from.Add(-quarter), loc) == want {
		from = from.Add(-quarter)
	}
	to := t.Truncate(quarter).Add(quarter)
	for localHourOf(to, loc) == want {
		to = to.Add(quarter)
	}
	return Span{From: from.UTC(), To: to.UTC()}
}

// ShiftHour returns the occurrence of the same local hour of the day weeks weeks later (earlier
// when negative) than the occurrence starting at hourStart; ok is false when that local hour does
// not exist (the hour skipped by a DST change).
func ShiftHour(hourStart time.Time, weeks int, loc *time.Location) (Span, bool) {
	l := hourStart.In(loc)
	c := time.Date(l.Year(), l.Month(), l.Day()+7*weeks, l.Hour(), 0, 0, 0, loc)
	if c.In(loc).Hour() != l.Hour() {
		return Span{}, false
	}
	return HourSpan(c, loc), true
}

// BaselineWindows returns the occurrences of the same local hour of the week in each of the
// weeks weeks before the occurrence starting at hourStart, most recent first; index i is i+1
// weeks back. A skipped hour (DST) leaves a zero Span.
func BaselineWindows(hourStart time.Time, weeks int, loc *time.Location) []Span {
	out := make([]Span, weeks)
	for k := 1; k <= weeks; k++ {
		if s, ok := ShiftHour(hourStart, -k, loc); ok {
			out[k-1] = s
		}
	}
	return out
}

// Quantile returns the q-quantile of sorted values interpolated linearly between the closest
// ranks, as Postgres's percentile_cont does. sorted must be ascending and non-empty.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-lo)*(sorted[i+1]-sorted[i])
}

// BandOf computes the band of the occurrence starting at hourStart from values grouped by week
// (perWeek[i] holds the values i+1 weeks back).
func BandOf(hourStart time.Time, loc *time.Location, perWeek [][]float64, spec BaselineSpec) Band {
	b := Band{HourStart: hourStart.UTC(), HourOfWeek: HourOfWeek(hourStart, loc)}
	var all []float64
	for _, vs := range perWeek {
		if len(vs) > 0 {
			b.Weeks++
		}
		all = append(all, vs...)
	}
	b.Samples = len(all)
	if b.Samples == 0 || b.Samples < spec.MinSamples || b.Weeks < spec.MinWeeks {
		return b
	}
	sort.Float64s(all)
	med, lo, hi := Quantile(all, 0.5), Quantile(all, spec.Low), Quantile(all, spec.High)
	b.Median, b.Low, b.High = &med, &lo, &hi
	return b
}

// BaselineAt computes the band that applies at the moment at from samples (in any order): the
// same local hour of the week in each of the spec.Weeks weeks before the hour that contains at.
// Gaps are left out.
func BaselineAt(samples []Sample, at time.Time, loc *time.Location, spec BaselineSpec) Band {
	start := HourSpan(at, loc).From
	windows := BaselineWindows(start, spec.Weeks, loc)
	perWeek := make([][]float64, len(windows))
	for _, s := range samples {
		if s.Gap || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		for i, w := range windows {
			if w.Contains(s.At) {
				perWeek[i] = append(perWeek[i], s.Value)
				break
			}
		}
	}
	return BandOf(start, loc, perWeek, spec)
}

// AffectedHours returns the start of every hour occurrence whose baseline uses a sample in
// [from, to]: the occurrences of the same local hour 1 to weeks weeks after each hour touched.
// A collector recomputes just these after storing samples, instead of rescanning everything.
func AffectedHours(from, to time.Time, weeks int, loc *time.Location) []time.Time {
	seen := map[time.Time]bool{}
	var out []time.Time
	for h := HourSpan(from, loc); !h.From.After(to); h = HourSpan(h.To, loc) {
		for k := 1; k <= weeks; k++ {
			if s, ok := ShiftHour(h.From, k, loc); ok && !seen[s.From] {
				seen[s.From] = true
				out = append(out, s.From)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}
