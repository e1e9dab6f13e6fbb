package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lib/pq"
)

// CompactRollups merges the delta rows that triggers appended to episode_day_fires (migration 0073)
// into one row per (day, team, rule), and returns how many rows it rewrote. Reads are exact before
// and after; compaction only keeps them short and index-only. It does not move the data version:
// the counts it stores are the same counts.
func (s *Store) CompactRollups(ctx context.Context) (int64, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, classify(fmt.Errorf("compacting the daily fires: %w", err))
	}
	defer tx.Rollback()
	// The data version trigger bumps once per transaction unless this is set (0080).
	if _, err := tx.ExecContext(ctx, `SELECT set_config('opsreview.data_version_bumped', 'on', true)`); err != nil {
		return 0, classify(fmt.Errorf("compacting the daily fires: %w", err))
	}
	var n int64
	if err := tx.GetContext(ctx, &n, `SELECT episode_day_fires_compact()`); err != nil {
		return 0, classify(fmt.Errorf("compacting the daily fires: %w", err))
	}
	if err := tx.Commit(); err != nil {
		return 0, classify(fmt.Errorf("compacting the daily fires: %w", err))
	}
	if n > 0 {
		// The merged rows' pages are marked all-visible again, so the trends stay index-only
		// (VACUUM reads only the pages that changed since the last one).
		if _, err := s.db.ExecContext(ctx, `VACUUM episode_day_fires`); err != nil {
			return n, classify(fmt.Errorf("vacuuming the daily fires after compacting them: %w", err))
		}
	}
	return n, nil
}

// daySegments splits the buckets [bounds[i], bounds[i+1]) into whole UTC days, read from the
// daily rollup, and short ranges of episodes for the bounds that are not on UTC midnight (a team's
// timezone). A bound b in UTC day D splits D between the bucket before it and the one after: the
// shorter part is read from episodes and counted for its bucket, and the other bucket gets the
// whole day D from the rollup minus that same part, so no bound costs more than 12 hours of
// episodes. Buckets shorter than two UTC days' reach fall back to episodes at both edges.
type daySegments struct {
	// Episodes starting in [rawFrom, rawTo) count sign1 in bucket1 and sign2 in bucket2
	// (bucket 0: nowhere).
	rawFrom, rawTo []*time.Time
	bucket1, sign1 []int64
	bucket2, sign2 []int64
	dayBucket      []int64 // the rollup's days [dayFrom, dayTo) count in dayBucket
	dayFrom, dayTo []string
}

func (d *daySegments) raw(from, to time.Time, b1, s1, b2, s2 int) {
	if !from.Before(to) || b1 == 0 && b2 == 0 {
		return
	}
	d.rawFrom = append(d.rawFrom, tsPtr(from))
	d.rawTo = append(d.rawTo, tsPtr(to))
	d.bucket1, d.sign1 = append(d.bucket1, int64(b1)), append(d.sign1, int64(s1))
	d.bucket2, d.sign2 = append(d.bucket2, int64(b2)), append(d.sign2, int64(s2))
}

func (d *daySegments) days(bucket int, from, to time.Time) {
	if bucket == 0 || !from.Before(to) {
		return
	}
	d.dayBucket = append(d.dayBucket, int64(bucket))
	d.dayFrom = append(d.dayFrom, from.Format(time.DateOnly))
	d.dayTo = append(d.dayTo, to.Format(time.DateOnly))
}

