package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// silenceMatcher is the stored (jsonb) form of one matcher, named as in Alertmanager's API.
type silenceMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// UpsertSilences stores the silences an Alertmanager reports, in one transaction. Silences that
// Alertmanager has since forgotten (it drops expired ones after its retention) keep their last state.
func (s *Store) UpsertSilences(ctx context.Context, source string, silences []review.Silence) error {
	if len(silences) == 0 {
		return nil
	}
	var ids, matchers, createdBy, comments, states []string
	var starts, ends, updated []*time.Time
	for _, sl := range silences {
		ms := make([]silenceMatcher, len(sl.Matchers))
		for i, m := range sl.Matchers {
			ms[i] = silenceMatcher(m)
		}
		b, err := json.Marshal(ms)
		if err != nil {
			return fmt.Errorf("encoding the matchers of silence %s: %w", sl.ID, err)
		}
		ids = append(ids, sl.ID)
		matchers = append(matchers, string(b))
		createdBy = append(createdBy, sl.CreatedBy)
		comments = append(comments, sl.Comment)
		states = append(states, sl.State)
		starts = append(starts, tsPtr(sl.StartsAt))
		ends = append(ends, tsPtr(sl.EndsAt))
		updated = append(updated, tsPtr(sl.UpdatedAt))
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO silences (source, id, matchers, starts_at, ends_at, created_by, comment, state, updated_at)
			SELECT DISTINCT ON (r.id) $1, r.id, r.matchers, r.starts_at, r.ends_at, r.created_by, r.comment,
			       r.state, r.updated_at
			FROM unnest($2::text[], $3::jsonb[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[],
			            $8::text[], $9::timestamptz[])
			     AS r(id, matchers, starts_at, ends_at, created_by, comment, state, updated_at)
			ORDER BY r.id, r.updated_at DESC
			ON CONFLICT (source, id) DO UPDATE SET
			    matchers   = EXCLUDED.matchers,
			    starts_at  = EXCLUDED.starts_at,
			    ends_at    = EXCLUDED.ends_at,
			    created_by = EXCLUDED.created_by,
			    comment    = EXCLUDED.comment,
			    state      = EXCLUDED.state,
			    updated_at = EXCLUDED.updated_at`,
			source, pq.Array(ids), pq.Array(matchers), tsArray(starts), tsArray(ends), pq.Array(createdBy),
			pq.Array(comments), pq.Array(states), tsArray(updated))
		if err != nil {
			return fmt.Errorf("storing %d silences of %s: %w", len(silences), source, err)
		}
		return nil
	})
}

// Silences lists the silences stored for one Alertmanager source ("" for every source), newest first.
func (s *Store) Silences(ctx context.Context, source string) ([]review.Silence, error) {
	var rows []struct {
		Source    string    `db:"source"`
		ID        string    `db:"id"`
		Matchers  []byte    `db:"matchers"`
		StartsAt  time.Time `db:"starts_at"`
		EndsAt    time.Time `db:"ends_at"`
		CreatedBy string    `db:"created_by"`
		Comment   string    `db:"comment"`
		State     string    `db:"state"`
		UpdatedAt time.Time `db:"updated_at"`
	}
	if err := s.read.SelectContext(ctx, &rows, `
		SELECT source, id, matchers, starts_at, ends_at, created_by, comment, state, updated_at
		FROM silences
		WHERE $1 = '' OR source = $1
		ORDER BY starts_at DESC, source, id`, source); err != nil {
		return nil, classify(fmt.Errorf("listing silences: %w", err))
	}
	out := make([]review.Silence, len(rows))
	for i, r := range rows {
		var ms []silenceMatcher
		if err := json.Unmarshal(r.Matchers, &ms); err != nil {
			return nil, fmt.Errorf("decoding the matchers of silence %s: %w", r.ID, err)
		}
		sl := review.Silence{Source: r.Source, ID: r.ID, StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(),
			UpdatedAt: r.UpdatedAt.UTC(), CreatedBy: r.CreatedBy, Comment: r.Comment, State: r.State}
		for _, m := range ms {
			sl.Matchers = append(sl.Matchers, review.SilenceMatcher(m))
		}
		out[i] = sl
	}
	return out, nil
}

// SilencedFires counts, per alert name, the episodes that start in the filter's window and how
// many of them Alertmanager reported as silenced (from its API or webhook). Limit is ignored.
func (s *Store) SilencedFires(ctx context.Context, f EpisodeFilter) ([]review.SilencedFires, error) {
	var team any
	if f.Team != nil {
		team = *f.Team
	}
	var rows []struct {
		Alertname string `db:"alertname"`
		Fires     int    `db:"fires"`
		Silenced  int    `db:"silenced"`
	}
	if err := s.read.SelectContext(ctx, &rows, `
		SELECT alertname, count(*) AS fires, count(*) FILTER (WHERE silenced) AS silenced
		FROM episodes
		WHERE starts_at >= $1 AND starts_at < $2
		  AND ($3 = '' OR alertname = $3)
		  AND ($4::text IS NULL OR team = $4::text)
		GROUP BY alertname
		ORDER BY alertname`, f.From, f.To, f.Alertname, team); err != nil {
		return nil, classify(fmt.Errorf("counting silenced fires: %w", err))
	}
	out := make([]review.SilencedFires, len(rows))
	for i, r := range rows {
		out[i] = review.SilencedFires{Alertname: r.Alertname, Fires: r.Fires, Silenced: r.Silenced}
	}
	return out, nil
}
