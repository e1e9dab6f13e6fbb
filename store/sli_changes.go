package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Change is a deploy or config change of a service, drawn as a marker on its SLI charts.
type Change struct {
	At                      time.Time
	Kind, Who, Summary, URL string
}

// Title is the change's one-line description.
func (c Change) Title() string {
	t := c.Kind
	if c.Summary != "" {
		if t != "" {
			t += ": "
		}
		t += c.Summary
	}
	if c.Who != "" {
		t += " (" + c.Who + ")"
	}
	return t
}

// ChangesFor returns the changes of service in [from, to], oldest first. The changes table
// belongs to the change-events feature; until its migration is applied this returns none. Only
// its service and at columns are relied on: the rest is read from the row as JSON, whatever
// columns it has.
func (s *Store) ChangesFor(ctx context.Context, service string, from, to time.Time) ([]Change, error) {
	var exists bool
	if err := s.read.GetContext(ctx, &exists, `SELECT to_regclass('changes') IS NOT NULL`); err != nil {
		return nil, classify(fmt.Errorf("looking for the changes table: %w", err))
	}
	if !exists {
		return nil, nil
	}
	rows, err := s.read.QueryxContext(ctx, `
		SELECT c.at, to_jsonb(c) AS doc
		FROM changes c
		WHERE c.service = $1 AND c.at >= $2 AND c.at <= $3
		ORDER BY c.at
		LIMIT 500`, service, from, to)
	if err != nil {
		return nil, classify(fmt.Errorf("reading changes of %s: %w", service, err))
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var at time.Time
		var doc []byte
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, fmt.Errorf("reading a change: %w", err)
		}
		var m map[string]any
		_ = json.Unmarshal(doc, &m)
		str := func(k string) string { v, _ := m[k].(string); return v }
		out = append(out, Change{At: at.UTC(), Kind: str("kind"), Who: str("who"), Summary: str("summary"), URL: str("url")})
	}
	return out, classify(rows.Err())
}
