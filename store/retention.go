package store

import (
	"context"
	"fmt"
	"time"
)

// Pruned counts the rows one retention run deleted, per table.
type Pruned map[string]int64

// Total is the number of rows deleted over all tables.
func (p Pruned) Total() int64 {
	var n int64
	for _, v := range p {
		n += v
	}
	return n
}

// Retention deletes machine-collected history that ended before cutoff, in batches of at most batch
// rows per statement (each its own transaction, so no lock is held for long and a cancelled run
// keeps what it did). Running it again deletes nothing more. What goes:
//   - episodes that ended before cutoff (still-firing ones stay, however old), with their
//     notification links and first-notification rows (ON DELETE CASCADE);
//   - notifications received before cutoff that no longer carry any episode;
//   - SLI samples and baselines before cutoff;
//   - silences that ended before cutoff; changes before cutoff (their "alerts after" are gone);
//   - alert rules gone (deleted from Prometheus) before cutoff, with their versions, and versions
//     of living rules superseded before cutoff (the version in force at cutoff stays).
//
// Decisions people made stay: verdicts, action items, toil entries and runbook reviews are small,
// and they are the team's record of what it decided, read back by later reviews.
func (s *Store) Retention(ctx context.Context, cutoff time.Time, batch int) (Pruned, error) {
	if batch <= 0 {
		batch = 5000
	}
	out := Pruned{}
	steps := []struct {
		table, sql string
	}{
		{"episodes", `
			DELETE FROM episodes WHERE id IN (
			    SELECT id FROM episodes WHERE starts_at < $1 AND ends_at < $1 LIMIT $2)`},
		{"notifications", `
			DELETE FROM notifications WHERE id IN (
			    SELECT n.id FROM notifications n
			    WHERE n.received_at < $1
			      AND NOT EXISTS (SELECT 1 FROM notification_episodes ne WHERE ne.notification_id = n.id)
			    LIMIT $2)`},
		{"silences", `
			DELETE FROM silences WHERE (source, id) IN (
			    SELECT source, id FROM silences WHERE ends_at < $1 LIMIT $2)`},
		{"changes", `
			DELETE FROM changes WHERE id IN (SELECT id FROM changes WHERE at < $1 LIMIT $2)`},
		{"alert_rules", `
			DELETE FROM alert_rules WHERE id IN (
			    SELECT id FROM alert_rules WHERE gone_at < $1 LIMIT $2)`},
		{"alert_rule_versions", `
			DELETE FROM alert_rule_versions WHERE (rule_id, seen_at) IN (
			    SELECT v.rule_id, v.seen_at FROM alert_rule_versions v
			    WHERE v.seen_at < $1
			      AND EXISTS (SELECT 1 FROM alert_rule_versions w
			                  WHERE w.rule_id = v.rule_id AND w.seen_at > v.seen_at AND w.seen_at <= $1)
			    LIMIT $2)`},
	}
	for _, st := range steps {
		n, err := s.deleteInBatches(ctx, st.table, st.sql, batch, cutoff, batch)
		out[st.table] += n
		if err != nil {
			return out, err
		}
	}
	// Samples and baselines: per SLI, so that each batch is a range of the primary key.
	var slis []int64
	if err := s.db.SelectContext(ctx, &slis, `SELECT id FROM slis ORDER BY id`); err != nil {
		return out, classify(fmt.Errorf("retention: listing SLIs: %w", err))
	}
	for _, id := range slis {
		for _, st := range []struct{ table, sql string }{
			{"sli_samples", `
				DELETE FROM sli_samples WHERE sli_id = $1 AND at IN (
				    SELECT at FROM sli_samples WHERE sli_id = $1 AND at < $2 ORDER BY at LIMIT $3)`},
			{"sli_baselines", `
				DELETE FROM sli_baselines WHERE sli_id = $1 AND hour_start IN (
				    SELECT hour_start FROM sli_baselines WHERE sli_id = $1 AND hour_end <= $2 ORDER BY hour_start LIMIT $3)`},
		} {
			n, err := s.deleteInBatches(ctx, st.table, st.sql, batch, id, cutoff, batch)
			out[st.table] += n
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// deleteInBatches runs one batched DELETE until a batch deletes fewer than batch rows.
func (s *Store) deleteInBatches(ctx context.Context, table, q string, batch int, args ...any) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res, err := s.db.ExecContext(ctx, q, args...)
		if err != nil {
			return total, classify(fmt.Errorf("retention: deleting old %s: %w", table, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("retention: deleting old %s: %w", table, err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
