package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrConflict is returned when a write names a version that is no longer the latest: someone else
// changed the item in between, and the writer must look again rather than overwrite it.
var ErrConflict = errors.New("changed by someone else in the meantime")

// Verdict is one decision about an alert rule in a week. Every decision is kept; the one with the
// highest Version is the verdict.
type Verdict struct {
	ID        int64     `db:"id" json:"id"`
	Alertname string    `db:"alertname" json:"alertname"`
	Week      string    `db:"week" json:"week"`
	Verdict   string    `db:"verdict" json:"verdict"`
	Version   int       `db:"version" json:"version"`
	DecidedBy string    `db:"decided_by" json:"decided_by"`
	DecidedAt time.Time `db:"decided_at" json:"decided_at"`
}

// VerdictInput is a decision to record. With ExpectVersion set, it is refused with ErrConflict unless
// the latest version of (Alertname, Week) is still that one (0: no verdict yet). A repeated
// IdempotencyKey returns the verdict it first recorded.
type VerdictInput struct {
	Alertname, Week, Verdict, By string
	At                           time.Time
	ExpectVersion                *int
	IdempotencyKey               string
}

const verdictColumns = `id, alertname, week, verdict, version, decided_by, decided_at`

// SaveVerdict records a decision as a new version. The verdicts of one (alertname, week) are
// serialised by an advisory lock, so the version check and the insert cannot interleave.
func (s *Store) SaveVerdict(ctx context.Context, in VerdictInput) (Verdict, error) {
	var v Verdict
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.IdempotencyKey != "" {
			err := tx.GetContext(ctx, &v, `SELECT `+verdictColumns+` FROM verdicts WHERE idempotency_key = $1`, in.IdempotencyKey)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("looking up verdict by idempotency key: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(2, hashtext($1 || ' ' || $2))`, in.Alertname, in.Week); err != nil {
			return fmt.Errorf("locking the verdict of %s in %s: %w", in.Alertname, in.Week, err)
		}
		var current int
		if err := tx.GetContext(ctx, &current, `
			SELECT coalesce(max(version), 0) FROM verdicts WHERE alertname = $1 AND week = $2`,
			in.Alertname, in.Week); err != nil {
			return fmt.Errorf("reading the verdict of %s in %s: %w", in.Alertname, in.Week, err)
		}
		if in.ExpectVersion != nil && *in.ExpectVersion != current {
			return fmt.Errorf("verdict of %s in %s is at version %d, not %d: %w", in.Alertname, in.Week, current, *in.ExpectVersion, ErrConflict)
		}
		var key any
		if in.IdempotencyKey != "" {
			key = in.IdempotencyKey
		}
		if err := tx.GetContext(ctx, &v, `
			INSERT INTO verdicts (alertname, week, verdict, version, decided_by, decided_at, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+verdictColumns,
			in.Alertname, in.Week, in.Verdict, current+1, in.By, in.At, key); err != nil {
			return fmt.Errorf("saving the verdict of %s in %s: %w", in.Alertname, in.Week, err)
		}
		return nil
	})
	v.DecidedAt = v.DecidedAt.UTC()
	return v, err
}

// LatestVerdicts returns, per alertname, the latest verdict given in any of the weeks (the most
// recent decision wins when several weeks are given).
func (s *Store) LatestVerdicts(ctx context.Context, weeks []string) (map[string]Verdict, error) {
	var rows []Verdict
	err := s.read.SelectContext(ctx, &rows, `
		SELECT DISTINCT ON (alertname) `+verdictColumns+`
		FROM verdicts
		WHERE week = ANY($1::text[])
		ORDER BY alertname, decided_at DESC, id DESC`, pq.Array(weeks))
	if err != nil {
		return nil, classify(fmt.Errorf("reading verdicts of %v: %w", weeks, err))
	}
	out := make(map[string]Verdict, len(rows))
	for _, v := range rows {
		v.DecidedAt = v.DecidedAt.UTC()
		out[v.Alertname] = v
	}
	return out, nil
}

// VerdictHistory returns every decision about an alert rule (all weeks), newest first. An empty
// alertname lists every rule's, with limit bounding how many.
func (s *Store) VerdictHistory(ctx context.Context, alertname, week string, limit int) ([]Verdict, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows := []Verdict{}
	err := s.read.SelectContext(ctx, &rows, `
		SELECT `+verdictColumns+`
		FROM verdicts
		WHERE ($1 = '' OR alertname = $1) AND ($2 = '' OR week = $2)
		ORDER BY decided_at DESC, id DESC
		LIMIT $3`, alertname, week, limit)
	if err != nil {
		return nil, classify(fmt.Errorf("reading the verdict history of %q: %w", alertname, err))
	}
	for i := range rows {
		rows[i].DecidedAt = rows[i].DecidedAt.UTC()
	}
	return rows, nil
}
