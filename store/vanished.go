package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// DefaultVanishPolls is how many consecutive polls an alert must be missing from Alertmanager's
// API before its episode is closed: one miss can be a race with a resend.
const DefaultVanishPolls = 2

// VanishPoll is one successful poll of an Alertmanager's active alerts.
type VanishPoll struct {
	Source  string   // the Alertmanager source name; its episodes are last_seen_by "alertmanager:<Source>"
	Present []uint64 // fingerprints of every alert the poll returned (silenced and inhibited included)
	// IncludeWebhook also counts open episodes last seen by the webhook: only right when this is the
	// only Alertmanager source, or one Alertmanager would close another's alerts.
	IncludeWebhook bool
	// Restarted says the Alertmanager started since the previous poll: its memory is empty, so a
	// missing alert proves nothing. Counters are reset and nothing is closed, except for the
	// episodes last seen at or after SeenSince.
	Restarted bool
	// SeenSince, with Restarted, is when opsreview first polled this Alertmanager process: an
	// episode it listed (or delivered by webhook) since then was in its memory, so its absence
	// does mean the alert is gone. Zero: every episode is exempt.
	SeenSince time.Time
	Polls     int // misses before closing; DefaultVanishPolls when zero
}

// VanishResult counts what one poll did to the open episodes in its scope.
type VanishResult struct {
	Missing int // missing from this poll, not yet closed
	Closed  int // closed now: ended (EndInferred) at their last_seen_at
	Reset   int // counters set back to zero (present again, or after a restart)
}

// CloseVanished counts, in one transaction, the polls for which open episodes of this Alertmanager
// have been missing from its API, and closes those missing for Polls polls in a row: each ends at
// its last_seen_at with EndInferred. Episodes last seen by Prometheus are left to its history.
func (s *Store) CloseVanished(ctx context.Context, p VanishPoll) (VanishResult, error) {
	if p.Polls <= 0 {
		p.Polls = DefaultVanishPolls
	}
	present := make([]int64, len(p.Present))
	for i, fp := range p.Present {
		present[i] = int64(fp)
	}
	seenBy := string(review.RoadAlertmanager) + ":" + p.Source
	since := "infinity"
	if !p.SeenSince.IsZero() {
		since = p.SeenSince.UTC().Format(time.RFC3339Nano)
	}
	var res VanishResult
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var fps []int64
		if err := tx.SelectContext(ctx, &fps, `
			SELECT DISTINCT fingerprint
			FROM episodes
			WHERE ends_at IS NULL
			  AND (last_seen_by = $1 OR ($2 AND last_seen_by = $3))`,
			seenBy, p.IncludeWebhook, string(review.RoadWebhook)); err != nil {
			return fmt.Errorf("listing open episodes of %s: %w", p.Source, err)
		}
		if len(fps) == 0 {
			return nil
		}
		// Take the ingest's fingerprint locks first, in its order, so a report arriving meanwhile
		// merges with the episode as this transaction leaves it instead of overwriting it.
		if _, err := tx.ExecContext(ctx, `
			SELECT count(pg_advisory_xact_lock(1, k::int))
			FROM (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS keys`, int64s(fingerprintLockKeys(fps))); err != nil {
			return fmt.Errorf("locking fingerprints: %w", err)
		}
		var rows []struct {
			Closed  bool `db:"closed"`
			Missing int  `db:"missing_polls"`
		}
		if err := tx.SelectContext(ctx, &rows, `
			WITH scope AS (
			    SELECT id, fingerprint = ANY($4::bigint[]) AS present,
			           $5 AND last_seen_at < $8 AS exempt
			    FROM episodes
			    WHERE ends_at IS NULL
			      AND (last_seen_by = $1 OR ($2 AND last_seen_by = $3))
			)
			UPDATE episodes e
			SET missing_polls = CASE WHEN s.present OR s.exempt THEN 0 ELSE e.missing_polls + 1 END,
			    ends_at       = CASE WHEN NOT s.present AND NOT s.exempt AND e.missing_polls + 1 >= $6
			                         THEN greatest(e.last_seen_at, e.starts_at) END,
			    end_kind      = CASE WHEN NOT s.present AND NOT s.exempt AND e.missing_polls + 1 >= $6
			                         THEN $7 ELSE e.end_kind END
			FROM scope s
			WHERE e.id = s.id
			  AND (NOT (s.present OR s.exempt) OR e.missing_polls <> 0)
			RETURNING e.ends_at IS NOT NULL AS closed, e.missing_polls`,
			seenBy, p.IncludeWebhook, string(review.RoadWebhook), pq.Array(present), p.Restarted, p.Polls,
			int16(review.EndInferred), since); err != nil {
			return fmt.Errorf("counting vanished alerts of %s: %w", p.Source, err)
		}
		for _, r := range rows {
			switch {
			case r.Closed:
				res.Closed++
			case r.Missing == 0:
				res.Reset++
			default:
				res.Missing++
			}
		}
		return nil
	})
	if err != nil {
		return VanishResult{}, err
	}
	return res, nil
}

// fingerprintLockKeys maps fingerprints to the sorted, distinct advisory lock keys under which
// ingestEpisodes serialises writes to them; the mapping must stay the same as there.
func fingerprintLockKeys(fps []int64) []int64 {
	seen := map[int64]bool{}
	var keys []int64
	for _, f := range fps {
		fp := uint64(f)
		k := int64(int32(uint32(fp) ^ uint32(fp>>32)))
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
