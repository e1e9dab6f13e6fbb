package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// CountFilter selects what the review counts: a window, the teams, the rules left out, and the
// rules that make a flap and a page.
type CountFilter struct {
	From, To time.Time
	Now      time.Time // open episodes fire until now
	// Teams limits counts to episodes of these teams ("" is unassigned); nil counts every team.
	Teams           []string
	Ignore          []string // alertnames stored but left out of every count (alerts.ignore)
	FlapThreshold   time.Duration
	RefireWindow    time.Duration
	PagingReceivers []string
}

func (f CountFilter) teams() (bool, any) {
	if f.Teams == nil {
		return true, pq.Array([]string{})
	}
	return false, pq.Array(f.Teams)
}

func (f CountFilter) ignore() any {
	if f.Ignore == nil {
		return pq.Array([]string{})
	}
	return pq.Array(f.Ignore)
}

type ruleCountsRow struct {
	Alertname     string  `db:"alertname"`
	Team          string  `db:"team"`
	Fires         int     `db:"fires"`
	Flaps         int     `db:"flaps"`
	Silenced      int     `db:"silenced"`
	FiringSeconds float64 `db:"firing_seconds"`
	Annotations   jsonMap `db:"annotations"`
	GeneratorURL  string  `db:"generator_url"`
}

// RuleCounts returns, per alert rule, its fires, flaps and silenced fires among the episodes that
// start in the window, and its firing time (the overlap of every episode with the window, open ones
// until Now), in one statement. Rules that only ran into the window from before have zero fires.
// The rule's team and annotations are those of its latest episode. Sorted by alertname.
//
// A window with at least rollupMinDays whole UTC days reads them from the daily rollup (0073, 0096)
// and only its partial days and the episodes running at its edges from episodes; a shorter one, or
// one whose flap thresholds are not those the rollup was kept with, reads every episode.
func (s *Store) RuleCounts(ctx context.Context, f CountFilter) ([]review.RuleCounts, error) {
	const day = 24 * time.Hour
	d1, d2 := f.From.UTC().Truncate(day), f.To.UTC().Truncate(day)
	if d1.Before(f.From) {
		d1 = d1.Add(day)
	}
	if d2.Sub(d1) >= rollupMinDays*day {
		rows, exact, err := s.ruleCountsRollup(ctx, f, d1, d2)
		if err != nil {
			return nil, err
		}
		if exact {
			return ruleCounts(rows), nil
		}
	}
	rows, err := s.ruleCountsRaw(ctx, f)
	if err != nil {
		return nil, err
	}
	return ruleCounts(rows), nil
}

// rollupMinDays is the fewest whole UTC days for which RuleCounts reads the rollup: below it the
// raw statement is as fast or faster (month scale: 1.5 days of all teams 46 ms raw, 66 ms rollup;
// 7 days 158 ms raw, 90 ms rollup; 90 days 362 ms raw, 129 ms rollup).
const rollupMinDays = 2

func ruleCounts(rows []ruleCountsRow) []review.RuleCounts {
	out := make([]review.RuleCounts, len(rows))
	for i, r := range rows {
		out[i] = review.RuleCounts{
			Alertname: r.Alertname, Team: r.Team, Fires: r.Fires, Flaps: r.Flaps, Silenced: r.Silenced,
			FiringSeconds: r.FiringSeconds, Annotations: r.Annotations, GeneratorURL: r.GeneratorURL,
		}
	}
	return out
}

