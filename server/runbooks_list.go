package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// runbookJSON is a runbook as GET /api/v1/runbooks shows it. A missing runbook has "url": ""
// and the alert that has none in "alerts".
type runbookJSON struct {
	URL          string     `json:"url"`
	Status       string     `json:"status"`
	LastChanged  *time.Time `json:"last_changed"`
	LastReviewed *time.Time `json:"last_reviewed"`
	ReviewedBy   string     `json:"reviewed_by"`
	Alerts       []string   `json:"alerts"`
	Risk         float64    `json:"risk"`
	Fires        int        `json:"fires"`
	Staleness    float64    `json:"staleness"`
	FirstSeen    time.Time  `json:"first_seen"`
	CheckedAt    *time.Time `json:"checked_at"`
	StatusCode   int        `json:"status_code"`
	CheckError   string     `json:"check_error"`
}

func toRunbookJSON(r review.RankedRunbook) runbookJSON {
	j := runbookJSON{URL: r.URL, Status: r.Status, LastChanged: r.LastModified, LastReviewed: r.LastReviewed,
		ReviewedBy: r.ReviewedBy, Alerts: r.Alerts, Risk: r.Risk, Fires: r.Fires, Staleness: round2(r.Staleness),
		FirstSeen: r.FirstSeen, CheckedAt: r.CheckedAt, StatusCode: r.StatusCode, CheckError: r.CheckError}
	if j.Alerts == nil {
		j.Alerts = []string{}
	}
	return j
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// runbookQuery is the store query of runbooks over the risk window ending now.
func (s *Server) runbookQuery(now time.Time, team *string) store.RunbookQuery {
	return store.RunbookQuery{Annotations: s.cfg.Runbooks.Annotations, Ignore: s.cfg.Alerts.Ignore,
		From: now.Add(-review.RiskWindow), To: now, Team: team}
}

// rankedRunbooks loads every runbook with its status and risk, highest risk first.
func (s *Server) rankedRunbooks(ctx context.Context, now time.Time, team *string) ([]review.RankedRunbook, error) {
	rs, err := s.st(ctx).Runbooks(ctx, s.runbookQuery(now, team))
	if err != nil {
		return nil, err
	}
	return review.RankRunbooks(rs, now, time.Duration(s.cfg.Runbooks.MaxAge)), nil
}

// runbooksAPI answers GET /api/v1/runbooks: every runbook, ranked by risk (fires of its alerts in
// the last 28 days, of team= when given, times staleness).
func (s *Server) runbooksAPI(c *fiber.Ctx) error {
	team, err := s.teamParam(c)
	if err != nil {
		return err
	}
	rs, err := s.rankedRunbooks(c.UserContext(), s.now().UTC(), team)
	if err != nil {
		return err
	}
	items := make([]runbookJSON, len(rs))
	for i, r := range rs {
		items[i] = toRunbookJSON(r)
	}
	return c.JSON(fiber.Map{"items": items})
}

// runbooksShow renders the Runbooks page.
func (s *Server) runbooksShow(c *fiber.Ctx) error {
	team, err := s.teamParam(c)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	rs, err := s.rankedRunbooks(c.UserContext(), now, team)
	if err != nil {
		return err
	}
	maxAge := time.Duration(s.cfg.Runbooks.MaxAge)
	v := RunbooksView{Now: now, Demo: s.cfg.Demo, Title: "Runbooks", MaxAge: maxAge, Window: review.RiskWindow,
		WindowText: days(review.RiskWindow), MaxAgeText: days(maxAge),
		Counts: map[string]int{review.RunbookBroken: 0, review.RunbookMissing: 0, review.RunbookStale: 0, review.RunbookOK: 0}}
	csrf := s.csrfToken(c)
	for _, r := range rs {
		v.Items = append(v.Items, runbookRow(r, now, maxAge, csrf, "runbooks"))
		v.Counts[r.Status]++
	}
	for _, st := range []string{review.RunbookBroken, review.RunbookMissing, review.RunbookStale, review.RunbookOK} {
		v.Statuses = append(v.Statuses, StatusCount{st, v.Counts[st]})
	}
	return s.render.Render(c, fiber.StatusOK, "runbooks", v)
}

// runbooksSection builds the runbooks section of the weekly review for the week [from, to) and a
// team (nil: every team): alerts that fired with no runbook, a broken or a stale one, by risk.
func (s *Server) runbooksSection(ctx context.Context, week review.Week, team *string, csrf string) (RunbooksSectionView, error) {
	now := s.now().UTC()
	q := store.RunbookQuery{Annotations: s.cfg.Runbooks.Annotations, Ignore: s.cfg.Alerts.Ignore,
		From: week.Start, To: week.End, Team: team}
	rows, err := s.st(ctx).RunbookAgendaRows(ctx, q)
	if err != nil {
		return RunbooksSectionView{}, err
	}
	maxAge := time.Duration(s.cfg.Runbooks.MaxAge)
	v := RunbooksSectionView{Now: now, Week: week.String(), MaxAge: maxAge}
	if team != nil {
		v.Team = *team
	}
	for _, r := range review.RunbookAgenda(rows, now, maxAge) {
		v.Items = append(v.Items, runbookRow(r, now, maxAge, csrf, "review"))
	}
	return v, nil
}
