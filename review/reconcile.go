package review

import (
	"sort"
	"time"
)

// StartTolerance is how much earlier than a stored episode's start a report may begin and still be
// that episode. Two Prometheus replicas evaluate the same rule up to one evaluation interval apart, so
// their alerts carry slightly different startsAt; a real re-fire is at least two intervals later
// (one to resolve, one to fire again).
const StartTolerance = time.Minute

// infinity stands for the end of an open episode when comparing intervals.
var infinity = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func endOf(e Episode) time.Time {
	if e.EndsAt == nil {
		return infinity
	}
	return *e.EndsAt
}

// reportSpan is the interval a report speaks for: a firing alert only for its start (its endsAt is an
// expiry, and a late retry must not stretch it), an ended alert for start to end.
func reportSpan(r AlertReport) (time.Time, time.Time) {
	if r.Firing() || r.EndsAt.Before(r.StartsAt) {
		return r.StartsAt, r.StartsAt
	}
	return r.StartsAt, r.EndsAt
}

// Match returns the index of the stored episode the report belongs to, or -1 when it is a new one.
// eps are episodes of the report's fingerprint. An episode that starts within tol of the report is
// that episode (replicas differ by up to one evaluation); failing that, one whose interval overlaps
// the report's span. Among several, the nearest start wins.
func Match(eps []Episode, r AlertReport, tol time.Duration) int {
	if i := nearest(eps, r, func(e Episode) bool { return absDur(e.StartsAt.Sub(r.StartsAt)) <= tol }); i >= 0 {
		return i
	}
	lo, hi := reportSpan(r)
	return nearest(eps, r, func(e Episode) bool { return !e.StartsAt.After(hi) && !endOf(e).Before(lo) })
}

func nearest(eps []Episode, r AlertReport, ok func(Episode) bool) int {
	best, bestDist := -1, time.Duration(0)
	for i, e := range eps {
		if !ok(e) {
			continue
		}
		if d := absDur(e.StartsAt.Sub(r.StartsAt)); best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// splits reports whether a report that overlaps episode e in fact begins a later episode: it starts
// well after e, and e's end is unknown or only guessed, so e must have ended unseen (a lost resolve).
// Alertmanager keeps an alert's first startsAt while it fires, so a later start is a new firing.
func splits(e Episode, r AlertReport, tol time.Duration) bool {
	return !r.Continues && r.StartsAt.Sub(e.StartsAt) > tol && (e.EndsAt == nil || e.EndKind == EndInferred)
}

// Reconciled is the outcome of folding reports into stored episodes: every episode of the
// fingerprint, sorted by start, and which of them must be written (new ones have ID zero).
type Reconciled struct {
	Episodes []Episode
	Dirty    []bool
}

// Reconcile folds reports of one fingerprint into its stored episodes, keeping every episode's
// interval disjoint from the others so the database's exclusion constraint always holds. The rules make the result independent
// of the order in which duplicates arrive: the earliest start wins, a stronger end kind wins over a
// weaker one (and among equals the later end), a firing report never reopens an episode someone saw
// end, and flags, roads and "silenced" only accumulate.
func Reconcile(stored []Episode, reports []AlertReport, tol time.Duration) Reconciled {
	eps := make([]Episode, len(stored))
	copy(eps, stored)
	dirty := make([]bool, len(eps))

	rs := make([]AlertReport, len(reports))
	copy(rs, reports)
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].StartsAt.Equal(rs[j].StartsAt) {
			return rs[i].StartsAt.Before(rs[j].StartsAt)
		}
		return rs[i].EndKind > rs[j].EndKind // ended reports first: they carry more
	})

	for _, r := range rs {
		sortEpisodes(eps, dirty)
		i := Match(eps, r, tol)
		if i >= 0 && splits(eps[i], r, tol) {
			end := r.StartsAt.Add(-time.Millisecond)
			eps[i].EndsAt, eps[i].EndKind = &end, EndInferred
			dirty[i] = true
			i = -1
		}
		if i < 0 {
			eps = append(eps, newEpisode(r, eps))
			dirty = append(dirty, true)
			continue
		}
		if i > 0 && r.StartsAt.Before(eps[i].StartsAt) {
			// An earlier start for this episode wins over a guessed end of the one before it.
			p := &eps[i-1]
			if p.EndsAt != nil && p.EndKind == EndInferred && !p.EndsAt.Before(r.StartsAt) && p.StartsAt.Before(r.StartsAt) {
				end := r.StartsAt.Add(-time.Millisecond)
				p.EndsAt = &end
				dirty[i-1] = true
			}
		}
		var prevEnd, nextStart *time.Time
		if i > 0 {
			pe := endOf(eps[i-1])
			prevEnd = &pe
		}
		if i+1 < len(eps) {
			ns := eps[i+1].StartsAt
			nextStart = &ns
		}
		merged, ok := merge(eps[i], r, prevEnd, nextStart)
		if ok {
			eps[i] = merged
			dirty[i] = true
		}
	}
	sortEpisodes(eps, dirty)
	return Reconciled{Episodes: eps, Dirty: dirty}
}

func sortEpisodes(eps []Episode, dirty []bool) {
	idx := make([]int, len(eps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return eps[idx[a]].StartsAt.Before(eps[idx[b]].StartsAt) })
	e2 := make([]Episode, len(eps))
	d2 := make([]bool, len(eps))
	for n, i := range idx {
		e2[n], d2[n] = eps[i], dirty[i]
	}
	copy(eps, e2)
	copy(dirty, d2)
}

