package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// TestRetentionDeletesOldHistoryAndKeepsWhatIsReferenced: episodes that ended before the cutoff go
// with their links and the notifications left carrying nothing; an old episode still firing, an
// episode that runs across the cutoff, and the old notification that carries a kept episode stay;
// decisions stay; a second run deletes nothing; ingest afterwards still finds the kept episode.
func TestRetentionDeletesOldHistoryAndKeepsWhatIsReferenced(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	cutoff := t0.AddDate(0, 0, -400)
	old := cutoff.AddDate(0, 0, -30)
	recent := t0.AddDate(0, 0, -3)

	resolved := func(a review.AlertReport, end time.Time) review.AlertReport {
		a.EndsAt, a.EndKind = end, review.EndResolved
		return a
	}
	gone := alertAt(1, "DiskFull", "payments", old)     // fired and resolved long ago
	stillFiring := alertAt(3, "Down", "payments", old)  // fired long ago, never resolved
	straddles := alertAt(4, "Latency", "payments", old) // fired before the cutoff, resolved after
	fresh := alertAt(2, "DiskFull", "payments", recent) // inside retention
	notify(t, s, "pager", "g1", "firing", old, gone, stillFiring, straddles)
	notify(t, s, "pager", "g1", "resolved", old.Add(time.Hour), resolved(gone, old.Add(time.Hour)))
	notify(t, s, "pager", "g2", "firing", old.Add(2*time.Hour), alertAt(1, "DiskFull", "payments", old))
	notify(t, s, "pager", "g3", "resolved", cutoff.AddDate(0, 0, 1), resolved(straddles, cutoff.AddDate(0, 0, 1)))
	notify(t, s, "pager", "g4", "firing", recent, fresh)
	notify(t, s, "pager", "g4", "resolved", recent.Add(time.Hour), resolved(fresh, recent.Add(time.Hour)))

	zero := 0
	if _, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2025-W30", Verdict: "noise", By: "ana", At: old, ExpectVersion: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddChange(ctx, Change{Service: "api", Kind: "deploy", At: old, CreatedAt: old}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddChange(ctx, Change{Service: "api", Kind: "deploy", At: recent, CreatedAt: recent}); err != nil {
		t.Fatal(err)
	}
	// Rules: DiskFull changed twice before the cutoff and once after; Gone left before the cutoff.
	for i, at := range []time.Time{old, old.AddDate(0, 0, 1), recent} {
		rules := []review.AlertRule{rule("DiskFull", "disk > 0.9"+string(rune('0'+i)))}
		if i == 0 {
			rules = append(rules, rule("Gone", "up == 0"))
		}
		if err := s.UpsertRules(ctx, "prom", rules, at); err != nil {
			t.Fatal(err)
		}
	}
	var sli int64
	if err := s.db.Get(&sli, `INSERT INTO slis (name, source, query, step_seconds) VALUES ('api', 'prom', 'up', 300) RETURNING id`); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{old, old.Add(5 * time.Minute), recent} {
		if _, err := s.db.Exec(`INSERT INTO sli_samples (sli_id, at, value) VALUES ($1, $2, 1)`, sli, at); err != nil {
			t.Fatal(err)
		}
	}

	count := func(q string) int {
		t.Helper()
		var n int
		if err := s.db.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		return n
	}
	notificationsBefore := count(`SELECT count(*) FROM notifications`)

	got, err := s.Retention(ctx, cutoff, 1) // batches of one row: the loop must go round
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"episodes": 1, "notifications": 2, "changes": 1, "alert_rules": 1,
		"alert_rule_versions": 1, "sli_samples": 2, "silences": 0, "sli_baselines": 0}
	for table, n := range want {
		if got[table] != n {
			t.Errorf("pruned %s: %d rows, want %d (all: %v)", table, got[table], n, got)
		}
	}

	var fps []int64
	if err := s.db.Select(&fps, `SELECT fingerprint FROM episodes ORDER BY fingerprint`); err != nil {
		t.Fatal(err)
	}
	if len(fps) != 3 || fps[0] != 2 || fps[1] != 3 || fps[2] != 4 {
		t.Fatalf("episodes after retention: fingerprints %v, want 2, 3 and 4", fps)
	}
	// The first notification carried the pruned episode and two kept ones: it stays, linked to those.
	if n := count(`SELECT count(*) FROM notifications`); n != notificationsBefore-2 {
		t.Errorf("notifications: %d left of %d, want two fewer", n, notificationsBefore)
	}
	if n := count(`SELECT count(*) FROM notification_episodes ne JOIN notifications n ON n.id = ne.notification_id
		WHERE n.group_key = 'g1' AND n.status = 'firing'`); n != 2 {
		t.Errorf("links of the first notification: %d, want its two kept episodes", n)
	}
	if n := count(`SELECT count(*) FROM receiver_episodes r WHERE NOT EXISTS (SELECT 1 FROM episodes e WHERE e.id = r.episode_id)`); n != 0 {
		t.Errorf("%d first-notification rows of deleted episodes", n)
	}
	if n := count(`SELECT count(*) FROM receiver_episodes`); n != 3 {
		t.Errorf("first-notification rows: %d, want one per kept episode", n)
	}
	if n := count(`SELECT count(*) FROM verdicts`); n != 1 {
		t.Errorf("verdicts: %d, want the old decision kept", n)
	}
	if n := count(`SELECT count(*) FROM alert_rule_versions v JOIN alert_rules r ON r.id = v.rule_id WHERE r.alertname = 'DiskFull'`); n != 2 {
		t.Errorf("DiskFull versions: %d, want the one in force at the cutoff and the recent one", n)
	}

	again, err := s.Retention(ctx, cutoff, 100)
	if err != nil || again.Total() != 0 {
		t.Fatalf("second run: %v %v, want nothing deleted", again, err)
	}

	// The kept episode still firing is the one a late resolve closes: no second episode appears.
	notify(t, s, "pager", "g1", "resolved", t0, resolved(stillFiring, t0))
	if n := count(`SELECT count(*) FROM episodes WHERE fingerprint = 3`); n != 1 {
		t.Errorf("fingerprint 3 has %d episodes, want 1", n)
	}
	if n := count(`SELECT count(*) FROM episodes WHERE fingerprint = 3 AND ends_at IS NULL`); n != 0 {
		t.Errorf("episode 3 still open after its resolve")
	}
}
