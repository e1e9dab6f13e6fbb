package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// Changes lists the changes made in [f.From, f.To), oldest first (at most 1000), each with the
// alert rules whose episodes started within AlertsAfterWindow after it (of f.Teams, without
// f.Ignore). The episode starts of the whole span are read once (index-only, one row per rule),
// sorted, and swept with the changes: a week has hundreds of changes, and a range scan per change
// read each busy hour's episodes several times over.
func (s *Store) Changes(ctx context.Context, f CountFilter) ([]Change, error) {
	var out []Change
	err := s.read.SelectContext(ctx, &out, `
		SELECT id, service, kind, at, who, summary, url, created_at
		FROM changes
		WHERE at >= $1 AND at < $2
		ORDER BY at, id
		LIMIT 1000`, f.From, f.To)
	if err != nil {
		return nil, classify(fmt.Errorf("listing changes: %w", err))
	}
	if len(out) == 0 {
		return []Change{}, nil
	}
	allTeams, teams := f.teams()
	// Every episode start of the span: tens of thousands for a week of every team. They come as one
	// row per rule, its starts an int8[] of microseconds, in the database's order of names (ties
	// between rules keep that order): a few thousand rows to decode instead of one per episode.
	type epStart struct {
		rank int   // the rule's place in sorted
		at   int64 // microseconds since the Unix epoch
	}
	var eps []epStart
	var sorted []string
	rows, err := s.read.QueryContext(ctx, `
		SELECT e.alertname, array_agg((extract(epoch FROM e.starts_at) * 1000000)::bigint)
		FROM episodes e
		WHERE e.starts_at >= $1 AND e.starts_at < $2::timestamptz + make_interval(secs => $3)
		  AND ($4 OR e.team = ANY($5::text[]))
		  AND NOT (e.alertname = ANY($6::text[]))
		GROUP BY e.alertname
		ORDER BY e.alertname`,
		out[0].At, out[len(out)-1].At, AlertsAfterWindow.Seconds(), allTeams, teams, f.ignore())
	if err != nil {
		return nil, classify(fmt.Errorf("reading the episodes after changes: %w", err))
	}
	defer rows.Close()
	var starts numberArray
	for rows.Next() {
		var name string
		if err := rows.Scan(&name, &starts); err != nil {
			return nil, classify(fmt.Errorf("reading the episodes after changes: %w", err))
		}
		rank := len(sorted)
		sorted = append(sorted, name)
		if err := eachElem(starts, func(_ int, el []byte) error {
			at, err := strconv.ParseInt(string(el), 10, 64)
			eps = append(eps, epStart{rank: rank, at: at})
			return err
		}); err != nil {
			return nil, fmt.Errorf("reading the episodes after %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("reading the episodes after changes: %w", err))
	}
	slices.SortFunc(eps, func(a, b epStart) int { return cmp.Compare(a.at, b.at) })
	// The sweep counts by rank (an index into sorted): no string hashing per episode, and the
	// ordering below compares integers only.
	counts := make([]int, len(sorted))
	active := map[int]struct{}{} // ranks with a count above zero
	type fired struct{ fires, rank int }
	var list []fired
	lo, hi := 0, 0
	for i := range out {
		c := &out[i]
		c.At, c.CreatedAt = c.At.UTC(), c.CreatedAt.UTC()
		from := c.At.UnixMicro()
		end := c.At.Add(AlertsAfterWindow).UnixMicro()
		for ; hi < len(eps) && eps[hi].at < end; hi++ {
			r := eps[hi].rank
			if counts[r]++; counts[r] == 1 {
				active[r] = struct{}{}
			}
		}
		for ; lo < hi && eps[lo].at < from; lo++ {
			r := eps[lo].rank
			if counts[r]--; counts[r] == 0 {
				delete(active, r)
			}
		}
		list = list[:0]
		for r := range active {
			list = append(list, fired{counts[r], r})
		}
		slices.SortFunc(list, func(x, y fired) int {
			if x.fires != y.fires {
				return cmp.Compare(y.fires, x.fires)
			}
			return cmp.Compare(x.rank, y.rank)
		})
		c.AlertsAfter = make([]AlertAfter, len(list))
		for k, f := range list {
			c.AlertsAfter[k] = AlertAfter{Alertname: sorted[f.rank], Fires: f.fires}
		}
	}
	return out, nil
}
