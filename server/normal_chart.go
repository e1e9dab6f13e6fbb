package server

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// Chart is an SLI drawn as SVG: the band of each hour behind, the median dashed, the values as a
// line broken at gaps, change markers, and a few labelled ticks. Coordinates are in the viewBox.
type Chart struct {
	W, H         int
	Label        string // for screen readers
	Bands        []ChartRect
	Median, Line string // SVG path data
	Markers      []ChartMarker
	XTicks       []ChartTick
	YTicks       []ChartTick
	Dot          *ChartDot // the latest value
	Empty        bool      // nothing to draw
	PlotX, PlotY float64   // the plot area's top-left corner
	PlotW, PlotH float64
	Sparkline    bool
}

// ChartRect is one hour's band.
type ChartRect struct{ X, Y, W, H string }

// ChartMarker is a change drawn as a vertical line.
type ChartMarker struct {
	X     string
	Title string
}

// ChartTick is an axis label.
type ChartTick struct {
	Pos   string
	Label string
}

// ChartDot is the latest value, coloured by its side of the band.
type ChartDot struct {
	X, Y string
	Side string
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// chartOpts says how big a chart is and what it labels.
type chartOpts struct {
	W, H      int
	Sparkline bool
	Tick      time.Duration // between x labels
	Unit      string
	Loc       *time.Location
	Dir       review.Direction
	Label     string
	DayLabel  string // layout of day ticks; default "Mon 02"
}

// buildChart draws ser over [from, to].
func buildChart(ser *store.SLISeries, from, to time.Time, changes []store.Change, o chartOpts) Chart {
	c := Chart{W: o.W, H: o.H, Label: o.Label, Sparkline: o.Sparkline}
	padL, padR, padT, padB := 56.0, 8.0, 8.0, 22.0
	if o.W < 600 {
		padL = 50
	}
	if o.Sparkline {
		padL, padR, padT, padB = 1, 1, 2, 2
	}
	c.PlotX, c.PlotY = padL, padT
	c.PlotW, c.PlotH = float64(o.W)-padL-padR, float64(o.H)-padT-padB
	lo, hi := math.Inf(1), math.Inf(-1)
	widen := func(v float64) { lo, hi = math.Min(lo, v), math.Max(hi, v) }
	for _, p := range ser.Points {
		if !p.Gap && !p.At.Before(from) && !p.At.After(to) {
			widen(p.Value)
		}
	}
	for i, b := range ser.Bands {
		if b.Known() && ser.Ends[i].After(from) && !b.HourStart.After(to) {
			widen(*b.Low)
			widen(*b.High)
		}
	}
	if math.IsInf(lo, 0) {
		c.Empty = true
		return c
	}
	if hi-lo < 1e-12 {
		lo, hi = lo-math.Max(math.Abs(lo)*0.1, 1e-9), hi+math.Max(math.Abs(hi)*0.1, 1e-9)
	}
	margin := (hi - lo) * 0.08
	lo, hi = lo-margin, hi+margin
	if lo < 0 && minValue(ser) >= 0 {
		lo = 0
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		v := padL + c.PlotW*t.Sub(from).Seconds()/span
		return math.Max(padL, math.Min(padL+c.PlotW, v))
	}
	y := func(v float64) float64 { return padT + c.PlotH*(1-(v-lo)/(hi-lo)) }

	var med strings.Builder
	for i, b := range ser.Bands {
		end := ser.Ends[i]
		if !b.Known() || !end.After(from) || b.HourStart.After(to) {
			continue
		}
		x0, x1 := x(b.HourStart), x(end)
		c.Bands = append(c.Bands, ChartRect{X: f1(x0), Y: f1(y(*b.High)), W: f1(x1 - x0), H: f1(math.Max(y(*b.Low)-y(*b.High), 0.5))})
		med.WriteString("M" + f1(x0) + " " + f1(y(*b.Median)) + "H" + f1(x1))
	}
	c.Median = med.String()

	var line strings.Builder
	pen := false
	var last *review.Point
	for i := range ser.Points {
		p := ser.Points[i]
		if p.At.Before(from) || p.At.After(to) {
			continue
		}
		if p.Gap {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		line.WriteString(cmd + f1(x(p.At)) + " " + f1(y(p.Value)))
		pen = true
		last = &ser.Points[i]
	}
	c.Line = line.String()
	if last != nil {
		c.Dot = &ChartDot{X: f1(x(last.At)), Y: f1(y(last.Value)), Side: string(review.SideOf(last.Value, last.Band, o.Dir))}
	}
	for _, ch := range changes {
		if !ch.At.Before(from) && !ch.At.After(to) {
			c.Markers = append(c.Markers, ChartMarker{X: f1(x(ch.At)), Title: ch.At.In(o.Loc).Format("Mon 15:04") + " " + ch.Title()})
		}
	}
	if o.Sparkline {
		return c
	}
	for i := 0; i <= 3; i++ {
		v := lo + (hi-lo)*float64(i)/3
		c.YTicks = append(c.YTicks, ChartTick{Pos: f1(y(v)), Label: formatValue(v, o.Unit)})
	}
	if o.Tick > 0 {
		first := from.In(o.Loc).Truncate(time.Hour)
		for t := first; !t.After(to); t = t.Add(time.Hour) {
			l := t.In(o.Loc)
			if t.Before(from) || (l.Hour()*int(time.Hour)+l.Minute()*int(time.Minute))%int(o.Tick) != 0 {
				continue
			}
			label := l.Format("15:04")
			if o.Tick >= 24*time.Hour {
				label = l.Format(cmp.Or(o.DayLabel, "Mon 02"))
			}
			c.XTicks = append(c.XTicks, ChartTick{Pos: f1(x(t)), Label: label})
		}
	}
	return c
}

// minValue is the smallest value of the series (0 with none): a chart of values that are never
// negative does not dip below zero for its margin.
func minValue(ser *store.SLISeries) float64 {
	m := math.Inf(1)
	for _, p := range ser.Points {
		if !p.Gap {
			m = math.Min(m, p.Value)
		}
	}
	for _, b := range ser.Bands {
		if b.Known() {
			m = math.Min(m, *b.Low)
		}
	}
	if math.IsInf(m, 0) {
		return 0
	}
	return m
}
