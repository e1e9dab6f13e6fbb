package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// A build's figures are stored only from a snapshot that is still current and of a closed window:
// a write committed between the read and the store (the version moved), or a window ending after
// the watermark, stores nothing.
func TestSaveNormalWeeksGuards(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	job := BaselineJob{Loc: time.UTC, Spec: review.NewBaselineSpec(4, 0.1, 0.9)}
	ref, err := s.EnsureSLI(ctx, SLIDef{Name: "rps", Source: "prom", Query: "x", Step: 5 * time.Minute}, job)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	samples := wave(from, 2*7*288, 5*time.Minute, time.UTC)
	end := samples[len(samples)-1].At
	if err := s.SaveSLISamples(ctx, ref.ID, samples, &end, job); err != nil {
		t.Fatal(err)
	}
	week := review.WeekOf(from, time.UTC)
	read := func() NormalState {
		_, _, st, err := s.NormalInputs(ctx, []string{"rps"}, week.Start, week.End, 4*7*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return st["rps"]
	}
	stored := func() int {
		var n int
		if err := s.db.Get(&n, `SELECT count(*) FROM sli_normal_weeks`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	save := func(st NormalState, to time.Time) int {
		n, err := s.SaveNormalWeeks(ctx, week.Start, to, []NormalWeekRow{{NormalState: st, Params: "p", NormalWeek: NormalWeek{Runs: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	stale := read()
	// A late sample of the week, committed after the read.
	if err := s.SaveSLISamples(ctx, ref.ID, []review.Sample{{At: week.Start.Add(time.Hour + time.Minute), Value: 1}}, nil, job); err != nil {
		t.Fatal(err)
	}
	if n := save(stale, week.End); n != 0 || stored() != 0 {
		t.Fatalf("figures read before a write were stored after it (%d rows)", stored())
	}
	if n := save(read(), end.Add(time.Minute)); n != 0 || stored() != 0 {
		t.Fatal("a window ending after the watermark was stored")
	}
	if n := save(read(), week.End); n != 1 || stored() != 1 {
		t.Fatalf("current figures of a closed week not stored (%d)", n)
	}
	// A sample of the following week leaves the stored week alone; one of the week removes it.
	if err := s.SaveSLISamples(ctx, ref.ID, []review.Sample{{At: week.End.Add(time.Hour + time.Minute), Value: 1}}, nil, job); err != nil {
		t.Fatal(err)
	}
	if n := stored(); n != 1 {
		t.Fatalf("a sample outside the window removed its figures")
	}
	if _, err := s.db.Exec(`DELETE FROM sli_samples WHERE at = $1`, week.Start.Add(time.Hour+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := stored(); n != 0 {
		t.Fatalf("deleting a sample of the week left its figures")
	}
}
