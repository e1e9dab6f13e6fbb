package server

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// scope is what one review or count is about: a window, the team (nil: every team; "": alerts
// nobody owns) and that team's timezone.
type scope struct {
	From, To time.Time
	Team     *string
	Loc      *time.Location
	Week     review.Week // set for weekly reviews
}

// teamName is the team as the API shows it: "" for every team, "unassigned" for nobody's.
func (sc scope) teamName() string {
	switch {
	case sc.Team == nil:
		return ""
	case *sc.Team == "":
		return config.Unassigned
	}
	return *sc.Team
}

// teamQuery is the team= parameter that selects the same team again ("" for every team).
func (sc scope) teamQuery() string { return sc.teamName() }

// locationOf is the timezone of a team parameter: the team's, or UTC for every team and unassigned.
func (s *Server) locationOf(team *string) *time.Location {
	if team != nil {
		if t := s.cfg.TeamByName(*team); t != nil && t.Location != nil {
			return t.Location
		}
	}
	return time.UTC
}

// weekScope reads week= and team=: the ISO week in the team's timezone, by default the last full one.
func (s *Server) weekScope(c *fiber.Ctx) (scope, error) {
	team, err := s.teamParam(c)
	if err != nil {
		return scope{}, err
	}
	loc := s.locationOf(team)
	w := review.LastFullWeek(s.now(), loc)
	if v := c.Query("week"); v != "" {
		if w, err = review.ParseWeek(v, loc); err != nil {
			return scope{}, badRequest("week: " + err.Error())
		}
	}
	return scope{From: w.Start, To: w.End, Team: team, Loc: loc, Week: w}, nil
}

// countFilter is the store filter of a scope; teams lists the teams whose episodes count.
func (s *Server) countFilter(sc scope, teams []string) store.CountFilter {
	return store.CountFilter{
		From: sc.From, To: sc.To, Now: s.now().UTC(), Teams: teams, Ignore: s.cfg.Alerts.Ignore,
		FlapThreshold: time.Duration(s.cfg.Alerts.FlapThreshold), RefireWindow: time.Duration(s.cfg.Alerts.RefireWindow),
		PagingReceivers: s.cfg.PagingReceivers,
	}
}

// runbookRef is a rule's runbook and its status (ok, stale, missing, broken, or unknown until checked).
type runbookRef struct {
	URL    string `json:"url"`
	Status string `json:"status"`
}

// noisyRow is one alert rule's line of the noisy-alerts list, in the API and on the page.
type noisyRow struct {
	Alertname      string              `json:"alertname"`
	Team           string              `json:"team"`
	Fires          int                 `json:"fires"`
	Flaps          int                 `json:"flaps"`
	FiringSeconds  float64             `json:"firing_seconds"`
	Pages          int                 `json:"pages"`
	PagesByHours   review.PagesByHours `json:"pages_by_hours"`
	SilencedShare  float64             `json:"silenced_share"`
	Verdict        string              `json:"verdict"`
	VerdictBy      string              `json:"verdict_by"`
	VerdictAt      *time.Time          `json:"verdict_at"`
	VerdictVersion int                 `json:"verdict_version"`
	NoiseScore     float64             `json:"noise_score"`
	NoiseParts     map[string]float64  `json:"noise_parts"`
	Runbook        runbookRef          `json:"runbook"`
	Trend          *review.Trend       `json:"trend,omitempty"`
	GeneratorURL   string              `json:"generator_url"`
	SilenceURL     string              `json:"silence_url"`
	EpisodesURL    string              `json:"episodes_url"`
	RuleURL        string              `json:"rule_url"`
}

// FiringTime is FiringSeconds as a duration, for people.
func (r noisyRow) FiringTime() time.Duration {
	return time.Duration(r.FiringSeconds * float64(time.Second))
}

// SilencedPercent is the silenced share as a whole percentage.
func (r noisyRow) SilencedPercent() int { return int(r.SilencedShare*100 + 0.5) }

