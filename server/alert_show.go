package server

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// The rule's timeline draws its newest episodes; the rest are one link away (episodes=all on the
// same URL), and every one is in the episodes list. The noisiest rules start tens of thousands of
// episodes in four weeks: drawing them all is megabytes of overlapping bars nobody can tell apart,
// and it cost seconds under load. The count and the heatmap are computed from every episode.
const (
	alertTimelineLatest = 500  // episodes drawn by default
	alertTimelineMax    = 5000 // drawn with episodes=all
)

// alertShow renders GET /alerts/{alertname}?week=&team=&episodes=: the rule's episodes over the four
// weeks ending with the week (default: the current week, so what fires now shows) as a timeline
// with the rule's own changes, an hour-of-week heatmap of its fires, labels and annotations,
// verdict history, runbook and action items. The page is rendered once per data version for
// everyone (a sharedPage, in the page cache) and streamed to each viewer with their CSRF token.
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
	all := false
	switch v := c.Query("episodes"); v {
	case "", "latest":
	case "all":
		all = true
	default:
		return badRequest(`episodes: want "all" or "latest", got ` + strconv.Quote(v))
	}
	sc := scope{Team: team, Loc: loc, Week: w}
	fragment := isFragment(c)
	query := name + "\x00"
	if all {
		query += "all"
	}
	if fragment {
		query += " fragment"
	}
	ctx := c.UserContext()
	p, err := s.pages.get(ctx, s.st(ctx), s.pageKey(ctx, "alert-html", sc, query), func(ctx context.Context) (any, error) {
		return s.renderAlert(ctx, name, sc, all, fragment)
	})
	if err != nil {
		return err
	}
	return s.sendShared(c, fiber.StatusOK, p.(*sharedPage))
}

// renderAlert reads and renders a rule's page for every viewer (markers stand for the CSRF token).
func (s *Server) renderAlert(ctx context.Context, name string, sc scope, all, fragment bool) (*sharedPage, error) {
	w, team, loc := sc.Week, sc.Team, sc.Loc
	from, to := w.Previous().Previous().Previous().Start, w.End
	drawn := alertTimelineLatest
	if all {
		drawn = alertTimelineMax
	}
	flapThreshold, refire := time.Duration(s.cfg.Alerts.FlapThreshold), time.Duration(s.cfg.Alerts.RefireWindow)
	fires, err := s.st(ctx).RuleFires(ctx, store.RuleFiresFilter{Alertname: name, Team: team, From: from, To: to, Latest: drawn,
		FlapThreshold: flapThreshold, RefireWindow: refire})
	if err != nil {
		return nil, err
	}
	versions, err := s.st(ctx).RuleVersions(ctx, name, from, to)
	if err != nil {
		return nil, err
	}
	hist, err := s.st(ctx).VerdictHistory(ctx, name, "", 50)
	if err != nil {
		return nil, err
	}
	items, err := s.st(ctx).ActionItems(ctx, store.ActionFilter{Alertname: name})
	if err != nil {
		return nil, err
	}
	now := s.now()
	v := alertView{Now: now, Demo: s.cfg.Demo, Title: name, Alertname: name, Week: w.String(), From: from, To: to,
		Fires: fires.Total, Labels: map[string]string{"alertname": name},
		Timeline:    buildTimeline(fires.Latest, versions, from, to, now.UTC()),
		Heatmap:     buildHeatmap(fires.Quarters, loc),
		EpisodesURL: "/episodes?" + url.Values{"alertname": {name}, "from": {rfc3339(from)}, "to": {rfc3339(to)}}.Encode(),
		SilenceURL:  silenceURL(s.alertmanagerURL(ctx), name),
		All:         all, MaxDrawn: alertTimelineMax, Latest: alertTimelineLatest,
	}
	v.Drawn = len(fires.Latest)
	if v.Drawn < fires.Total {
		v.Cut, v.DrawnSince = true, fires.Latest[len(fires.Latest)-1].StartsAt
	}
	q := url.Values{"week": {w.String()}}
	if team != nil {
		q.Set("team", sc.teamName())
	}
	v.LatestURL = "/alerts/" + url.PathEscape(name) + "?" + q.Encode()
	q.Set("episodes", "all")
	v.AllURL = "/alerts/" + url.PathEscape(name) + "?" + q.Encode()
	annotations := map[string]string{}
	if latest := fires.Newest; latest != nil {
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
	return s.render.renderShared("alert", fragment, v)
}
