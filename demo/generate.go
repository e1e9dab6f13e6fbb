package demo

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// Names of the made-up upstreams the demo history claims to come from.
const (
	promSource   = "prometheus-demo"
	amSource     = "alertmanager-demo"
	externalURL  = "https://alertmanager.example.com"
	generatorURL = "https://prometheus.example.com/graph?g0.expr="
)

// history is how far back the demo history goes.
const history = 8 * 7 * 24 * time.Hour

// plan is everything one fill writes, in the order the store needs it. It is a pure function of
// the configuration, the anchor and the seed.
type plan struct {
	rulesBefore, rules []review.AlertRule // the inventory at the start of the history and now
	rulesChangedAt     time.Time          // when rulesBefore became rules
	notifications      []store.Notification
	reports            []review.AlertReport // the Prometheus (ALERTS) and Alertmanager API roads
	silences           []review.Silence
	verdicts           []store.VerdictInput
	actions            []plannedAction
	changes            []store.Change
	toil               []store.NewToilEntry
	checks             []store.RunbookCheck
	reviews            []runbookReview
	runs               []collectorRun
	slis               []plannedSLI
}

type plannedAction struct {
	item    store.ActionItem
	key     string
	closeAt *time.Time
	closeBy string
}

type runbookReview struct {
	url, who string
	at       time.Time
}

type collectorRun struct {
	source, kind string
	at           time.Time
}

// gen builds a plan. Every scenario draws from the one random source in a fixed order, so a seed
// gives the same plan every time.
type gen struct {
	cfg    *config.Config
	anchor time.Time
	seed   int64
	rng    *rand.Rand
	p      plan
	alerts map[string]*alertDef
}

// alertDef is one alerting rule of the demo and where its notifications go.
type alertDef struct {
	rule     review.AlertRule
	receiver string      // webhook receiver; "" when only the road below sees it
	road     review.Road // for alerts no receiver is notified of: prometheus or alertmanager
}

// scenarios make the demo history, one story each. Adding a kind of demo data is adding one
// function here (at the end, so the random draws of the others stay the same).
var scenarios = []func(g *gen){
	rulesScenario,
	flappingDisk,
	nightPages,
	ignoredDaily,
	deploys,
	unowned,
	watchdog,
	silenced,
	eveningPages,
	runbookChecks,
	verdictsScenario,
	actionItems,
	toilEntries,
	collectorRuns,
	sliScenario, // it reads the deploys, and its draws must not shift the stories above
	firingNow,   // draws nothing
}

func generate(cfg *config.Config, anchor time.Time, seed int64) plan {
	g := &gen{cfg: cfg, anchor: anchor.UTC(), seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), 0x6f70737265766965)),
		alerts: map[string]*alertDef{}}
	for _, s := range scenarios {
		s(g)
	}
	sort.SliceStable(g.p.notifications, func(i, j int) bool {
		return g.p.notifications[i].ReceivedAt.Before(g.p.notifications[j].ReceivedAt)
	})
	sort.SliceStable(g.p.reports, func(i, j int) bool { return g.p.reports[i].StartsAt.Before(g.p.reports[j].StartsAt) })
	return g.p
}

// loc is a team's time zone (UTC for a team the configuration does not have).
func (g *gen) loc(team string) *time.Location {
	if t := g.cfg.TeamByName(team); t != nil && t.Location != nil {
		return t.Location
	}
	return time.UTC
}

// at is the clock time hh:mm on the day daysAgo days before the anchor's day, in loc.
func (g *gen) at(loc *time.Location, daysAgo, hh, mm int) time.Time {
	a := g.anchor.In(loc)
	return time.Date(a.Year(), a.Month(), a.Day()-daysAgo, hh, mm, 0, 0, loc)
}

// lastWeek is the week the review shows by default (the last full week) in loc.
func (g *gen) lastWeek(loc *time.Location) review.Week { return review.LastFullWeek(g.anchor, loc) }

// past reports whether t is inside the demo history.
func (g *gen) past(t time.Time) bool { return t.Before(g.anchor) && !t.Before(g.anchor.Add(-history)) }

