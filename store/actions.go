package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// ActionItem is a decision from the meeting with an owner and a due date, linked to an alert rule,
// an SLI or a runbook. It returns on every later agenda as a follow-up until it is closed.
type ActionItem struct {
	ID        int64      `db:"id" json:"id"`
	Title     string     `db:"title" json:"title"`
	Owner     string     `db:"owner" json:"owner"`
	Due       time.Time  `db:"due" json:"-"`
	TicketURL string     `db:"ticket_url" json:"ticket_url"`
	Alertname string     `db:"alertname" json:"alertname"`
	SLI       string     `db:"sli" json:"sli"`
	Runbook   string     `db:"runbook" json:"runbook"`
	Team      string     `db:"team" json:"team"`
	Week      string     `db:"week" json:"week"` // the review it was decided in
	WeekStart time.Time  `db:"week_start" json:"-"`
	CreatedBy string     `db:"created_by" json:"created_by"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	UpdatedBy string     `db:"updated_by" json:"updated_by"`
	UpdatedAt time.Time  `db:"updated_at" json:"updated_at"`
	ClosedBy  string     `db:"closed_by" json:"closed_by"`
	ClosedAt  *time.Time `db:"closed_at" json:"closed_at"`
	Version   int        `db:"version" json:"version"`
}

// Open reports whether the item is still to do.
func (a ActionItem) Open() bool { return a.ClosedAt == nil }

// Overdue reports whether the item is open and its due date is before today's date.
func (a ActionItem) Overdue(today time.Time) bool {
	y, m, d := today.Date()
	return a.Open() && a.Due.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// DueDate is the due date as YYYY-MM-DD.
func (a ActionItem) DueDate() string { return a.Due.Format(time.DateOnly) }

const actionColumns = `id, title, owner, due, ticket_url, alertname, sli, runbook, team, week, week_start,
	created_by, created_at, updated_by, updated_at, closed_by, closed_at, version`

func (a *ActionItem) utc() {
	a.Due = time.Date(a.Due.Year(), a.Due.Month(), a.Due.Day(), 0, 0, 0, 0, time.UTC)
	a.CreatedAt, a.UpdatedAt, a.WeekStart = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), a.WeekStart.UTC()
	if a.ClosedAt != nil {
		t := a.ClosedAt.UTC()
		a.ClosedAt = &t
	}
}

// AddActionItem stores a new item (ID, closed and version fields are ignored). A repeated
// idempotencyKey (a double-submitted form) returns the item it first created and created=false.
func (s *Store) AddActionItem(ctx context.Context, a ActionItem, idempotencyKey string) (item ActionItem, created bool, err error) {
	var key any
	if idempotencyKey != "" {
		key = idempotencyKey
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &item, `
			INSERT INTO action_items (title, owner, due, ticket_url, alertname, sli, runbook, team, week, week_start,
			                          created_by, created_at, updated_by, updated_at, idempotency_key)
			VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $12, $13)
			ON CONFLICT (idempotency_key) DO NOTHING
			RETURNING `+actionColumns,
			a.Title, a.Owner, a.Due.Format(time.DateOnly), a.TicketURL, a.Alertname, a.SLI, a.Runbook, a.Team,
			a.Week, a.WeekStart, a.CreatedBy, a.CreatedAt, key)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("adding action item %q: %w", a.Title, err)
		}
		if err := tx.GetContext(ctx, &item, `SELECT `+actionColumns+` FROM action_items WHERE idempotency_key = $1`, key); err != nil {
			return fmt.Errorf("reading action item by idempotency key: %w", err)
		}
		return nil
	})
	item.utc()
	return item, created, err
}

// ActionItemChange changes an item in place: a new due date, closing or reopening it. With
// ExpectVersion set, it is refused with ErrConflict when someone changed the item since.
type ActionItemChange struct {
	Due           *time.Time
	Close, Reopen bool
	By            string
	At            time.Time
	ExpectVersion *int
}

// UpdateActionItem applies a change and returns the item as it now is.
func (s *Store) UpdateActionItem(ctx context.Context, id int64, ch ActionItemChange) (ActionItem, error) {
	var item ActionItem
	var due any
	if ch.Due != nil {
		due = ch.Due.Format(time.DateOnly)
	}
	var expect any
	if ch.ExpectVersion != nil {
		expect = *ch.ExpectVersion
	}
	err := s.db.GetContext(ctx, &item, `
		UPDATE action_items
		SET due = coalesce($2::date, due),
		    closed_at = CASE WHEN $3 AND closed_at IS NULL THEN $5 WHEN $4 THEN NULL ELSE closed_at END,
		    closed_by = CASE WHEN $3 AND closed_at IS NULL THEN $6 WHEN $4 THEN '' ELSE closed_by END,
		    updated_at = $5, updated_by = $6, version = version + 1
		WHERE id = $1 AND ($7::integer IS NULL OR version = $7::integer)
		RETURNING `+actionColumns,
		id, due, ch.Close, ch.Reopen, ch.At, ch.By, expect)
	if errors.Is(err, sql.ErrNoRows) {
		var exists bool
		if err := s.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM action_items WHERE id = $1)`, id); err != nil {
			return item, classify(fmt.Errorf("looking up action item %d: %w", id, err))
		}
		if exists {
			return item, fmt.Errorf("action item %d: %w", id, ErrConflict)
		}
		return item, fmt.Errorf("action item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return item, classify(fmt.Errorf("updating action item %d: %w", id, err))
	}
	item.utc()
	return item, nil
}

