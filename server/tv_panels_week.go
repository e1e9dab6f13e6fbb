package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/opsreview/opsreview/review"
)

// The TV panels that show what the weekly review discusses: this week's noisiest alert, toil
// against budget and runbooks needing care. Each reuses the code behind the review's section, so
// the TV and the meeting never disagree about a number.

// ---- noisiest alert this week ----

// TVNoisiest is the noisiest-alert panel: the alert rule with the highest noise score in the
// team's current week, with the parts of its score, and the next few behind it.
type TVNoisiest struct {
	Week   string
	Top    *noisyRow   // nil: nothing fired or paged this week
	Parts  []scorePart // Top's non-zero score parts
	Next   []noisyRow  // the runners-up, highest score first
	Others int         // further alerts that fired or paged, not shown
}

// tvNoisyNext is how many runners-up the noisiest panel names under the winner.
const tvNoisyNext = 2

// tvNoisiest loads the review's scored noisy rows (s.noisy) for the current week in the team's
// timezone and keeps the top one.
func (s *Server) tvNoisiest(ctx context.Context, q tvQuery) (any, error) {
	loc := s.locationOf(q.Team)
	week := review.WeekOf(q.Now, loc)
	sc := scope{From: week.Start, To: week.End, Team: q.Team, Loc: loc, Week: week}
	var teams []string // nil: every team's episodes and nobody's
	if q.Team != nil {
		teams = []string{*q.Team}
	}
	rows, err := s.noisy(ctx, sc, teams, []string{week.String()})
	if err != nil {
		return nil, err
	}
	v := TVNoisiest{Week: week.String()}
	var scored []noisyRow
	for _, r := range rows {
		if r.NoiseScore > 0 {
			scored = append(scored, r)
		}
	}
	if len(scored) == 0 {
		return v, nil
	}
	v.Top, v.Parts = &scored[0], scored[0].PartList()
	v.Next = scored[1:min(len(scored), 1+tvNoisyNext)]
	v.Others = len(scored) - 1 - len(v.Next)
	return v, nil
}

// ---- toil this week ----

// TVToil is the toil panel: this week's toil (pages at minutes_per_page plus logged entries)
// against the team's weekly budget.
type TVToil struct {
	Week      string
	Summary   review.ToilSummary
	Total     string // hours, for people: "12.5"
	Budget    string // hours: "20"
	Percent   int    // share of the budget, not capped
	BarPct    int    // the same, capped at 100 for the bar
	Business  int    // pages by hours class
	Evening   int
	Sleep     int
	Entries   int    // manual entries logged
	TopRepeat string // the alert rule that paged most often, when it is a repeat offender
	Repeats   int    // its pages
}

// tvToil builds the Toil page's section (s.toilSection) for the current week in the team's
// timezone and keeps what fits on a screen.
func (s *Server) tvToil(ctx context.Context, q tvQuery) (any, error) {
	week := review.WeekOf(q.Now, s.teamLocation(q.Team))
	sec, err := s.toilSection(ctx, week, q.Team, "")
	if err != nil {
		return nil, err
	}
	sum := sec.Summary
	v := TVToil{Week: week.String(), Summary: sum, Total: hoursText(sum.TotalHours), Budget: hoursText(sum.BudgetHours),
		Percent: int(sum.BudgetShare*100 + 0.5), BarPct: sec.BudgetPct, Entries: len(sec.Entries),
		Business: sum.PagesByHours.Business, Evening: sum.PagesByHours.Evening, Sleep: sum.PagesByHours.Sleep}
	if len(sum.RepeatOffenders) > 0 {
		v.TopRepeat, v.Repeats = sum.RepeatOffenders[0].Alertname, sum.RepeatOffenders[0].Pages
	}
	return v, nil
}

// hoursText writes hours with at most one decimal, without a trailing ".0": "12.5", "20".
func hoursText(h float64) string {
	return strconv.FormatFloat(float64(int64(h*10+0.5))/10, 'f', -1, 64)
}

// ---- runbooks ----

// TVRunbooks is the runbooks panel: how many runbooks are broken, missing, stale and ok (as the
// Runbooks page counts them), and the riskiest few that need care.
type TVRunbooks struct {
	Broken, Missing, Stale, OK int
	MaxAge                     string // "90 days"
	Riskiest                   []TVRunbook
}

// TVRunbook is one runbook needing care, as the TV names it.
type TVRunbook struct {
	Status string
	Name   string // the URL, or for a missing one "no runbook"
	Alerts []string
	Fires  int
}

// tvRunbookRows is how many of the riskiest runbooks the panel names.
const tvRunbookRows = 3

// tvRunbooks ranks the runbooks as the Runbooks page does (s.rankedRunbooks: store.Runbooks and
// review.RankRunbooks) and counts them by status.
func (s *Server) tvRunbooks(ctx context.Context, q tvQuery) (any, error) {
	now := q.Now.UTC()
	rs, err := s.rankedRunbooks(ctx, now, q.Team)
	if err != nil {
		return nil, err
	}
	v := TVRunbooks{MaxAge: days(time.Duration(s.cfg.Runbooks.MaxAge))}
	for _, r := range rs {
		switch r.Status {
		case review.RunbookBroken:
			v.Broken++
		case review.RunbookMissing:
			v.Missing++
		case review.RunbookStale:
			v.Stale++
		case review.RunbookOK:
			v.OK++
		}
		// Ranked by risk: those whose alerts fired recently come first.
		if r.Status != review.RunbookOK && r.Fires > 0 && len(v.Riskiest) < tvRunbookRows {
			rb := TVRunbook{Status: r.Status, Name: r.URL, Alerts: r.Alerts, Fires: r.Fires}
			if rb.Name == "" {
				rb.Name = "no runbook"
			}
			v.Riskiest = append(v.Riskiest, rb)
		}
	}
	return v, nil
}

// FiresText says how often a runbook's alerts fired in the risk window.
func (r TVRunbook) FiresText() string {
	if r.Fires == 1 {
		return "fired once in " + days(review.RiskWindow)
	}
	return fmt.Sprintf("fired %d times in %s", r.Fires, days(review.RiskWindow))
}

// Signed is the part's value with its sign, as the TV lists the parts of a score: "+12", "-5".
func (p scorePart) Signed() string {
	v := strconv.FormatFloat(p.Value, 'f', -1, 64)
	if p.Value > 0 {
		v = "+" + v
	}
	return v
}
