package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// RunbookQuery selects runbooks and the fires that weigh them.
type RunbookQuery struct {
	Annotations []string // annotation names that hold a runbook URL (runbooks.annotations)
	Ignore      []string // alertnames left out of every count (alerts.ignore)
	// From and To bound the fires counted for risk; an alert with no runbook is listed as missing
	// when its rule is live or it fired in this window.
	From, To time.Time
	Team     *string // nil: every team; "": unassigned. Applies to fires.
}

// runbookLink says that an alert points to a runbook URL ("" when it has none).
type runbookLink struct {
	Alertname string    `db:"alertname"`
	URL       string    `db:"url"`
	FirstSeen time.Time `db:"first_seen"`
	Live      bool      `db:"live"`
}

// runbookLinksSQL reads which alerts point to which runbook URLs: from the annotations of alert
// rules, and of episodes through the distinct annotation sets of each rule (0072), a few rows per
// rule instead of every episode. has_url tells whether the alert has a URL under any name; an
// alert that has one loses its row without a URL. live, on the row of an alert without any URL:
// its rule is live (not gone) or, when $5 asks, it fired in [$3, $4) — one index-only probe of
// (alertname, starts_at) per such alert whose rule is not live. The probe needs no annotations:
// every annotation set of an alert without a URL has none, so "an episode with an annotation set
// without a URL started in the window" is "an episode started in the window". Probing every
// annotation set instead (what this replaced: 2,000 probes at the bench's size, and a planner
// estimate high enough to JIT-compile the statement) cost a second per TV runbooks panel.
const runbookLinksSQL = `
		WITH names AS (
		    SELECT unnest($1::text[]) AS name
		), links AS (
		    SELECT r.alertname, nullif(btrim(r.annotations ->> n.name), '') AS url,
		           r.first_seen AS seen, r.gone_at IS NULL AS live
		    FROM alert_rules r
		    CROSS JOIN names n
		    UNION ALL
		    SELECT s.alertname, nullif(btrim(s.annotations ->> n.name), '') AS url,
		           s.first_start AS seen, false AS live
		    FROM alert_annotation_sets s
		    CROSS JOIN names n
		), grouped AS (
		    SELECT alertname, coalesce(url, '') AS url, min(seen) AS first_seen, bool_or(live) AS live,
		           bool_or(bool_or(url IS NOT NULL)) OVER (PARTITION BY alertname) AS has_url
		    FROM links
		    WHERE NOT (alertname = ANY($2::text[]))
		    GROUP BY 1, 2
		)
		SELECT g.alertname, g.url, (extract(epoch FROM g.first_seen) * 1000000)::bigint AS first_seen_us,
		       CASE WHEN g.live THEN true
		            WHEN g.has_url OR NOT $5::boolean THEN false
		            ELSE EXISTS (SELECT 1 FROM episodes e -- index only
		                         WHERE e.alertname = g.alertname AND e.starts_at >= $3 AND e.starts_at < $4)
		       END AS live
		FROM grouped g
		WHERE g.url <> '' OR NOT g.has_url
		ORDER BY 1, 2`

