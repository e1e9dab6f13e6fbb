package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// The read models of the wall TV: each is one statement, run at most once per TV refresh.

// FiringFilter selects open episodes.
type FiringFilter struct {
	Team    *string  // nil: every team; "": unassigned
	Ignore  []string // alertnames left out of every count (alerts.ignore)
	PerRank int      // at most this many episodes per severity, oldest first
}

// FiringEpisode is an open episode with its severity label and how many open episodes share it.
type FiringEpisode struct {
	review.Episode
	Severity      string // the severity label, "" when the alert has none
	SeverityCount int    // open episodes with this severity (more than are returned)
}

// FiringNow returns the open episodes (ends_at IS NULL), at most PerRank per severity label,
// oldest first within each, each with its severity's total.
func (s *Store) FiringNow(ctx context.Context, f FiringFilter) ([]FiringEpisode, error) {
	if f.PerRank <= 0 {
		f.PerRank = 10
	}
	var team any
	if f.Team != nil {
		team = *f.Team
	}
	var rows []struct {
		episodeRow
		Severity      string `db:"severity"`
		SeverityCount int    `db:"severity_count"`
		Rank          int    `db:"severity_rank"`
	}
	err := s.read.SelectContext(ctx, &rows, `
		SELECT *
		FROM (
			SELECT `+episodeColumns+`,
			       coalesce(e.labels->>'severity', '') AS severity,
			       count(*) OVER sev AS severity_count,
			       row_number() OVER (sev ORDER BY e.starts_at, e.id) AS severity_rank
			FROM episodes e
			WHERE e.ends_at IS NULL
			  AND e.alertname <> ALL($1)
			  AND ($2::text IS NULL OR e.team = $2::text)
			WINDOW sev AS (PARTITION BY coalesce(e.labels->>'severity', ''))
		) open
		WHERE severity_rank <= $3
		ORDER BY severity, starts_at, id`, textArray(f.Ignore), team, f.PerRank)
	if err != nil {
		return nil, classify(fmt.Errorf("listing firing episodes: %w", err))
	}
	out := make([]FiringEpisode, len(rows))
	for i, r := range rows {
		out[i] = FiringEpisode{Episode: r.episode(), Severity: r.Severity, SeverityCount: r.SeverityCount}
	}
	return out, nil
}

// textArray passes a string list as text[]; a nil list is an empty array, not NULL (with which
// "<> ALL" would be NULL and match nothing).
func textArray(v []string) any {
	if v == nil {
		v = []string{}
	}
	return pq.Array(v)
}
