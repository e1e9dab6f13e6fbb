package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// episodeRow is one row of the episodes table.
type episodeRow struct {
	ID              int64      `db:"id"`
	Fingerprint     int64      `db:"fingerprint"`
	Alertname       string     `db:"alertname"`
	Team            string     `db:"team"`
	Labels          jsonMap    `db:"labels"`
	Annotations     jsonMap    `db:"annotations"`
	GeneratorURL    string     `db:"generator_url"`
	StartsAt        time.Time  `db:"starts_at"`
	EndsAt          *time.Time `db:"ends_at"`
	EndKind         int16      `db:"end_kind"`
	ExpiresAt       *time.Time `db:"expires_at"`
	LastSeenAt      time.Time  `db:"last_seen_at"`
	LastSeenBy      string     `db:"last_seen_by"`
	ViaWebhook      bool       `db:"via_webhook"`
	ViaAlertmanager bool       `db:"via_alertmanager"`
	ViaPrometheus   bool       `db:"via_prometheus"`
	Silenced        bool       `db:"silenced"`
	Flags           jsonList   `db:"flags"`
}

const episodeColumns = `e.id, e.fingerprint, e.alertname, e.team, e.labels, e.annotations, e.generator_url,
	e.starts_at, e.ends_at, e.end_kind, e.expires_at, e.last_seen_at, e.last_seen_by,
	e.via_webhook, e.via_alertmanager, e.via_prometheus, e.silenced, e.flags`

func (r episodeRow) episode() review.Episode {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return review.Episode{
		ID: r.ID, Fingerprint: uint64(r.Fingerprint), Alertname: r.Alertname, Team: r.Team,
		Labels: r.Labels, Annotations: r.Annotations, GeneratorURL: r.GeneratorURL,
		StartsAt: r.StartsAt.UTC(), EndsAt: utc(r.EndsAt), EndKind: review.EndKind(r.EndKind),
		ExpiresAt: utc(r.ExpiresAt), LastSeenAt: r.LastSeenAt.UTC(), LastSeenBy: r.LastSeenBy,
		ViaWebhook: r.ViaWebhook, ViaAlertmanager: r.ViaAlertmanager, ViaPrometheus: r.ViaPrometheus,
		Silenced: r.Silenced, Flags: r.Flags,
	}
}

// IngestAlerts stores alert reports from a collector: each report joins the episode of its
// fingerprint whose interval it overlaps, or opens a new one. When advance is set, the collector's
// watermark moves in the same transaction, so a crash can never leave it ahead of the data.
func (s *Store) IngestAlerts(ctx context.Context, reports []review.AlertReport, advance *Watermark) error {
	if err := s.stmts.prepare(ctx, s.db, ingestQueries...); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, _, err := ingestEpisodes(ctx, preparedTx{tx, s.stmts}, reports, nil); err != nil {
			return err
		}
		if advance != nil {
			return setWatermark(ctx, tx, *advance)
		}
		return nil
	})
}

// readEpisodesQuery reads the episodes of fingerprints $1 that overlap from since $2 on.
const readEpisodesQuery = `
	SELECT ` + episodeColumns + `
	FROM unnest($1::bigint[], $2::timestamptz[]) AS r(fingerprint, since)
	JOIN episodes e ON e.fingerprint = r.fingerprint
	 AND tstzrange(e.starts_at, coalesce(e.ends_at, 'infinity'::timestamptz), '[]')
	  && tstzrange(r.since, 'infinity'::timestamptz, '[]')`

// ingestQueries are the statements of an ingest, prepared once per connection (prepared.go).
var ingestQueries = []string{lockQuery, readEpisodesQuery, updateEpisodesQuery, insertEpisodesQuery,
	writeEpisodesQuery, recordNotificationQuery, firstNotificationsQuery}

// ingested maps each report (by index) to the episode it now belongs to.
type ingested []int64

