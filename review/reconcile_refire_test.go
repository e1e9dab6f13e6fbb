package review

import (
	"os"
	"testing"
)

// TestReconcileQuickRefireIsANewEpisode documents a suspected bug in Match, reported to the owner of
// reconcile.go rather than fixed here: an ended report whose interval is disjoint from a stored
// episode is still matched to it when their starts lie within StartTolerance. With 15 s rule
// evaluation an alert that resolves and fires again 45 s later is two episodes (two flaps), and
// Prometheus's ALERTS history says so; they are folded into one, and which episode an
// Alertmanager report joins then depends on arrival order. Run with OPSREVIEW_KNOWN_BUGS=1.
func TestReconcileQuickRefireIsANewEpisode(t *testing.T) {
	if os.Getenv("OPSREVIEW_KNOWN_BUGS") == "" {
		t.Skip("known bug, reported; set OPSREVIEW_KNOWN_BUGS=1 to run")
	}
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
		got := spans(fold(reports...))
		want := []span{{0, 0.25, EndBackfill}, {0.75, 1, EndBackfill}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