// ruleCountsRollup is RuleCounts over the whole UTC days [d1, d2) from episode_day_fires, and from
// episodes: those starting in the partial days [From, d1) and [d2, To), and those running at From
// and at d2 (one probe each of episodes_span), which add their firing time in the partial days and,
// when still open, in [d1, d2). exact is false when the rollup's flaps were kept under other
// thresholds (or are being rebuilt): then the rows are not to be used.
func (s *Store) ruleCountsRollup(ctx context.Context, f CountFilter, d1, d2 time.Time) (rows []ruleCountsRow, exact bool, err error) {
	allTeams, teams := f.teams()
	var got []struct {
		ruleCountsRow
		Exact bool `db:"exact"`
	}
	// Per rule: the sums of its whole days (rules whose days sum to nothing are not there), and a
	// row per episode of the edges. The latest episode's start is the latest in the last partial
	// day [d2, To) if the rule started there, else a backward index probe per rule
	// (episodes_alertname_starts_at) from To down to From when the rule fired in the window, else
	// down to the latest start among the episodes running at From, with the raw statement's
	// conditions; then a look-up of that start (the highest id among equal starts), so it is the
	// same episode.
	// (The store's connections run without JIT, sessionSettings: at year scale the planner's
	// estimates of the edge probes, ~50,000 rows each where a few hundred come, put this statement
	// over jit_above_cost, and compiling it cost far more than running it.)
	err = s.read.SelectContext(ctx, &got, `
		WITH at_from AS MATERIALIZED (
		    -- Episodes running at From and at d2, every team's (found in episodes_span; filtered by
		    -- team after, lest a team's whole history be read through the team index instead).
		    SELECT e.alertname, e.team, e.starts_at, e.ends_at
		    FROM episodes e
		    WHERE tstzrange(e.starts_at, coalesce(e.ends_at, 'infinity'::timestamptz), '()') @> $1::timestamptz
		), at_d2 AS MATERIALIZED (
		    SELECT e.alertname, e.team, e.starts_at, e.ends_at
		    FROM episodes e
		    WHERE tstzrange(e.starts_at, coalesce(e.ends_at, 'infinity'::timestamptz), '()') @> $10::timestamptz
		), w AS (
		    SELECT r.alertname, sum(r.fires) AS fires, sum(r.flaps) AS flaps, sum(r.silenced) AS silenced,
		           sum(r.firing_us)::numeric / 1000000 AS firing_seconds, NULL::timestamptz AS carried_start,
		           NULL::timestamptz AS last_start
		    FROM episode_day_fires r
		    WHERE r.day >= $11::date AND r.day < $12::date
		      AND ($3 OR r.team = ANY($4::text[]))
		      AND NOT (r.alertname = ANY($5::text[]))
		    GROUP BY r.alertname
		    HAVING sum(r.fires) <> 0 OR sum(r.firing_us) <> 0
		    UNION ALL
		    SELECT e.alertname, 1, ((e.ends_at IS NOT NULL AND e.ends_at - e.starts_at < make_interval(secs => $6))
		                            OR e.gap_before <= make_interval(secs => $7))::int, e.silenced::int,
		           extract(epoch FROM greatest(least(coalesce(e.ends_at, $8), $9) - e.starts_at, interval '0')), NULL, NULL
		    FROM episodes e
		    WHERE e.starts_at >= $1 AND e.starts_at < $9
		      AND ($3 OR e.team = ANY($4::text[]))
		      AND NOT (e.alertname = ANY($5::text[]))
		    UNION ALL
		    SELECT e.alertname, 1, ((e.ends_at IS NOT NULL AND e.ends_at - e.starts_at < make_interval(secs => $6))
		                            OR e.gap_before <= make_interval(secs => $7))::int, e.silenced::int,
		           extract(epoch FROM greatest(least(coalesce(e.ends_at, $8), $2) - e.starts_at, interval '0')), NULL, e.starts_at
		    FROM episodes e
		    WHERE e.starts_at >= $10 AND e.starts_at < $2
		      AND ($3 OR e.team = ANY($4::text[]))
		      AND NOT (e.alertname = ANY($5::text[]))
		    UNION ALL
		    SELECT e.alertname, 0, 0, 0,
		           extract(epoch FROM greatest(least(coalesce(e.ends_at, $8), $9) - $1, interval '0')), e.starts_at, NULL
		    FROM at_from e
		    WHERE ($3 OR e.team = ANY($4::text[]))
		      AND NOT (e.alertname = ANY($5::text[]))
		    UNION ALL
		    SELECT e.alertname, 0, 0, 0,
		           extract(epoch FROM greatest(least(coalesce(e.ends_at, $8), $2) - $10, interval '0')
		                              + CASE WHEN e.ends_at IS NULL
		                                     THEN greatest(least($8, $10) - greatest(e.starts_at, $9), interval '0')
		                                     ELSE interval '0' END), NULL, NULL
		    FROM at_d2 e
		    WHERE ($3 OR e.team = ANY($4::text[]))
		      AND NOT (e.alertname = ANY($5::text[]))
		), counted AS (
		    SELECT alertname, sum(fires) AS fires, sum(flaps) AS flaps, sum(silenced) AS silenced,
		           sum(firing_seconds) AS firing_seconds, max(carried_start) AS carried_start,
		           max(last_start) AS last_start
		    FROM w
		    GROUP BY alertname
		)
		SELECT c.alertname, l.team, c.fires, coalesce(c.flaps, 0) AS flaps, c.silenced, c.firing_seconds::float8 AS firing_seconds,
		       l.annotations, l.generator_url,
		       coalesce((SELECT flaps_exact AND flap_threshold = make_interval(secs => $6)
		                        AND refire_window = make_interval(secs => $7)
		                 FROM episode_day_settings), false) AS exact
		FROM counted c
		CROSS JOIN LATERAL (
		    SELECT coalesce(c.last_start, (
		        SELECT l.starts_at
		        FROM episodes l
		        WHERE l.alertname = c.alertname AND l.starts_at < $2
		          AND l.starts_at >= CASE WHEN c.fires > 0 THEN $1 ELSE c.carried_start END
		          AND ($3 OR l.team = ANY($4::text[]))
		          AND (l.starts_at >= $1 OR coalesce(l.ends_at, 'infinity'::timestamptz) > $1)
		        ORDER BY l.starts_at DESC
		        LIMIT 1)) AS starts_at
		) latest
		CROSS JOIN LATERAL (
		    SELECT l.team, l.annotations, l.generator_url
		    FROM episodes l
		    WHERE l.alertname = c.alertname AND l.starts_at = latest.starts_at
		      AND ($3 OR l.team = ANY($4::text[]))
		      AND (l.starts_at >= $1 OR coalesce(l.ends_at, 'infinity'::timestamptz) > $1)
		    ORDER BY l.id DESC
		    LIMIT 1
		) l
		ORDER BY c.alertname`,
		f.From, f.To, allTeams, teams, f.ignore(), f.FlapThreshold.Seconds(), f.RefireWindow.Seconds(), f.Now, d1, d2,
		d1.Format(time.DateOnly), d2.Format(time.DateOnly))
	if err != nil {
		return nil, false, classify(fmt.Errorf("counting alert rules from %s to %s: %w", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339), err))
	}
	rows = make([]ruleCountsRow, len(got))
	exact = true
	for i, g := range got {
		rows[i] = g.ruleCountsRow
		exact = exact && g.Exact
	}
	return rows, exact, nil
}

