package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/store"
)

// tvRefresh is how often a TV polls each panel, and how long a panel's fragment is reused.
const tvRefresh = 10 * time.Second

// tvCookie holds a TV link's token after its first visit (HttpOnly): the URL then loses it.
const tvCookie = "opsreview_tv"

// tvBoard is the TV's state: its panels, the cache of their fragments, and the last answer sent
// for each (panel, team).
type tvBoard struct {
	panels map[string]tvPanel
	cache  *tvCache

	mu   sync.Mutex
	sent map[tvKey]tvSent
}

// tvSent is a panel's answer as rendered for its view: the next request whose view is the same
// (every screen polling it until its fragment is refreshed) is sent these bytes again rather than
// rendering the same template once per screen. Bounded as the cache is: panels × (teams + 2).
type tvSent struct {
	view TVPanelView
	body []byte
}

func newTVBoard(panels []tvPanel, now func() time.Time) *tvBoard {
	b := &tvBoard{panels: map[string]tvPanel{}, cache: newTVCache(tvRefresh, now), sent: map[tvKey]tvSent{}}
	for _, p := range panels {
		b.panels[p.Name] = p
	}
	return b
}

// TVView is the data of the TV page.
type TVView struct {
	Now      time.Time
	Demo     bool
	TV       bool
	Title    string
	Team     string // "" for every team
	TZ       string // the clock's IANA time zone
	Clock    string
	Panels   []TVPanelView
	RotateMS int64
	RefreshS int64
	Revoked  bool
}

// TVPanelView is one panel as the TV shows it: its cached body and how old that is.
type TVPanelView struct {
	Name, Title, URL string
	// Body is the panel's fragment, rendered by html/template from the panel's data (so escaped):
	// the cache keeps it rendered so that screens share one render per refresh.
	Body   template.HTML
	Status string // "updated 14:03:05", or "data is 7 minutes old — source prom-eu unreachable"
	Stale  bool
	NoData bool // nothing has loaded yet
}

// tvShow serves the TV page: /tv?team=…&panels=a,b&rotate=20s.
func (s *Server) tvShow(c *fiber.Ctx) error {
	if c.Query("token") != "" {
		return s.tvExchange(c)
	}
	p := principalOf(c)
	now := s.now()
	if p.hasTV && !p.tvValid {
		return s.render.Render(c, fiber.StatusForbidden, "tv", TVView{Now: now, TV: true, Title: "TV", Revoked: true})
	}
	q, names, rotate, err := s.tvParams(c, p)
	if err != nil {
		return err
	}
	team := s.cfg.HoursTeam(q.TeamName)
	v := TVView{Now: now, Demo: s.cfg.Demo, TV: true, Title: "TV", Team: q.TeamName, TZ: team.Location.String(),
		Clock: now.In(team.Location).Format("15:04"), RotateMS: rotate.Milliseconds(), RefreshS: int64(tvRefresh / time.Second)}
	for _, name := range names {
		v.Panels = append(v.Panels, s.tvPanelView(c.UserContext(), s.tv.panels[name], q))
	}
	return s.render.Render(c, fiber.StatusOK, "tv", v)
}

// tvPanelShow serves one panel's fragment, which the TV page polls every tvRefresh. It answers
// 200 with the last good content (and its age) whenever there is any; 503 only when there has
// never been any, so htmx keeps what the screen shows. A revoked link reloads the whole screen,
// which then shows the revoked notice (a retarget would race the other panels' polls).
func (s *Server) tvPanelShow(c *fiber.Ctx) error {
	p := principalOf(c)
	if p.hasTV && !p.tvValid {
		c.Set("HX-Refresh", "true")
		return s.tvFragment(c, fiber.StatusOK, "tv-revoked", nil)
	}
	panel, ok := s.tv.panels[c.Params("name")]
	if !ok {
		return fiber.ErrNotFound
	}
	q, _, _, err := s.tvParams(c, p)
	if err != nil {
		return err
	}
	v := s.tvPanelView(c.UserContext(), panel, q)
	status := fiber.StatusOK
	if v.NoData {
		status = fiber.StatusServiceUnavailable
	}
	key := tvKey{panel.Name, q.TeamName}
	s.tv.mu.Lock()
	last, ok := s.tv.sent[key]
	s.tv.mu.Unlock()
	if !ok || last.view != v {
		b, err := s.render.block("tv", "tv-panel", v)
		if err != nil {
			return err
		}
		last = tvSent{view: v, body: b}
		s.tv.mu.Lock()
		s.tv.sent[key] = last
		s.tv.mu.Unlock()
	}
	return s.tvSend(c, status, last.body)
}

func (s *Server) tvFragment(c *fiber.Ctx, status int, block string, data any) error {
	b, err := s.render.block("tv", block, data)
	if err != nil {
		return err
	}
	return s.tvSend(c, status, b)
}

// tvSend answers with a rendered fragment, which neither it nor anything after may change.
func (s *Server) tvSend(c *fiber.Ctx, status int, b []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(b)
}

