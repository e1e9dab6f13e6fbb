package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Watermark is how far a collector of a source has safely got.
type Watermark struct {
	Source string
	Kind   string
	At     time.Time
}

// CollectorState is one collector's progress and health, as the Sources page shows it.
type CollectorState struct {
	Source         string            `db:"source"`
	Kind           string            `db:"kind"`
	Watermark      *time.Time        `db:"watermark"`
	LastAttempt    *time.Time        `db:"last_attempt"`
	LastSuccess    *time.Time        `db:"last_success"`
	LastError      string            `db:"last_error"`
	LastErrorAt    *time.Time        `db:"last_error_at"`
	ExternalLabels jsonMap           `db:"external_labels"`
	UpstreamStart  *time.Time        `db:"upstream_start"`
	Extra          map[string]string `db:"-"`
}

func setWatermark(ctx context.Context, tx *sqlx.Tx, w Watermark) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO collector_state (source, kind, watermark) VALUES ($1, $2, $3)
		ON CONFLICT (source, kind) DO UPDATE SET watermark = greatest(collector_state.watermark, EXCLUDED.watermark)`,
		w.Source, w.Kind, w.At)
	if err != nil {
		return fmt.Errorf("advancing the %s %s watermark: %w", w.Source, w.Kind, err)
	}
	return nil
}

// CollectorState returns one collector's state; a collector that never ran has a zero state.
func (s *Store) CollectorState(ctx context.Context, source, kind string) (CollectorState, error) {
	st := CollectorState{Source: source, Kind: kind, ExternalLabels: jsonMap{}}
	err := s.db.GetContext(ctx, &st, `
		SELECT source, kind, watermark, last_attempt, last_success, last_error, last_error_at,
		       external_labels, upstream_start
		FROM collector_state WHERE source = $1 AND kind = $2`, source, kind)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, classify(fmt.Errorf("reading %s %s state: %w", source, kind, err))
	}
	return st, nil
}

// CollectorStates lists every collector's state, for the Sources page and /metrics.
func (s *Store) CollectorStates(ctx context.Context) ([]CollectorState, error) {
	var out []CollectorState
	err := s.read.SelectContext(ctx, &out, `
		SELECT source, kind, watermark, last_attempt, last_success, last_error, last_error_at,
		       external_labels, upstream_start
		FROM collector_state ORDER BY source, kind`)
	if err != nil {
		return nil, classify(fmt.Errorf("listing collector states: %w", err))
	}
	return out, nil
}

// RecordCollectorRun notes the outcome of one collector run: success clears the last error.
func (s *Store) RecordCollectorRun(ctx context.Context, source, kind string, at time.Time, runErr error) error {
	var err error
	if runErr == nil {
		_, err = s.db.ExecContext(ctx, `
			INSERT INTO collector_state (source, kind, last_attempt, last_success) VALUES ($1, $2, $3, $3)
			ON CONFLICT (source, kind) DO UPDATE SET last_attempt = $3, last_success = $3, last_error = ''`,
			source, kind, at)
	} else {
		_, err = s.db.ExecContext(ctx, `
			INSERT INTO collector_state (source, kind, last_attempt, last_error, last_error_at) VALUES ($1, $2, $3, $4, $3)
			ON CONFLICT (source, kind) DO UPDATE SET last_attempt = $3, last_error = $4, last_error_at = $3`,
			source, kind, at, storableError(runErr))
	}
	if err != nil {
		return classify(fmt.Errorf("recording %s %s run: %w", source, kind, err))
	}
	return nil
}

// storableError is an error's text as Postgres can hold it: an upstream's answer quoted in an
// error may carry NUL bytes or invalid UTF-8, which would make recording the failure fail too.
func storableError(err error) string {
	return strings.ReplaceAll(strings.ToValidUTF8(err.Error(), "\uFFFD"), "\x00", "\uFFFD")
}

// SetExternalLabels stores a source's external labels (added to ALERTS labels before fingerprinting).
func (s *Store) SetExternalLabels(ctx context.Context, source, kind string, labels map[string]string) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO collector_state (source, kind, external_labels) VALUES ($1, $2, $3)
		ON CONFLICT (source, kind) DO UPDATE SET external_labels = EXCLUDED.external_labels`,
		source, kind, jsonText(labels))
	if err != nil {
		return classify(fmt.Errorf("storing %s external labels: %w", source, err))
	}
	return nil
}

// SetUpstreamStart stores when the upstream server last started (Alertmanager's uptime), so a
// restart — which empties its memory — can be told from alerts that ended.
func (s *Store) SetUpstreamStart(ctx context.Context, source, kind string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO collector_state (source, kind, upstream_start) VALUES ($1, $2, $3)
		ON CONFLICT (source, kind) DO UPDATE SET upstream_start = EXCLUDED.upstream_start`,
		source, kind, at)
	if err != nil {
		return classify(fmt.Errorf("storing %s start time: %w", source, err))
	}
	return nil
}

// WithSourceLock runs fn while holding the Postgres advisory lock of one collector, on one pinned
// connection (a session lock taken through the pool could be released on another connection). When
// another instance holds the lock it returns false without running fn.
func (s *Store) WithSourceLock(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	h := fnv.New64a()
	h.Write([]byte("opsreview/collector/" + name))
	key := int64(h.Sum64())
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return false, lockError(ctx, name, err)
	}
	defer conn.Close()
	var got bool
	if err := conn.GetContext(ctx, &got, `SELECT pg_try_advisory_lock($1)`, key); err != nil {
		return false, lockError(ctx, name, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The connection is broken: closing it ends the session and with it the lock.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return true, fn(ctx)
}

// lockError names the lock that could not be taken; when the caller's time ran out, that is the
// error (the driver reports a cancelled dial as a bad connection).
func lockError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("locking %s: %w", name, ctx.Err())
	}
	return classify(fmt.Errorf("locking %s: %w", name, err))
}