func splitDays(bounds []time.Time) daySegments {
	const day = 24 * time.Hour // UTC days: Unix time has no leap seconds
	var d daySegments
	ceil := func(t time.Time) time.Time {
		if c := t.Truncate(day); c.Before(t) {
			return c.Add(day)
		}
		return t
	}
	// Every bucket has a whole UTC day, so no two bounds share a day: each bound's day is split
	// between the buckets on either side of it alone.
	split := true
	for i := 0; i+1 < len(bounds); i++ {
		if !ceil(bounds[i].UTC()).Before(bounds[i+1].UTC().Truncate(day)) {
			split = false
		}
	}
	for i := 0; i+1 < len(bounds); i++ {
		from, to := bounds[i].UTC(), bounds[i+1].UTC()
		if !split {
			firstDay, endDay := ceil(from), to.Truncate(day)
			if !firstDay.Before(endDay) {
				d.raw(from, to, i+1, 1, 0, 0)
				continue
			}
			d.raw(from, firstDay, i+1, 1, 0, 0)
			d.days(i+1, firstDay, endDay)
			d.raw(endDay, to, i+1, 1, 0, 0)
			continue
		}
		d.days(i+1, ceil(from), to.Truncate(day))
	}
	if !split {
		return d
	}
	for i, b := range bounds {
		b = b.UTC()
		start := b.Truncate(day)
		if start.Equal(b) {
			continue
		}
		next := start.Add(day)
		before, after := i, i+1 // the buckets ending and starting at b (0: none)
		if after == len(bounds) {
			after = 0
		}
		if b.Sub(start) <= next.Sub(b) {
			// [start, b) from episodes: it counts for the bucket before, and comes off the whole
			// day that the bucket after gets from the rollup.
			d.raw(start, b, before, 1, after, -1)
			d.days(after, start, next)
		} else {
			d.raw(b, next, after, 1, before, -1)
			d.days(before, start, next)
		}
	}
	return d
}

// SetFlapRules makes the daily rollup's flaps (0096) those of the configured thresholds, so that
// RuleCounts can read long windows from it. The server calls it at start. When the thresholds are
// already in force it reads one row and returns; otherwise it records them (waiting for the
// transactions writing episodes at that moment, so that every later delta uses them), then rebuilds
// the rollup from the episodes, which takes seconds at a year of history. Until the rebuild commits,
// RuleCounts reads every episode. Instances configured with other thresholds would rebuild in turn:
// they must share the configuration.
func (s *Store) SetFlapRules(ctx context.Context, flapThreshold, refireWindow time.Duration) (rebuilt bool, err error) {
	var cur struct {
		Same  bool `db:"same"`
		Exact bool `db:"flaps_exact"`
	}
	if err := s.db.GetContext(ctx, &cur, `
		SELECT flap_threshold = make_interval(secs => $1) AND refire_window = make_interval(secs => $2) AS same, flaps_exact
		FROM episode_day_settings`, flapThreshold.Seconds(), refireWindow.Seconds()); err != nil {
		return false, classify(fmt.Errorf("reading the rollup's flap thresholds: %w", err))
	}
	if cur.Same && cur.Exact {
		return false, nil
	}
	if !cur.Same {
		// The lock is tried with a short timeout, below the deadlock timeout, and retried: a webhook
		// that waits for it while holding what an in-flight writer waits for makes this the side
		// that gives up, never the webhook.
		var err error
		for attempt := 0; attempt < 50; attempt++ {
			if err = s.recordFlapRules(ctx, flapThreshold, refireWindow); err == nil {
				break
			}
			var pe *pq.Error
			if !errors.As(err, &pe) || (pe.Code != "55P03" && pe.Code != "40P01") {
				break
			}
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(time.Duration(50+rand.IntN(200)) * time.Millisecond):
			}
		}
		if err != nil {
			return false, classify(fmt.Errorf("changing the rollup's flap thresholds: %w", err))
		}
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, classify(fmt.Errorf("rebuilding the daily rollup: %w", err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return false, classify(fmt.Errorf("rebuilding the daily rollup: %w", err))
	}
	if _, err := tx.ExecContext(ctx, `SELECT episode_day_fires_rebuild()`); err != nil {
		return false, classify(fmt.Errorf("rebuilding the daily rollup: %w", err))
	}
	if err := tx.Commit(); err != nil {
		return false, classify(fmt.Errorf("rebuilding the daily rollup: %w", err))
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE) episode_day_fires`); err != nil {
		return true, classify(fmt.Errorf("vacuuming the daily rollup after rebuilding it: %w", err))
	}
	return true, nil
}

// recordFlapRules stores new thresholds, marking the flaps not exact until the rebuild. SHARE waits
// for every transaction that wrote episodes with the old thresholds and holds new writers back
// until the new ones are committed.
func (s *Store) recordFlapRules(ctx context.Context, flapThreshold, refireWindow time.Duration) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '500ms'`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE episodes IN SHARE MODE`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE episode_day_settings
		SET flap_threshold = make_interval(secs => $1), refire_window = make_interval(secs => $2), flaps_exact = false`,
		flapThreshold.Seconds(), refireWindow.Seconds()); err != nil {
		return err
	}
	return tx.Commit()
}