// ruleCountsRaw is RuleCounts from every episode of the window.
func (s *Store) ruleCountsRaw(ctx context.Context, f CountFilter) ([]ruleCountsRow, error) {
	allTeams, teams := f.teams()
	var rows []ruleCountsRow
	// One pass over the window's episodes, index-only (episodes_starts_at, episodes_team_starts_at):
	// those that start in it count, those carried into it (found by episodes_span) add firing time.
	// A flap is short, or starts within RefireWindow of the previous episode's end (gap_before, kept
	// by triggers). The latest episode of each rule is then one index look-up per rule.
	err := s.read.SelectContext(ctx, &rows, `
		WITH w AS (
		    SELECT e.alertname, e.starts_at, e.ends_at, true AS started, e.silenced,
		           (e.ends_at IS NOT NULL AND e.ends_at - e.starts_at < make_interval(secs => $6))
		           OR e.gap_before <= make_interval(secs => $7) AS flap
		    FROM episodes e
		    WHERE e.starts_at >= $1 AND e.starts_at < $2
		      AND ($3 OR e.team = ANY($4::text[]))
		      AND NOT (e.alertname = ANY($5::text[]))
		    UNION ALL
		    SELECT e.alertname, e.starts_at, e.ends_at, false, false, false
		    FROM episodes e
		    WHERE tstzrange(e.starts_at, coalesce(e.ends_at, 'infinity'::timestamptz), '()') @> $1::timestamptz
		      AND ($3 OR e.team = ANY($4::text[]))
		      AND NOT (e.alertname = ANY($5::text[]))
		), counted AS (
		    SELECT alertname,
		           count(*) FILTER (WHERE started) AS fires,
		           count(*) FILTER (WHERE flap) AS flaps,
		           count(*) FILTER (WHERE silenced) AS silenced,
		           sum(extract(epoch FROM greatest(least(coalesce(ends_at, $8), $2) - greatest(starts_at, $1),
		                                           interval '0'))) AS firing_seconds,
		           max(starts_at) AS latest_start
		    FROM w
		    GROUP BY alertname
		)
		SELECT c.alertname, l.team, c.fires, c.flaps, c.silenced, c.firing_seconds::float8 AS firing_seconds,
		       l.annotations, l.generator_url
		FROM counted c
		CROSS JOIN LATERAL (
		    SELECT l.team, l.annotations, l.generator_url
		    FROM episodes l
		    WHERE l.alertname = c.alertname AND l.starts_at = c.latest_start
		      AND ($3 OR l.team = ANY($4::text[]))
		      AND (l.starts_at >= $1 OR coalesce(l.ends_at, 'infinity'::timestamptz) > $1)
		    ORDER BY l.id DESC
		    LIMIT 1
		) l
		ORDER BY c.alertname`,
		f.From, f.To, allTeams, teams, f.ignore(), f.FlapThreshold.Seconds(), f.RefireWindow.Seconds(), f.Now)
	if err != nil {
		return nil, classify(fmt.Errorf("counting alert rules from %s to %s: %w", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339), err))
	}
	return rows, nil
}

