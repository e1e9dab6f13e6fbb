package server

import (
	"slices"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
)

// normalList renders /normal?team=&service=: every SLI now against its band, abnormal first.
func (s *Server) normalList(c *fiber.Ctx) error {
	team, service := string([]byte(c.Query("team"))), string([]byte(c.Query("service")))
	if team != "" && s.cfg.TeamByName(team) == nil {
		return badRequest("team: no team named " + team)
	}
	v := NormalListView{Now: s.now(), Demo: s.cfg.Demo, Title: "Normal", Team: team, Service: service}
	var slis []config.SLI
	for _, x := range s.cfg.SLIs {
		if x.Team != "" && !slices.Contains(v.Teams, x.Team) {
			v.Teams = append(v.Teams, x.Team)
		}
		if x.Service != "" && !slices.Contains(v.Services, x.Service) {
			v.Services = append(v.Services, x.Service)
		}
		if (team == "" || x.Team == team) && (service == "" || x.Service == service) {
			slis = append(slis, x)
		}
	}
	sort.Strings(v.Teams)
	sort.Strings(v.Services)
	at := v.Now.UTC()
	rows, err := s.judgeSLIs(c.UserContext(), slis, at, 24*time.Hour)
	if err != nil {
		return err
	}
	for _, r := range rows {
		class, text := statusOf(r)
		if class == "abnormal" {
			v.Abnormal++
		}
		v.Rows = append(v.Rows, NormalRow{
			Name: r.SLI.Name, Service: r.SLI.Service, Team: r.SLI.Team, Value: valueText(r), Band: bandText(r),
			Status: class, StatusText: text, LastError: r.State.LastError,
			Spark: buildChart(r.Series, at.Add(-24*time.Hour), at, nil, chartOpts{
				W: 240, H: 40, Sparkline: true, Unit: r.SLI.Unit, Loc: r.Loc, Dir: review.Direction(r.SLI.Direction),
				Label: r.SLI.Name + " over the last 24 hours with its usual band",
			}),
		})
	}
	rank := map[string]int{"abnormal": 0, "unusual": 1, "no-data": 2, "better": 3, "normal": 4, "unknown": 5}
	sort.SliceStable(v.Rows, func(i, j int) bool { return rank[v.Rows[i].Status] < rank[v.Rows[j].Status] })
	return s.render.Render(c, fiber.StatusOK, "normal", v)
}