// ActionItem returns one item.
func (s *Store) ActionItem(ctx context.Context, id int64) (ActionItem, error) {
	var item ActionItem
	err := s.read.GetContext(ctx, &item, `SELECT `+actionColumns+` FROM action_items WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return item, fmt.Errorf("action item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return item, classify(fmt.Errorf("reading action item %d: %w", id, err))
	}
	item.utc()
	return item, nil
}

// ActionFilter selects action items. Zero fields select everything.
type ActionFilter struct {
	Team      *string // nil: every team
	Alertname string
	// FollowUpsOf selects the follow-ups of the week starting then: items decided in earlier weeks
	// that were still open when the week ended (ClosedAfter), so one closed in the meeting stays in
	// place, struck through. Overdue ones (due before Today) come first, then by due date.
	FollowUpsOf *time.Time
	ClosedAfter time.Time
	Today       time.Time
	// DecidedIn selects items decided in the review of the week starting then.
	DecidedIn *time.Time
	OpenOnly  bool
}

// ActionItems lists items by the filter; follow-up order when FollowUpsOf is set, else newest first.
func (s *Store) ActionItems(ctx context.Context, f ActionFilter) ([]ActionItem, error) {
	var team any
	if f.Team != nil {
		team = *f.Team
	}
	var follow, decided any
	if f.FollowUpsOf != nil {
		follow = *f.FollowUpsOf
	}
	if f.DecidedIn != nil {
		decided = *f.DecidedIn
	}
	today := f.Today
	if today.IsZero() {
		today = time.Now()
	}
	items := []ActionItem{}
	err := s.read.SelectContext(ctx, &items, `
		SELECT `+actionColumns+`
		FROM action_items
		WHERE ($1::text IS NULL OR team = $1::text)
		  AND ($2 = '' OR alertname = $2)
		  AND ($3::timestamptz IS NULL OR (week_start < $3::timestamptz AND (closed_at IS NULL OR closed_at >= $4)))
		  AND ($5::timestamptz IS NULL OR week_start = $5::timestamptz)
		  AND (NOT $6 OR closed_at IS NULL)
		ORDER BY CASE WHEN $3::timestamptz IS NULL THEN 0
		              ELSE (CASE WHEN closed_at IS NULL AND due < $7::date THEN 0 ELSE 1 END) END,
		         CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE due END,
		         created_at DESC, id DESC
		LIMIT 1000`,
		team, f.Alertname, follow, f.ClosedAfter, decided, f.OpenOnly, today.Format(time.DateOnly))
	if err != nil {
		return nil, classify(fmt.Errorf("listing action items: %w", err))
	}
	for i := range items {
		items[i].utc()
	}
	return items, nil
}
