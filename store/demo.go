package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DemoRun is one fill of demo data: the seed it was made from, the moment its history ends, and
// when it was finished (nil while a fill is under way or was interrupted).
type DemoRun struct {
	Seed        int64      `db:"seed"`
	Anchor      time.Time  `db:"anchor"`
	StartedAt   time.Time  `db:"started_at"`
	CompletedAt *time.Time `db:"completed_at"`
}

// Completed reports whether the fill finished.
func (r DemoRun) Completed() bool { return r.CompletedAt != nil }

// BeginDemoRun records a fill of demo data from seed whose history ends at anchor, unless one is
// recorded already: then it returns that one, whose anchor the fill must reuse so that its rows
// come out the same.
func (s *Store) BeginDemoRun(ctx context.Context, seed int64, anchor, at time.Time) (DemoRun, error) {
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO demo_runs (seed, anchor, started_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (seed) DO NOTHING`, seed, anchor, at); err != nil {
		return DemoRun{}, classify(fmt.Errorf("recording the demo fill of seed %d: %w", seed, err))
	}
	var r DemoRun
	if err := s.db.GetContext(ctx, &r, `
		SELECT seed, anchor, started_at, completed_at
		FROM demo_runs
		WHERE seed = $1`, seed); err != nil {
		return DemoRun{}, classify(fmt.Errorf("reading the demo fill of seed %d: %w", seed, err))
	}
	r.utc()
	return r, nil
}

// CompleteDemoRun marks the fill of seed finished (the first time only).
func (s *Store) CompleteDemoRun(ctx context.Context, seed int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `
		UPDATE demo_runs
		SET completed_at = $2
		WHERE seed = $1 AND completed_at IS NULL`, seed, at); err != nil {
		return classify(fmt.Errorf("completing the demo fill of seed %d: %w", seed, err))
	}
	return nil
}

// DemoFilled reports whether demo data was ever written to this database (even a fill that did
// not finish): every page must then say that it shows made-up data.
func (s *Store) DemoFilled(ctx context.Context) (bool, error) {
	var one int
	err := s.read.GetContext(ctx, &one, `SELECT 1 FROM demo_runs LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, classify(fmt.Errorf("looking for demo data: %w", err))
	}
	return true, nil
}

func (r *DemoRun) utc() {
	r.Anchor, r.StartedAt = r.Anchor.UTC(), r.StartedAt.UTC()
	if r.CompletedAt != nil {
		t := r.CompletedAt.UTC()
		r.CompletedAt = &t
	}
}