// runbookLinks reads which alerts point to which runbook URLs from the annotations of alert rules
// and of episodes. An alert whose rule and episodes carry none of the annotations has one link
// with an empty URL (and no other). Live is only meaningful on such a link, and only when live is
// asked for: its rule is live or it fired in [q.From, q.To).
func runbookLinks(ctx context.Context, db sqlx.QueryerContext, q RunbookQuery, live bool) ([]runbookLink, error) {
	// Scanned by hand, the time as integer microseconds: every link of every alert, on each load
	// of the Runbooks page and of the TV's runbooks panel for each team.
	rows, err := db.QueryContext(ctx, runbookLinksSQL,
		pq.Array(q.Annotations), pq.Array(nonNil(q.Ignore)), q.From, q.To, live)
	if err != nil {
		return nil, fmt.Errorf("reading runbook links from annotations: %w", err)
	}
	defer rows.Close()
	var links []runbookLink
	for rows.Next() {
		var l runbookLink
		var us int64
		if err := rows.Scan(&l.Alertname, &l.URL, &us, &l.Live); err != nil {
			return nil, fmt.Errorf("reading runbook links from annotations: %w", err)
		}
		l.FirstSeen = time.UnixMicro(us).UTC()
		links = append(links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading runbook links from annotations: %w", err)
	}
	return links, nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// runbookRow is one row of the runbooks table.
type runbookRow struct {
	URL          string     `db:"url"`
	FirstSeen    time.Time  `db:"first_seen"`
	CheckedAt    *time.Time `db:"checked_at"`
	StatusCode   int        `db:"status_code"`
	CheckError   string     `db:"check_error"`
	LastModified *time.Time `db:"last_modified"`
	LastReviewed *time.Time `db:"last_reviewed"`
	ReviewedBy   string     `db:"reviewed_by"`
}

func (r runbookRow) state() review.RunbookState {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return review.RunbookState{
		URL: r.URL, FirstSeen: r.FirstSeen.UTC(), CheckedAt: utc(r.CheckedAt), StatusCode: r.StatusCode,
		CheckError: r.CheckError, LastModified: utc(r.LastModified), LastReviewed: utc(r.LastReviewed),
		ReviewedBy: r.ReviewedBy,
	}
}

// runbookStateColumns are the runbooks table's columns as readRunbookStates scans them: times as
// integer microseconds (NULL when unknown), cheaper to send and parse than text for every
// runbook on each load of the Runbooks page and the TV's panel.
const runbookStateColumns = `url, (extract(epoch FROM first_seen) * 1000000)::bigint,
		       (extract(epoch FROM checked_at) * 1000000)::bigint, status_code, check_error,
		       (extract(epoch FROM last_modified) * 1000000)::bigint,
		       (extract(epoch FROM last_reviewed) * 1000000)::bigint, reviewed_by`

// readRunbookStates runs a SELECT of runbookStateColumns and returns its rows by URL.
func readRunbookStates(ctx context.Context, db sqlx.QueryerContext, query string, args ...any) (map[string]review.RunbookState, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading runbook states: %w", err)
	}
	defer rows.Close()
	out := map[string]review.RunbookState{}
	micros := func(us sql.NullInt64) *time.Time {
		if !us.Valid {
			return nil
		}
		t := time.UnixMicro(us.Int64).UTC()
		return &t
	}
	for rows.Next() {
		var st review.RunbookState
		var first int64
		var checked, modified, reviewed sql.NullInt64
		if err := rows.Scan(&st.URL, &first, &checked, &st.StatusCode, &st.CheckError, &modified, &reviewed, &st.ReviewedBy); err != nil {
			return nil, fmt.Errorf("reading runbook states: %w", err)
		}
		st.FirstSeen = time.UnixMicro(first).UTC()
		st.CheckedAt, st.LastModified, st.LastReviewed = micros(checked), micros(modified), micros(reviewed)
		out[st.URL] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading runbook states: %w", err)
	}
	return out, nil
}

func runbookStates(ctx context.Context, db sqlx.QueryerContext) (map[string]review.RunbookState, error) {
	return readRunbookStates(ctx, db, `SELECT `+runbookStateColumns+` FROM runbooks`)
}

// firesIn counts each alert rule's episodes that started in [from, to), of team when given: the
// whole UTC days from the daily rollup (episode_day_fires), the partial days at the edges from
// episodes — WeeklyFires with one bucket, so 28 days of every team read about 40,000 rollup rows
// instead of every episode.
func (s *Store) firesIn(ctx context.Context, from, to time.Time, team *string) (map[string]int, error) {
	var f CountFilter
	if team != nil {
		f.Teams = []string{*team}
	}
	w, err := s.WeeklyFires(ctx, []time.Time{from, to}, f)
	if err != nil {
		return nil, fmt.Errorf("counting fires per alert: %w", err)
	}
	out := make(map[string]int, len(w))
	for name, b := range w {
		if b[0] != 0 {
			out[name] = b[0]
		}
	}
	return out, nil
}

// Runbooks lists every runbook URL that an alert rule or episode points to, with the alerts that
// point to it, its last check and review, and the fires of those alerts in the query's window;
// plus one entry with an empty URL for each live alert that has no runbook. Status and risk are
// left to review.RankRunbooks.
func (s *Store) Runbooks(ctx context.Context, q RunbookQuery) ([]review.RankedRunbook, error) {
	// The fires (the rollup's 28 days of every rule) are counted on a second connection while the
	// links and states are read: the load takes the longer of the two, not their sum.
	var fires map[string]int
	var firesErr error
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		fires, firesErr = s.firesIn(ctx, q.From, q.To, q.Team)
	}()
	links, err := runbookLinks(ctx, s.read, q, true)
	var states map[string]review.RunbookState
	if err == nil {
		states, err = runbookStates(ctx, s.read)
	}
	<-counted
	if err != nil {
		return nil, classify(err)
	}
	if firesErr != nil {
		return nil, classify(firesErr)
	}
	byURL := map[string]*review.RankedRunbook{}
	var out []review.RankedRunbook
	var missing []review.RankedRunbook
	for _, l := range links {
		if l.URL == "" {
			if l.Live {
				missing = append(missing, review.RankedRunbook{
					RunbookState: review.RunbookState{FirstSeen: l.FirstSeen.UTC()},
					Alerts:       []string{l.Alertname}, Fires: fires[l.Alertname]})
			}
			continue
		}
		r, ok := byURL[l.URL]
		if !ok {
			st, known := states[l.URL]
			if !known {
				st = review.RunbookState{URL: l.URL, FirstSeen: l.FirstSeen.UTC()}
			}
			r = &review.RankedRunbook{RunbookState: st}
			byURL[l.URL] = r
		}
		if l.FirstSeen.Before(r.FirstSeen) {
			r.FirstSeen = l.FirstSeen.UTC()
		}
		r.Alerts = append(r.Alerts, l.Alertname)
		r.Fires += fires[l.Alertname]
	}
	urls := make([]string, 0, len(byURL))
	for u := range byURL {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	out = make([]review.RankedRunbook, 0, len(urls)+len(missing))
	for _, u := range urls {
		r := byURL[u]
		sort.Strings(r.Alerts)
		out = append(out, *r)
	}
	return append(out, missing...), nil
}

// RunbookAgendaRows returns, for each alert that fired in [q.From, q.To) (of q.Team), one row per
// runbook it points to — or one with an empty URL when it has none — with the alert's fires in
// the window. review.RunbookAgenda keeps the missing, broken and stale ones, ranked by risk.
func (s *Store) RunbookAgendaRows(ctx context.Context, q RunbookQuery) ([]review.RankedRunbook, error) {
	fires, err := s.firesIn(ctx, q.From, q.To, q.Team)
	if err != nil {
		return nil, classify(err)
	}
	links, err := runbookLinks(ctx, s.read, q, false)
	if err != nil {
		return nil, classify(err)
	}
	states, err := runbookStates(ctx, s.read)
	if err != nil {
		return nil, classify(err)
	}
	var out []review.RankedRunbook
	for _, l := range links {
		n := fires[l.Alertname]
		if n == 0 {
			continue
		}
		st, known := states[l.URL]
		if !known || l.URL == "" {
			st = review.RunbookState{URL: l.URL, FirstSeen: l.FirstSeen.UTC()}
		} else if l.FirstSeen.Before(st.FirstSeen) {
			st.FirstSeen = l.FirstSeen.UTC()
		}
		out = append(out, review.RankedRunbook{RunbookState: st, Alerts: []string{l.Alertname}, Fires: n})
	}
	return out, nil
}

// RunbookURLs returns every runbook URL alerts point to, with when it was first seen, for the
// checker.
func (s *Store) RunbookURLs(ctx context.Context, q RunbookQuery) (map[string]review.RunbookState, error) {
	links, err := runbookLinks(ctx, s.read, q, false)
	if err != nil {
		return nil, classify(err)
	}
	states, err := runbookStates(ctx, s.read)
	if err != nil {
		return nil, classify(err)
	}
	out := map[string]review.RunbookState{}
	for _, l := range links {
		if l.URL == "" {
			continue
		}
		st, ok := out[l.URL]
		if !ok {
			if st, ok = states[l.URL]; !ok {
				st = review.RunbookState{URL: l.URL, FirstSeen: l.FirstSeen.UTC()}
			}
		}
		if l.FirstSeen.Before(st.FirstSeen) {
			st.FirstSeen = l.FirstSeen.UTC()
		}
		out[l.URL] = st
	}
	return out, nil
}

// RunbookCheck is the outcome of one HTTP check of a runbook URL.
type RunbookCheck struct {
	URL          string
	FirstSeen    time.Time // used when the URL has no row yet
	CheckedAt    time.Time
	StatusCode   int    // 0 when there was no answer
	Error        string // why there was no usable answer
	LastModified *time.Time
	FinalURL     string // where redirects ended
}

// RecordRunbookCheck stores a check's outcome; the review fields are left alone.
func (s *Store) RecordRunbookCheck(ctx context.Context, c RunbookCheck) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO runbooks (url, first_seen, checked_at, status_code, check_error, last_modified, final_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (url) DO UPDATE
		SET first_seen = least(runbooks.first_seen, EXCLUDED.first_seen),
		    checked_at = EXCLUDED.checked_at, status_code = EXCLUDED.status_code,
		    check_error = EXCLUDED.check_error, final_url = EXCLUDED.final_url,
		    last_modified = coalesce(EXCLUDED.last_modified, runbooks.last_modified)`,
		c.URL, c.FirstSeen, c.CheckedAt, c.StatusCode, c.Error, c.LastModified, c.FinalURL)
	if err != nil {
		return classify(fmt.Errorf("recording the check of runbook %q: %w", c.URL, err))
	}
	return nil
}

// reviewDedup is how close together two reviews of one runbook by one person count as one (a
// double-clicked button).
const reviewDedup = 10 * time.Minute

// MarkRunbookReviewed records that who reviewed the runbook at url at the given time and returns
// its new state. A URL no alert points to is ErrNotFound.
func (s *Store) MarkRunbookReviewed(ctx context.Context, q RunbookQuery, url, who string, at time.Time) (review.RunbookState, error) {
	known, err := s.RunbookURLs(ctx, q)
	if err != nil {
		return review.RunbookState{}, err
	}
	st, ok := known[url]
	if !ok {
		return review.RunbookState{}, fmt.Errorf("runbook %q: %w", url, ErrNotFound)
	}
	var row runbookRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &row, `
			INSERT INTO runbooks (url, first_seen, last_reviewed, reviewed_by)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (url) DO UPDATE
			SET last_reviewed = greatest(runbooks.last_reviewed, EXCLUDED.last_reviewed),
			    reviewed_by = CASE WHEN runbooks.last_reviewed IS NULL OR runbooks.last_reviewed <= EXCLUDED.last_reviewed
			                       THEN EXCLUDED.reviewed_by ELSE runbooks.reviewed_by END
			RETURNING url, first_seen, checked_at, status_code, check_error, last_modified,
			          last_reviewed, reviewed_by`,
			url, st.FirstSeen, at, who); err != nil {
			return fmt.Errorf("marking runbook %q reviewed: %w", url, err)
		}
		var last sql.NullTime
		err := tx.GetContext(ctx, &last, `
			SELECT max(reviewed_at) FROM runbook_reviews WHERE url = $1 AND reviewed_by = $2`, url, who)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading reviews of runbook %q: %w", url, err)
		}
		if last.Valid && at.Sub(last.Time).Abs() < reviewDedup {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO runbook_reviews (url, reviewed_by, reviewed_at) VALUES ($1, $2, $3)`,
			url, who, at); err != nil {
			return fmt.Errorf("recording the review of runbook %q: %w", url, err)
		}
		return nil
	})
	if err != nil {
		return review.RunbookState{}, err
	}
	out := row.state()
	if st.FirstSeen.Before(out.FirstSeen) {
		out.FirstSeen = st.FirstSeen
	}
	return out, nil
}

// RunbookReview is one "mark reviewed" decision.
type RunbookReview struct {
	URL        string    `db:"url" json:"url"`
	ReviewedBy string    `db:"reviewed_by" json:"reviewed_by"`
	ReviewedAt time.Time `db:"reviewed_at" json:"reviewed_at"`
}

// RunbookReviews lists the reviews of one runbook, newest first.
func (s *Store) RunbookReviews(ctx context.Context, url string) ([]RunbookReview, error) {
	var out []RunbookReview
	err := s.read.SelectContext(ctx, &out, `
		SELECT url, reviewed_by, reviewed_at
		FROM runbook_reviews
		WHERE url = $1
		ORDER BY reviewed_at DESC, id DESC`, url)
	if err != nil {
		return nil, classify(fmt.Errorf("listing reviews of runbook %q: %w", url, err))
	}
	return out, nil
}

// RunbookStates returns what the checker and the reviews know of the given runbook URLs; a URL
// never seen by the checker is absent.
func (s *Store) RunbookStates(ctx context.Context, urls []string) (map[string]review.RunbookState, error) {
	out, err := readRunbookStates(ctx, s.read, `SELECT `+runbookStateColumns+` FROM runbooks WHERE url = ANY($1)`, pq.Array(urls))
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}