// repeatCheck asks ingestEpisodes to first look for a stored notification with this payload key
// and, when there is one, count one more delivery of it instead of ingesting anything.
type repeatCheck struct {
	payloadKey []byte
	receivedAt time.Time
}

// repeated is the stored notification a repeatCheck found.
type repeated struct {
	id       int64
	episodes int
}

// ingestEpisodes reconciles reports with stored episodes in three statements however many reports
// there are: lock the fingerprints and read their rules' evaluation intervals; read their recent
// episodes; decide in Go (review.Reconcile) and write the changes in one statement (UPDATE and
// INSERT together, so the deferrable exclusion constraint is checked once at its end, when the
// episodes a report moved and the ones it opened are all in place).
//
// With a repeatCheck, the first statement also counts a delivery whose exact content is stored
// already; it then takes no lock and ingestEpisodes returns that notification and nothing else.
func ingestEpisodes(ctx context.Context, t preparedTx, reports []review.AlertReport, check *repeatCheck) (ingested, *repeated, error) {
	if len(reports) == 0 && check == nil {
		return nil, nil, nil
	}
	// Postgres keeps microseconds: decide on the times as they will be stored, or a new episode
	// could not be found again by its start (and nanosecond replicas would look apart).
	reports = truncateTimes(reports)
	byFP := map[uint64][]int{}
	since := map[uint64]time.Time{}
	for i, r := range reports {
		byFP[r.Fingerprint] = append(byFP[r.Fingerprint], i)
		if t, ok := since[r.Fingerprint]; !ok || r.StartsAt.Before(t) {
			since[r.Fingerprint] = r.StartsAt
		}
	}
	fps := make([]uint64, 0, len(byFP))
	for fp := range byFP {
		fps = append(fps, fp)
	}
	sort.Slice(fps, func(i, j int) bool { return fps[i] < fps[j] })

	// Concurrent deliveries of the same alerts (Alertmanager replicas) queue here instead of racing
	// to insert; locks are taken in one sorted order so two payloads cannot deadlock.
	lockKeys := make([]int64, 0, len(fps))
	seen := map[int64]bool{}
	for _, fp := range fps {
		k := int64(int32(uint32(fp) ^ uint32(fp>>32)))
		if !seen[k] {
			seen[k] = true
			lockKeys = append(lockKeys, k)
		}
	}
	sort.Slice(lockKeys, func(i, j int) bool { return lockKeys[i] < lockKeys[j] })
	names := alertnames(reports)
	rep, tols, err := lockFingerprints(ctx, t, lockKeys, names, check)
	if err != nil || rep != nil || len(reports) == 0 {
		return nil, rep, err
	}

	fpArg := make([]int64, len(fps))
	sinceArg := make([]*time.Time, len(fps))
	for i, fp := range fps {
		fpArg[i] = int64(fp)
		sinceArg[i] = tsPtr(since[fp])
	}
	// A statement of its own, after the locks: its snapshot sees what the previous holders committed.
	var rows []episodeRow
	if err := t.sel(ctx, &rows, readEpisodesQuery,
		int64s(fpArg), tsArray(sinceArg)); err != nil {
		return nil, nil, fmt.Errorf("reading episodes to merge with: %w", err)
	}
	stored := map[uint64][]review.Episode{}
	for _, r := range rows {
		stored[uint64(r.Fingerprint)] = append(stored[uint64(r.Fingerprint)], r.episode())
	}

	results := map[uint64]review.Reconciled{}
	var changed, added []review.Episode
	for _, fp := range fps {
		rs := make([]review.AlertReport, len(byFP[fp]))
		for j, i := range byFP[fp] {
			rs[j] = reports[i]
		}
		res := review.Reconcile(stored[fp], rs, tols[rs[0].Alertname()])
		results[fp] = res
		for i, e := range res.Episodes {
			switch {
			case !res.Dirty[i]:
			case e.ID == 0:
				added = append(added, e)
			default:
				changed = append(changed, e)
			}
		}
	}
	ids, err := writeEpisodes(ctx, t, changed, added)
	if err != nil {
		return nil, nil, err
	}

	out := make(ingested, len(reports))
	for fp, res := range results {
		for i := range res.Episodes {
			if res.Episodes[i].ID == 0 {
				res.Episodes[i].ID = ids[idKey{fp, res.Episodes[i].StartsAt.UnixNano()}]
			}
		}
		for _, i := range byFP[fp] {
			if j := review.Match(res.Episodes, reports[i], tols[reports[i].Alertname()]); j >= 0 {
				out[i] = res.Episodes[j].ID
			}
		}
	}
	return out, nil, nil
}