// PartList is the noise parts in a fixed order, zero parts left out, for people.
func (r noisyRow) PartList() []scorePart {
	var out []scorePart
	for _, name := range []string{review.PartFires, review.PartFlaps, review.PartBusinessPages, review.PartEveningPages, review.PartSleepPages, review.PartVerdict} {
		if v := r.NoiseParts[name]; v != 0 {
			out = append(out, scorePart{name, v})
		}
	}
	return out
}

// scorePart is one named part of a noise score.
type scorePart struct {
	Name  string
	Value float64
}

// Label is the part's name for people: "sleep pages" for sleep_pages.
func (p scorePart) Label() string { return strings.ReplaceAll(p.Name, "_", " ") }

// noisyRows joins per-rule counts, pages (by the hours class of their team) and verdicts
// into scored rows, highest noise score first.
func (s *Server) noisyRows(sc scope, counts []review.RuleCounts, pages []rulePages, verdicts map[string]store.Verdict, amURL string) []noisyRow {
	byName := map[string]*noisyRow{}
	var order []string
	row := func(name, team string) *noisyRow {
		if r, ok := byName[name]; ok {
			return r
		}
		r := &noisyRow{Alertname: name, Team: team}
		byName[name] = r
		order = append(order, name)
		return r
	}
	for _, c := range counts {
		r := row(c.Alertname, c.Team)
		r.Fires, r.Flaps, r.FiringSeconds, r.SilencedShare = c.Fires, c.Flaps, c.FiringSeconds, c.SilencedShare()
		r.GeneratorURL = safeURL(c.GeneratorURL)
		r.Runbook = s.runbookOf(c.Annotations)
	}
	for _, p := range pages {
		r := row(p.Alertname, p.Team)
		if r.Runbook.Status == "" {
			r.Runbook = runbookRef{Status: runbookMissing}
		}
		r.Pages += p.Pages.Total()
		r.PagesByHours.Business += p.Pages.Business
		r.PagesByHours.Evening += p.Pages.Evening
		r.PagesByHours.Sleep += p.Pages.Sleep
	}
	out := make([]noisyRow, 0, len(order))
	for _, name := range order {
		r := byName[name]
		r.Verdict = review.VerdictUnreviewed
		if v, ok := verdicts[name]; ok {
			at := v.DecidedAt
			r.Verdict, r.VerdictBy, r.VerdictAt, r.VerdictVersion = v.Verdict, v.DecidedBy, &at, v.Version
		}
		n := review.NoiseScore(review.NoiseInput{Fires: r.Fires, Flaps: r.Flaps, Pages: r.PagesByHours, Verdict: r.Verdict})
		r.NoiseScore, r.NoiseParts = n.Score, n.Parts
		q := url.Values{"alertname": {name}, "from": {rfc3339(sc.From)}, "to": {rfc3339(sc.To)}}
		if r.Team != "" {
			q.Set("team", r.Team)
		}
		r.EpisodesURL = "/episodes?" + q.Encode()
		r.RuleURL = "/alerts/" + url.PathEscape(name)
		if sc.Week.Year != 0 {
			r.RuleURL += "?week=" + sc.Week.String()
		}
		r.SilenceURL = silenceURL(amURL, name)
		out = append(out, *r)
	}
	slices.SortStableFunc(out, func(a, b noisyRow) int {
		return cmp.Or(cmp.Compare(b.NoiseScore, a.NoiseScore), strings.Compare(a.Alertname, b.Alertname))
	})
	return out
}

// silenceURL is Alertmanager's "new silence" form prefilled for the alert rule, or "" when no
// Alertmanager address is known.
func silenceURL(amURL, alertname string) string {
	base := safeURL(amURL)
	if base == "" {
		return ""
	}
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + "/#/silences/new?filter=" + url.QueryEscape(fmt.Sprintf("{alertname=%q}", alertname))
}

// alertmanagerURL is where people open Alertmanager: the first configured source, else the
// external URL the latest webhook delivery carried.
func (s *Server) alertmanagerURL(ctx context.Context) string {
	if len(s.cfg.Sources.Alertmanager) > 0 {
		return s.cfg.Sources.Alertmanager[0].URL
	}
	u, err := s.st(ctx).LatestExternalURL(ctx)
	if err != nil {
		return ""
	}
	return u
}

