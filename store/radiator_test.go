package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

func firing(fp uint64, name, sev, team string, start time.Time) review.AlertReport {
	r := report(fp, start, time.Time{}, review.RoadWebhook)
	r.Labels = map[string]string{"alertname": name, "instance": "i", "severity": sev}
	r.Team = team
	return r
}

func TestFiringNowBySeverityOldestFirst(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	reports := []review.AlertReport{
		firing(1, "DiskFull", "critical", "payments", t0.Add(2*time.Hour)),
		firing(2, "DiskFull", "critical", "payments", t0),
		firing(3, "DiskFull", "critical", "payments", t0.Add(time.Hour)),
		firing(4, "HighLatency", "warning", "search", t0),
		firing(5, "Watchdog", "none", "", t0),
	}
	ended := report(6, t0, t0.Add(time.Minute), review.RoadWebhook)
	if err := s.IngestAlerts(ctx, append(reports, ended), nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.FiringNow(ctx, FiringFilter{Ignore: []string{"Watchdog"}, PerRank: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 2 critical and 1 warning: %+v", len(got), got)
	}
	if got[0].Severity != "critical" || got[0].SeverityCount != 3 || !got[0].StartsAt.Equal(t0) ||
		!got[1].StartsAt.Equal(t0.Add(time.Hour)) || got[2].Severity != "warning" || got[2].SeverityCount != 1 {
		t.Errorf("unexpected rows: %+v", got)
	}
	team := "search"
	got, err = s.FiringNow(ctx, FiringFilter{Team: &team})
	if err != nil || len(got) != 1 || got[0].Alertname != "HighLatency" {
		t.Errorf("team search: %+v, %v", got, err)
	}
}

func TestPagesCountFirstNotificationsToPagingReceivers(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	send := func(receiver, status string, at time.Time, alerts ...review.AlertReport) {
		t.Helper()
		n := Notification{Receiver: receiver, GroupKey: "g", Status: status, ReceivedAt: at, Alerts: alerts}
		if _, err := s.IngestNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	a := firing(1, "DiskFull", "critical", "payments", t0)
	b := firing(2, "Watchdog", "none", "payments", t0)
	send("pager", "firing", t0.Add(time.Minute), a)                                 // a page
	send("pager", "firing", t0.Add(5*time.Minute), a)                               // a repeat of the same episode
	send("chat", "firing", t0.Add(time.Minute), firing(3, "X", "", "payments", t0)) // not a paging receiver
	send("pager", "firing", t0.Add(9*time.Minute), b)                               // ignored alert
	c := firing(4, "Latency", "warning", "search", t0.Add(time.Hour))
	send("pager", "firing", t0.Add(time.Hour), c) // a page of another team

	all, err := s.ToilPages(ctx, PageQuery{From: t0, To: t0.Add(24 * time.Hour), Receivers: []string{"pager"}, Ignore: []string{"Watchdog"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Team != "payments" || all[1].Team != "search" || !all[0].At.Equal(t0.Add(time.Minute)) {
		t.Errorf("pages = %+v, want the first DiskFull and the Latency page", all)
	}
	team := "search"
	one, err := s.ToilPages(ctx, PageQuery{From: t0, To: t0.Add(24 * time.Hour), Team: &team, Receivers: []string{"pager"}})
	if err != nil || len(one) != 1 {
		t.Errorf("search pages = %+v, %v", one, err)
	}
}
