package server

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// alertShow renders GET /alerts/{alertname}?week=: the rule's episodes over the four weeks ending
// with the week (default: the current week, so what fires now shows) as a timeline with the rule's
// own changes, an hour-of-week heatmap of its fires, labels and annotations, verdict history,
// runbook and action items.
func (s *Server) alertShow(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("alertname"))
	if err != nil || strings.TrimSpace(name) == "" {
		return badRequest("alertname: not a valid path segment")
	}
	name = string([]byte(name))
	team, err := s.teamParam(c)
	if err != nil {
		return err
	}
	loc := s.locationOf(team)
	w := review.WeekOf(s.now(), loc)
	if v := c.Query("week"); v != "" {
		if w, err = review.ParseWeek(v, loc); err != nil {
			return badRequest("week: " + err.Error())
		}
	}
	from, to := w.Previous().Previous().Previous().Start, w.End
	ctx := c.UserContext()
	var eps []review.Episode
	err = s.pages.limit(ctx, func(ctx context.Context) error { // the heavy read: one of the bounded builds
		var err error
		eps, err = s.st(ctx).Episodes(ctx, store.EpisodeFilter{Alertname: name, Team: team, From: from, To: to, Limit: 5000})
		return err
	})
	if err != nil {
		return err
	}
	versions, err := s.st(ctx).RuleVersions(ctx, name, from, to)
	if err != nil {
		return err
	}
	hist, err := s.st(ctx).VerdictHistory(ctx, name, "", 50)
	if err != nil {
		return err
	}
	items, err := s.st(ctx).ActionItems(ctx, store.ActionFilter{Alertname: name})
	if err != nil {
		return err
	}
	now := s.now()
	v := alertView{Now: now, Demo: s.cfg.Demo, Title: name, Alertname: name, Week: w.String(), From: from, To: to,
		Fires: len(eps), Labels: map[string]string{"alertname": name},
		Timeline:    buildTimeline(eps, versions, from, to, now.UTC(), time.Duration(s.cfg.Alerts.FlapThreshold), time.Duration(s.cfg.Alerts.RefireWindow)),
		Heatmap:     buildHeatmap(eps, loc),
		EpisodesURL: "/episodes?" + url.Values{"alertname": {name}, "from": {rfc3339(from)}, "to": {rfc3339(to)}}.Encode(),
		SilenceURL:  silenceURL(s.alertmanagerURL(ctx), name),
	}
	annotations := map[string]string{}
	if len(eps) > 0 {
		latest := eps[0] // newest first
		v.Labels, annotations, v.Generator = latest.Labels, latest.Annotations, safeURL(latest.GeneratorURL)
	}
	for _, l := range chips(annotations) {
		v.Annotations = append(v.Annotations, l)
	}
	rows := []noisyRow{{Runbook: s.runbookOf(annotations)}}
	s.fillRunbookStatuses(ctx, rows)
	v.Runbook = rows[0].Runbook
	v.RunbookLink = safeURL(v.Runbook.URL)
	for _, h := range hist {
		v.Verdicts = append(v.Verdicts, verdictHistoryRow{Week: h.Week, Verdict: h.Verdict, By: h.DecidedBy, At: h.DecidedAt, Version: h.Version})
	}
	today := s.today(loc)
	for _, a := range items {
		v.Actions = append(v.Actions, toActionJSON(a, today))
	}
	return s.render.Render(c, fiber.StatusOK, "alert", v)
}