func alertnames(reports []review.AlertReport) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range reports {
		if n := r.Alertname(); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

const lockQuery = `
	WITH repeat AS (
	    UPDATE notifications n
	    SET deliveries = n.deliveries + 1,
	        received_at = least(n.received_at, $2),
	        last_received_at = greatest(n.last_received_at, $2)
	    WHERE $1::bytea IS NOT NULL
	      AND n.id = (SELECT id FROM notifications WHERE payload_key = $1 ORDER BY id LIMIT 1)
	    RETURNING n.id, (SELECT count(*) FROM notification_episodes ne WHERE ne.notification_id = n.id) AS episodes
	), locked AS (
	    SELECT count(pg_advisory_xact_lock(1, k::int)) AS n
	    FROM (SELECT k FROM unnest($3::bigint[]) AS k ORDER BY k) AS keys
	    WHERE NOT EXISTS (SELECT 1 FROM repeat)
	), tolerances AS (
	    SELECT alertname, min(group_interval_seconds) AS seconds
	    FROM alert_rules
	    WHERE alertname = ANY($4) AND gone_at IS NULL AND group_interval_seconds > 0
	    GROUP BY alertname
	)
	SELECT (SELECT id FROM repeat) AS repeat_id, (SELECT episodes FROM repeat) AS repeat_episodes,
	       (SELECT coalesce(array_agg(alertname), '{}') FROM tolerances) AS alertnames,
	       (SELECT coalesce(array_agg(seconds), '{}') FROM tolerances) AS seconds
	FROM locked`

// lockFingerprints is the first statement of an ingest: it counts a repeated delivery when check
// finds one (and then locks nothing), or else takes the advisory locks of lockKeys in sorted order
// and returns, per alertname, how far apart two starts may be and still be one episode: one and a
// half of the rule's evaluation interval when the rules collector has seen the rule.
func lockFingerprints(ctx context.Context, t preparedTx, lockKeys []int64, names []string, check *repeatCheck) (*repeated, map[string]time.Duration, error) {
	var pk []byte
	var received *time.Time
	if check != nil {
		pk, received = check.payloadKey, tsPtr(check.receivedAt)
	}
	var row struct {
		RepeatID       sql.NullInt64   `db:"repeat_id"`
		RepeatEpisodes sql.NullInt64   `db:"repeat_episodes"`
		Alertnames     pq.StringArray  `db:"alertnames"`
		Seconds        pq.Float64Array `db:"seconds"`
	}
	err := t.get(ctx, &row, lockQuery,
		pk, received, int64s(lockKeys), pq.Array(names))
	if err != nil {
		return nil, nil, fmt.Errorf("locking fingerprints: %w", err)
	}
	if row.RepeatID.Valid {
		return &repeated{id: row.RepeatID.Int64, episodes: int(row.RepeatEpisodes.Int64)}, nil, nil
	}
	out := make(map[string]time.Duration, len(names))
	for _, n := range names {
		out[n] = review.StartTolerance
	}
	for i, n := range row.Alertnames {
		out[n] = review.ToleranceFor(time.Duration(row.Seconds[i] * float64(time.Second)))
	}
	return nil, out, nil
}

func truncateTimes(in []review.AlertReport) []review.AlertReport {
	out := make([]review.AlertReport, len(in))
	for i, r := range in {
		r.StartsAt = r.StartsAt.Truncate(time.Microsecond)
		r.EndsAt = r.EndsAt.Truncate(time.Microsecond)
		r.ExpiresAt = r.ExpiresAt.Truncate(time.Microsecond)
		r.ObservedAt = r.ObservedAt.Truncate(time.Microsecond)
		out[i] = r
	}
	return out
}

type idKey struct {
	fp    uint64
	start int64
}

// episodeArrays lays episodes out column by column for unnest.
type episodeArrays struct {
	id, fp                        []int64
	alertname, team, gen, seenBy  []string
	labels, annotations, flags    []string
	starts, ends, expires, seenAt []*time.Time
	kind                          []int64
	webhook, am, prom, silenced   []bool
}

func toArrays(eps []review.Episode) episodeArrays {
	var a episodeArrays
	for _, e := range eps {
		a.id = append(a.id, e.ID)
		a.fp = append(a.fp, int64(e.Fingerprint))
		a.alertname = append(a.alertname, e.Alertname)
		a.team = append(a.team, e.Team)
		a.gen = append(a.gen, e.GeneratorURL)
		a.seenBy = append(a.seenBy, e.LastSeenBy)
		a.labels = append(a.labels, jsonText(e.Labels))
		a.annotations = append(a.annotations, jsonText(e.Annotations))
		a.flags = append(a.flags, jsonText(e.Flags))
		a.starts = append(a.starts, tsPtr(e.StartsAt))
		a.ends = append(a.ends, e.EndsAt)
		a.expires = append(a.expires, e.ExpiresAt)
		a.seenAt = append(a.seenAt, tsPtr(e.LastSeenAt))
		a.kind = append(a.kind, int64(e.EndKind))
		a.webhook = append(a.webhook, e.ViaWebhook)
		a.am = append(a.am, e.ViaAlertmanager)
		a.prom = append(a.prom, e.ViaPrometheus)
		a.silenced = append(a.silenced, e.Silenced)
	}
	return a
}

const updateEpisodesQuery = `
	UPDATE episodes AS e
	SET team = u.team, labels = u.labels, annotations = u.annotations, generator_url = u.generator_url,
	    starts_at = u.starts_at, ends_at = u.ends_at, end_kind = u.end_kind, expires_at = u.expires_at,
	    last_seen_at = u.last_seen_at, last_seen_by = u.last_seen_by, via_webhook = u.via_webhook,
	    via_alertmanager = u.via_alertmanager, via_prometheus = u.via_prometheus,
	    silenced = u.silenced, flags = u.flags,
	    missing_polls = 0
	FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::jsonb[], $5::text[], $6::timestamptz[],
	            $7::timestamptz[], $8::smallint[], $9::timestamptz[], $10::timestamptz[], $11::text[],
	            $12::boolean[], $13::boolean[], $14::boolean[], $15::boolean[], $16::jsonb[])
	     AS u(id, team, labels, annotations, generator_url, starts_at, ends_at, end_kind, expires_at,
	          last_seen_at, last_seen_by, via_webhook, via_alertmanager, via_prometheus, silenced, flags)
	WHERE e.id = u.id`
const insertEpisodesQuery = `
	INSERT INTO episodes (fingerprint, alertname, team, labels, annotations, generator_url,
	                      starts_at, ends_at, end_kind, expires_at, last_seen_at, last_seen_by,
	                      via_webhook, via_alertmanager, via_prometheus, silenced, flags)
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::text[],
	                     $7::timestamptz[], $8::timestamptz[], $9::smallint[], $10::timestamptz[],
	                     $11::timestamptz[], $12::text[], $13::boolean[], $14::boolean[],
	                     $15::boolean[], $16::boolean[], $17::jsonb[])
	RETURNING id, fingerprint, starts_at`

// writeEpisodesQuery does both in one statement.
var writeEpisodesQuery = `WITH changed AS (` + updateEpisodesQuery + ` RETURNING 1)` + shiftParams(insertEpisodesQuery, 16)

var paramRef = regexp.MustCompile(`\$([0-9]+)`)

// shiftParams renumbers the $n parameters of q to $(n+by).
func shiftParams(q string, by int) string {
	return paramRef.ReplaceAllStringFunc(q, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "$" + strconv.Itoa(n+by)
	})
}

