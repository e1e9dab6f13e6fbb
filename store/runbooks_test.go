package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// addRule stores an alert rule with annotations, as the rules collector would.
func addRule(t *testing.T, s *Store, alertname string, annotations map[string]string, firstSeen time.Time) {
	t.Helper()
	_, err := s.DB().Exec(`
		INSERT INTO alert_rules (rule_key, source, group_file, group_name, alertname, expr, annotations,
		                         content_hash, first_seen, last_seen)
		VALUES ($1, 'prom', 'f.yml', 'g', $2, 'up == 0', $3, '\x00', $4, $4)`,
		[]byte(alertname), alertname, jsonText(annotations), firstSeen)
	if err != nil {
		t.Fatal(err)
	}
}

// fire stores one episode of alertname with annotations, starting at start, for team.
func fire(t *testing.T, s *Store, fp uint64, alertname, team string, annotations map[string]string, start time.Time) {
	t.Helper()
	r := review.AlertReport{Fingerprint: fp, Labels: map[string]string{"alertname": alertname},
		Annotations: annotations, StartsAt: start, EndsAt: start.Add(time.Minute), EndKind: review.EndResolved,
		ObservedAt: start, Road: review.RoadWebhook, Team: team}
	if err := s.IngestAlerts(context.Background(), []review.AlertReport{r}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRunbooksFromRulesAndEpisodes(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0
	addRule(t, s, "DiskFull", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-200*day))
	addRule(t, s, "DiskFullSoon", map[string]string{"playbook": " https://wiki/disk "}, now.Add(-10*day))
	addRule(t, s, "NoBook", map[string]string{"summary": "x"}, now.Add(-5*day))
	addRule(t, s, "Watchdog", map[string]string{}, now.Add(-5*day))
	// Episodes: DiskFull fired 3 times recently and once long ago; Latency only from episodes.
	for i := range 3 {
		fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-time.Duration(i+1)*day))
	}
	fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-300*day))
	fire(t, s, 2, "Latency", "search", map[string]string{"runbook_url": "javascript:alert(1)"}, now.Add(-2*day))
	fire(t, s, 3, "NoBookEither", "", nil, now.Add(-3*day))
	fire(t, s, 4, "OldNoBook", "", nil, now.Add(-100*day))
	// Alerts without a rule whose annotations changed (two annotation sets, neither with a
	// runbook): one fired recently with its newer set, the other only long ago with both.
	fire(t, s, 5, "ChangedNoBook", "", map[string]string{"summary": "a"}, now.Add(-100*day))
	fire(t, s, 5, "ChangedNoBook", "", map[string]string{"summary": "b"}, now.Add(-2*day))
	fire(t, s, 6, "OldChangedNoBook", "", map[string]string{"summary": "a"}, now.Add(-100*day))
	fire(t, s, 6, "OldChangedNoBook", "", map[string]string{"summary": "b"}, now.Add(-60*day))

	q := RunbookQuery{Annotations: []string{"runbook_url", "playbook"}, Ignore: []string{"Watchdog"},
		From: now.Add(-review.RiskWindow), To: now}
	got, err := s.Runbooks(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]review.RankedRunbook{}
	for _, r := range got {
		key := r.URL
		if key == "" {
			key = "missing:" + r.Alerts[0]
		}
		byKey[key] = r
	}
	if len(byKey) != 5 {
		t.Fatalf("got %d entries, want disk, javascript, NoBook, NoBookEither and ChangedNoBook: %+v", len(byKey), got)
	}
	if _, ok := byKey["missing:ChangedNoBook"]; !ok {
		t.Error("an alert with no runbook that fired recently (with its newer annotations) is not listed as missing")
	}
	disk := byKey["https://wiki/disk"]
	if len(disk.Alerts) != 2 || disk.Alerts[0] != "DiskFull" || disk.Alerts[1] != "DiskFullSoon" {
		t.Errorf("disk alerts = %v", disk.Alerts)
	}
	if disk.Fires != 3 {
		t.Errorf("disk fires = %d, want 3 in the window", disk.Fires)
	}
	if !disk.FirstSeen.Equal(now.Add(-300 * day)) {
		t.Errorf("disk first seen = %v, want the oldest episode", disk.FirstSeen)
	}
	if js := byKey["javascript:alert(1)"]; js.Fires != 1 || js.Alerts[0] != "Latency" {
		t.Errorf("javascript runbook = %+v", js)
	}
	if _, ok := byKey["missing:OldNoBook"]; ok {
		t.Error("an alert with no rule that has not fired recently is listed as missing")
	}
	if _, ok := byKey["missing:Watchdog"]; ok {
		t.Error("an ignored alert is listed")
	}

	// Team filter applies to fires.
	other := "search"
	q.Team = &other
	got, err = s.Runbooks(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.URL == "https://wiki/disk" && r.Fires != 0 {
			t.Errorf("disk fires for team search = %d, want 0", r.Fires)
		}
	}
}

