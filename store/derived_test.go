package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

// checkDerived recomputes episodes.gap_before and receiver_episodes' copies of team, rule and
// receipt time from the raw rows, and fails on any row where the stored value differs.
func checkDerived(t *testing.T, s *Store, when string) {
	t.Helper()
	ctx := context.Background()
	var eps []struct {
		ID          int64          `db:"id"`
		Fingerprint int64          `db:"fingerprint"`
		StartsAt    time.Time      `db:"starts_at"`
		EndsAt      *time.Time     `db:"ends_at"`
		Gap         *time.Duration `db:"-"`
		GapText     *float64       `db:"gap"`
	}
	if err := s.db.SelectContext(ctx, &eps, `
		SELECT id, fingerprint, starts_at, ends_at, extract(epoch FROM gap_before)::float8 AS gap FROM episodes`); err != nil {
		t.Fatal(err)
	}
	sort.Slice(eps, func(i, j int) bool {
		if eps[i].Fingerprint != eps[j].Fingerprint {
			return eps[i].Fingerprint < eps[j].Fingerprint
		}
		return eps[i].StartsAt.Before(eps[j].StartsAt)
	})
	for i, e := range eps {
		var want *float64
		if i > 0 && eps[i-1].Fingerprint == e.Fingerprint && eps[i-1].EndsAt != nil && !e.StartsAt.Before(*eps[i-1].EndsAt) {
			g := e.StartsAt.Sub(*eps[i-1].EndsAt).Seconds()
			want = &g
		}
		got := e.GapText
		if (want == nil) != (got == nil) || want != nil && fmt.Sprintf("%.6f", *want) != fmt.Sprintf("%.6f", *got) {
			t.Fatalf("%s: episode %d (fingerprint %d, start %s): gap_before %v, want %v", when, e.ID, e.Fingerprint,
				e.StartsAt.Format(time.RFC3339), fmtGap(got), fmtGap(want))
		}
	}
	var bad []struct {
		Receiver  string `db:"receiver"`
		EpisodeID int64  `db:"episode_id"`
	}
	if err := s.db.SelectContext(ctx, &bad, `
		SELECT r.receiver, r.episode_id
		FROM receiver_episodes r
		JOIN episodes e ON e.id = r.episode_id
		JOIN notifications n ON n.id = r.first_notification_id
		WHERE r.team IS DISTINCT FROM e.team OR r.alertname IS DISTINCT FROM e.alertname
		   OR r.received_at IS DISTINCT FROM CASE WHEN n.status = 'firing' THEN n.received_at END`); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%s: receiver_episodes rows whose copies differ from their episode and notification: %+v", when, bad)
	}
	var sets []string
	if err := s.db.SelectContext(ctx, &sets, `
		WITH raw AS (
		    SELECT alertname, annotations, min(starts_at) AS first_start
		    FROM episodes GROUP BY alertname, annotations
		)
		SELECT coalesce(r.alertname, s.alertname) || ' ' || coalesce(r.annotations, s.annotations)::text
		       || ': ' || coalesce(s.first_start::text, '-') || ', want ' || coalesce(r.first_start::text, '-')
		FROM raw r
		FULL JOIN alert_annotation_sets s ON s.alertname = r.alertname AND s.annotations = r.annotations
		WHERE r.first_start IS DISTINCT FROM s.first_start
		   OR s.key IS DISTINCT FROM decode(md5(r.annotations::text), 'hex')`); err != nil {
		t.Fatal(err)
	}
	if len(sets) > 0 {
		t.Fatalf("%s: alert_annotation_sets differ from the episodes: %q", when, sets)
	}
}

func fmtGap(g *float64) string {
	if g == nil {
		return "NULL"
	}
	return fmt.Sprintf("%gs", *g)
}