// writeEpisodes updates the changed episodes and inserts the added ones in one statement, and
// returns the new episodes' ids by fingerprint and start.
func writeEpisodes(ctx context.Context, t preparedTx, changed, added []review.Episode) (map[idKey]int64, error) {
	ids := map[idKey]int64{}
	if len(changed) == 0 && len(added) == 0 {
		return ids, nil
	}
	c, a := toArrays(changed), toArrays(added)
	changedArgs := []any{int64s(c.id), pq.Array(c.team), pq.Array(c.labels), pq.Array(c.annotations), pq.Array(c.gen),
		tsArray(c.starts), tsArray(c.ends), int64s(c.kind), tsArray(c.expires), tsArray(c.seenAt),
		pq.Array(c.seenBy), pq.Array(c.webhook), pq.Array(c.am), pq.Array(c.prom), pq.Array(c.silenced),
		pq.Array(c.flags)}
	addedArgs := []any{int64s(a.fp), pq.Array(a.alertname), pq.Array(a.team), pq.Array(a.labels), pq.Array(a.annotations),
		pq.Array(a.gen), tsArray(a.starts), tsArray(a.ends), int64s(a.kind), tsArray(a.expires),
		tsArray(a.seenAt), pq.Array(a.seenBy), pq.Array(a.webhook), pq.Array(a.am), pq.Array(a.prom),
		pq.Array(a.silenced), pq.Array(a.flags)}
	// Only the parts that have rows: an empty UPDATE or INSERT would still run its statement triggers.
	var q string
	var args []any
	switch {
	case len(added) == 0:
		if _, err := t.exec(ctx, updateEpisodesQuery, changedArgs...); err != nil {
			return nil, fmt.Errorf("updating %d episodes: %w", len(changed), err)
		}
		return ids, nil
	case len(changed) == 0:
		q, args = insertEpisodesQuery, addedArgs
	default:
		q, args = writeEpisodesQuery, append(changedArgs, addedArgs...)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("writing %d changed and %d new episodes: %w", len(changed), len(added), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, fp int64
		var start time.Time
		if err := rows.Scan(&id, &fp, &start); err != nil {
			return nil, fmt.Errorf("reading inserted episode ids: %w", err)
		}
		ids[idKey{uint64(fp), start.UnixNano()}] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("writing %d changed and %d new episodes: %w", len(changed), len(added), err)
	}
	return ids, nil
}

// EpisodeFilter selects episodes that start in [From, To).
type EpisodeFilter struct {
	Alertname string
	Team      *string // nil: every team; "": unassigned
	From, To  time.Time
	Limit     int
}

// Episodes lists episodes that start in the window, newest first.
func (s *Store) Episodes(ctx context.Context, f EpisodeFilter) ([]review.Episode, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	var team any
	if f.Team != nil {
		team = *f.Team
	}
	var rows []episodeRow
	err := s.read.SelectContext(ctx, &rows, `
		SELECT `+episodeColumns+`
		FROM episodes e
		WHERE e.starts_at >= $1 AND e.starts_at < $2
		  AND ($3 = '' OR e.alertname = $3)
		  AND ($4::text IS NULL OR e.team = $4::text)
		ORDER BY e.starts_at DESC, e.id DESC
		LIMIT $5`, f.From, f.To, f.Alertname, team, f.Limit)
	if err != nil {
		return nil, classify(fmt.Errorf("listing episodes: %w", err))
	}
	out := make([]review.Episode, len(rows))
	for i, r := range rows {
		out[i] = r.episode()
	}
	return out, nil
}
