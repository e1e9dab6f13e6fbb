package server

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
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
	complete := true // a window ending after now is computed live, never stored
	if now := s.now(); now.Before(end) {
		end, complete = now, false
	}
	params := make([]string, len(slis))
	for i, x := range slis {
		params[i] = normalParams(x, s.cfg.Baseline.AbnormalAfter, s.cfg.SLILocation(x))
	}
	figs := map[string]store.NormalWeek{}
	if complete {
		var err error
		if figs, err = s.st(ctx).NormalWeeks(ctx, names, params, week.Start, end); err != nil {
			return v, err
		}
	}
	var missing []string
	for _, x := range slis {
		if _, ok := figs[x.Name]; !ok {
			missing = append(missing, x.Name)
		}
	}
	if len(missing) > 0 {
		cur, old, state, err := s.st(ctx).NormalInputs(ctx, missing, week.Start, end, normalBack)
		if err != nil {
			return v, err
		}
		var save []store.NormalWeekRow
		for i, x := range slis {
			if _, ok := figs[x.Name]; ok {
				continue
			}
			f := normalFigures(x, cur[x.Name], old[x.Name], week.Start, end, s.cfg.Baseline.AbnormalAfter, s.cfg.SLILocation(x))
			figs[x.Name] = f
			if st, ok := state[x.Name]; ok && complete {
				save = append(save, store.NormalWeekRow{NormalState: st, Params: params[i], NormalWeek: f})
			}
		}
		if len(save) > 0 {
			// Best effort: the section is right without the stored figures, only slower next time.
			if _, err := s.store.Primary().SaveNormalWeeks(ctx, week.Start, end, save); err != nil {
				s.log.WarnContext(ctx, "storing the weekly normal figures", "err", err)
			}
		}
	}
	for _, x := range slis {
		f := figs[x.Name]
		if f.Runs > 0 {
			v.MostAbnormal = append(v.MostAbnormal, NormalAbnormalRow{Name: x.Name, Service: x.Service, Runs: f.Runs,
				Abnormal: time.Duration(f.AbnormalSamples) * x.Step.D()})
		}
		if f.NoDataHours > 0 {
			v.NoData = append(v.NoData, NormalNoDataRow{Name: x.Name, Service: x.Service, Hours: f.NoDataHours})
		}
		if f.Shift != nil && math.Abs(*f.Shift) >= minShift {
			v.Moved = append(v.Moved, NormalMovedRow{Name: x.Name, Service: x.Service, Shift: *f.Shift,
				ShiftText: signed(*f.Shift*100) + " %", Hours: f.ShiftHours})
		}
	}
	sort.SliceStable(v.MostAbnormal, func(i, j int) bool { return v.MostAbnormal[i].Abnormal > v.MostAbnormal[j].Abnormal })
	sort.SliceStable(v.Moved, func(i, j int) bool { return math.Abs(v.Moved[i].Shift) > math.Abs(v.Moved[j].Shift) })
	sort.SliceStable(v.NoData, func(i, j int) bool { return v.NoData[i].Hours > v.NoData[j].Hours })
	return v, nil
}

// normalBack is how far back the "normal has moved" comparison looks.
const normalBack = 4 * 7 * 24 * time.Hour

// normalParams is the key of everything besides the data that an SLI's weekly figures depend on:
// stored figures under another key are not used.
func normalParams(x config.SLI, abnormalAfter int, loc *time.Location) string {
	return fmt.Sprintf("direction=%s abnormal_after=%d tz=%s", x.Direction, abnormalAfter, loc.String())
}

// normalFigures computes an SLI's figures over [from, to) from its series (nil: no rows) and the
// bands of four weeks earlier (old, nil: none).
func normalFigures(x config.SLI, ser, old *store.SLISeries, from, to time.Time, abnormalAfter int, loc *time.Location) store.NormalWeek {
	if ser == nil {
		return store.NormalWeek{NoDataHours: review.HoursWithoutData(nil, from, to, loc)}
	}
	var f store.NormalWeek
	for _, r := range review.AbnormalRuns(ser.Points, review.Direction(x.Direction), abnormalAfter) {
		f.Runs++
		f.AbnormalSamples += r.Samples
	}
	f.NoDataHours = review.HoursWithoutData(ser.Points, from, to, loc)
	if old != nil {
		if shift, hours, ok := review.MedianShift(ser.Bands, old.Bands); ok {
			f.Shift, f.ShiftHours = &shift, hours
		}
	}
	return f
}

func signed(v float64) string {
	if v > 0 {
		return "+" + formatNum(v)
	}
	return formatNum(v)
}
