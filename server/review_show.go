package server

import (
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// reviewShow renders the weekly review page (GET /review?week=&team=): the agenda of one week.
func (s *Server) reviewShow(c *fiber.Ctx) error {
	sc, err := s.weekScope(c)
	if err != nil {
		return err
	}
	rv, err := s.buildReview(c.UserContext(), sc)
	if err != nil {
		return err
	}
	q := url.Values{"week": {rv.Week}}
	if rv.Team != "" {
		q.Set("team", rv.Team)
	}
	title := "Weekly review " + rv.Week
	if rv.Team != "" {
		title += " · " + rv.Team
	}
	v := reviewView{Now: s.now(), Demo: s.cfg.Demo, Title: title, R: rv, CSRF: s.csrfToken(c), Normal: rv.normalView,
		DueDef:      s.today(sc.Loc).AddDate(0, 0, 7).Format("2006-01-02"),
		PrevURL:     reviewURL(rv.Previous, rv.Team),
		NextURL:     reviewURL(rv.Next, rv.Team),
		MarkdownURL: "/review.md?" + q.Encode(),
		APIURL:      "/api/v1/review?" + q.Encode(),
	}
	for _, t := range s.cfg.Teams {
		v.Teams = append(v.Teams, t.Name)
	}
	if v.Toil, err = s.toilSection(c.UserContext(), sc.Week, sc.Team, v.CSRF); err != nil {
		return err
	}
	if v.Runbooks, err = s.runbooksSection(c.UserContext(), sc.Week, sc.Team, v.CSRF); err != nil {
		return err
	}
	return s.render.Render(c, fiber.StatusOK, "review", v)
}