// Pages returns the pages received in the window, one per notification and rule: a firing
// notification to a paging receiver that is the first that receiver got of at least one episode of
// the rule. Oldest first, then by notification, rule and team.
func (s *Store) Pages(ctx context.Context, f CountFilter) ([]review.Page, error) {
	out := []review.Page{}
	err := s.pageGroups(ctx, f, func(alertname, team string, pages []notifiedAt) {
		for _, p := range pages {
			out = append(out, review.Page{NotificationID: p.id, Alertname: alertname, Team: team, At: time.UnixMicro(p.at).UTC()})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b review.Page) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.NotificationID, b.NotificationID),
			strings.Compare(a.Alertname, b.Alertname), strings.Compare(a.Team, b.Team))
	})
	return out, nil
}

// RulePageTimes are the pages of one rule and team in a window (those Pages lists): when each was
// received, in microseconds since the Unix epoch, oldest first.
type RulePageTimes struct {
	Alertname string
	Team      string
	At        []int64
}

// PageTimes returns the pages Pages lists grouped by rule and team, for counting them by hours
// class without a value per page. Ordered by rule and team.
func (s *Store) PageTimes(ctx context.Context, f CountFilter) ([]RulePageTimes, error) {
	out := []RulePageTimes{}
	err := s.pageGroups(ctx, f, func(alertname, team string, pages []notifiedAt) {
		r := RulePageTimes{Alertname: alertname, Team: team, At: make([]int64, len(pages))}
		for k, p := range pages {
			r.At[k] = p.at
		}
		out = append(out, r)
	})
	return out, err
}

// notifiedAt is one page of a rule: its notification and when it was received (microseconds).
type notifiedAt struct{ at, id int64 }

// pageGroups calls fn with the pages of each rule and team in the window (by rule and team; each
// group's pages oldest first). receiver_episodes carries each first notification's receipt time
// (firing ones only), team and rule (0071): one index range, no join. Postgres sends one row per
// rule and team, its notifications and times as arrays: a 90-day window of every team decodes a few
// thousand rows instead of one per page (hundreds of thousands). A notification carrying several
// episodes of one rule is one page: its repeats are dropped here.
func (s *Store) pageGroups(ctx context.Context, f CountFilter, fn func(alertname, team string, pages []notifiedAt)) error {
	if len(f.PagingReceivers) == 0 {
		return nil
	}
	allTeams, teams := f.teams()
	failed := func(err error) error {
		return classify(fmt.Errorf("listing pages from %s to %s: %w", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339), err))
	}
	rows, err := s.read.QueryContext(ctx, `
		SELECT coalesce(r.alertname, ''), coalesce(r.team, ''), array_agg(r.first_notification_id),
		       array_agg((extract(epoch FROM r.received_at) * 1000000)::bigint)
		FROM receiver_episodes r
		WHERE r.received_at >= $1 AND r.received_at < $2
		  AND r.receiver = ANY($3::text[])
		  AND ($4 OR r.team = ANY($5::text[]))
		  AND NOT (r.alertname = ANY($6::text[]))
		GROUP BY r.alertname, r.team
		ORDER BY r.alertname, r.team`,
		f.From, f.To, pq.Array(f.PagingReceivers), allTeams, teams, f.ignore())
	if err != nil {
		return failed(err)
	}
	defer rows.Close()
	var ids, ats numberArray
	var group []notifiedAt
	for rows.Next() {
		var alertname, team string
		if err := rows.Scan(&alertname, &team, &ids, &ats); err != nil {
			return failed(err)
		}
		group = group[:0]
		if err := eachElem(ids, func(_ int, el []byte) error {
			id, err := strconv.ParseInt(string(el), 10, 64)
			group = append(group, notifiedAt{id: id})
			return err
		}); err != nil {
			return fmt.Errorf("reading the pages of %s: %w", alertname, err)
		}
		if err := eachElem(ats, func(k int, el []byte) error {
			if k >= len(group) {
				return fmt.Errorf("more times than notifications")
			}
			at, err := strconv.ParseInt(string(el), 10, 64)
			group[k].at = at
			return err
		}); err != nil {
			return fmt.Errorf("reading the pages of %s: %w", alertname, err)
		}
		slices.SortFunc(group, func(a, b notifiedAt) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
		fn(alertname, team, slices.Compact(group))
	}
	if err := rows.Err(); err != nil {
		return failed(err)
	}
	return nil
}

