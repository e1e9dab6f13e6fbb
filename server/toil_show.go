package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// teamLocation is the timezone of a team filter: the team's, or UTC for every team and for
// unassigned alerts.
func (s *Server) teamLocation(team *string) *time.Location {
	if team != nil {
		if t := s.cfg.TeamByName(*team); t != nil && t.Location != nil {
			return t.Location
		}
	}
	return time.UTC
}

// weekParam reads week= (2026-W47) in loc; without it, the week that contains now.
func (s *Server) weekParam(c *fiber.Ctx, loc *time.Location) (review.Week, error) {
	v := c.Query("week")
	if v == "" {
		return review.WeekOf(s.now(), loc), nil
	}
	w, err := review.ParseWeek(v, loc)
	if err != nil {
		return review.Week{}, badRequest("week: want an ISO week like 2026-W47")
	}
	return w, nil
}

// toilBudget is the team's weekly toil budget; for every team, the sum of the teams' budgets
// (the default budget when no team is configured).
func (s *Server) toilBudget(team *string) time.Duration {
	if team != nil {
		return time.Duration(s.cfg.HoursTeam(*team).ToilBudget)
	}
	var sum time.Duration
	for _, t := range s.cfg.Teams {
		sum += time.Duration(t.ToilBudget)
	}
	if sum == 0 {
		sum = time.Duration(s.cfg.HoursTeam("").ToilBudget)
	}
	return sum
}

// toilSection builds the toil section for a week and a team (nil: every team): pages classified
// by hours in their owning team's timezone, the manual entries and the summary against the budget.
func (s *Server) toilSection(ctx context.Context, week review.Week, team *string, csrf string) (ToilSectionView, error) {
	pages, err := s.st(ctx).ToilPages(ctx, store.PageQuery{From: week.Start, To: week.End, Team: team,
		Receivers: s.cfg.PagingReceivers, Ignore: s.cfg.Alerts.Ignore})
	if err != nil {
		return ToilSectionView{}, err
	}
	entries, err := s.st(ctx).ToilEntries(ctx, week.Start, week.End, team)
	if err != nil {
		return ToilSectionView{}, err
	}
	return s.toilSectionOf(week, team, csrf, pages, entries), nil
}

// toilSectionOf is the toil section of a week's pages (one per notification, ToilPages) and manual
// entries: it prices and classifies the pages in place.
func (s *Server) toilSectionOf(week review.Week, team *string, csrf string, pages []review.ToilPage, entries []review.ToilEntry) ToilSectionView {
	hoursTeam := s.cfg.HoursTeams()
	alerts := map[string]bool{}
	for i := range pages {
		t := hoursTeam(pages[i].Team)
		pages[i].Hours = t.HoursClass(pages[i].At)
		pages[i].Minutes = t.MinutesPerPage
		for _, r := range pages[i].Rules {
			alerts[r] = true
		}
	}
	loc := s.teamLocation(team)
	sum := review.SummarizeToil(pages, entries, s.toilBudget(team), loc)
	v := ToilSectionView{Now: s.now().UTC(), CSRF: csrf, Week: week.String(), TimeZone: loc.String(),
		Summary: sum, Entries: entries, Pages: pages, Categories: toilCategories, FormKey: formKey()}
	if team != nil {
		v.Team = *team
		if v.Team == "" {
			v.Team = config.Unassigned
		}
	}
	for a := range alerts {
		v.Alerts = append(v.Alerts, a)
	}
	sort.Strings(v.Alerts)
	v.BudgetPct = min(int(sum.BudgetShare*100+0.5), 100)
	v.Grid = toilGrid(week, pages, loc)
	return v
}

// toilGrid counts pages per day and local clock hour of the week.
func toilGrid(week review.Week, pages []review.ToilPage, loc *time.Location) []ToilDay {
	days := make([]ToilDay, 7)
	for i := range days {
		days[i].Label = week.Start.In(loc).AddDate(0, 0, i).Format("Mon 02")
	}
	seen := map[int64]bool{}
	for _, p := range pages {
		if seen[p.NotificationID] {
			continue
		}
		seen[p.NotificationID] = true
		local := p.At.In(loc)
		d := -1
		// Count by calendar day, not by 24-hour step, so DST weeks stay aligned.
		for i := range 7 {
			y, m, dd := week.Start.In(loc).AddDate(0, 0, i).Date()
			if ly, lm, ld := local.Date(); ly == y && lm == m && ld == dd {
				d = i
				break
			}
		}
		if d >= 0 && d < 7 {
			days[d].Hours[local.Hour()]++
		}
	}
	return days
}

// formKey is a random one-time key embedded in a form, so a double submission stores one row.
func formKey() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ""
	}
	return hex.EncodeToString(b[:])
}

// toilParams reads team= and week= for the Toil page and API.
func (s *Server) toilParams(c *fiber.Ctx) (review.Week, *string, error) {
	team, err := s.teamParam(c)
	if err != nil {
		return review.Week{}, nil, err
	}
	week, err := s.weekParam(c, s.teamLocation(team))
	return week, team, err
}

// toilShow renders the Toil page for a week (default: this week) and a team (default: every team).
func (s *Server) toilShow(c *fiber.Ctx) error {
	week, team, err := s.toilParams(c)
	if err != nil {
		return err
	}
	sec, err := s.toilSection(c.UserContext(), week, team, s.csrfToken(c))
	if err != nil {
		return err
	}
	return s.render.Render(c, fiber.StatusOK, "toil", s.toilView(week, sec))
}

func (s *Server) toilView(week review.Week, sec ToilSectionView) ToilView {
	now := s.now()
	v := ToilView{Now: now.UTC(), Demo: s.cfg.Demo, Title: "Toil " + week.String(), Week: week.String(),
		Prev: week.Previous().String(), Team: sec.Team, TimeZone: sec.TimeZone, WeekStart: week.Start,
		WeekEnd: week.End, Section: sec,
		WeekLabel: week.Start.Format("Mon 02 Jan") + " – " + week.End.AddDate(0, 0, -1).Format("Mon 02 Jan 2006")}
	if !week.End.After(now) {
		v.Next = week.Next().String()
	}
	for _, t := range s.cfg.Teams {
		v.Teams = append(v.Teams, t.Name)
	}
	return v
}

// toilAPI answers GET /api/v1/toil?week=&team=: the week's manual entries as items, and the
// counted toil as summary.
func (s *Server) toilAPI(c *fiber.Ctx) error {
	week, team, err := s.toilParams(c)
	if err != nil {
		return err
	}
	sec, err := s.toilSection(c.UserContext(), week, team, "")
	if err != nil {
		return err
	}
	items := sec.Entries
	if items == nil {
		items = []review.ToilEntry{}
	}
	return c.JSON(fiber.Map{
		"week": week.String(), "team": sec.Team, "from": week.Start.UTC(), "to": week.End.UTC(),
		"timezone": sec.TimeZone, "items": items, "summary": sec.Summary,
	})
}
