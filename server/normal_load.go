package server

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// sliNow is one SLI judged at one moment, with the series it was judged from.
type sliNow struct {
	SLI    config.SLI
	Loc    *time.Location
	Normal review.Normal
	Series *store.SLISeries // the window read; never nil
	State  store.SLIState
	K      int // samples in a row outside the band before it is abnormal
}

// freshness is how old the latest sample may be and still count as the value now: the collector
// stays a lag and an interval behind.
func freshness(s config.SLI) time.Duration { return max(6*s.Step.D(), 30*time.Minute) }

// judgeSLIs judges each SLI at at, in a few statements however many SLIs there are. It reads the
// window before at of all of them at once (window 0: only what judging needs, for callers that
// draw nothing; see judgeWindow), then judgeSeries reads further back only those whose run goes back
// to the start of what was read. Series is the window.
func (s *Server) judgeSLIs(ctx context.Context, slis []config.SLI, at time.Time, window time.Duration) ([]sliNow, error) {
	read := window
	if read == 0 {
		for _, x := range slis {
			read = max(read, judgeWindow(x))
		}
	}
	names := make([]string, len(slis))
	for i, x := range slis {
		names[i] = x.Name
	}
	series, err := s.st(ctx).SLISeries(ctx, names, at.Add(-read), at)
	if err != nil {
		return nil, err
	}
	return s.judgeSeries(ctx, slis, series, at, read)
}

// judgeWindow is how far back judging an SLI at a moment reads first: its value may be as old as
// freshness, and a run of a few samples after it fits in two hours of 5-minute samples. A longer
// run is read again further back.
func judgeWindow(x config.SLI) time.Duration {
	return max(2*time.Hour, freshness(x)+4*x.Step.D())
}

// judgeOne judges one SLI over the week before at, as judgeSLIs does, and computes its objective
// figures (nil without an objective) from the same read: 28 days when it has an objective.
func (s *Server) judgeOne(ctx context.Context, x config.SLI, at time.Time) (sliNow, *review.ObjectiveStats, error) {
	const week = 7 * 24 * time.Hour
	back := week
	if x.Objective != nil {
		back = 28 * 24 * time.Hour
	}
	series, err := s.st(ctx).SLISeries(ctx, []string{x.Name}, at.Add(-back), at)
	if err != nil {
		return sliNow{}, nil, err
	}
	all := series[x.Name]
	if all == nil {
		all = &store.SLISeries{}
	}
	rows, err := s.judgeSeries(ctx, []config.SLI{x}, map[string]*store.SLISeries{x.Name: all.Since(at.Add(-week))}, at, week)
	if err != nil {
		return sliNow{}, nil, err
	}
	return rows[0], s.objectiveFrom(x, all, at), nil
}

// judgeSeries judges each SLI from its series read over the window before at; for those whose
// run of bad-side samples goes back to the start of what was read, a day and then a week of all of
// those at once, so since is the same whichever page asks, and an SLI is read further back only
// while its run may go further back.
func (s *Server) judgeSeries(ctx context.Context, slis []config.SLI, series map[string]*store.SLISeries, at time.Time, read time.Duration) ([]sliNow, error) {
	var only []string // nil: every SLI's state, one read of them all
	if len(slis) < len(s.cfg.SLIs) {
		// A team's SLIs (its /normal, its TV's panel every 10 s): theirs alone.
		only = make([]string, len(slis))
		for i, x := range slis {
			only[i] = x.Name
		}
	}
	states, err := s.st(ctx).SLIStates(ctx, only)
	if err != nil {
		return nil, err
	}
	out := make([]sliNow, len(slis))
	var further []int // SLIs whose run reaches back to the start of what was read
	for i, x := range slis {
		ser := series[x.Name]
		if ser == nil {
			ser = &store.SLISeries{}
		}
		out[i] = s.judge(x, ser, at)
		out[i].State = states[x.Name]
		if out[i].Normal.FromFirst {
			further = append(further, i)
		}
	}
	var names []string
	for _, back := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour} {
		if back <= read || len(further) == 0 {
			continue
		}
		read = back
		names = names[:0]
		for _, i := range further {
			names = append(names, slis[i].Name)
		}
		more, err := s.st(ctx).SLISeries(ctx, names, at.Add(-back), at)
		if err != nil {
			return nil, err
		}
		still := further[:0]
		for _, i := range further {
			m := more[slis[i].Name]
			if m == nil {
				continue
			}
			out[i].Normal = s.judge(slis[i], m, at).Normal
			if out[i].Normal.FromFirst {
				still = append(still, i)
			}
		}
		further = still
	}
	return out, nil
}