// jitter is a random duration in [0, d).
func (g *gen) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	// Whole seconds: Alertmanager's timestamps carry no more, and Postgres keeps microseconds only.
	return time.Duration(g.rng.Int64N(int64(d))).Truncate(time.Second)
}

// minutes is a random whole number of minutes in [lo, hi].
func (g *gen) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Minute
}

func (g *gen) key(kind string, parts ...any) string {
	return fmt.Sprintf("demo-%d-%s-%s", g.seed, kind, fmt.Sprint(parts...))
}

// fire records one episode of alert a for the instance labels inst, from start to end (zero or
// after the anchor: still firing), through the road real data would take: a firing and a resolved
// webhook notification to its receiver, or a report read from Prometheus or Alertmanager.
func (g *gen) fire(name string, inst map[string]string, start, end time.Time, silenced bool) {
	a := g.alerts[name]
	if a == nil {
		panic("demo: unknown alert " + name)
	}
	start, end = start.Truncate(time.Second), end.Truncate(time.Second)
	if !g.past(start) {
		return
	}
	if !end.IsZero() && !end.Before(g.anchor) {
		end = time.Time{}
	}
	labels := map[string]string{"alertname": name}
	for k, v := range a.rule.Labels {
		labels[k] = v
	}
	for k, v := range inst {
		labels[k] = v
	}
	ann := map[string]string{}
	for k, v := range a.rule.Annotations {
		ann[k] = v
	}
	r := review.AlertReport{
		Fingerprint:  fingerprint(labels),
		Labels:       labels,
		Annotations:  ann,
		GeneratorURL: generatorURL + url.QueryEscape(a.rule.Expr),
		StartsAt:     start.UTC(),
		Team:         g.cfg.TeamFor(labels),
		Silenced:     silenced,
	}
	if a.receiver == "" || silenced {
		r.Road, r.ObservedAt = a.road, g.anchor
		r.Source = promSource
		if a.road == review.RoadAlertmanager {
			r.Source = amSource
		}
		if !end.IsZero() {
			r.EndsAt, r.ObservedAt = end.UTC(), end.Add(time.Minute).UTC()
			r.EndKind = review.EndBackfill
			if a.road == review.RoadAlertmanager {
				r.EndKind = review.EndInferred
			}
		}
		g.p.reports = append(g.p.reports, r)
		return
	}
	// Alertmanager waits group_wait (30s) before the first notification, and a group_interval
	// before it says resolved.
	firing := r
	firing.Road = review.RoadWebhook
	firing.ObservedAt = start.Add(30*time.Second + g.jitter(15*time.Second)).UTC()
	firing.ExpiresAt = firing.ObservedAt.Add(4 * time.Minute)
	g.p.notifications = append(g.p.notifications, g.notification(a, labels, "firing", firing))
	if end.IsZero() {
		return
	}
	resolved := r
	resolved.Road = review.RoadWebhook
	resolved.EndsAt, resolved.EndKind = end.UTC(), review.EndResolved
	resolved.ObservedAt = end.Add(time.Minute + g.jitter(30*time.Second)).UTC()
	if resolved.ObservedAt.After(g.anchor) {
		resolved.ObservedAt = g.anchor
	}
	g.p.notifications = append(g.p.notifications, g.notification(a, labels, "resolved", resolved))
}

func (g *gen) notification(a *alertDef, labels map[string]string, status string, r review.AlertReport) store.Notification {
	group := fmt.Sprintf(`{}/{team=%q}:{alertname=%q}`, labels["team"], labels["alertname"])
	return store.Notification{
		Receiver:    a.receiver,
		GroupKey:    group,
		Status:      status,
		ExternalURL: externalURL,
		GroupLabels: map[string]string{"alertname": labels["alertname"]},
		ReceivedAt:  r.ObservedAt,
		Alerts:      []review.AlertReport{r},
	}
}

// fingerprint is Alertmanager's and Prometheus's fingerprint of a label set, as the webhook and the
// collectors compute it.
func fingerprint(labels map[string]string) uint64 {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return uint64(ls.Fingerprint())
}