// weeksOverlapping lists the ISO weeks (in loc) that overlap [from, to): a verdict given in any of
// them is the verdict shown for the window.
func weeksOverlapping(from, to time.Time, loc *time.Location) []string {
	var out []string
	for w := review.WeekOf(from, loc); w.Start.Before(to) && len(out) < 60; w = w.Next() {
		out = append(out, w.String())
	}
	return out
}

// noisy loads the scored rows of a scope: one statement for counts, one for the pages' times, one
// for verdicts, run at once.
func (s *Server) noisy(ctx context.Context, sc scope, teams []string, weeks []string) ([]noisyRow, error) {
	var in noisyInputs
	if err := together(ctx, s.noisyLoads(sc, teams, weeks, &in, true)...); err != nil {
		return nil, err
	}
	return s.noisyFrom(ctx, sc, &in), nil
}

// noisyInputs are what the noisy list is made of.
type noisyInputs struct {
	counts   []review.RuleCounts
	pages    []rulePages
	verdicts map[string]store.Verdict
	amURL    string
}

// noisyLoads are the loads that fill in, to run together with a page's other loads. Without
// readPages the caller sets in.pages itself (the review, from the week's pages it reads anyway).
func (s *Server) noisyLoads(sc scope, teams, weeks []string, in *noisyInputs, readPages bool) []func(context.Context) error {
	f := s.countFilter(sc, teams)
	loads := []func(context.Context) error{
		func(ctx context.Context) (err error) { in.counts, err = s.st(ctx).RuleCounts(ctx, f); return err },
		func(ctx context.Context) (err error) {
			in.verdicts, err = s.st(ctx).LatestVerdicts(ctx, weeks)
			return err
		},
		func(ctx context.Context) error { in.amURL = s.alertmanagerURL(ctx); return nil },
	}
	if readPages {
		loads = append(loads, func(ctx context.Context) error {
			times, err := s.st(ctx).PageTimes(ctx, f)
			in.pages = s.pagesByHours(sc.From, sc.To, times)
			return err
		})
	}
	return loads
}

// noisyFrom scores the loaded rows and looks up their runbooks' checked statuses.
func (s *Server) noisyFrom(ctx context.Context, sc scope, in *noisyInputs) []noisyRow {
	rows := s.noisyRows(sc, in.counts, in.pages, in.verdicts, in.amURL)
	s.fillRunbookStatuses(ctx, rows)
	return rows
}

// pageTimesOf groups pages (oldest first, as store.Pages lists them) by rule and team, as
// store.PageTimes does.
func pageTimesOf(pages []review.Page) []store.RulePageTimes {
	idx := map[[2]string]int{}
	var out []store.RulePageTimes
	for _, p := range pages {
		k := [2]string{p.Alertname, p.Team}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, store.RulePageTimes{Alertname: p.Alertname, Team: p.Team})
		}
		out[i].At = append(out[i].At, p.At.UnixMicro())
	}
	return out
}

// rulePages counts one rule's pages of one team by the hours class they landed in.
type rulePages struct {
	Alertname, Team string
	Pages           review.PagesByHours
}

// pagesByHours classifies each rule's pages in [from, to) by the hours of its team. A rule's times
// are sorted, so one walk along the team's hours spans (config.Team.HoursSpans, cut once per team)
// classifies them: a 90-day window of every team has hundreds of thousands of pages.
func (s *Server) pagesByHours(from, to time.Time, times []store.RulePageTimes) []rulePages {
	spans := map[string][]config.HoursSpan{}
	out := make([]rulePages, len(times))
	for i, rt := range times {
		sp, ok := spans[rt.Team]
		if !ok {
			sp = s.cfg.HoursTeam(rt.Team).HoursSpans(from, to)
			spans[rt.Team] = sp
		}
		out[i] = rulePages{Alertname: rt.Alertname, Team: rt.Team}
		if len(sp) == 0 { // an empty window
			continue
		}
		k := 0
		for _, us := range rt.At {
			for k+1 < len(sp) && us >= sp[k+1].Start.UnixMicro() {
				k++
			}
			out[i].Pages.Add(sp[k].Class)
		}
	}
	return out
}
