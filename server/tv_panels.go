package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// tvPanel is one panel of the wall TV. To add one: write a loader (reuse the store and server
// functions the pages already use rather than new SQL; the cache runs it at most once per
// tvRefresh per team, however many screens show it), define the
// template block "tv-panel-<name>" in templates/tv.html that renders what it returns, and add
// it to tvPanels (and to tvDefaultPanels to show it without a panels= parameter).
type tvPanel struct {
	Name  string // in URLs: /tv/panel/<name>, panels=<name>,…
	Title string
	Load  func(ctx context.Context, q tvQuery) (any, error)
	// Refresh is how often the panel is loaded when not every tvRefresh: for data that changes
	// far more slowly than screens poll (the screens still poll every tvRefresh).
	Refresh time.Duration
}

// tvQuery is what a panel is loaded for.
type tvQuery struct {
	Team     *string // nil: every team; "": unassigned
	TeamName string  // the team= parameter as given ("" for every team)
	Now      time.Time
}

// tvPanels is the registry of panels, in their default order.
func (s *Server) tvPanels() []tvPanel {
	return []tvPanel{
		{Name: "firing", Title: "Firing now", Load: s.tvFiring},
		{Name: "slis", Title: "SLIs against normal", Load: s.tvSLIs},
		{Name: "pages", Title: "Pages this week", Load: s.tvPages},
		{Name: "noisiest", Title: "Noisiest alert this week", Load: s.tvNoisiest},
		{Name: "toil", Title: "Toil this week", Load: s.tvToil},
		// Runbook statuses change when a check runs (hours apart) and risk is fires over 28 days,
		// while the load reads every runbook link: half of what 50 screens cost, at 10 s.
		{Name: "runbooks", Title: "Runbooks", Load: s.tvRunbooks, Refresh: tvRunbooksRefresh},
		{Name: "freshness", Title: "Data freshness", Load: s.tvFreshness},
	}
}

// tvRunbooksRefresh is how often the runbooks panel is loaded.
const tvRunbooksRefresh = time.Minute

// tvDefaultPanels rotate when the URL names none.
var tvDefaultPanels = []string{"firing", "slis", "pages", "noisiest", "toil", "runbooks", "freshness"}

// ---- firing now ----

// TVFiring is the firing-now panel: open episodes by severity, oldest first.
type TVFiring struct {
	Now        time.Time
	Total      int
	Severities []TVSeverity
	Rows       []TVFiringRow
	More       int // open episodes not shown
}

// TVSeverity is how many episodes of one severity are open.
type TVSeverity struct {
	Name  string // "" shows as "no severity"
	Class string // critical, warning, info or other: the colour
	Count int
}

// TVFiringRow is one open episode.
type TVFiringRow struct {
	Alertname string
	Severity  TVSeverity
	Labels    []label
	StartsAt  time.Time
	Firing    time.Duration
}

// tvFiringRows is how many open episodes fit on the panel, legibly.
const tvFiringRows = 4

func (s *Server) tvFiring(ctx context.Context, q tvQuery) (any, error) {
	eps, err := s.st(ctx).FiringNow(ctx, store.FiringFilter{Team: q.Team, Ignore: s.cfg.Alerts.Ignore, PerRank: tvFiringRows})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(eps, func(a, b store.FiringEpisode) int {
		if d := severityRank(a.Severity) - severityRank(b.Severity); d != 0 {
			return d
		}
		return a.StartsAt.Compare(b.StartsAt)
	})
	v := TVFiring{Now: q.Now}
	for i, e := range eps {
		sev := TVSeverity{Name: e.Severity, Class: severityClass(e.Severity), Count: e.SeverityCount}
		if i == 0 || eps[i-1].Severity != e.Severity {
			v.Severities = append(v.Severities, sev)
			v.Total += e.SeverityCount
		}
		if len(v.Rows) < tvFiringRows {
			v.Rows = append(v.Rows, TVFiringRow{Alertname: e.Alertname, Severity: sev, Labels: tvLabels(e.Labels),
				StartsAt: e.StartsAt, Firing: e.Duration(q.Now)})
		}
	}
	v.More = v.Total - len(v.Rows)
	return v, nil
}