func TestRunbookChecksAndReviews(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	now := t0
	addRule(t, s, "DiskFull", map[string]string{"runbook_url": "https://wiki/disk"}, now.Add(-24*time.Hour))
	q := RunbookQuery{Annotations: []string{"runbook_url"}, From: now.Add(-review.RiskWindow), To: now}

	urls, err := s.RunbookURLs(ctx, q)
	if err != nil || len(urls) != 1 {
		t.Fatalf("RunbookURLs = %v, %v", urls, err)
	}
	lm := now.Add(-48 * time.Hour)
	if err := s.RecordRunbookCheck(ctx, RunbookCheck{URL: "https://wiki/disk", FirstSeen: urls["https://wiki/disk"].FirstSeen,
		CheckedAt: now, StatusCode: 200, LastModified: &lm}); err != nil {
		t.Fatal(err)
	}
	// A later check without Last-Modified keeps the last known change.
	if err := s.RecordRunbookCheck(ctx, RunbookCheck{URL: "https://wiki/disk", FirstSeen: now,
		CheckedAt: now.Add(time.Hour), StatusCode: 503, Error: ""}); err != nil {
		t.Fatal(err)
	}
	st, err := s.MarkRunbookReviewed(ctx, q, "https://wiki/disk", "ana", now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.ReviewedBy != "ana" || st.LastReviewed == nil || !st.LastReviewed.Equal(now.Add(2*time.Hour)) {
		t.Errorf("after review: %+v", st)
	}
	if st.StatusCode != 503 || st.LastModified == nil || !st.LastModified.Equal(lm) {
		t.Errorf("check fields after review: %+v", st)
	}
	if !st.FirstSeen.Equal(now.Add(-24 * time.Hour)) {
		t.Errorf("first seen = %v", st.FirstSeen)
	}
	// A double click records one review; a later one by someone else a second.
	if _, err := s.MarkRunbookReviewed(ctx, q, "https://wiki/disk", "ana", now.Add(2*time.Hour+time.Second)); err != nil {
		t.Fatal(err)
	}
	// An earlier review (a clock behind) does not move last_reviewed back.
	st, err = s.MarkRunbookReviewed(ctx, q, "https://wiki/disk", "bo", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.ReviewedBy != "ana" || !st.LastReviewed.Equal(now.Add(2*time.Hour+time.Second)) {
		t.Errorf("an older review overwrote a newer one: %+v", st)
	}
	revs, err := s.RunbookReviews(ctx, "https://wiki/disk")
	if err != nil || len(revs) != 2 {
		t.Errorf("reviews = %+v, %v; want ana once and bo once", revs, err)
	}
	if _, err := s.MarkRunbookReviewed(ctx, q, "https://wiki/other", "ana", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("reviewing an unknown runbook: %v, want ErrNotFound", err)
	}
}

func TestRunbookAgendaRows(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	week := t0
	addRule(t, s, "DiskFull", map[string]string{"runbook_url": "https://wiki/disk"}, week.Add(-200*day))
	fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, week.Add(time.Hour))
	fire(t, s, 1, "DiskFull", "payments", map[string]string{"runbook_url": "https://wiki/disk"}, week.Add(3*time.Hour))
	fire(t, s, 2, "NoBook", "payments", nil, week.Add(2*time.Hour))
	fire(t, s, 3, "Quiet", "payments", map[string]string{"runbook_url": "https://wiki/quiet"}, week.Add(-30*day))
	fire(t, s, 4, "Search", "search", nil, week.Add(2*time.Hour))
	team := "payments"
	rows, err := s.RunbookAgendaRows(ctx, RunbookQuery{Annotations: []string{"runbook_url"},
		From: week, To: week.Add(7 * day), Team: &team})
	if err != nil {
		t.Fatal(err)
	}
	agenda := review.RunbookAgenda(rows, week.Add(7*day), 90*day)
	if len(agenda) != 2 {
		t.Fatalf("agenda = %+v, want DiskFull (stale) and NoBook (missing)", agenda)
	}
	if agenda[0].Alerts[0] != "DiskFull" || agenda[0].Status != review.RunbookStale || agenda[0].Fires != 2 {
		t.Errorf("first = %+v", agenda[0])
	}
	if agenda[1].Alerts[0] != "NoBook" || agenda[1].Status != review.RunbookMissing || agenda[1].Fires != 1 {
		t.Errorf("second = %+v", agenda[1])
	}
}
