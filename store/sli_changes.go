package store

import (
	"context"
	"fmt"
	"time"
)

// Title is the change's one-line description, as a marker on an SLI chart shows it.
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

// ChangesFor returns the changes of service in [from, to], oldest first, for an SLI's chart.
func (s *Store) ChangesFor(ctx context.Context, service string, from, to time.Time) ([]Change, error) {
	var out []Change
	err := s.read.SelectContext(ctx, &out, `
		SELECT id, service, kind, at, who, summary, url, created_at
		FROM changes
		WHERE service = $1 AND at >= $2 AND at <= $3
		ORDER BY at
		LIMIT 500`, service, from, to)
	if err != nil {
		return nil, classify(fmt.Errorf("reading changes of %s: %w", service, err))
	}
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, nil
}
