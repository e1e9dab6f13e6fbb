package server

import (
	"github.com/gofiber/fiber/v2"
)

// alertsList renders GET /alerts?week=&team=: every alert rule that fired or paged in the week,
// with its counts, noisiest first.
func (s *Server) alertsList(c *fiber.Ctx) error {
	sc, err := s.weekScope(c)
	if err != nil {
		return err
	}
	var teams []string
	if sc.Team != nil {
		teams = []string{*sc.Team}
	}
	rows, err := s.noisy(c.UserContext(), sc, teams, []string{sc.Week.String()})
	if err != nil {
		return err
	}
	v := alertsView{Now: s.now(), Demo: s.cfg.Demo, Title: "Alert rules " + sc.Week.String(), Week: sc.Week.String(),
		Team: sc.teamName(), Rows: rows,
		PrevURL: "/alerts?" + weekQuery(sc.Week.Previous().String(), sc.teamName()),
		NextURL: "/alerts?" + weekQuery(sc.Week.Next().String(), sc.teamName())}
	return s.render.Render(c, fiber.StatusOK, "alerts", v)
}

func weekQuery(week, team string) string {
	q := "week=" + week
	if team != "" {
		q += "&team=" + team
	}
	return q
}
