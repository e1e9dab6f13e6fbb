package review

import (
	"testing"
	"time"
)

// An ended report whose interval is disjoint from a stored episode is a different episode, even
// when their starts lie within StartTolerance: with 15 s rule evaluation an alert that resolves and
// fires again 45 s later is two episodes (two flaps), and Prometheus's ALERTS history says so,
// whatever the order reports arrive in. (Reported by the collectors' author.)
func TestReconcileQuickRefireIsANewEpisode(t *testing.T) {
	prom := func(start, end float64) AlertReport {
		r := ended(start, end, EndBackfill)
		r.Road, r.Source = RoadPrometheus, "prom"
		return r
	}
	amFiring := func(start, observed float64) AlertReport {
		r := firing(start)
		r.Road, r.Source, r.ObservedAt = RoadAlertmanager, "am", at(observed)
		return r
	}
	// Fired at 0 for one 15 s evaluation, resolved, fired again at 0.75 (45 s) and resolved at 1.
	for name, reports := range map[string][]AlertReport{
		"history only":               {prom(0, 0.25), prom(0.75, 1)},
		"history, then the second":   {prom(0, 0.25), amFiring(0.75, 0.8), prom(0.75, 1)},
		"the second, then history":   {amFiring(0.75, 0.8), prom(0, 0.25), prom(0.75, 1)},
		"history of the second only": {amFiring(0.75, 0.8), prom(0.75, 1), prom(0, 0.25)},
	} {
		got := spans(foldTol(ToleranceFor(15*time.Second), reports...))
		want := []span{{0, 0.25, EndBackfill}, {0.75, 1, EndBackfill}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