// severityRank orders severity labels, most urgent first; unknown ones after the known.
func severityRank(s string) int {
	switch strings.ToLower(s) {
	case "critical", "page", "emergency", "fatal":
		return 0
	case "high", "error", "major":
		return 1
	case "warning", "warn", "medium", "minor":
		return 2
	case "info", "low", "notice":
		return 3
	case "":
		return 5
	}
	return 4
}

func severityClass(s string) string {
	return [...]string{"critical", "critical", "warning", "info", "other", "other"}[severityRank(s)]
}

// tvLabels picks the few labels that tell instances apart, for a screen read from afar.
func tvLabels(labels map[string]string) []label {
	var out []label
	for _, l := range chips(labels) {
		switch l.Name {
		case "severity", "team", "prometheus", "receiver":
			continue
		}
		out = append(out, l)
		if len(out) == 3 {
			break
		}
	}
	return out
}

// ---- pages this week ----

// TVPages is the pages-this-week panel, by hours class.
type TVPages struct {
	Week                     string
	Total                    int
	Business, Evening, Sleep int
	Last                     time.Time // the latest page; zero for none
	Now                      time.Time
}

func (s *Server) tvPages(ctx context.Context, q tvQuery) (any, error) {
	loc := time.UTC
	if q.Team != nil && *q.Team != "" {
		loc = s.cfg.HoursTeam(*q.Team).Location
	}
	week := review.WeekOf(q.Now, loc)
	pages, err := s.st(ctx).ToilPages(ctx, store.PageQuery{From: week.Start, To: week.End, Team: q.Team,
		Receivers: s.cfg.PagingReceivers, Ignore: s.cfg.Alerts.Ignore})
	if err != nil {
		return nil, err
	}
	v := TVPages{Week: week.String(), Total: len(pages), Now: q.Now}
	for _, p := range pages {
		switch s.cfg.HoursTeam(p.Team).HoursClass(p.At) {
		case config.HoursBusiness:
			v.Business++
		case config.HoursEvening:
			v.Evening++
		case config.HoursSleep:
			v.Sleep++
		}
		v.Last = p.At
	}
	return v, nil
}

// ---- data freshness ----

// TVFreshness is the data-freshness panel: each source's last success and trouble.
type TVFreshness struct {
	Now     time.Time
	Sources []TVSource
}

// TVSource is one collector of one source.
type TVSource struct {
	Name, Kind  string
	LastSuccess time.Time // zero: never
	Lag         time.Duration
	HasLag      bool
	Failing     bool
	Never       bool
}

func (s *Server) tvFreshness(ctx context.Context, q tvQuery) (any, error) {
	states, err := s.st(ctx).CollectorStates(ctx)
	if err != nil {
		return nil, err
	}
	v := TVFreshness{Now: q.Now}
	seen := map[string]bool{}
	for _, st := range states {
		src := TVSource{Name: st.Source, Kind: st.Kind, Failing: sourceFailing(st)}
		if st.LastSuccess != nil {
			src.LastSuccess = *st.LastSuccess
		} else {
			src.Never = true
		}
		if st.Watermark != nil {
			src.Lag, src.HasLag = q.Now.Sub(*st.Watermark), true
		}
		v.Sources = append(v.Sources, src)
		seen[st.Source] = true
	}
	for _, name := range s.configuredSources() {
		if !seen[name] {
			v.Sources = append(v.Sources, TVSource{Name: name, Never: true})
		}
	}
	return v, nil
}

// sourceFailing reports whether a collector's last run failed.
func sourceFailing(st store.CollectorState) bool {
	if st.LastError == "" {
		return false
	}
	return st.LastSuccess == nil || st.LastErrorAt == nil || !st.LastErrorAt.Before(*st.LastSuccess)
}

func (s *Server) configuredSources() []string {
	var out []string
	for _, p := range s.cfg.Sources.Prometheus {
		out = append(out, p.Name)
	}
	for _, a := range s.cfg.Sources.Alertmanager {
		out = append(out, a.Name)
	}
	return out
}
