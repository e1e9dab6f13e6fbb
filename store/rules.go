package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// ruleLockSpace is the first key of the transaction advisory locks that serialise rule updates of
// one source (episode ingest uses 1).
const ruleLockSpace = 2

// ruleRow is one row of the alert_rules table.
type ruleRow struct {
	ID            int64      `db:"id"`
	Source        string     `db:"source"`
	File          string     `db:"group_file"`
	Group         string     `db:"group_name"`
	GroupInterval float64    `db:"group_interval_seconds"`
	Alertname     string     `db:"alertname"`
	Expr          string     `db:"expr"`
	For           float64    `db:"for_seconds"`
	Labels        jsonMap    `db:"labels"`
	Annotations   jsonMap    `db:"annotations"`
	Health        string     `db:"health"`
	LastError     string     `db:"last_error"`
	FirstSeen     time.Time  `db:"first_seen"`
	LastSeen      time.Time  `db:"last_seen"`
	GoneAt        *time.Time `db:"gone_at"`
}

func (r ruleRow) rule() review.AlertRule {
	var gone *time.Time
	if r.GoneAt != nil {
		g := r.GoneAt.UTC()
		gone = &g
	}
	return review.AlertRule{
		ID: r.ID, Source: r.Source, File: r.File, Group: r.Group, GroupInterval: seconds(r.GroupInterval),
		Alertname: r.Alertname, Expr: r.Expr, For: seconds(r.For), Labels: r.Labels, Annotations: r.Annotations,
		Health: r.Health, LastError: r.LastError, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(),
		GoneAt: gone,
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// ruleKey names a rule across polls: its source, file, group and alertname, plus its position
// among the rules of the same name in that group (a group often holds a warning and a critical
// rule of one name). Labels are content, not identity: changing them is a new version.
func ruleKey(source string, r review.AlertRule, ordinal int) []byte {
	h := sha256.New()
	for _, s := range []string{source, r.File, r.Group, r.Alertname, strconv.Itoa(ordinal)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// contentHash digests what a rule says: a change of any of it is a new version.
func contentHash(r review.AlertRule) []byte {
	h := sha256.New()
	h.Write([]byte(r.Expr))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(int64(r.For), 10)))
	h.Write([]byte{0})
	for _, m := range []map[string]string{r.Labels, r.Annotations} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			h.Write([]byte(k))
			h.Write([]byte{0})
			h.Write([]byte(m[k]))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	return h.Sum(nil)
}

// UpsertRules stores the complete alert-rule inventory of one source as read at seenAt, in API
// order, in one transaction: new rules are added, known ones refreshed, a rule whose content
// (expression, for, labels, annotations) changed gets a new version, and rules of the source
// missing from the inventory are marked gone.
func (s *Store) UpsertRules(ctx context.Context, source string, rules []review.AlertRule, seenAt time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, ruleLockSpace, source); err != nil {
			return fmt.Errorf("locking the rules of %s: %w", source, err)
		}
		var have []struct {
			Key  []byte `db:"rule_key"`
			Hash []byte `db:"content_hash"`
		}
		if err := tx.SelectContext(ctx, &have, `
			SELECT rule_key, content_hash
			FROM alert_rules
			WHERE source = $1`, source); err != nil {
			return fmt.Errorf("reading the rules of %s: %w", source, err)
		}
		known := map[string]string{}
		for _, h := range have {
			known[string(h.Key)] = string(h.Hash)
		}

		a := ruleArrays{key: [][]byte{}} // never NULL: an empty inventory marks every rule gone
		ordinal := map[[3]string]int{}
		for _, r := range rules {
			k := [3]string{r.File, r.Group, r.Alertname}
			key, hash := ruleKey(source, r, ordinal[k]), contentHash(r)
			ordinal[k]++
			old, ok := known[string(key)]
			a.add(r, key, hash, !ok || old != string(hash))
		}
		if err := upsertRuleRows(ctx, tx, source, a, seenAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE alert_rules
			SET gone_at = $2
			WHERE source = $1
			  AND gone_at IS NULL
			  AND NOT (rule_key = ANY($3::bytea[]))`, source, seenAt, pq.ByteaArray(a.key)); err != nil {
			return fmt.Errorf("marking gone rules of %s: %w", source, err)
		}
		return nil
	})
}

// ruleArrays lays rules out column by column for unnest.
type ruleArrays struct {
	key, hash                                [][]byte
	file, group, alertname, expr, health, le []string
	labels, annotations                      []string
	interval, forSec                         []float64
	changed                                  []bool
}

func (a *ruleArrays) add(r review.AlertRule, key, hash []byte, changed bool) {
	a.key = append(a.key, key)
	a.hash = append(a.hash, hash)
	a.file = append(a.file, r.File)
	a.group = append(a.group, r.Group)
	a.alertname = append(a.alertname, r.Alertname)
	a.expr = append(a.expr, r.Expr)
	a.health = append(a.health, r.Health)
	a.le = append(a.le, r.LastError)
	a.labels = append(a.labels, jsonText(r.Labels))
	a.annotations = append(a.annotations, jsonText(r.Annotations))
	a.interval = append(a.interval, r.GroupInterval.Seconds())
	a.forSec = append(a.forSec, r.For.Seconds())
	a.changed = append(a.changed, changed)
}

func upsertRuleRows(ctx context.Context, tx *sqlx.Tx, source string, a ruleArrays, seenAt time.Time) error {
	if len(a.key) == 0 {
		return nil
	}
	// A rule that comes back after being gone is present again: gone_at is cleared.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO alert_rules (rule_key, source, group_file, group_name, group_interval_seconds,
		                         alertname, expr, for_seconds, labels, annotations, content_hash,
		                         health, last_error, first_seen, last_seen)
		SELECT r.key, $1, r.file, r.grp, r.ivl, r.alertname, r.expr, r.for_s, r.labels, r.annotations,
		       r.hash, r.health, r.last_error, $2, $2
		FROM unnest($3::bytea[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::text[],
		            $9::float8[], $10::jsonb[], $11::jsonb[], $12::bytea[], $13::text[], $14::text[])
		     AS r(key, file, grp, ivl, alertname, expr, for_s, labels, annotations, hash, health, last_error)
		ON CONFLICT (rule_key) DO UPDATE SET
		    group_interval_seconds = EXCLUDED.group_interval_seconds,
		    expr                   = EXCLUDED.expr,
		    for_seconds            = EXCLUDED.for_seconds,
		    labels                 = EXCLUDED.labels,
		    annotations            = EXCLUDED.annotations,
		    content_hash           = EXCLUDED.content_hash,
		    health                 = EXCLUDED.health,
		    last_error             = EXCLUDED.last_error,
		    last_seen              = greatest(alert_rules.last_seen, EXCLUDED.last_seen),
		    gone_at                = NULL`,
		source, seenAt, pq.ByteaArray(a.key), pq.Array(a.file), pq.Array(a.group), pq.Array(a.interval),
		pq.Array(a.alertname), pq.Array(a.expr), pq.Array(a.forSec), pq.Array(a.labels),
		pq.Array(a.annotations), pq.ByteaArray(a.hash), pq.Array(a.health), pq.Array(a.le)); err != nil {
		return fmt.Errorf("storing %d rules of %s: %w", len(a.key), source, err)
	}
	var changed [][]byte
	for i, c := range a.changed {
		if c {
			changed = append(changed, a.key[i])
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO alert_rule_versions (rule_id, seen_at, expr, for_seconds, labels, annotations, content_hash)
		SELECT id, $2, expr, for_seconds, labels, annotations, content_hash
		FROM alert_rules
		WHERE rule_key = ANY($1::bytea[])
		ON CONFLICT (rule_id, seen_at) DO UPDATE SET
		    expr         = EXCLUDED.expr,
		    for_seconds  = EXCLUDED.for_seconds,
		    labels       = EXCLUDED.labels,
		    annotations  = EXCLUDED.annotations,
		    content_hash = EXCLUDED.content_hash`,
		pq.ByteaArray(changed), seenAt); err != nil {
		return fmt.Errorf("recording %d new rule versions of %s: %w", len(changed), source, err)
	}
	return nil
}

// RuleFilter selects alert rules; empty fields match everything.
type RuleFilter struct {
	Source      string
	Alertname   string
	IncludeGone bool // also rules that disappeared from their source
}

// AlertRules lists alert rules by source, file, group and name.
func (s *Store) AlertRules(ctx context.Context, f RuleFilter) ([]review.AlertRule, error) {
	var rows []ruleRow
	err := s.read.SelectContext(ctx, &rows, `
		SELECT id, source, group_file, group_name, group_interval_seconds, alertname, expr, for_seconds,
		       labels, annotations, health, last_error, first_seen, last_seen, gone_at
		FROM alert_rules
		WHERE ($1 = '' OR source = $1)
		  AND ($2 = '' OR alertname = $2)
		  AND ($3 OR gone_at IS NULL)
		ORDER BY source, group_file, group_name, alertname, id`, f.Source, f.Alertname, f.IncludeGone)
	if err != nil {
		return nil, classify(fmt.Errorf("listing alert rules: %w", err))
	}
	out := make([]review.AlertRule, len(rows))
	for i, r := range rows {
		out[i] = r.rule()
	}
	return out, nil
}

// RuleHistory returns every version of one rule, oldest first; ErrNotFound when the rule does not exist.
func (s *Store) RuleHistory(ctx context.Context, ruleID int64) ([]review.AlertRuleVersion, error) {
	var exists bool
	if err := s.read.GetContext(ctx, &exists, `SELECT true FROM alert_rules WHERE id = $1`, ruleID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("alert rule %d: %w", ruleID, ErrNotFound)
		}
		return nil, classify(fmt.Errorf("reading alert rule %d: %w", ruleID, err))
	}
	var rows []struct {
		RuleID      int64     `db:"rule_id"`
		SeenAt      time.Time `db:"seen_at"`
		Expr        string    `db:"expr"`
		For         float64   `db:"for_seconds"`
		Labels      jsonMap   `db:"labels"`
		Annotations jsonMap   `db:"annotations"`
	}
	if err := s.read.SelectContext(ctx, &rows, `
		SELECT rule_id, seen_at, expr, for_seconds, labels, annotations
		FROM alert_rule_versions
		WHERE rule_id = $1
		ORDER BY seen_at`, ruleID); err != nil {
		return nil, classify(fmt.Errorf("reading the history of alert rule %d: %w", ruleID, err))
	}
	out := make([]review.AlertRuleVersion, len(rows))
	for i, r := range rows {
		out[i] = review.AlertRuleVersion{RuleID: r.RuleID, SeenAt: r.SeenAt.UTC(), Expr: r.Expr,
			For: seconds(r.For), Labels: r.Labels, Annotations: r.Annotations}
	}
	return out, nil
}