// TestDerivedColumnsFollowEveryWriter drives random histories through the ingest paths (webhook
// notifications, collector reports, out of order and merged), raw inserts of earlier episodes, updates
// that move starts and ends, team changes, earlier copies of notifications, vanished alerts and
// deletes, and checks after each step that the columns the pages read match a recomputation.
func TestDerivedColumnsFollowEveryWriter(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(6))
	base := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	alert := func(fp int, start, end time.Time) review.AlertReport {
		r := review.AlertReport{
			Fingerprint: uint64(fp), Labels: map[string]string{"alertname": fmt.Sprintf("Rule%d", fp%4), "instance": fmt.Sprint(fp)},
			StartsAt: start, ObservedAt: start.Add(time.Second), Road: review.RoadWebhook, Team: []string{"a", "b", ""}[fp%3],
			Annotations: map[string]string{"runbook_url": fmt.Sprintf("https://wiki.example/%d", rng.Intn(3))},
		}
		if !end.IsZero() {
			r.EndsAt, r.EndKind = end, review.EndResolved
		}
		return r
	}
	// Episodes of each fingerprint, delivered in shuffled order, some as a firing then a resolved
	// notification, some as collector reports.
	var reports []review.AlertReport
	for fp := 1; fp <= 12; fp++ {
		at := base.Add(time.Duration(rng.Intn(600)) * time.Minute)
		for k := 0; k < 6; k++ {
			end := at.Add(time.Duration(1+rng.Intn(40)) * time.Minute)
			reports = append(reports, alert(fp, at, time.Time{}), alert(fp, at, end))
			at = end.Add(time.Duration(rng.Intn(50)) * time.Minute)
		}
	}
	rng.Shuffle(len(reports), func(i, j int) { reports[i], reports[j] = reports[j], reports[i] })
	for i := 0; i < len(reports); {
		n := 1 + rng.Intn(8)
		if i+n > len(reports) {
			n = len(reports) - i
		}
		batch := reports[i : i+n]
		i += n
		if rng.Intn(2) == 0 {
			if err := s.IngestAlerts(ctx, batch, nil); err != nil {
				t.Fatal(err)
			}
			continue
		}
		status := "firing"
		if !batch[0].EndsAt.IsZero() {
			status = "resolved"
		}
		received := base.Add(time.Duration(rng.Intn(3000)) * time.Minute)
		if _, err := s.IngestNotification(ctx, Notification{
			Receiver: []string{"pager", "chat"}[rng.Intn(2)], Status: status, GroupKey: fmt.Sprintf("g%d", i),
			ReceivedAt: received, Alerts: batch,
		}); err != nil {
			t.Fatal(err)
		}
	}
	checkDerived(t, s, "after shuffled ingest")

	// A replica's earlier-starting report merges into an episode and moves its start.
	var first struct {
		Fingerprint int64     `db:"fingerprint"`
		StartsAt    time.Time `db:"starts_at"`
	}
	if err := s.db.GetContext(ctx, &first, `SELECT fingerprint, starts_at FROM episodes ORDER BY id LIMIT 1 OFFSET 5`); err != nil {
		t.Fatal(err)
	}
	if err := s.IngestAlerts(ctx, []review.AlertReport{alert(int(first.Fingerprint), first.StartsAt.Add(-20*time.Second), time.Time{})}, nil); err != nil {
		t.Fatal(err)
	}
	checkDerived(t, s, "after a merge moved a start")

	// An earlier episode inserted later (an ALERTS backfill), before each fingerprint's history.
	for fp := 1; fp <= 12; fp += 3 {
		if err := s.IngestAlerts(ctx, []review.AlertReport{alert(fp, base.Add(-3*time.Hour), base.Add(-2*time.Hour-50*time.Minute))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkDerived(t, s, "after inserting earlier episodes")

	// Raw writes any future writer could make: move ends, change teams, delete, receive a copy of a
	// notification earlier.
	steps := []struct{ name, sql string }{
		{"ends moved", `UPDATE episodes SET ends_at = ends_at - interval '30 seconds' WHERE id % 3 = 0 AND ends_at IS NOT NULL AND ends_at - starts_at > interval '1 minute'`},
		{"teams changed", `UPDATE episodes SET team = 'c' WHERE id % 4 = 1`},
		{"annotations changed", `UPDATE episodes SET annotations = '{"runbook_url": "https://wiki.example/new"}' WHERE id % 6 = 1`},
		{"starts moved later", `UPDATE episodes SET starts_at = starts_at + interval '10 seconds' WHERE id % 7 = 3 AND (ends_at IS NULL OR ends_at - starts_at > interval '1 minute')`},
		{"an episode reopened", `UPDATE episodes SET ends_at = NULL WHERE id = (SELECT max(id) FROM episodes e2 WHERE NOT EXISTS (SELECT 1 FROM episodes e3 WHERE e3.fingerprint = e2.fingerprint AND e3.starts_at > e2.starts_at))`},
		{"episodes deleted", `DELETE FROM episodes WHERE id % 5 = 2`},
		{"notification received earlier", `UPDATE notifications SET received_at = received_at - interval '1 hour' WHERE id % 2 = 0`},
		{"notification turned resolved", `UPDATE notifications SET status = 'resolved' WHERE id = (SELECT min(first_notification_id) FROM receiver_episodes)`},
		{"first notification replaced", `UPDATE receiver_episodes SET first_notification_id = (SELECT max(id) FROM notifications) WHERE episode_id = (SELECT min(episode_id) FROM receiver_episodes)`},
	}
	for _, st := range steps {
		if _, err := s.db.ExecContext(ctx, st.sql); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		checkDerived(t, s, "after "+st.name)
	}

	// The bench loader's path: rebuild everything from scratch agrees with what the triggers kept.
	var changed int
	if err := s.db.GetContext(ctx, &changed, `SELECT episodes_rebuild_gaps() + receiver_episodes_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if changed != 0 {
		t.Fatalf("a full rebuild changed %d rows the triggers had kept", changed)
	}
}

// TestChangesMatchARangeScanPerChange compares the swept changes list with the statement it
// replaced (one range count per change) on random changes and episodes, for each team filter.
func TestChangesMatchARangeScanPerChange(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	insertHistory(t, s, 11)
	rng := rand.New(rand.NewSource(11))
	for i := 0; i < 60; i++ {
		at := winFrom.Add(time.Duration(rng.Intn(7*24*60)) * time.Minute)
		if i%10 == 0 && i > 0 {
			at = winFrom.Add(time.Duration(i) * time.Hour) // some share a time
		}
		if _, _, err := s.AddChange(ctx, Change{Service: fmt.Sprintf("svc%d", i%7), Kind: "deploy", At: at, Summary: fmt.Sprint(i), CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, teams := range [][]string{nil, {"payments", ""}, {"search"}, {""}} {
		f := testFilter()
		f.Teams = teams
		got, err := s.Changes(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		allTeams, tarr := f.teams()
		var want []struct {
			ID    int64  `db:"id"`
			After string `db:"alerts_after"`
		}
		if err := s.db.SelectContext(ctx, &want, `
			SELECT c.id,
			       coalesce((
			           SELECT json_agg(json_build_object('alertname', a.alertname, 'fires', a.fires) ORDER BY a.fires DESC, a.alertname)
			           FROM (SELECT e.alertname, count(*) AS fires
			                 FROM episodes e
			                 WHERE e.starts_at >= c.at AND e.starts_at < c.at + make_interval(secs => $3)
			                   AND ($4 OR e.team = ANY($5::text[]))
			                   AND NOT (e.alertname = ANY($6::text[]))
			                 GROUP BY e.alertname) a
			       ), '[]')::text AS alerts_after
			FROM changes c
			WHERE c.at >= $1 AND c.at < $2
			ORDER BY c.at, c.id`,
			f.From, f.To, AlertsAfterWindow.Seconds(), allTeams, tarr, f.ignore()); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("teams %q: %d changes, want %d", teams, len(got), len(want))
		}
		nonEmpty := 0
		for i := range want {
			var w []AlertAfter
			if err := json.Unmarshal([]byte(want[i].After), &w); err != nil {
				t.Fatal(err)
			}
			if got[i].ID != want[i].ID || fmt.Sprint(got[i].AlertsAfter) != fmt.Sprint(w) {
				t.Fatalf("teams %q: change %d: alerts after %v, want %d %v", teams, got[i].ID, got[i].AlertsAfter, want[i].ID, w)
			}
			if len(w) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty == 0 {
			t.Fatalf("teams %q: no change had alerts after it; the comparison proves nothing", teams)
		}
	}
}
