package server

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
)

// NormalSectionView is the weekly review's "Know your normal" section (templates/partials/
// normal_section.html, template "normalSection").
type NormalSectionView struct {
	Week         string
	MostAbnormal []NormalAbnormalRow // time spent abnormal this week, most first
	Moved        []NormalMovedRow    // normal has moved: median shift against four weeks earlier, largest first
	NoData       []NormalNoDataRow   // hours of the week without data, most first
}

// NormalAbnormalRow is an SLI's time abnormal in the week.
type NormalAbnormalRow struct {
	Name, Service string
	Abnormal      time.Duration
	Runs          int
}

// NormalMovedRow is an SLI whose normal moved.
type NormalMovedRow struct {
	Name, Service string
	Shift         float64 // relative change of the median, 0.12 is +12 %
	ShiftText     string
	Hours         int // hours of the week compared
}

// NormalNoDataRow is an SLI with hours of the week without data.
type NormalNoDataRow struct {
	Name, Service string
	Hours         int
}

// minShift is the smallest median shift the section calls "normal has moved".
const minShift = 0.05

// NormalReview builds the "Know your normal" section for a week and team (nil: every SLI; "":
// SLIs without a team). Only the part of the week before now counts.
func (s *Server) NormalReview(ctx context.Context, week review.Week, team *string) (NormalSectionView, error) {
	v := NormalSectionView{Week: week.String()}
	var slis []config.SLI
	for _, x := range s.cfg.SLIs {
		if team == nil || x.Team == *team {
			slis = append(slis, x)
		}
	}
	if len(slis) == 0 {
		return v, nil
	}
	names := make([]string, len(slis))
	for i, x := range slis {
		names[i] = x.Name
	}
	end := week.End
	if now := s.now(); now.Before(end) {
		end = now
	}
	cur, err := s.st(ctx).SLISeries(ctx, names, week.Start, end)
	if err != nil {
		return v, err
	}
	back := 4 * 7 * 24 * time.Hour
	old, err := s.st(ctx).SLIBands(ctx, names, week.Start.Add(-back), end.Add(-back)) // only the medians are compared
	if err != nil {
		return v, err
	}
	for _, x := range slis {
		loc := s.cfg.SLILocation(x)
		ser := cur[x.Name]
		if ser == nil {
			if h := review.HoursWithoutData(nil, week.Start, end, loc); h > 0 {
				v.NoData = append(v.NoData, NormalNoDataRow{Name: x.Name, Service: x.Service, Hours: h})
			}
			continue
		}
		runs := review.AbnormalRuns(ser.Points, review.Direction(x.Direction), s.cfg.Baseline.AbnormalAfter)
		if len(runs) > 0 {
			row := NormalAbnormalRow{Name: x.Name, Service: x.Service, Runs: len(runs)}
			for _, r := range runs {
				row.Abnormal += time.Duration(r.Samples) * x.Step.D()
			}
			v.MostAbnormal = append(v.MostAbnormal, row)
		}
		if h := review.HoursWithoutData(ser.Points, week.Start, end, loc); h > 0 {
			v.NoData = append(v.NoData, NormalNoDataRow{Name: x.Name, Service: x.Service, Hours: h})
		}
		if o := old[x.Name]; o != nil {
			if shift, hours, ok := review.MedianShift(ser.Bands, o.Bands); ok && math.Abs(shift) >= minShift {
				v.Moved = append(v.Moved, NormalMovedRow{Name: x.Name, Service: x.Service, Shift: shift,
					ShiftText: signed(shift*100) + " %", Hours: hours})
			}
		}
	}
	sort.SliceStable(v.MostAbnormal, func(i, j int) bool { return v.MostAbnormal[i].Abnormal > v.MostAbnormal[j].Abnormal })
	sort.SliceStable(v.Moved, func(i, j int) bool { return math.Abs(v.Moved[i].Shift) > math.Abs(v.Moved[j].Shift) })
	sort.SliceStable(v.NoData, func(i, j int) bool { return v.NoData[i].Hours > v.NoData[j].Hours })
	return v, nil
}

func signed(v float64) string {
	if v > 0 {
		return "+" + formatNum(v)
	}
	return formatNum(v)
}
