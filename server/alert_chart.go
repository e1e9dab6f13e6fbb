package server

import (
	"fmt"
	"sort"
	"time"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// Timeline geometry, in SVG user units: the chart scales to its box with its viewBox.
const (
	tlWidth    = 1000.0
	tlLaneH    = 14.0
	tlLaneGap  = 4.0
	tlAxisH    = 22.0
	tlMaxLanes = 24
)

// timeline is an alert rule's episodes as bars, one lane per instance, with the rule's own changes
// as markers, laid out in Go so the template only places shapes.
type timeline struct {
	Height  float64
	Bars    []tlBar
	Markers []tlMarker
	Ticks   []tlTick
	Lanes   int
	Hidden  int // instances beyond tlMaxLanes, not drawn
}

type tlBar struct {
	X, Y, W, H float64
	Open, Flap bool
	Title      string
}

type tlMarker struct {
	X, Y2 float64
	Title string
}

type tlTick struct {
	X     float64
	Label string
}

// buildTimeline lays out episodes (of any order, flaps marked) over [from, to); open ones run
// until now.
func buildTimeline(eps []store.RuleEpisode, versions []store.RuleVersion, from, to, now time.Time) timeline {
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		v := t.Sub(from).Seconds() / span * tlWidth
		return min(max(v, 0), tlWidth)
	}
	sorted := append([]store.RuleEpisode(nil), eps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartsAt.Before(sorted[j].StartsAt) })
	lanes := map[uint64]int{}
	var tl timeline
	for _, e := range sorted {
		lane, ok := lanes[e.Fingerprint]
		if !ok {
			lane = len(lanes)
			lanes[e.Fingerprint] = lane
		}
		flap := e.Flap
		if lane >= tlMaxLanes {
			continue
		}
		end := now
		if e.EndsAt != nil {
			end = *e.EndsAt
		}
		x0, x1 := x(e.StartsAt), x(end)
		if x1 <= 0 || x0 >= tlWidth {
			continue
		}
		title := fmt.Sprintf("%s %s, %s", e.StartsAt.UTC().Format("Mon 02 Jan 15:04"), "UTC", dur(max(end.Sub(e.StartsAt), 0)))
		if e.EndsAt == nil {
			title += " (still firing)"
		}
		if flap {
			title += " · flap"
		}
		tl.Bars = append(tl.Bars, tlBar{X: x0, Y: tlAxisH + float64(lane)*(tlLaneH+tlLaneGap), W: max(x1-x0, 2), H: tlLaneH,
			Open: e.EndsAt == nil, Flap: flap, Title: title})
	}
	tl.Lanes = min(len(lanes), tlMaxLanes)
	tl.Hidden = len(lanes) - tl.Lanes
	tl.Height = tlAxisH + float64(max(tl.Lanes, 1))*(tlLaneH+tlLaneGap) + 4
	for _, v := range versions {
		tl.Markers = append(tl.Markers, tlMarker{X: x(v.SeenAt), Y2: tl.Height,
			Title: "rule changed " + v.SeenAt.Format("Mon 02 Jan 15:04") + " UTC (" + v.Source + "): " + v.Expr})
	}
	for i, d := 0, from; d.Before(to); i, d = i+1, d.AddDate(0, 0, 1) {
		tick := tlTick{X: x(d)}
		if i%7 == 0 { // a label a week: daily labels would overlap on a phone
			tick.Label = d.Format("Mon 02 Jan")
		}
		tl.Ticks = append(tl.Ticks, tick)
	}
	return tl
}

// heatmap is fires by hour of the week, as a 7×24 table with a level (0–4) per cell for colour.
type heatmap struct {
	Days     []heatDay
	Hours    []int
	Timezone string
	Max      int
}

type heatDay struct {
	Name  string
	Cells []heatCell
}

type heatCell struct {
	Hour, Count, Level int
}

// buildHeatmap counts fires by hour of the week in loc from their counts by quarter hour.
func buildHeatmap(quarters []store.QuarterFires, loc *time.Location) heatmap {
	var counts [7][24]int
	for _, q := range quarters {
		how := review.HourOfWeek(q.At, loc)
		counts[how/24][how%24] += q.Fires
	}
	h := heatmap{Timezone: loc.String()}
	for hour := 0; hour < 24; hour++ {
		h.Hours = append(h.Hours, hour)
	}
	for d := range counts {
		for _, n := range counts[d] {
			h.Max = max(h.Max, n)
		}
	}
	names := []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	for d, row := range counts {
		day := heatDay{Name: names[d]}
		for hour, n := range row {
			level := 0
			if n > 0 && h.Max > 0 {
				level = 1 + (n*4-1)/h.Max
				level = min(level, 4)
			}
			day.Cells = append(day.Cells, heatCell{Hour: hour, Count: n, Level: level})
		}
		h.Days = append(h.Days, day)
	}
	return h
}
