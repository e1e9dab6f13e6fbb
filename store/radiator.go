package store

import (
	"context"
	"fmt"
	"time"

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

// PageFilter selects pages received in [From, To).
type PageFilter struct {
	From, To  time.Time
	Team      *string  // nil: every team; "": unassigned
	Receivers []string // paging_receivers
	Ignore    []string // alerts.ignore
}

// Page is one page: a firing notification to a paging receiver that was the receiver's first
// notification of at least one (not ignored) episode.
type Page struct {
	NotificationID int64     `db:"id"`
	ReceivedAt     time.Time `db:"received_at"`
	Team           string    `db:"team"` // the team of its new episodes (the first by name when several)
}

// Pages lists the pages received in the window, oldest first; each notification once.
func (s *Store) Pages(ctx context.Context, f PageFilter) ([]Page, error) {
	var team any
	if f.Team != nil {
		team = *f.Team
	}
	var out []Page
	err := s.read.SelectContext(ctx, &out, `
		SELECT n.id, n.received_at, min(e.team) AS team
		FROM notifications n
		JOIN receiver_episodes re ON re.first_notification_id = n.id AND re.receiver = n.receiver
		JOIN episodes e ON e.id = re.episode_id
		WHERE n.status = 'firing'
		  AND n.receiver = ANY($1)
		  AND n.received_at >= $2 AND n.received_at < $3
		  AND e.alertname <> ALL($4)
		  AND ($5::text IS NULL OR e.team = $5::text)
		GROUP BY n.id, n.received_at
		ORDER BY n.received_at, n.id`, textArray(f.Receivers), f.From, f.To, textArray(f.Ignore), team)
	if err != nil {
		return nil, classify(fmt.Errorf("listing pages: %w", err))
	}
	for i := range out {
		out[i].ReceivedAt = out[i].ReceivedAt.UTC()
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
