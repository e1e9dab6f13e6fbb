package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// SLIDef is what the store keeps of a configured SLI.
type SLIDef struct {
	Name, Source, Query string
	Step                time.Duration
}

// BaselineJob says how an SLI's baselines are computed: in which time zone, with which spec.
type BaselineJob struct {
	Loc  *time.Location
	Spec review.BaselineSpec
}

// key identifies the job's parameters: stored baselines computed with another key are rebuilt.
func (j BaselineJob) key() string {
	return fmt.Sprintf("%s|%d|%g|%g|%d|%d", j.Loc, j.Spec.Weeks, j.Spec.Low, j.Spec.High, j.Spec.MinWeeks, j.Spec.MinSamples)
}

// SLIRef is a stored SLI and how far its collection has got.
type SLIRef struct {
	ID          int64
	Name        string
	CollectedTo *time.Time // nil before the first stored chunk
}

// SLIState is one SLI's collection state, for pages and the API.
type SLIState struct {
	Name        string     `db:"name"`
	CollectedTo *time.Time `db:"collected_to"`
	LastError   string     `db:"last_error"`
	LastErrorAt *time.Time `db:"last_error_at"`
}

// EnsureSLI stores or updates the SLI's definition and returns it. When its query or step changed,
// the samples collected with the old ones are deleted and collection starts over; when the
// baseline job changed (time zone, weeks, band), every stored baseline is recomputed.
func (s *Store) EnsureSLI(ctx context.Context, def SLIDef, job BaselineJob) (SLIRef, error) {
	ref := SLIRef{Name: def.Name}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var old struct {
			ID          int64      `db:"id"`
			Query       string     `db:"query"`
			Step        int64      `db:"step_seconds"`
			Key         string     `db:"baseline_key"`
			CollectedTo *time.Time `db:"collected_to"`
		}
		err := tx.GetContext(ctx, &old, `
			SELECT id, query, step_seconds, baseline_key, collected_to
			FROM slis WHERE name = $1 FOR UPDATE`, def.Name)
		step := int64(def.Step / time.Second)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.GetContext(ctx, &ref.ID, `
				INSERT INTO slis (name, source, query, step_seconds, baseline_key)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (name) DO UPDATE SET source = EXCLUDED.source
				RETURNING id`, def.Name, def.Source, def.Query, step, job.key())
			if err != nil {
				return fmt.Errorf("adding SLI %s: %w", def.Name, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading SLI %s: %w", def.Name, err)
		}
		ref.ID, ref.CollectedTo = old.ID, old.CollectedTo
		if old.Query != def.Query || old.Step != step {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sli_samples WHERE sli_id = $1`, old.ID); err != nil {
				return fmt.Errorf("clearing samples of changed SLI %s: %w", def.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sli_baselines WHERE sli_id = $1`, old.ID); err != nil {
				return fmt.Errorf("clearing baselines of changed SLI %s: %w", def.Name, err)
			}
			ref.CollectedTo = nil
		} else if old.Key != job.key() {
			if err := rebuildBaselines(ctx, tx, old.ID, job); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE slis SET source = $2, query = $3, step_seconds = $4, baseline_key = $5, collected_to = $6
			WHERE id = $1`, old.ID, def.Source, def.Query, step, job.key(), ref.CollectedTo)
		if err != nil {
			return fmt.Errorf("updating SLI %s: %w", def.Name, err)
		}
		return nil
	})
	return ref, err
}

// SaveSLISamples stores one collected chunk of an SLI: values and explicit gaps, one per aligned
// step (a gap never overwrites a stored value; an unchanged value is not rewritten, so a re-run
// changes no rows), recomputes the baselines those samples feed, and advances the SLI's watermark
// to advanceTo — all in one transaction, so the watermark is never ahead of the data.
func (s *Store) SaveSLISamples(ctx context.Context, id int64, samples []review.Sample, advanceTo *time.Time, job BaselineJob) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if len(samples) > 0 {
			ats := make([]int64, len(samples)) // microseconds since the epoch: cheaper to send and parse than text
			vals, valid := make([]float64, len(samples)), make([]bool, len(samples))
			from, to := samples[0].At, samples[0].At
			for i, sm := range samples {
				ats[i] = micros(sm.At)
				vals[i], valid[i] = sm.Value, !sm.Gap
				from, to = minTime(from, sm.At), maxTime(to, sm.At)
			}
			_, err := tx.ExecContext(ctx, `
				INSERT INTO sli_samples (sli_id, at, value)
				SELECT $1, timestamptz 'epoch' + at * interval '1 microsecond', value
				FROM unnest($2::int8[], $3::float8[]) AS u(at, value)
				ON CONFLICT (sli_id, at) DO UPDATE SET value = EXCLUDED.value
				WHERE EXCLUDED.value IS NOT NULL AND sli_samples.value IS DISTINCT FROM EXCLUDED.value`,
				id, int8Array(ats), float8Array(vals, valid))
			if err != nil {
				return fmt.Errorf("storing %d samples: %w", len(samples), err)
			}
			if err := refreshBaselines(ctx, tx, id, review.AffectedHours(from, to, job.Spec.Weeks, job.Loc), job); err != nil {
				return err
			}
		}
		if advanceTo != nil {
			_, err := tx.ExecContext(ctx, `
				UPDATE slis SET collected_to = greatest(collected_to, $2), last_error = '' WHERE id = $1`,
				id, *advanceTo)
			if err != nil {
				return fmt.Errorf("advancing the SLI watermark: %w", err)
			}
		}
		return nil
	})
}

// SetSLIError records why collecting an SLI failed (shown on its page); SaveSLISamples clears it.
func (s *Store) SetSLIError(ctx context.Context, id int64, at time.Time, msg string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE slis SET last_error = $2, last_error_at = $3 WHERE id = $1`, id, msg, at); err != nil {
		return classify(fmt.Errorf("recording the SLI error: %w", err))
	}
	return nil
}

// SLIStates returns the collection state of the stored SLIs named, by name; every stored SLI's
// when names is nil.
func (s *Store) SLIStates(ctx context.Context, names []string) (map[string]SLIState, error) {
	var rows []SLIState
	if err := s.read.SelectContext(ctx, &rows, `
		SELECT name, collected_to, last_error, last_error_at FROM slis
		WHERE $1::text[] IS NULL OR name = ANY($1::text[])`, pq.Array(names)); err != nil {
		return nil, classify(fmt.Errorf("reading SLI states: %w", err))
	}
	out := make(map[string]SLIState, len(rows))
	for _, r := range rows {
		out[r.Name] = r
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
