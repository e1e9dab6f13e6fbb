package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestVerdictsKeepHistoryAndRefuseStaleWrites(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	zero, one := 0, 1
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	v1, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W47", Verdict: "noise", By: "ana", At: at, ExpectVersion: &zero})
	if err != nil || v1.Version != 1 {
		t.Fatalf("first verdict: %+v %v", v1, err)
	}
	// Bob saw no verdict either: his write must not silently replace Ana's.
	_, err = s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W47", Verdict: "actionable", By: "bob", At: at, ExpectVersion: &zero})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale write: want ErrConflict, got %v", err)
	}
	v2, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W47", Verdict: "actionable", By: "bob", At: at.Add(time.Minute), ExpectVersion: &one, IdempotencyKey: "k1"})
	if err != nil || v2.Version != 2 {
		t.Fatalf("second verdict: %+v %v", v2, err)
	}
	again, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W47", Verdict: "actionable", By: "bob", At: at.Add(2 * time.Minute), ExpectVersion: &one, IdempotencyKey: "k1"})
	if err != nil || again.ID != v2.ID {
		t.Fatalf("double submit: %+v %v, want the same verdict %d", again, err, v2.ID)
	}
	if _, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W46", Verdict: "noise", By: "cy", At: at}); err != nil {
		t.Fatal(err)
	}
	latest, err := s.LatestVerdicts(ctx, []string{"2026-W47"})
	if err != nil || latest["DiskFull"].Verdict != "actionable" || latest["DiskFull"].DecidedBy != "bob" || len(latest) != 1 {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	hist, err := s.VerdictHistory(ctx, "DiskFull", "", 0)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %+v %v", hist, err)
	}
}

func TestActionItemsReturnAsFollowUpsUntilClosed(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	w47 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	w48 := w47.AddDate(0, 0, 7)
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	add := func(title string, due time.Time, key string) ActionItem {
		a, _, err := s.AddActionItem(ctx, ActionItem{Title: title, Owner: "ana", Due: due, Alertname: "DiskFull", Team: "payments",
			Week: "2026-W47", WeekStart: w47, CreatedBy: "ana", CreatedAt: created}, key)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	later := add("tune the threshold", time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), "a")
	soon := add("write the runbook", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), "b")
	if dup, created, err := s.AddActionItem(ctx, ActionItem{Title: "write the runbook", Owner: "ana", Due: soon.Due, Week: "2026-W47", WeekStart: w47, CreatedBy: "ana", CreatedAt: created}, "b"); err != nil || created || dup.ID != soon.ID {
		t.Fatalf("double submit made a second item: %+v %v %v", dup, created, err)
	}
	team := "payments"
	today := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	follow := func() []ActionItem {
		items, err := s.ActionItems(ctx, ActionFilter{Team: &team, FollowUpsOf: &w48, ClosedAfter: w48.AddDate(0, 0, 7), Today: today})
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	if got := follow(); len(got) != 2 || got[0].ID != soon.ID || !got[0].Overdue(today) || got[1].Overdue(today) {
		t.Fatalf("follow-ups of W48: overdue first; got %+v", got)
	}
	// The week it was decided in has no follow-ups of it.
	if items, _ := s.ActionItems(ctx, ActionFilter{FollowUpsOf: &w47, ClosedAfter: w48, Today: today}); len(items) != 0 {
		t.Fatalf("W47 follow-ups: %+v", items)
	}
	one := 1
	newDue := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	redated, err := s.UpdateActionItem(ctx, soon.ID, ActionItemChange{Due: &newDue, By: "bob", At: today, ExpectVersion: &one})
	if err != nil || redated.DueDate() != "2026-12-20" || redated.Version != 2 {
		t.Fatalf("re-date: %+v %v", redated, err)
	}
	if _, err := s.UpdateActionItem(ctx, soon.ID, ActionItemChange{Close: true, By: "cy", At: today, ExpectVersion: &one}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale close: want ErrConflict, got %v", err)
	}
	closed, err := s.UpdateActionItem(ctx, later.ID, ActionItemChange{Close: true, By: "cy", At: w48.AddDate(0, 0, 8)})
	if err != nil || closed.Open() || closed.ClosedBy != "cy" {
		t.Fatalf("close: %+v %v", closed, err)
	}
	// Closed after W48 ended (in its meeting): still shown for W48, struck through; gone from W49 on.
	if got := follow(); len(got) != 2 {
		t.Fatalf("W48 after closing in its meeting: %+v", got)
	}
	w49 := w48.AddDate(0, 0, 7)
	if items, _ := s.ActionItems(ctx, ActionFilter{FollowUpsOf: &w49, ClosedAfter: w49.AddDate(0, 0, 7), Today: today}); len(items) != 1 || items[0].ID != soon.ID {
		t.Fatalf("W49 follow-ups: %+v", items)
	}
	if _, err := s.UpdateActionItem(ctx, 9999, ActionItemChange{Close: true, By: "x", At: today}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing item: %v", err)
	}
}

func TestChangesListAlertsFiredWithinAnHourAfter(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 18, 14, 0, 0, 0, time.UTC)
	c, created, err := s.AddChange(ctx, Change{Service: "checkout", Kind: "deploy", At: at, Who: "ci", Summary: "v1.2", URL: "https://ci.example/1", CreatedAt: at})
	if err != nil || !created {
		t.Fatal(err)
	}
	if again, created, err := s.AddChange(ctx, Change{Service: "checkout", Kind: "deploy", At: at, Who: "ci", Summary: "v1.2", URL: "https://ci.example/1", CreatedAt: at.Add(time.Minute)}); err != nil || created || again.ID != c.ID {
		t.Fatalf("retry stored twice: %+v %v %v", again, created, err)
	}
	for i, off := range []time.Duration{-time.Minute, 0, 30 * time.Minute, 59 * time.Minute, time.Hour} {
		name := "DiskFull"
		if i == 2 {
			name = "Watchdog"
		}
		if _, err := s.db.ExecContext(ctx, `
			INSERT INTO episodes (fingerprint, alertname, labels, starts_at, ends_at, last_seen_at)
			VALUES ($1, $2, '{}', $3, $3, $3)`, i+1, name, at.Add(off)); err != nil {
			t.Fatal(err)
		}
	}
	f := testFilter()
	f.From, f.To = at.Add(-time.Hour), at.Add(time.Hour)
	got, err := s.Changes(ctx, f)
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if a := got[0].AlertsAfter; len(a) != 1 || a[0].Alertname != "DiskFull" || a[0].Fires != 2 {
		t.Fatalf("alerts after: %+v (want DiskFull ×2: at 0 and 59 min; Watchdog ignored)", a)
	}
}
