package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// SourcesView is the data of the Sources page: how each collector is doing.
type SourcesView struct {
	Now   time.Time
	Demo  bool
	Title string
	Items []SourceRow
	Stale int // how many are stale: the page says so at the top
}

// SourceRow is one collector of one source.
type SourceRow struct {
	Source      string     `json:"source"`
	Kind        string     `json:"kind"`
	LastSuccess *time.Time `json:"last_success"`
	LastAttempt *time.Time `json:"last_attempt"`
	Watermark   *time.Time `json:"watermark"`
	// Lag is now minus the watermark: how far behind the data is. Null without a watermark.
	LagSeconds  *float64   `json:"lag_seconds"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	Interval    float64    `json:"interval_seconds"` // expected time between runs; 0 when unknown
	// Stale: no success within three intervals (an hour when the interval is unknown), or never.
	Stale bool `json:"stale"`
	// Failing: the last attempt failed (LastError is set).
	Failing bool          `json:"failing"`
	State   string        `json:"state"` // ok, stale, failing or never
	Lag     time.Duration `json:"-"`
}

// staleAfter is how long without a success makes a collector with an unknown interval stale.
const staleAfter = time.Hour

// collectorInterval is how often a collector of a source should run, from the config.
func (s *Server) collectorInterval(source, kind string) time.Duration {
	if kind == "runbooks" || source == "runbooks" {
		return time.Duration(s.cfg.Runbooks.CheckInterval)
	}
	for _, p := range s.cfg.Sources.Prometheus {
		if p.Name == source {
			return time.Duration(p.Interval)
		}
	}
	for _, a := range s.cfg.Sources.Alertmanager {
		if a.Name == source {
			return time.Duration(a.Interval)
		}
	}
	return 0
}

// sourceRows lists every collector that has run, plus configured sources that never have.
func (s *Server) sourceRows(states []store.CollectorState, now time.Time) []SourceRow {
	seen := map[string]bool{}
	var out []SourceRow
	for _, st := range states {
		seen[st.Source] = true
		out = append(out, s.sourceRow(st, now))
	}
	add := func(name, kind string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, s.sourceRow(store.CollectorState{Source: name, Kind: kind}, now))
		}
	}
	for _, p := range s.cfg.Sources.Prometheus {
		add(p.Name, "prometheus")
	}
	for _, a := range s.cfg.Sources.Alertmanager {
		add(a.Name, "alertmanager")
	}
	return out
}

func (s *Server) sourceRow(st store.CollectorState, now time.Time) SourceRow {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	r := SourceRow{Source: st.Source, Kind: st.Kind, LastSuccess: utc(st.LastSuccess), LastAttempt: utc(st.LastAttempt),
		Watermark: utc(st.Watermark), LastError: st.LastError, LastErrorAt: utc(st.LastErrorAt)}
	iv := s.collectorInterval(st.Source, st.Kind)
	r.Interval = iv.Seconds()
	limit := staleAfter
	if iv > 0 {
		limit = max(3*iv, 5*time.Minute)
	}
	if st.Watermark != nil {
		r.Lag = max(now.Sub(*st.Watermark), 0)
		lag := r.Lag.Seconds()
		r.LagSeconds = &lag
	}
	r.Stale = st.LastSuccess == nil || now.Sub(*st.LastSuccess) > limit
	r.Failing = st.LastError != ""
	switch {
	case st.LastSuccess == nil && st.LastAttempt == nil:
		r.State = "never"
	case r.Failing:
		r.State = "failing"
	case r.Stale:
		r.State = "stale"
	default:
		r.State = "ok"
	}
	return r
}

// sourcesAPI answers GET /api/v1/sources: each collector's last success, lag and last error.
func (s *Server) sourcesAPI(c *fiber.Ctx) error {
	states, err := s.st(c.UserContext()).CollectorStates(c.UserContext())
	if err != nil {
		return err
	}
	items := s.sourceRows(states, s.now().UTC())
	if items == nil {
		items = []SourceRow{}
	}
	return c.JSON(fiber.Map{"items": items})
}

// sourcesShow renders the Sources page.
func (s *Server) sourcesShow(c *fiber.Ctx) error {
	states, err := s.st(c.UserContext()).CollectorStates(c.UserContext())
	if err != nil {
		return err
	}
	now := s.now().UTC()
	v := SourcesView{Now: now, Demo: s.cfg.Demo, Title: "Sources", Items: s.sourceRows(states, now)}
	for _, r := range v.Items {
		if r.Stale {
			v.Stale++
		}
	}
	return s.render.Render(c, fiber.StatusOK, "sources", v)
}
