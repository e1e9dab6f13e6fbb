package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

func TestToilEntries(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	add := func(team string, minutes int, at time.Time, key string) (review.ToilEntry, bool) {
		t.Helper()
		e, created, err := s.AddToilEntry(ctx, NewToilEntry{ToilEntry: review.ToilEntry{Team: team, Minutes: minutes,
			Category: "deploy", Note: "<b>manual</b>", At: at, Who: "ana", CreatedAt: at}, RequestKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return e, created
	}
	first, created := add("payments", 30, t0, "k1")
	if !created || first.ID == 0 || first.Note != "<b>manual</b>" {
		t.Fatalf("first entry = %+v, created %v", first, created)
	}
	again, created := add("payments", 30, t0.Add(time.Second), "k1")
	if created || again.ID != first.ID || !again.At.Equal(t0) {
		t.Errorf("a repeated request key stored a second entry: %+v, created %v", again, created)
	}
	add("payments", 45, t0.Add(time.Hour), "")
	add("payments", 45, t0.Add(time.Hour), "") // no key: two entries
	add("search", 10, t0.Add(time.Hour), "")
	add("payments", 5, t0.Add(7*24*time.Hour), "") // next week

	team := "payments"
	got, err := s.ToilEntries(ctx, t0.Add(-time.Hour), t0.Add(6*24*time.Hour), &team)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, e := range got {
		sum += e.Minutes
	}
	if len(got) != 3 || sum != 120 {
		t.Errorf("payments entries = %d, %d min; want 3, 120", len(got), sum)
	}
	all, err := s.ToilEntries(ctx, t0.Add(-time.Hour), t0.Add(6*24*time.Hour), nil)
	if err != nil || len(all) != 4 {
		t.Errorf("all entries = %d, %v; want 4", len(all), err)
	}
	if _, _, err := s.AddToilEntry(ctx, NewToilEntry{ToilEntry: review.ToilEntry{Minutes: 0, At: t0, CreatedAt: t0}}); err == nil {
		t.Error("0 minutes was stored")
	}
}

// notify stores one webhook notification carrying the given alerts.
func notify(t *testing.T, s *Store, receiver, group, status string, at time.Time, alerts ...review.AlertReport) {
	t.Helper()
	if _, err := s.IngestNotification(context.Background(), Notification{Receiver: receiver, GroupKey: group,
		Status: status, ReceivedAt: at, Alerts: alerts}); err != nil {
		t.Fatal(err)
	}
}

func alertAt(fp uint64, name, team string, start time.Time) review.AlertReport {
	return review.AlertReport{Fingerprint: fp, Labels: map[string]string{"alertname": name}, StartsAt: start,
		ObservedAt: start, Road: review.RoadWebhook, Team: team}
}

func TestPagesCountedIndependently(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	a := alertAt(1, "DiskFull", "payments", t0)
	b := alertAt(2, "Latency", "payments", t0.Add(time.Minute))
	c := alertAt(3, "Watchdog", "payments", t0)
	d := alertAt(4, "Search", "search", t0)
	notify(t, s, "pager", "g1", "firing", t0.Add(time.Minute), a)                                        // page: A new
	notify(t, s, "pager", "g1", "firing", t0.Add(2*time.Minute), a, b)                                   // page: B new (A repeat)
	notify(t, s, "pager", "g1", "firing", t0.Add(3*time.Minute), a, b)                                   // replay of the above: duplicate
	notify(t, s, "pager", "g1", "firing", t0.Add(4*time.Hour), a, b)                                     // same episodes again: not new
	notify(t, s, "slack", "g1", "firing", t0.Add(time.Minute), a)                                        // not a paging receiver
	notify(t, s, "pager", "g2", "firing", t0.Add(time.Minute), c)                                        // only ignored alerts
	notify(t, s, "pager", "g3", "firing", t0.Add(time.Minute), d)                                        // other team
	notify(t, s, "pager", "g1", "resolved", t0.Add(5*time.Hour), alertAt(1, "DiskFull", "payments", t0)) // resolved
	notify(t, s, "pager", "g4", "firing", t0.Add(8*24*time.Hour), alertAt(5, "DiskFull", "payments", t0.Add(8*24*time.Hour)))

	// Independently: raw notifications to "pager", firing, in the week, that are some episode's first.
	var want int
	if err := s.DB().Get(&want, `
		SELECT count(DISTINCT n.id) FROM notifications n
		JOIN receiver_episodes re ON re.first_notification_id = n.id
		JOIN episodes e ON e.id = re.episode_id
		WHERE n.receiver = 'pager' AND n.status = 'firing' AND e.alertname <> 'Watchdog'
		  AND n.received_at < $1`, t0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	pages, err := s.ToilPages(ctx, PageQuery{From: t0.Add(-time.Hour), To: t0.Add(7 * 24 * time.Hour),
		Receivers: []string{"pager"}, Ignore: []string{"Watchdog"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != want || want != 3 {
		t.Fatalf("pages = %+v, want %d (independent count) = 3", pages, want)
	}
	team := "payments"
	pages, err = s.ToilPages(ctx, PageQuery{From: t0.Add(-time.Hour), To: t0.Add(7 * 24 * time.Hour),
		Receivers: []string{"pager"}, Ignore: []string{"Watchdog"}, Team: &team})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Rules[0] != "DiskFull" || pages[1].Rules[0] != "Latency" || len(pages[1].Rules) != 1 {
		t.Errorf("payments pages = %+v, want DiskFull then Latency", pages)
	}
	if !pages[0].At.Equal(t0.Add(time.Minute)) {
		t.Errorf("page time = %v, want when it was received", pages[0].At)
	}
}