// WeeklyFires counts, per alert rule, the episodes that started between consecutive bounds: the
// result's slice i counts [bounds[i], bounds[i+1]). Bounds are week starts in a team's timezone,
// so weeks across a DST change keep their true length. Teams and Ignore are taken from f.
func (s *Store) WeeklyFires(ctx context.Context, bounds []time.Time, f CountFilter) (map[string][]int, error) {
	out := map[string][]int{}
	if len(bounds) < 2 {
		return out, nil
	}
	allTeams, teams := f.teams()
	seg := splitDays(bounds)
	var rows []struct {
		Alertname string `db:"alertname"`
		Bucket    int    `db:"bucket"`
		Fires     int    `db:"fires"`
	}
	// Whole UTC days from the daily rollup (0073, summing its delta rows); at each bound not on UTC
	// midnight, at most 12 hours from the start-time indexes (index-only), see splitDays.
	err := s.read.SelectContext(ctx, &rows, `
		SELECT alertname, bucket, sum(fires)::bigint AS fires
		FROM (
		    SELECT e.alertname, v.bucket, v.sign AS fires
		    FROM unnest($1::timestamptz[], $2::timestamptz[], $3::int[], $4::int[], $5::int[], $6::int[])
		         AS s(from_at, to_at, bucket1, sign1, bucket2, sign2)
		    JOIN episodes e ON e.starts_at >= s.from_at AND e.starts_at < s.to_at
		    CROSS JOIN LATERAL (VALUES (s.bucket1, s.sign1), (s.bucket2, s.sign2)) AS v(bucket, sign)
		    WHERE v.bucket > 0
		      AND ($10 OR e.team = ANY($11::text[]))
		      AND NOT (e.alertname = ANY($12::text[]))
		    UNION ALL
		    SELECT r.alertname, s.bucket, r.fires
		    FROM unnest($7::int[], $8::date[], $9::date[]) AS s(bucket, from_day, to_day)
		    JOIN episode_day_fires r ON r.day >= s.from_day AND r.day < s.to_day
		    WHERE ($10 OR r.team = ANY($11::text[]))
		      AND NOT (r.alertname = ANY($12::text[]))
		) c
		GROUP BY 1, 2
		HAVING sum(fires) <> 0`,
		tsArray(seg.rawFrom), tsArray(seg.rawTo), pq.Array(seg.bucket1), pq.Array(seg.sign1), pq.Array(seg.bucket2), pq.Array(seg.sign2),
		pq.Array(seg.dayBucket), pq.Array(seg.dayFrom), pq.Array(seg.dayTo),
		allTeams, teams, f.ignore())
	if err != nil {
		return nil, classify(fmt.Errorf("counting weekly fires: %w", err))
	}
	for _, r := range rows {
		if r.Bucket < 1 || r.Bucket >= len(bounds) {
			continue
		}
		if out[r.Alertname] == nil {
			out[r.Alertname] = make([]int, len(bounds)-1)
		}
		out[r.Alertname][r.Bucket-1] += r.Fires
	}
	return out, nil
}

// LatestExternalURL returns the Alertmanager address one of the latest 100 webhook deliveries
// carried, or "". Bounded, so a store whose deliveries carry none does not scan them all per page.
func (s *Store) LatestExternalURL(ctx context.Context) (string, error) {
	var u []string
	err := s.read.SelectContext(ctx, &u, `
		SELECT external_url
		FROM (SELECT external_url FROM notifications ORDER BY received_at DESC LIMIT 100) latest
		WHERE external_url <> ''
		LIMIT 1`)
	if err != nil {
		return "", classify(fmt.Errorf("reading Alertmanager's external URL: %w", err))
	}
	if len(u) == 0 {
		return "", nil
	}
	return u[0], nil
}
