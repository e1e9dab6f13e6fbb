package review

import (
	"math"
	"time"
)

// MedianShift compares the medians of the same hours of the week in two periods (bands keyed by
// hour of week): the relative change of their mean, over the hours known in both. ok is false
// when no hour is known in both or the earlier mean is zero.
func MedianShift(now, then []Band) (shift float64, hours int, ok bool) {
	before := map[int]float64{}
	for _, b := range then {
		if b.Known() {
			before[b.HourOfWeek] = *b.Median
		}
	}
	var sumNow, sumThen float64
	for _, b := range now {
		if v, found := before[b.HourOfWeek]; found && b.Known() {
			sumNow += *b.Median
			sumThen += v
			hours++
			delete(before, b.HourOfWeek) // a repeated hour (DST) counts once
		}
	}
	if hours == 0 || sumThen == 0 {
		return 0, hours, false
	}
	return (sumNow - sumThen) / math.Abs(sumThen), hours, true
}

// HoursWithoutData counts the local hours of [from, to) in which points (ascending) hold no value.
func HoursWithoutData(points []Point, from, to time.Time, loc *time.Location) int {
	n, i := 0, 0
	for h := HourSpan(from, loc); h.From.Before(to); h = HourSpan(h.To, loc) {
		found := false
		for i < len(points) && points[i].At.Before(h.To) {
			if !points[i].Gap && !points[i].At.Before(h.From) {
				found = true
			}
			i++
		}
		if !found {
			n++
		}
	}
	return n
}
