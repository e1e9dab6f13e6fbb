package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Change is a deploy or config change posted by CI, with the alert rules that fired within an hour
// after it.
type Change struct {
	ID          int64        `db:"id"`
	Service     string       `db:"service"`
	Kind        string       `db:"kind"`
	At          time.Time    `db:"at"`
	Who         string       `db:"who"`
	Summary     string       `db:"summary"`
	URL         string       `db:"url"`
	CreatedAt   time.Time    `db:"created_at"`
	AlertsAfter []AlertAfter `db:"-"`
}

// AlertAfter is an alert rule that fired within an hour after a change, with how often.
type AlertAfter struct {
	Alertname string `json:"alertname"`
	Fires     int    `json:"fires"`
}

// AlertsAfterWindow is how long after a change an alert counts as firing after it.
const AlertsAfterWindow = time.Hour

func changeKey(c Change) []byte {
	h := sha256.New()
	for _, s := range []string{c.Service, c.Kind, c.At.UTC().Format(time.RFC3339Nano), c.Who, c.Summary, c.URL} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return h.Sum(nil)
}

// AddChange stores a change. The same change posted again (a CI retry) is stored once: it returns
// the stored one with created=false.
func (s *Store) AddChange(ctx context.Context, c Change) (out Change, created bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &out, `
			INSERT INTO changes (service, kind, at, who, summary, url, created_at, dedup_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (dedup_key) DO NOTHING
			RETURNING id, service, kind, at, who, summary, url, created_at`,
			c.Service, c.Kind, c.At, c.Who, c.Summary, c.URL, c.CreatedAt, changeKey(c))
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("adding a change to %s: %w", c.Service, err)
		}
		if err := tx.GetContext(ctx, &out, `
			SELECT id, service, kind, at, who, summary, url, created_at FROM changes WHERE dedup_key = $1`,
			changeKey(c)); err != nil {
			return fmt.Errorf("reading the stored change: %w", err)
		}
		return nil
	})
	out.At, out.CreatedAt = out.At.UTC(), out.CreatedAt.UTC()
	return out, created, err
}

// Changes lists the changes made in [f.From, f.To), oldest first, each with the alert rules whose
// episodes started within AlertsAfterWindow after it (of f.Teams, without f.Ignore), in one statement.
func (s *Store) Changes(ctx context.Context, f CountFilter) ([]Change, error) {
	allTeams, teams := f.teams()
	var rows []struct {
		Change
		After []byte `db:"alerts_after"`
	}
	err := s.read.SelectContext(ctx, &rows, `
		SELECT c.id, c.service, c.kind, c.at, c.who, c.summary, c.url, c.created_at,
		       coalesce((
		           SELECT json_agg(json_build_object('alertname', a.alertname, 'fires', a.fires) ORDER BY a.fires DESC, a.alertname)
		           FROM (SELECT e.alertname, count(*) AS fires
		                 FROM episodes e
		                 WHERE e.starts_at >= c.at AND e.starts_at < c.at + make_interval(secs => $3)
		                   AND ($4 OR e.team = ANY($5::text[]))
		                   AND NOT (e.alertname = ANY($6::text[]))
		                 GROUP BY e.alertname) a
		       ), '[]') AS alerts_after
		FROM changes c
		WHERE c.at >= $1 AND c.at < $2
		ORDER BY c.at, c.id
		LIMIT 1000`,
		f.From, f.To, AlertsAfterWindow.Seconds(), allTeams, teams, f.ignore())
	if err != nil {
		return nil, classify(fmt.Errorf("listing changes: %w", err))
	}
	out := make([]Change, len(rows))
	for i, r := range rows {
		out[i] = r.Change
		out[i].At, out[i].CreatedAt = out[i].At.UTC(), out[i].CreatedAt.UTC()
		if err := json.Unmarshal(r.After, &out[i].AlertsAfter); err != nil {
			return nil, fmt.Errorf("reading the alerts after change %d: %w", r.ID, err)
		}
	}
	return out, nil
}
