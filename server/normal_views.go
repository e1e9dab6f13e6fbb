package server

import (
	"strings"
	"time"

	"github.com/opsreview/opsreview/review"
)

// NormalListView is the data of /normal: every SLI now against its band.
type NormalListView struct {
	Now      time.Time
	Demo     bool
	Title    string
	Team     string // the team filter, "" for all
	Service  string // the service filter, "" for all
	Teams    []string
	Services []string
	Rows     []NormalRow
	Abnormal int // rows abnormal now
}

// NormalRow is one SLI on /normal.
type NormalRow struct {
	Name, Service, Team string
	Value               string // formatted in the SLI's unit, "—" without a recent sample
	Band                string // this hour's band, or "not enough data"
	Status              string // normal, abnormal, unusual, better, no-data, unknown (a CSS class too)
	StatusText          string // "abnormal since 14:20"
	Spark               Chart
	LastError           string
}

// NormalShowView is the data of /normal/{sli}: one SLI over 24 hours and 7 days.
type NormalShowView struct {
	Now                          time.Time
	Demo                         bool
	Title                        string
	Name, Service, Team          string
	Unit, Direction, Query, Zone string
	Sentence                     string
	Status                       string
	Value, Band, Median          string
	Day, Week                    Chart
	DayNarrow, WeekNarrow        Chart // the same, drawn for phones
	Objective                    *ObjectiveView
	Changes                      []ChangeRow
	ChangesNote                  string // why change markers are missing, when they are
	CollectedTo                  *time.Time
	LastError                    string
	At                           time.Time
	Historic                     bool // at= was given: the page shows a past moment
}

// ObjectiveView is an SLI's objective figures, formatted.
type ObjectiveView struct {
	Objective, WeekMet, BudgetLeft, BurnRate string
	BudgetLow, Burning                       bool
}

// ChangeRow is one change listed under the charts.
type ChangeRow struct {
	At    time.Time
	Title string
	URL   string
}

// statusOf names where an SLI stands, for a CSS class and a short text.
func statusOf(n sliNow) (class, text string) {
	nm := n.Normal
	switch {
	case nm.Value == nil:
		return "no-data", "no recent data"
	case !nm.Band.Known():
		return "unknown", "not enough data"
	case nm.Abnormal:
		// In the SLI's timezone, named: the page's own "as of" may be in another one.
		since := nm.Since.In(n.Loc)
		f := "15:04 MST"
		if nm.At.Sub(*nm.Since) > 20*time.Hour {
			f = "Mon 15:04 MST"
		}
		return "abnormal", "abnormal since " + since.Format(f)
	case nm.Side == review.SideBad:
		return "unusual", "unusual"
	case nm.Side == review.SideGood:
		return "better", "better than usual"
	}
	return "normal", "normal"
}

// bandText is the band of the hour judged, formatted.
func bandText(n sliNow) string {
	b := n.Normal.Band
	if !b.Known() {
		return "not enough data"
	}
	return rangeText(*b.Low, *b.High, n.SLI.Unit)
}

// rangeText writes a band with its unit once: "120–180 req/s", "0.2–0.8 %".
func rangeText(lo, hi float64, unit string) string {
	l, h := formatValue(lo, unit), formatValue(hi, unit)
	if i := strings.IndexByte(h, ' '); i > 0 && strings.HasSuffix(l, h[i:]) {
		l = strings.TrimSuffix(l, h[i:])
	}
	return l + "–" + h
}

func valueText(n sliNow) string {
	if n.Normal.Value == nil {
		return "—"
	}
	return formatValue(*n.Normal.Value, n.SLI.Unit)
}
