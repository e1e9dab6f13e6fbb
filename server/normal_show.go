package server

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
)

// normalShow renders /normal/{sli}?at=: the plain answer, then 24 hours and 7 days with the band
// behind and change markers.
func (s *Server) normalShow(c *fiber.Ctx) error {
	x, err := s.sliParam(c)
	if err != nil {
		return err
	}
	at, err := s.atParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	r, obj, err := s.judgeOne(ctx, x, at)
	if err != nil {
		return err
	}
	class, _ := statusOf(r)
	v := NormalShowView{
		Now: s.now(), Demo: s.cfg.Demo, Title: x.Name + " · normal", Name: x.Name, Service: x.Service, Team: x.Team,
		Unit: x.Unit, Direction: x.Direction, Query: x.Query, Zone: r.Loc.String(), Sentence: sentence(r), Status: class,
		Value: valueText(r), Band: bandText(r), CollectedTo: r.State.CollectedTo, LastError: r.State.LastError,
		At: at, Historic: c.Query("at") != "",
	}
	if b := r.Normal.Band; b.Known() {
		v.Median = formatValue(*b.Median, x.Unit)
	}
	changes, err := s.st(ctx).ChangesFor(ctx, x.Service, at.Add(-7*24*time.Hour), at)
	if err != nil {
		s.log.Warn("reading changes for SLI charts", "sli", x.Name, "err", err)
		v.ChangesNote = "Change markers are unavailable right now."
	}
	for i := len(changes) - 1; i >= 0 && len(v.Changes) < 20; i-- {
		ch := changes[i]
		v.Changes = append(v.Changes, ChangeRow{At: ch.At, Title: ch.Title(), URL: ch.URL})
	}
	dir := review.Direction(x.Direction)
	v.Day = buildChart(r.Series, at.Add(-24*time.Hour), at, changes, chartOpts{W: 960, H: 260, Tick: 3 * time.Hour,
		Unit: x.Unit, Loc: r.Loc, Dir: dir, Label: x.Name + " over the last 24 hours, with its usual band"})
	v.Week = buildChart(r.Series, at.Add(-7*24*time.Hour), at, changes, chartOpts{W: 960, H: 260, Tick: 24 * time.Hour,
		Unit: x.Unit, Loc: r.Loc, Dir: dir, Label: x.Name + " over the last 7 days, with its usual band"})
	v.DayNarrow = buildChart(r.Series, at.Add(-24*time.Hour), at, changes, chartOpts{W: 400, H: 220, Tick: 6 * time.Hour,
		Unit: x.Unit, Loc: r.Loc, Dir: dir, Label: v.Day.Label})
	v.WeekNarrow = buildChart(r.Series, at.Add(-7*24*time.Hour), at, changes, chartOpts{W: 400, H: 220, Tick: 24 * time.Hour,
		Unit: x.Unit, Loc: r.Loc, Dir: dir, Label: v.Week.Label, DayLabel: "Mon"})
	if obj != nil {
		ov := &ObjectiveView{Objective: formatValue(obj.Objective, x.Unit), WeekMet: "—", BudgetLeft: "—", BurnRate: "—"}
		if obj.WeekMet != nil {
			ov.WeekMet = fmt.Sprintf("%s %%", formatNum(*obj.WeekMet*100))
		}
		if obj.BudgetLeft != nil {
			ov.BudgetLeft = fmt.Sprintf("%s %%", formatNum(*obj.BudgetLeft*100))
			ov.BudgetLow = *obj.BudgetLeft < 0.25
		}
		if obj.BurnRate != nil {
			ov.BurnRate = "×" + formatNum(*obj.BurnRate)
			ov.Burning = *obj.BurnRate > 1
		}
		v.Objective = ov
	}
	return s.render.Render(c, fiber.StatusOK, "normal_show", v)
}
