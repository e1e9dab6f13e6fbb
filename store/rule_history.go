package store

import (
	"context"
	"fmt"
	"time"
)

// RuleVersion is a moment an alert rule's definition was seen to change (a new version of it).
type RuleVersion struct {
	SeenAt      time.Time `db:"seen_at"`
	Source      string    `db:"source"`
	Expr        string    `db:"expr"`
	ForSeconds  float64   `db:"for_seconds"`
	Labels      jsonMap   `db:"labels"`
	Annotations jsonMap   `db:"annotations"`
}

// RuleVersions lists the versions of the rules named alertname (in any source) first seen in
// [from, to), oldest first: the rule's own changes, marked on its timeline.
func (s *Store) RuleVersions(ctx context.Context, alertname string, from, to time.Time) ([]RuleVersion, error) {
	out := []RuleVersion{}
	err := s.read.SelectContext(ctx, &out, `
		SELECT v.seen_at, r.source, v.expr, v.for_seconds, v.labels, v.annotations
		FROM alert_rules r
		JOIN alert_rule_versions v ON v.rule_id = r.id
		WHERE r.alertname = $1 AND v.seen_at >= $2 AND v.seen_at < $3
		ORDER BY v.seen_at`, alertname, from, to)
	if err != nil {
		return nil, classify(fmt.Errorf("reading the versions of rule %s: %w", alertname, err))
	}
	for i := range out {
		out[i].SeenAt = out[i].SeenAt.UTC()
	}
	return out, nil
}
