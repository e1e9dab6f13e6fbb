package server

import (
	"github.com/gofiber/fiber/v2"
)

// episodesShow renders the recent episodes page (GET /episodes), the same rows as /api/v1/episodes.
func (s *Server) episodesShow(c *fiber.Ctx) error {
	eps, _, err := s.loadEpisodes(c, false)
	if err != nil {
		return err
	}
	now := s.now()
	v := EpisodesView{Now: now, Demo: s.cfg.Demo, Title: "Recent episodes", Episodes: make([]EpisodeRow, len(eps))}
	for i, e := range eps {
		v.Episodes[i] = EpisodeRow{
			ID: e.ID, Alertname: e.Alertname, Team: e.Team, Labels: e.Labels, StartsAt: e.StartsAt,
			EndsAt: e.EndsAt, Duration: e.Duration(now), ViaWebhook: e.ViaWebhook,
			ViaAlertmanager: e.ViaAlertmanager, ViaPrometheus: e.ViaPrometheus, Backfilled: e.Backfilled(),
			Silenced: e.Silenced, Flags: e.Flags, GeneratorURL: e.GeneratorURL,
		}
	}
	return s.render.Render(c, fiber.StatusOK, "episodes", v)
}