// tvPanelView loads a panel through the cache and says how fresh it is.
func (s *Server) tvPanelView(ctx context.Context, panel tvPanel, q tvQuery) TVPanelView {
	v := TVPanelView{Name: panel.Name, Title: panel.Title, URL: tvPanelURL(panel.Name, q.TeamName)}
	every := panel.Refresh
	if every == 0 {
		every = tvRefresh
	}
	res := s.tv.cache.getEvery(ctx, tvKey{panel.Name, q.TeamName}, every, func(ctx context.Context) (any, error) {
		data, err := panel.Load(ctx, q)
		if err != nil {
			s.log.Warn("loading a TV panel", "panel", panel.Name, "team", q.TeamName, "err", err)
			return nil, err
		}
		b, err := s.render.block("tv", "tv-panel-"+panel.Name, data)
		if err != nil {
			s.log.Error("rendering a TV panel", "panel", panel.Name, "err", err)
			return nil, err
		}
		return template.HTML(b), nil // html/template's own output: escaped already
	})
	src := s.tv.cache.get(ctx, tvKey{"sources", ""}, func(ctx context.Context) (any, error) {
		return s.st(ctx).CollectorStates(ctx)
	})
	states, _ := src.Val.([]store.CollectorState)
	v.Body, _ = res.Val.(template.HTML)
	v.NoData = res.Val == nil
	v.Status, v.Stale = tvStatus(q.Now, res, states, s.cfg.HoursTeam(q.TeamName).Location)
	return v
}

// tvStatus says in plain words how fresh a panel is, and whether that is worth a warning.
func tvStatus(now time.Time, res tvResult, states []store.CollectorState, loc *time.Location) (string, bool) {
	dbDown := res.Err != nil && errors.Is(res.Err, store.ErrUnavailable)
	switch {
	case res.Val == nil && dbDown:
		return "no data yet — opsreview cannot reach its database", true
	case res.Val == nil && res.Err != nil:
		return "no data yet — loading this panel failed", true
	case res.Val == nil:
		return "loading…", false
	case dbDown:
		return "data is " + ageWords(now.Sub(res.Built)) + " old — opsreview cannot reach its database", true
	case res.Err != nil:
		return "data is " + ageWords(now.Sub(res.Built)) + " old — loading this panel failed", true
	}
	var failing []string
	var oldest time.Time
	never := false
	for _, st := range states {
		if !sourceFailing(st) {
			continue
		}
		failing = append(failing, st.Source)
		if st.LastSuccess == nil {
			never = true
		} else if oldest.IsZero() || st.LastSuccess.Before(oldest) {
			oldest = *st.LastSuccess
		}
	}
	if len(failing) > 0 {
		what := "source " + failing[0] + " unreachable"
		if len(failing) > 1 {
			what = "sources " + strings.Join(failing[:len(failing)-1], ", ") + " and " + failing[len(failing)-1] + " unreachable"
		}
		if never || oldest.IsZero() {
			return "no data from it yet — " + what, true
		}
		return "data is " + ageWords(now.Sub(oldest)) + " old — " + what, true
	}
	return "updated " + res.Built.In(loc).Format("15:04:05"), false
}

// ageWords says a duration the way the TV does ("7 minutes"); static/tv.js says the same.
func ageWords(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64(d/(24*time.Hour)), "day")
}

func tvPanelURL(name, team string) string {
	u := "/tv/panel/" + url.PathEscape(name)
	if team != "" {
		u += "?team=" + url.QueryEscape(team)
	}
	return u
}

// tvParams reads team=, panels= and rotate=. A TV link's team is the default team.
func (s *Server) tvParams(c *fiber.Ctx, p *principal) (tvQuery, []string, time.Duration, error) {
	q := tvQuery{Now: s.now()}
	if c.Query("team") == "" && p.tvValid && p.tv.Scope != "" && s.cfg.TeamByName(p.tv.Scope) != nil {
		scope := p.tv.Scope
		q.Team, q.TeamName = &scope, scope
	} else {
		team, err := s.teamParam(c)
		if err != nil {
			return q, nil, 0, err
		}
		if team != nil {
			q.Team, q.TeamName = team, string([]byte(c.Query("team")))
		}
	}
	names := tvDefaultPanels
	if v := c.Query("panels"); v != "" {
		names = nil
		for _, n := range strings.Split(v, ",") {
			n = strings.TrimSpace(n)
			if _, ok := s.tv.panels[n]; !ok {
				return q, nil, 0, badRequest(fmt.Sprintf("panels: no panel %q (there are %s)", n, strings.Join(tvDefaultPanels, ", ")))
			}
			names = append(names, string([]byte(n)))
		}
	}
	rotate := 20 * time.Second
	if v := c.Query("rotate"); v != "" {
		d, err := model.ParseDuration(v)
		if err != nil || time.Duration(d) < 5*time.Second || time.Duration(d) > time.Hour {
			return q, nil, 0, badRequest("rotate: want a duration from 5s to 1h, like 20s")
		}
		rotate = time.Duration(d)
	}
	return q, names, rotate, nil
}
