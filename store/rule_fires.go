package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/opsreview/opsreview/review"
)

// RuleFiresFilter selects one alert rule's episodes that start in [From, To) for its page.
type RuleFiresFilter struct {
	Alertname string
	Team      *string // nil: every team; "": unassigned
	From, To  time.Time
	Latest    int // how many of the newest episodes to return in Latest
	// A flap is an episode shorter than FlapThreshold, or one that starts within RefireWindow of
	// the end of the same instance's previous episode (looking back across From).
	FlapThreshold, RefireWindow time.Duration
}

// RuleFires is what the alert rule page shows of a rule's episodes over a window: how many, when
// they started (for the hour-of-week heatmap, in any time zone), the newest ones to draw, and the
// newest in full (its labels and annotations describe the rule).
type RuleFires struct {
	Total    int            // episodes that start in the window
	Quarters []QuarterFires // fires by the quarter hour they started in, oldest first
	Latest   []RuleEpisode  // the newest episodes, at most Latest of them, newest first
	Newest   *review.Episode
}

// QuarterFires is how many episodes started in the quarter hour that starts at At. Every time
// zone's offset is a whole number of quarter hours, so these add up to exact hours anywhere.
type QuarterFires struct {
	At    time.Time `db:"at"`
	Fires int       `db:"fires"`
}

// RuleEpisode is one episode as the rule's timeline draws it.
type RuleEpisode struct {
	Fingerprint uint64
	StartsAt    time.Time
	EndsAt      *time.Time // nil while open
	Flap        bool
}

type ruleEpisodeRow struct {
	Fingerprint int64      `db:"fingerprint"`
	StartsAt    time.Time  `db:"starts_at"`
	EndsAt      *time.Time `db:"ends_at"`
	Flap        bool       `db:"flap"`
}

// RuleFires reads a rule's episodes of a window for its page in three statements however many
// there are: the counts by quarter hour (from the index on the rule and start alone), the newest
// f.Latest episodes (an index range read backwards), and the newest episode in full.
func (s *Store) RuleFires(ctx context.Context, f RuleFiresFilter) (RuleFires, error) {
	var team any
	if f.Team != nil {
		team = *f.Team
	}
	var out RuleFires
	var rows []ruleEpisodeRow
	var newest []episodeRow
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &out.Quarters, `
			SELECT date_bin('15 minutes', e.starts_at, 'epoch') AS at, count(*) AS fires
			FROM episodes e
			WHERE e.alertname = $1 AND e.starts_at >= $2 AND e.starts_at < $3
			  AND ($4::text IS NULL OR e.team = $4::text)
			GROUP BY 1
			ORDER BY 1`, f.Alertname, f.From, f.To, team); err != nil {
			return fmt.Errorf("counting the fires of rule %s: %w", f.Alertname, err)
		}
		if f.Latest > 0 {
			if err := tx.SelectContext(ctx, &rows, `
				SELECT e.fingerprint, e.starts_at, e.ends_at,
				       coalesce((e.ends_at IS NOT NULL AND e.ends_at - e.starts_at < make_interval(secs => $6))
				                OR e.gap_before <= make_interval(secs => $7), false) AS flap
				FROM episodes e
				WHERE e.alertname = $1 AND e.starts_at >= $2 AND e.starts_at < $3
				  AND ($4::text IS NULL OR e.team = $4::text)
				ORDER BY e.starts_at DESC, e.id DESC
				LIMIT $5`, f.Alertname, f.From, f.To, team, f.Latest,
				f.FlapThreshold.Seconds(), f.RefireWindow.Seconds()); err != nil {
				return fmt.Errorf("reading the latest episodes of rule %s: %w", f.Alertname, err)
			}
		}
		if err := tx.SelectContext(ctx, &newest, `
			SELECT `+episodeColumns+`
			FROM episodes e
			WHERE e.alertname = $1 AND e.starts_at >= $2 AND e.starts_at < $3
			  AND ($4::text IS NULL OR e.team = $4::text)
			ORDER BY e.starts_at DESC, e.id DESC
			LIMIT 1`, f.Alertname, f.From, f.To, team); err != nil {
			return fmt.Errorf("reading the newest episode of rule %s: %w", f.Alertname, err)
		}
		return nil
	})
	if err != nil {
		return RuleFires{}, err
	}
	for i := range out.Quarters {
		out.Quarters[i].At = out.Quarters[i].At.UTC()
		out.Total += out.Quarters[i].Fires
	}
	out.Latest = make([]RuleEpisode, len(rows))
	for i, r := range rows {
		e := RuleEpisode{Fingerprint: uint64(r.Fingerprint), StartsAt: r.StartsAt.UTC(), Flap: r.Flap}
		if r.EndsAt != nil {
			end := r.EndsAt.UTC()
			e.EndsAt = &end
		}
		out.Latest[i] = e
	}
	if len(newest) > 0 {
		e := newest[0].episode()
		out.Newest = &e
	}
	return out, nil
}
