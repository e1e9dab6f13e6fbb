package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsreview/opsreview/collectors/upstreamtest"
)

// soak reports whether the long variants of the reliability scenarios run (make soak).
func soak() bool { return os.Getenv("OPSREVIEW_SOAK") != "" }

// oracleTolerance is how far a stored start or end may be from the truth: replicas are told starts
// up to jitter apart, and Postgres keeps microseconds.
const oracleTolerance = time.Second

// trueEpisode is one firing interval the oracle told Alertmanager about.
type trueEpisode struct {
	labels map[string]string
	start  time.Time
	end    *time.Time // nil while firing
}

// oracle pushes alert lifecycles with explicit times to one or more Alertmanagers (replicas that
// all notify opsreview), records the truth, and compares what opsreview stored with it.
type oracle struct {
	ams []*upstreamtest.Alertmanager
	// jitter[i] is added to every start told to ams[i], as replicas fed by two Prometheus
	// servers see starts a little apart.
	jitter []time.Duration

	// inferredSlack is how much earlier than the truth an end may be when opsreview inferred it
	// from an alert vanishing from the Alertmanager API (end_kind "inferred", the last poll that
	// still listed it): at most one poll interval and a poll's duration. Zero: no such allowance.
	inferredSlack time.Duration
	// tolerance replaces oracleTolerance when set: rules evaluated by a real Prometheus start and
	// end on evaluation ticks, not at the moment a test changed a gauge.
	tolerance time.Duration

	mu    sync.Mutex
	truth map[string][]*trueEpisode // by labelKey
	names map[string]bool           // alertnames the oracle owns
}

// newOracle returns an oracle over ams; replica i gets a start jitter of i*jitter.
func newOracle(jitter time.Duration, ams ...*upstreamtest.Alertmanager) *oracle {
	o := &oracle{ams: ams, truth: map[string][]*trueEpisode{}, names: map[string]bool{}}
	for i := range ams {
		o.jitter = append(o.jitter, time.Duration(i)*jitter)
	}
	return o
}

// labelKey is a label set's identity in the oracle's books.
func labelKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// fire opens an episode for each label set at start and tells every Alertmanager. A label set may
// only fire again once its previous episode was resolved and delivered.
func (o *oracle) fire(ctx context.Context, t *testing.T, sets []map[string]string, start time.Time) {
	t.Helper()
	start = start.UTC().Truncate(time.Millisecond)
	o.mu.Lock()
	for _, l := range sets {
		k := labelKey(l)
		if eps := o.truth[k]; len(eps) > 0 && eps[len(eps)-1].end == nil {
			o.mu.Unlock()
			t.Fatalf("oracle: %s fires again while firing", k)
		}
		o.truth[k] = append(o.truth[k], &trueEpisode{labels: l, start: start})
		o.names[l["alertname"]] = true
	}
	o.mu.Unlock()
	o.post(ctx, t, sets, func(l map[string]string) (time.Time, time.Time) { return start, time.Time{} })
}

// resolve ends the open episode of each label set at end and tells every Alertmanager.
func (o *oracle) resolve(ctx context.Context, t *testing.T, sets []map[string]string, end time.Time) {
	t.Helper()
	end = end.UTC().Truncate(time.Millisecond)
	starts := map[string]time.Time{}
	o.mu.Lock()
	for _, l := range sets {
		k := labelKey(l)
		eps := o.truth[k]
		if len(eps) == 0 || eps[len(eps)-1].end != nil {
			o.mu.Unlock()
			t.Fatalf("oracle: %s resolves without firing", k)
		}
		e := eps[len(eps)-1]
		if !end.After(e.start) {
			o.mu.Unlock()
			t.Fatalf("oracle: %s resolves at %v before it started at %v", k, end, e.start)
		}
		e.end = &end
		starts[k] = e.start
	}
	o.mu.Unlock()
	o.post(ctx, t, sets, func(l map[string]string) (time.Time, time.Time) { return starts[labelKey(l)], end })
}

// post sends one alert per label set to every replica, with the replica's start jitter.
func (o *oracle) post(ctx context.Context, t *testing.T, sets []map[string]string, times func(map[string]string) (time.Time, time.Time)) {
	t.Helper()
	for i, am := range o.ams {
		alerts := make([]upstreamtest.Alert, len(sets))
		for j, l := range sets {
			s, e := times(l)
			alerts[j] = upstreamtest.Alert{Labels: l, StartsAt: s.Add(o.jitter[i]), EndsAt: e,
				Annotations: map[string]string{"summary": "oracle"}}
		}
		if err := am.PostAlerts(ctx, alerts); err != nil {
			t.Fatalf("oracle: replica %d: %v", i, err)
		}
	}
}

// oracleReport compares the truth with the stored episodes. Lost: a true episode with no stored
// episode, or whose stored episode has the wrong end. Doubled: a true episode with more than one
// stored episode. Extra: a stored episode that matches no true episode.
type oracleReport struct {
	Truth, Stored          int
	Lost, Doubled, Extra   []string
	OpenTruth, ClosedTruth int
}

// clean reports whether nothing was lost, doubled or invented.
func (r oracleReport) clean() bool { return len(r.Lost)+len(r.Doubled)+len(r.Extra) == 0 }

