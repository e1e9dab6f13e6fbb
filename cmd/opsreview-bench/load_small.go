package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// isoWeek names the ISO week of t ("2026-W47").
func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// copyRows writes rows into table with one COPY in tx.
func copyRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return fmt.Errorf("copying into %s: %w", table, err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			return fmt.Errorf("copying into %s: %w", table, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("finishing the copy into %s: %w", table, err)
	}
	return nil
}

// loadSmallTables writes what a year of reviews leaves behind: the rules as Prometheus reports
// them, a verdict for most of the noisiest rules each week, action items (most closed), logged
// toil, the runbooks the rules link (one in ten broken) and two deploys a day per team.
func loadSmallTables(ctx context.Context, db *sqlx.DB, sc Scale, rules []*rule, rng *rand.Rand) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("loading small tables: %w", err)
	}
	defer tx.Rollback()
	first := dataEnd.AddDate(0, 0, -sc.Days)

	var rows [][]any
	for _, r := range rules {
		key := sha256.Sum256([]byte("prometheus\x00" + r.Team + ".yml\x00" + r.Team + "\x00" + r.Name))
		expr := fmt.Sprintf(`sum by (instance) (rate(errors_total{team=%q}[5m])) > 0.1`, r.Team)
		hash := sha256.Sum256([]byte(expr))
		rows = append(rows, []any{key[:], "prometheus", "/etc/prometheus/rules/" + r.Team + ".yml", r.Team, 60.0,
			r.Name, expr, 300.0, mustJSON(map[string]string{"severity": r.Severity, "team": r.Team}), r.annotations(),
			hash[:], "ok", first, dataEnd})
	}
	if err := copyRows(ctx, tx, "alert_rules", []string{"rule_key", "source", "group_file", "group_name",
		"group_interval_seconds", "alertname", "expr", "for_seconds", "labels", "annotations", "content_hash",
		"health", "first_seen", "last_seen"}, rows); err != nil {
		return err
	}

	// The noisiest rules (by target count) are the ones a review decides about.
	noisy := append([]*rule(nil), rules...)
	sortRules(noisy)
	noisy = noisy[:min(len(noisy), 300)]
	verdicts := []string{"actionable", "noise", "needs-tuning"}
	rows = nil
	var actions [][]any
	var toil [][]any
	weekStart := first.Truncate(24 * time.Hour)
	for weekStart.Weekday() != time.Monday {
		weekStart = weekStart.AddDate(0, 0, 1)
	}
	for ws := weekStart; ws.Before(dataEnd); ws = ws.AddDate(0, 0, 7) {
		week := isoWeek(ws)
		decided := ws.AddDate(0, 0, 7).Add(14 * time.Hour)
		for _, r := range noisy {
			if rng.Float64() < 0.7 {
				rows = append(rows, []any{r.Name, week, verdicts[rng.IntN(3)], 1, "oncall-" + r.Team, decided})
			}
		}
		for t := 0; t < sc.Teams; t++ {
			team := teamName(t)
			if rng.Float64() < 0.4 {
				r := noisy[rng.IntN(len(noisy))]
				var closedBy string
				var closedAt any
				if rng.Float64() < 0.7 {
					closedBy, closedAt = "oncall-"+team, decided.AddDate(0, 0, 3+rng.IntN(20))
				}
				actions = append(actions, []any{"Tune " + r.Name, "oncall-" + team, decided.AddDate(0, 0, 14).Format("2006-01-02"),
					r.Name, team, week, ws, "oncall-" + team, decided, "oncall-" + team, decided, closedBy, closedAt})
			}
			for k := rng.IntN(7); k > 0; k-- {
				at := ws.Add(time.Duration(rng.Float64() * float64(7*24*time.Hour))).Truncate(time.Minute)
				toil = append(toil, []any{team, 5 + rng.IntN(120), []string{"manual-restart", "ticket-triage", "toil"}[rng.IntN(3)],
					"logged during on-call", "", at, "oncall-" + team, at})
			}
		}
	}
	if err := copyRows(ctx, tx, "verdicts", []string{"alertname", "week", "verdict", "version", "decided_by", "decided_at"}, rows); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "action_items", []string{"title", "owner", "due", "alertname", "team", "week",
		"week_start", "created_by", "created_at", "updated_by", "updated_at", "closed_by", "closed_at"}, actions); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "toil_entries", []string{"team", "minutes", "category", "note", "alertname", "at",
		"who", "created_at"}, toil); err != nil {
		return err
	}

	rows = nil
	for _, r := range rules {
		if r.Runbook == "" {
			continue
		}
		status := 200
		if rng.Float64() < 0.1 {
			status = 404
		}
		rows = append(rows, []any{r.Runbook, first, dataEnd.Add(-time.Hour), status, first})
	}
	if err := copyRows(ctx, tx, "runbooks", []string{"url", "first_seen", "checked_at", "status_code", "last_modified"}, rows); err != nil {
		return err
	}

	rows = nil
	for d := 0; d < sc.Days; d++ {
		for t := 0; t < sc.Teams; t++ {
			for k := 0; k < 2; k++ {
				at := first.AddDate(0, 0, d).Add(time.Duration(rng.Float64() * float64(24*time.Hour))).Truncate(time.Second)
				svc := fmt.Sprintf("%s-svc-%d", teamName(t), rng.IntN(4))
				key := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", svc, at.UnixNano(), k)))
				rows = append(rows, []any{svc, "deploy", at, "ci", "deploy " + svc, "https://ci.example/" + svc, at, key[:]})
			}
		}
	}
	if err := copyRows(ctx, tx, "changes", []string{"service", "kind", "at", "who", "summary", "url", "created_at", "dedup_key"}, rows); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing small tables: %w", err)
	}
	return nil
}

// sortRules orders rules noisiest first (ties by name, so the order is reproducible).
func sortRules(rs []*rule) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Episodes != rs[j].Episodes {
			return rs[i].Episodes > rs[j].Episodes
		}
		return rs[i].Name < rs[j].Name
	})
}