func (s *Server) judge(x config.SLI, ser *store.SLISeries, at time.Time) sliNow {
	dir := review.Direction(x.Direction)
	return sliNow{
		SLI: x, Loc: s.cfg.SLILocation(x), Series: ser, K: s.cfg.Baseline.AbnormalAfter,
		Normal: review.Judge(ser.Points, at, ser.BandAt(at), dir, s.cfg.Baseline.AbnormalAfter, freshness(x)),
	}
}

// objectiveFrom computes the objective figures of an SLI (nil without an objective) from a series
// covering the 28 days before at (nil: no samples).
func (s *Server) objectiveFrom(x config.SLI, ser *store.SLISeries, at time.Time) *review.ObjectiveStats {
	if x.Objective == nil {
		return nil
	}
	var samples []review.Sample
	if ser != nil {
		samples = make([]review.Sample, len(ser.Points))
		for i, p := range ser.Points {
			samples[i] = p.Sample
		}
	}
	week := review.WeekOf(at, s.cfg.SLILocation(x))
	st := review.Objective(samples, *x.Objective, review.Direction(x.Direction), isRatio(x.Unit), week.Start, at)
	return &st
}

func isRatio(unit string) bool {
	switch strings.ToLower(unit) {
	case "ratio", "percent", "%":
		return true
	}
	return false
}

// formatValue writes a value in the SLI's unit the way people read it: ratios as percentages.
func formatValue(v float64, unit string) string {
	switch strings.ToLower(unit) {
	case "ratio":
		return formatNum(v*100) + " %"
	case "percent", "%":
		return formatNum(v) + " %"
	case "":
		return formatNum(v)
	}
	return formatNum(v) + " " + unit
}

// formatNum writes about three significant digits, never in exponent form.
func formatNum(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
	case a >= 1:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	}
	digits := 2 - int(math.Floor(math.Log10(a)))
	return trimZeros(strconv.FormatFloat(v, 'f', min(digits, 12), 64))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// sentence is the one plain answer at the top of an SLI's page.
func sentence(n sliNow) string {
	x, nm := n.SLI, n.Normal
	local := nm.At.In(n.Loc)
	when := fmt.Sprintf("a %s at %02d:00", local.Weekday(), local.Hour())
	b := nm.Band
	usual := ""
	if b.Known() {
		usual = "usually " + rangeText(*b.Low, *b.High, x.Unit)
	}
	switch {
	case nm.Value == nil:
		return fmt.Sprintf("No recent data for %s: nothing collected in the %s before %s.", x.Name, dur(freshness(x)), local.Format("Mon 15:04"))
	case !b.Known():
		return fmt.Sprintf("Not enough data yet to know what is normal for %s: %s now.", when, formatValue(*nm.Value, x.Unit))
	case nm.Abnormal:
		since := nm.Since.In(n.Loc)
		at := since.Format("15:04")
		if since.YearDay() != local.YearDay() || since.Year() != local.Year() {
			at = since.Format("Mon 15:04")
		}
		if review.Direction(x.Direction) == review.HigherIsBetter {
			usual = "usually above " + formatValue(*b.Low, x.Unit)
		} else {
			usual = "usually under " + formatValue(*b.High, x.Unit)
		}
		return fmt.Sprintf("Abnormal since %s: %s %s, %s", at, x.Name, formatValue(*nm.Value, x.Unit), usual)
	case nm.Side == review.SideBad:
		return fmt.Sprintf("Unusual for %s: %s, %s (abnormal after %d samples in a row)", when, formatValue(*nm.Value, x.Unit), usual, n.K)
	case nm.Side == review.SideGood:
		return fmt.Sprintf("Better than usual for %s: %s, %s", when, formatValue(*nm.Value, x.Unit), usual)
	}
	return fmt.Sprintf("Normal for %s: %s, %s", when, formatValue(*nm.Value, x.Unit), usual)
}