func (r oracleReport) String() string {
	first := func(s []string) string {
		if len(s) > 5 {
			return strings.Join(s[:5], "; ") + fmt.Sprintf("; … %d more", len(s)-5)
		}
		return strings.Join(s, "; ")
	}
	return fmt.Sprintf("truth %d episodes (%d open), stored %d; lost %d [%s]; doubled %d [%s]; extra %d [%s]",
		r.Truth, r.OpenTruth, r.Stored, len(r.Lost), first(r.Lost), len(r.Doubled), first(r.Doubled), len(r.Extra), first(r.Extra))
}

// check reads every episode of the oracle's alertnames through the public API and compares.
func (o *oracle) check(t *testing.T, base string) (oracleReport, error) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	stored := map[string][]apiEpisode{}
	var rep oracleReport
	for name := range o.names {
		eps, err := allEpisodes(base, name)
		if err != nil {
			return rep, err
		}
		rep.Stored += len(eps)
		for _, e := range eps {
			stored[labelKey(e.Labels)] = append(stored[labelKey(e.Labels)], e)
		}
	}
	tol := oracleTolerance
	if o.tolerance > 0 {
		tol = o.tolerance
	}
	near := func(a, b time.Time) bool { d := a.Sub(b); return d >= -tol && d <= tol }
	for k, eps := range o.truth {
		used := make([]bool, len(stored[k]))
		for _, te := range eps {
			rep.Truth++
			if te.end == nil {
				rep.OpenTruth++
			}
			var hits []int
			for i, se := range stored[k] {
				if near(se.StartsAt, te.start) {
					hits = append(hits, i)
					used[i] = true
				}
			}
			what := fmt.Sprintf("%s@%s", k, te.start.Format(time.RFC3339Nano))
			switch {
			case len(hits) == 0:
				rep.Lost = append(rep.Lost, what+": missing")
			case len(hits) > 1:
				rep.Doubled = append(rep.Doubled, fmt.Sprintf("%s: stored %d times", what, len(hits)))
			default:
				se := stored[k][hits[0]]
				switch {
				case te.end == nil && se.EndsAt != nil:
					rep.Lost = append(rep.Lost, fmt.Sprintf("%s: still firing, stored as ended at %v", what, *se.EndsAt))
				case te.end != nil && se.EndsAt == nil:
					rep.Lost = append(rep.Lost, fmt.Sprintf("%s: ended at %v, stored as open", what, *te.end))
				case te.end != nil && se.EndKind == "inferred" && o.inferredSlack > 0 &&
					!se.EndsAt.Before(te.end.Add(-o.inferredSlack)) && !se.EndsAt.After(te.end.Add(tol)):
					// Inferred from the poll that last listed the alert: within one poll of the truth.
				case te.end != nil && !near(*se.EndsAt, *te.end):
					rep.Lost = append(rep.Lost, fmt.Sprintf("%s: ended at %v, stored end %v", what, *te.end, *se.EndsAt))
				}
			}
		}
		for i, u := range used {
			if !u {
				rep.Extra = append(rep.Extra, fmt.Sprintf("%s@%s", k, stored[k][i].StartsAt.Format(time.RFC3339Nano)))
			}
		}
	}
	for k, eps := range stored {
		if _, ok := o.truth[k]; !ok {
			rep.Extra = append(rep.Extra, fmt.Sprintf("%s: %d episodes of an unknown label set", k, len(eps)))
		}
	}
	rep.ClosedTruth = rep.Truth - rep.OpenTruth
	slices.Sort(rep.Lost)
	slices.Sort(rep.Doubled)
	slices.Sort(rep.Extra)
	return rep, nil
}

// settle waits until the stored episodes equal the truth (quiescence), or within passes, and returns
// the last comparison. It then checks once more after a pause, so that a late duplicate still shows.
func (o *oracle) settle(t *testing.T, base string, within time.Duration) oracleReport {
	t.Helper()
	deadline := time.Now().Add(within)
	var rep oracleReport
	var err error
	for {
		rep, err = o.check(t, base)
		if err == nil && rep.clean() {
			break
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("oracle: reading episodes: %v", err)
			}
			return rep
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // Alertmanager retries and repeats still in flight land now
	if rep, err = o.check(t, base); err != nil {
		t.Fatalf("oracle: reading episodes: %v", err)
	}
	return rep
}

// allEpisodes lists every stored episode of alertname through GET /api/v1/episodes.
func allEpisodes(base, alertname string) ([]apiEpisode, error) {
	resp, err := http.Get(base + "/api/v1/episodes?limit=10000&alertname=" + url.QueryEscape(alertname))
	if err != nil {
		return nil, fmt.Errorf("list episodes: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Items []apiEpisode `json:"items"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list episodes: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("list episodes: %w", err)
	}
	if len(body.Items) >= 10000 {
		return nil, fmt.Errorf("list episodes: %s has 10,000 episodes or more, the API's page: spread the oracle's alerts over more alertnames", alertname)
	}
	return body.Items, nil
}

// instances returns label sets spread over groups (group label g00, g01, …), perGroup in each. Each
// group has its own alertname (prefix plus the group), so that one API listing never holds more
// than a group's episodes.
func instances(prefix string, groups, perGroup int) []map[string]string {
	var out []map[string]string
	for g := 0; g < groups; g++ {
		for i := 0; i < perGroup; i++ {
			out = append(out, map[string]string{"alertname": fmt.Sprintf("%s_g%02d", prefix, g), "group": fmt.Sprintf("g%02d", g),
				"instance": fmt.Sprintf("host-%02d-%03d", g, i), "severity": "page"})
		}
	}
	return out
}
