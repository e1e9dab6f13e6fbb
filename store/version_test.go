package store

import (
	"context"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store/storetest"
)

// TestDataVersionMovesWithEveryWrite: a page built at one data version is current exactly as long
// as the version has not moved, so every kind of write must move it and a read must not.
func TestDataVersionMovesWithEveryWrite(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := s.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	zero := 0
	writes := []struct {
		name string
		fn   func() error
	}{
		{"webhook", func() error {
			_, err := s.IngestNotification(ctx, Notification{Receiver: "pager", GroupKey: "g", Status: "firing", ReceivedAt: t0,
				Alerts: []review.AlertReport{alertAt(1, "DiskFull", "payments", t0)}})
			return err
		}},
		{"verdict", func() error {
			_, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W47", Verdict: "noise", By: "ana", At: t0, ExpectVersion: &zero})
			return err
		}},
		{"action item", func() error {
			_, _, err := s.AddActionItem(ctx, ActionItem{Title: "tune", Owner: "ana", Due: t0, Week: "2026-W47", WeekStart: t0,
				CreatedBy: "ana", CreatedAt: t0}, "")
			return err
		}},
		{"toil", func() error {
			_, _, err := s.AddToilEntry(ctx, NewToilEntry{ToilEntry: review.ToilEntry{Minutes: 30, At: t0, Who: "ana", CreatedAt: t0}})
			return err
		}},
		{"change", func() error {
			_, _, err := s.AddChange(ctx, Change{Service: "api", Kind: "deploy", At: t0, CreatedAt: t0})
			return err
		}},
		{"rules", func() error {
			return s.UpsertRules(ctx, "prom", []review.AlertRule{rule("DiskFull", "disk > 0.9")}, t0)
		}},
	}
	for _, w := range writes {
		before := version()
		if err := w.fn(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if after := version(); after <= before {
			t.Errorf("%s did not move the data version (%d, then %d)", w.name, before, after)
		}
	}
	before := version()
	if _, err := s.VerdictHistory(ctx, "DiskFull", "", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Episodes(ctx, EpisodeFilter{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if after := version(); after != before {
		t.Errorf("reads moved the data version from %d to %d", before, after)
	}
}

// TestDataVersionCoversEveryTable names any table a page could show that no write trigger watches:
// a table added by a later migration needs the trigger of migration 0080. The stored normal
// figures (0099) are not watched: they only repeat what the samples and bands (watched) give, and
// a page build that stores them must not make the cached pages look out of date.
func TestDataVersionCoversEveryTable(t *testing.T) {
	s := newTestStore(t)
	var missing []string
	if err := s.db.Select(&missing, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND c.relname NOT IN ('data_version', 'schema_migrations', 'access_tokens', 'collector_state',
		                        'sli_normal_weeks', 'sli_normal_versions')
		  AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid
		                  AND g.tgfoid = 'opsreview_bump_data_version'::regproc)
		ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("tables without the data version trigger (add it in a migration, as 0080 does): %v", missing)
	}
}

// TestPrimaryReadsWhatWasJustWritten points the read pool at another database (a replica that has
// not caught up at all): ordinary reads see the replica, the Primary view sees the write.
func TestPrimaryReadsWhatWasJustWritten(t *testing.T) {
	ctx := context.Background()
	replicaURL := storetest.NewURL(t)
	replica, err := Open(ctx, replicaURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	if _, err := replica.Migrate(ctx); err != nil { // migrated and empty: the stale copy
		t.Fatal(err)
	}
	s, err := Open(ctx, storetest.NewURL(t), replicaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.HasReplica() {
		t.Fatal("HasReplica: want true with a read URL")
	}
	zero := 0
	if _, err := s.SaveVerdict(ctx, VerdictInput{Alertname: "DiskFull", Week: "2026-W47", Verdict: "noise", By: "ana", At: t0, ExpectVersion: &zero}); err != nil {
		t.Fatal(err)
	}
	if h, err := s.VerdictHistory(ctx, "DiskFull", "", 0); err != nil || len(h) != 0 {
		t.Fatalf("read pool: want the replica's (no verdict), got %+v %v", h, err)
	}
	if h, err := s.Primary().VerdictHistory(ctx, "DiskFull", "", 0); err != nil || len(h) != 1 {
		t.Fatalf("primary view: want the verdict just saved, got %+v %v", h, err)
	}
	pv, _ := s.Primary().DataVersion(ctx)
	rv, _ := s.DataVersion(ctx)
	if pv <= rv {
		t.Fatalf("data version: primary %d, replica %d: want the primary ahead", pv, rv)
	}
}
