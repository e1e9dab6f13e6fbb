package review

import (
	"math/rand"
	"testing"
	"time"
)

var base = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

func at(min float64) time.Time { return base.Add(time.Duration(min * float64(time.Minute))) }

func firing(start float64) AlertReport {
	return AlertReport{Fingerprint: 1, Labels: map[string]string{"alertname": "A"}, StartsAt: at(start),
		ObservedAt: at(start), Road: RoadWebhook}
}

func ended(start, end float64, kind EndKind) AlertReport {
	r := firing(start)
	r.EndsAt, r.EndKind, r.ObservedAt = at(end), kind, at(end)
	return r
}

type span struct {
	start, end float64 // end < 0: open
	kind       EndKind
}

func spans(eps []Episode) []span {
	out := make([]span, len(eps))
	for i, e := range eps {
		out[i] = span{start: e.StartsAt.Sub(base).Minutes(), end: -1}
		if e.EndsAt != nil {
			out[i].end = e.EndsAt.Sub(base).Minutes()
			out[i].kind = e.EndKind
		}
	}
	return out
}

func fold(reports ...AlertReport) []Episode {
	var eps []Episode
	for _, r := range reports {
		res := Reconcile(eps, []AlertReport{r}, StartTolerance)
		eps = res.Episodes
		for i := range eps {
			if eps[i].ID == 0 {
				eps[i].ID = int64(i + 1000) // stored
			}
		}
	}
	return eps
}

func TestReconcile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reports []AlertReport
		want    []span
	}{
		{"firing opens", []AlertReport{firing(0)}, []span{{0, -1, 0}}},
		{"firing then resolved closes", []AlertReport{firing(0), ended(0, 10, EndResolved)}, []span{{0, 10, EndResolved}}},
		{"resolved before firing stays closed", []AlertReport{ended(0, 10, EndResolved), firing(0)}, []span{{0, 10, EndResolved}}},
		{"replica with an earlier start joins", []AlertReport{firing(0), firing(-0.5)}, []span{{-0.5, -1, 0}}},
		{"replica with a later start joins", []AlertReport{firing(0), firing(0.5)}, []span{{0, -1, 0}}},
		{"a later start while open means the resolve was lost", []AlertReport{firing(0), firing(30)}, []span{{0, 30 - 1.0/60000, EndInferred}, {30, -1, 0}}},
		{"a chunk that continues an episode joins it", []AlertReport{firing(0), func() AlertReport { r := firing(30); r.Continues = true; return r }()}, []span{{0, -1, 0}}},
		{"refire after resolve is a new episode", []AlertReport{ended(0, 10, EndResolved), firing(12)}, []span{{0, 10, EndResolved}, {12, -1, 0}}},
		{"resolved beats backfill end", []AlertReport{ended(0, 11, EndBackfill), ended(0, 10, EndResolved)}, []span{{0, 10, EndResolved}}},
		{"backfill does not override resolved", []AlertReport{ended(0, 10, EndResolved), ended(0, 11, EndBackfill)}, []span{{0, 10, EndResolved}}},
		{"inferred end reopened by a later firing", []AlertReport{firing(0), ended(0, 5, EndInferred), func() AlertReport { r := firing(0); r.ObservedAt = at(8); return r }()}, []span{{0, -1, 0}}},
		{"stale firing before a stored later episode is closed before it",
			[]AlertReport{ended(20, 30, EndResolved), firing(5)}, []span{{5, 20 - 1.0/60000, EndInferred}, {20, 30, EndResolved}}},
		{"end never crosses the next episode", []AlertReport{firing(12), ended(0, 5, EndResolved), ended(0, 15, EndBackfill)},
			[]span{{0, 5, EndResolved}, {12, -1, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := spans(fold(tc.reports...))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if diff := got[i].end - tc.want[i].end; got[i].start != tc.want[i].start || diff > 1e-6 || diff < -1e-6 || got[i].kind != tc.want[i].kind {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// Duplicates and replays in any order leave what one clean delivery leaves.
func TestReconcileOrderIndependent(t *testing.T) {
	for _, clean := range [][]AlertReport{
		{firing(0), ended(0, 10, EndResolved), firing(20), ended(20, 21, EndResolved), firing(40)},
		// two replicas whose starts differ by 20 s, plus ALERTS history with its own ends
		{firing(0), firing(0.33), ended(0, 10, EndResolved), ended(0.33, 10, EndResolved), ended(0, 10.5, EndBackfill),
			firing(20), ended(20, 25, EndBackfill), firing(60), firing(60.2)},
	} {
		orderIndependent(t, clean)
	}
}

var seed int64 = 1

func orderIndependent(t *testing.T, clean []AlertReport) {
	want := spans(fold(clean...))
	rng := rand.New(rand.NewSource(seed))
	for trial := 0; trial < 300; trial++ {
		var all []AlertReport
		for k := 0; k < 3; k++ {
			all = append(all, clean...)
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		got := spans(fold(all...))
		if len(got) != len(want) {
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d: got %v, want %v", trial, got, want)
			}
		}
	}
}

func TestMatchPicksNearestStart(t *testing.T) {
	eps := fold(ended(0, 10, EndResolved), ended(10.5, 20, EndResolved))
	if i := Match(eps, firing(10.4), StartTolerance); i != 1 {
		t.Fatalf("a report starting at 10.4 belongs to the episode starting at 10.5, got index %d", i)
	}
	if i := Match(eps, firing(25), StartTolerance); i != -1 {
		t.Fatalf("a report after both episodes matches none, got %d", i)
	}
}
