package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opsreview/opsreview/review"
)

func rule(name, expr string) review.AlertRule {
	return review.AlertRule{
		File: "rules.yml", Group: "demo", GroupInterval: 15 * time.Second, Alertname: name, Expr: expr,
		For: time.Minute, Labels: map[string]string{"severity": "page"},
		Annotations: map[string]string{"runbook_url": "https://wiki/" + name}, Health: "ok",
	}
}

func TestUpsertRulesKeepsVersionsAndMarksGone(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	t1, t2, t3 := t0, t0.Add(time.Minute), t0.Add(2*time.Minute)

	if err := s.UpsertRules(ctx, "prom", []review.AlertRule{rule("DiskFull", "disk > 0.9"), rule("Down", "up == 0")}, t1); err != nil {
		t.Fatal(err)
	}
	changed := rule("DiskFull", "disk > 0.95")
	if err := s.UpsertRules(ctx, "prom", []review.AlertRule{changed, rule("Down", "up == 0")}, t2); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertRules(ctx, "prom", []review.AlertRule{changed}, t3); err != nil {
		t.Fatal(err)
	}

	live, err := s.AlertRules(ctx, RuleFilter{Source: "prom"})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].Alertname != "DiskFull" || live[0].Expr != "disk > 0.95" {
		t.Fatalf("want only the changed DiskFull live, got %+v", live)
	}
	disk := live[0]
	if !disk.FirstSeen.Equal(t1) || !disk.LastSeen.Equal(t3) || disk.GroupInterval != 15*time.Second ||
		disk.For != time.Minute || disk.Runbook([]string{"runbook_url"}) != "https://wiki/DiskFull" {
		t.Fatalf("rule fields not kept: %+v", disk)
	}

	all, err := s.AlertRules(ctx, RuleFilter{Source: "prom", IncludeGone: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("want 2 rules with the gone one, got %d", len(all))
	}
	for _, r := range all {
		if r.Alertname == "Down" && (r.GoneAt == nil || !r.GoneAt.Equal(t3)) {
			t.Fatalf("Down should be gone at %v: %+v", t3, r)
		}
	}

	hist, err := s.RuleHistory(ctx, disk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Expr != "disk > 0.9" || hist[1].Expr != "disk > 0.95" || !hist[1].SeenAt.Equal(t2) {
		t.Fatalf("want two versions (first sight and the change), got %+v", hist)
	}

	// Coming back clears gone_at; unchanged content adds no version.
	if err := s.UpsertRules(ctx, "prom", []review.AlertRule{changed, rule("Down", "up == 0")}, t3.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	live, _ = s.AlertRules(ctx, RuleFilter{Source: "prom", Alertname: "Down"})
	if len(live) != 1 {
		t.Fatalf("Down should be back, got %+v", live)
	}
	hist, _ = s.RuleHistory(ctx, live[0].ID)
	if len(hist) != 1 {
		t.Fatalf("an unchanged rule must not get a new version, got %+v", hist)
	}

	// An empty inventory means every rule of the source is gone; other sources are untouched.
	if err := s.UpsertRules(ctx, "other", []review.AlertRule{rule("Down", "up == 0")}, t3); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertRules(ctx, "prom", nil, t3.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if live, _ = s.AlertRules(ctx, RuleFilter{}); len(live) != 1 || live[0].Source != "other" {
		t.Fatalf("want only the other source's rule live, got %+v", live)
	}

	if _, err := s.RuleHistory(ctx, 999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

func TestUpsertRulesSameNameTwiceInAGroup(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	warn, crit := rule("Latency", "lat > 1"), rule("Latency", "lat > 5")
	warn.Labels = map[string]string{"severity": "warning"}
	if err := s.UpsertRules(ctx, "prom", []review.AlertRule{warn, crit}, t0); err != nil {
		t.Fatal(err)
	}
	crit.Labels = map[string]string{"severity": "critical"}
	if err := s.UpsertRules(ctx, "prom", []review.AlertRule{warn, crit}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	rs, err := s.AlertRules(ctx, RuleFilter{Alertname: "Latency", IncludeGone: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("want two rules of one name, got %+v", rs)
	}
	h0, _ := s.RuleHistory(ctx, rs[0].ID)
	h1, _ := s.RuleHistory(ctx, rs[1].ID)
	if len(h0)+len(h1) != 3 {
		t.Fatalf("want one new version for the relabelled rule, got %d and %d", len(h0), len(h1))
	}
}