// newEpisode opens an episode for a report that matched none. A firing report that starts before a
// stored later episode cannot still be firing across it: it is closed just before that one starts.
func newEpisode(r AlertReport, eps []Episode) Episode {
	e := Episode{
		Fingerprint:  r.Fingerprint,
		Alertname:    r.Alertname(),
		Team:         r.Team,
		Labels:       r.Labels,
		Annotations:  r.Annotations,
		GeneratorURL: r.GeneratorURL,
		StartsAt:     r.StartsAt,
		LastSeenAt:   r.ObservedAt,
		LastSeenBy:   seenBy(r),
		Silenced:     r.Silenced,
		Flags:        appendFlags(nil, r.Flags),
	}
	if e.Annotations == nil {
		e.Annotations = map[string]string{}
	}
	markRoad(&e, r.Road)
	if !r.ExpiresAt.IsZero() {
		x := r.ExpiresAt
		e.ExpiresAt = &x
	}
	if !r.Firing() {
		end := r.EndsAt
		if end.Before(e.StartsAt) {
			end = e.StartsAt
		}
		e.EndsAt, e.EndKind = &end, r.EndKind
	}
	for _, o := range eps {
		if o.StartsAt.After(e.StartsAt) && !o.StartsAt.After(endOf(e)) {
			end := o.StartsAt.Add(-time.Millisecond)
			if end.Before(e.StartsAt) {
				end = e.StartsAt
			}
			e.EndsAt = &end
			if e.EndKind == EndOpen {
				e.EndKind = EndInferred
			}
			break
		}
	}
	return e
}

// merge folds one report into its episode. prevEnd and nextStart bound the episode so it never
// overlaps its neighbours. It reports whether anything changed.
func merge(e Episode, r AlertReport, prevEnd, nextStart *time.Time) (Episode, bool) {
	before := fingerprintOfState(e)
	if r.Road != RoadPrometheus || len(e.Labels) == 0 {
		if len(r.Labels) > 0 {
			e.Labels = r.Labels
		}
		if len(r.Annotations) > 0 {
			e.Annotations = r.Annotations
		}
	}
	if r.GeneratorURL != "" && e.GeneratorURL == "" {
		e.GeneratorURL = r.GeneratorURL
	}
	markRoad(&e, r.Road)
	if r.Road != RoadPrometheus || e.Team == "" {
		e.Team = r.Team
	}
	e.Silenced = e.Silenced || r.Silenced
	e.Flags = appendFlags(e.Flags, r.Flags)
	if r.ObservedAt.After(e.LastSeenAt) {
		e.LastSeenAt, e.LastSeenBy = r.ObservedAt, seenBy(r)
	}

	if r.StartsAt.Before(e.StartsAt) && (prevEnd == nil || r.StartsAt.After(*prevEnd)) {
		if e.EndsAt == nil || !r.StartsAt.After(*e.EndsAt) {
			e.StartsAt = r.StartsAt
		}
	}

	if r.Firing() {
		if e.EndsAt == nil {
			if !r.ExpiresAt.IsZero() && (e.ExpiresAt == nil || r.ExpiresAt.After(*e.ExpiresAt)) {
				x := r.ExpiresAt
				e.ExpiresAt = &x
			}
		} else if e.EndKind == EndInferred && r.Road != RoadPrometheus && r.ObservedAt.After(*e.EndsAt) && nextStart == nil {
			// Alertmanager still sends it after we guessed it had ended: our guess was wrong.
			e.EndsAt, e.EndKind = nil, EndOpen
		}
	} else {
		end := r.EndsAt
		if end.Before(e.StartsAt) {
			end = e.StartsAt
		}
		if nextStart != nil && !end.Before(*nextStart) {
			end = nextStart.Add(-time.Millisecond)
		}
		switch {
		case e.EndsAt == nil, r.EndKind > e.EndKind,
			r.EndKind == e.EndKind && end.After(*e.EndsAt):
			e.EndsAt, e.EndKind = &end, r.EndKind
		}
	}
	return e, fingerprintOfState(e) != before
}

func seenBy(r AlertReport) string {
	if r.Source == "" {
		return string(r.Road)
	}
	return string(r.Road) + ":" + r.Source
}

func markRoad(e *Episode, road Road) {
	switch road {
	case RoadWebhook:
		e.ViaWebhook = true
	case RoadAlertmanager:
		e.ViaAlertmanager = true
	case RoadPrometheus:
		e.ViaPrometheus = true
	}
}

func appendFlags(have, add []string) []string {
	for _, f := range add {
		found := false
		for _, h := range have {
			found = found || h == f
		}
		if !found {
			have = append(have, f)
		}
	}
	return have
}

// stateKey is a comparable digest of an episode's mutable fields, used to tell whether a merge changed
// anything worth writing.
type stateKey struct {
	start, end, expires, seen time.Time
	open                      bool
	kind                      EndKind
	roads                     [3]bool
	silenced                  bool
	flags, seenBy, gen, team  string
	labels, annotations       int
}

func fingerprintOfState(e Episode) stateKey {
	k := stateKey{start: e.StartsAt, seen: e.LastSeenAt, open: e.EndsAt == nil, kind: e.EndKind,
		roads: [3]bool{e.ViaWebhook, e.ViaAlertmanager, e.ViaPrometheus}, silenced: e.Silenced,
		seenBy: e.LastSeenBy, team: e.Team, gen: e.GeneratorURL, labels: len(e.Labels), annotations: len(e.Annotations)}
	if e.EndsAt != nil {
		k.end = *e.EndsAt
	}
	if e.ExpiresAt != nil {
		k.expires = *e.ExpiresAt
	}
	for _, f := range e.Flags {
		k.flags += f + "\x00"
	}
	return k
}
