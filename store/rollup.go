package store

import (
	"context"
	"fmt"
	"time"
)

// CompactRollups merges the delta rows that triggers appended to episode_day_fires (migration 0073)
// into one row per (day, team, rule), and returns how many rows it merged away. Reads are exact
// before and after; compaction only keeps them short. It does not move the data version: the
// counts it stores are the same counts.
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
	return n, nil
}

// daySegments splits the buckets [bounds[i], bounds[i+1]) into whole UTC days, read from the
// daily rollup, and the partial days at each bucket's edges, read from episodes. Bounds in a
// team's timezone rarely fall on UTC midnight; a bucket shorter than a day is read raw.
type daySegments struct {
	rawBucket []int64
	rawFrom   []*time.Time
	rawTo     []*time.Time
	dayBucket []int64
	dayFrom   []string
	dayTo     []string
}

func splitDays(bounds []time.Time) daySegments {
	var d daySegments
	raw := func(b int, from, to time.Time) {
		if from.Before(to) {
			d.rawBucket = append(d.rawBucket, int64(b))
			d.rawFrom = append(d.rawFrom, tsPtr(from))
			d.rawTo = append(d.rawTo, tsPtr(to))
		}
	}
	for i := 0; i+1 < len(bounds); i++ {
		from, to := bounds[i].UTC(), bounds[i+1].UTC()
		firstDay := from.Truncate(24 * time.Hour) // UTC days: Unix time has no leap seconds
		if firstDay.Before(from) {
			firstDay = firstDay.Add(24 * time.Hour)
		}
		endDay := to.Truncate(24 * time.Hour)
		if !firstDay.Before(endDay) {
			raw(i+1, from, to)
			continue
		}
		raw(i+1, from, firstDay)
		d.dayBucket = append(d.dayBucket, int64(i+1))
		d.dayFrom = append(d.dayFrom, firstDay.Format(time.DateOnly))
		d.dayTo = append(d.dayTo, endDay.Format(time.DateOnly))
		raw(i+1, endDay, to)
	}
	return d
}
