package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opsreview/opsreview/review"
)

// NewToilEntry is toil to log. RequestKey, when set, makes the call idempotent: a second call
// with the same key stores nothing and returns the first entry.
type NewToilEntry struct {
	review.ToilEntry
	RequestKey string
}

// AddToilEntry stores a manual toil entry and returns it with its id; created reports whether it
// is new (false: the request key had been used, and the earlier entry is returned).
func (s *Store) AddToilEntry(ctx context.Context, e NewToilEntry) (entry review.ToilEntry, created bool, err error) {
	var key any
	if e.RequestKey != "" {
		key = e.RequestKey
	}
	var row toilRow
	err = s.db.GetContext(ctx, &row, `
		INSERT INTO toil_entries (team, minutes, category, note, alertname, at, who, created_at, request_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (request_key) DO NOTHING
		RETURNING `+toilColumns,
		e.Team, e.Minutes, e.Category, e.Note, e.Alertname, e.At, e.Who, e.CreatedAt, key)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.db.GetContext(ctx, &row, `SELECT `+toilColumns+` FROM toil_entries WHERE request_key = $1`, key)
		if err != nil {
			return review.ToilEntry{}, false, classify(fmt.Errorf("reading the toil entry of request %q: %w", e.RequestKey, err))
		}
		return row.entry(), false, nil
	}
	if err != nil {
		return review.ToilEntry{}, false, classify(fmt.Errorf("logging toil: %w", err))
	}
	return row.entry(), true, nil
}

const toilColumns = `id, team, minutes, category, note, alertname, at, who, created_at`

type toilRow struct {
	ID        int64     `db:"id"`
	Team      string    `db:"team"`
	Minutes   int       `db:"minutes"`
	Category  string    `db:"category"`
	Note      string    `db:"note"`
	Alertname string    `db:"alertname"`
	At        time.Time `db:"at"`
	Who       string    `db:"who"`
	CreatedAt time.Time `db:"created_at"`
}

func (r toilRow) entry() review.ToilEntry {
	return review.ToilEntry{ID: r.ID, Team: r.Team, Minutes: r.Minutes, Category: r.Category, Note: r.Note,
		Alertname: r.Alertname, At: r.At.UTC(), Who: r.Who, CreatedAt: r.CreatedAt.UTC()}
}

// ToilEntries lists manual toil entries whose time is in [from, to), of one team (nil: every
// team; "": unassigned), oldest first.
func (s *Store) ToilEntries(ctx context.Context, from, to time.Time, team *string) ([]review.ToilEntry, error) {
	var t any
	if team != nil {
		t = *team
	}
	var rows []toilRow
	err := s.read.SelectContext(ctx, &rows, `
		SELECT `+toilColumns+`
		FROM toil_entries
		WHERE at >= $1 AND at < $2
		  AND ($3::text IS NULL OR team = $3::text)
		ORDER BY at, id`, from, to, t)
	if err != nil {
		return nil, classify(fmt.Errorf("listing toil entries: %w", err))
	}
	out := make([]review.ToilEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// PageQuery selects pages.
type PageQuery struct {
	From, To  time.Time // when the page was received: [From, To)
	Team      *string   // nil: every team; "": unassigned
	Receivers []string  // paging receivers (paging_receivers)
	Ignore    []string  // alertnames left out of every count
}

// ToilPages returns the pages received in the window, one per notification (Pages gives one per
// notification and rule): each lists the rules of its new episodes and the team of the first.
// Hours and Minutes are left for the caller, which knows the teams.
func (s *Store) ToilPages(ctx context.Context, q PageQuery) ([]review.ToilPage, error) {
	f := CountFilter{From: q.From, To: q.To, Ignore: q.Ignore, PagingReceivers: q.Receivers}
	if q.Team != nil {
		f.Teams = []string{*q.Team}
	}
	rows, err := s.Pages(ctx, f)
	if err != nil {
		return nil, err
	}
	return review.ToilPagesOf(rows), nil
}
