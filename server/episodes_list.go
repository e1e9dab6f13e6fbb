package server

import (
	"fmt"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// episodeJSON is an episode as the API shows it. Open episodes have "ends_at": null.
type episodeJSON struct {
	ID          int64             `json:"id"`
	Fingerprint string            `json:"fingerprint"`
	Alertname   string            `json:"alertname"`
	Team        string            `json:"team"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      *time.Time        `json:"ends_at"`
	EndKind     string            `json:"end_kind"`
	Backfilled  bool              `json:"backfilled"`
	Silenced    bool              `json:"silenced"`
	Roads       []string          `json:"roads"`
	Flags       []string          `json:"flags"`
}

func hex16(fp uint64) string { return fmt.Sprintf("%016x", fp) }

func toEpisodeJSON(e review.Episode) episodeJSON {
	team := e.Team
	if team == "" {
		team = "unassigned"
	}
	j := episodeJSON{
		ID: e.ID, Fingerprint: hex16(e.Fingerprint), Alertname: e.Alertname, Team: team,
		Labels: e.Labels, Annotations: e.Annotations, StartsAt: e.StartsAt, EndsAt: e.EndsAt,
		EndKind: e.EndKind.String(), Backfilled: e.Backfilled(), Silenced: e.Silenced,
		Roads: []string{}, Flags: e.Flags,
	}
	if j.Flags == nil {
		j.Flags = []string{}
	}
	for road, ok := range map[review.Road]bool{review.RoadWebhook: e.ViaWebhook, review.RoadAlertmanager: e.ViaAlertmanager, review.RoadPrometheus: e.ViaPrometheus} {
		if ok {
			j.Roads = append(j.Roads, string(road))
		}
	}
	sort.Strings(j.Roads)
	return j
}

// loadEpisodes reads the episode filter shared by the page and the API. Without from= and to=, the
// page shows the last week and the API every episode (newest first, up to limit).
func (s *Server) loadEpisodes(c *fiber.Ctx, allTime bool) ([]review.Episode, store.EpisodeFilter, error) {
	from, to, err := s.window(c, 7*24*time.Hour)
	if err != nil {
		return nil, store.EpisodeFilter{}, err
	}
	if allTime && c.Query("from") == "" {
		from = time.Unix(0, 0).UTC()
	}
	if allTime && c.Query("to") == "" {
		to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	team, err := s.teamParam(c)
	if err != nil {
		return nil, store.EpisodeFilter{}, err
	}
	limit, err := s.limitParam(c, 1000, 10000)
	if err != nil {
		return nil, store.EpisodeFilter{}, err
	}
	f := store.EpisodeFilter{Alertname: string([]byte(c.Query("alertname"))), Team: team, From: from, To: to, Limit: limit}
	eps, err := s.st(c.UserContext()).Episodes(c.UserContext(), f)
	return eps, f, err
}

// episodesAPI answers GET /api/v1/episodes: episodes that start in [from, to), newest first.
func (s *Server) episodesAPI(c *fiber.Ctx) error {
	eps, _, err := s.loadEpisodes(c, true)
	if err != nil {
		return err
	}
	items := make([]episodeJSON, len(eps))
	for i, e := range eps {
		items[i] = toEpisodeJSON(e)
	}
	return c.JSON(fiber.Map{"items": items})
}
