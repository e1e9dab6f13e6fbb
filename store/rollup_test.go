package store

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the teams' timezones, whatever the machine has installed

	"github.com/opsreview/opsreview/review"
)

// rollupDiff compares episode_day_fires (the sum of its rows per key) with a count of the episodes
// per UTC day of their start, team and rule (fires, silenced, and flaps under the thresholds of
// episode_day_settings), and with the firing time of the closed episodes on each UTC day they
// overlap, and describes the keys that differ.
func rollupDiff(s *Store) (string, error) {
	var bad []string
	err := s.db.Select(&bad, `
		WITH t AS (
		    SELECT flap_threshold, refire_window FROM episode_day_settings
		), starts AS (
		    SELECT (starts_at AT TIME ZONE 'UTC')::date AS day, team, alertname,
		           count(*) AS fires, count(*) FILTER (WHERE silenced) AS silenced,
		           count(*) FILTER (WHERE (ends_at IS NOT NULL AND ends_at - starts_at < t.flap_threshold)
		                                  OR gap_before <= t.refire_window) AS flaps
		    FROM episodes CROSS JOIN t GROUP BY 1, 2, 3
		), firing AS (
		    SELECT d.day, e.team, e.alertname,
		           sum(extract(epoch FROM upper(x.r) - lower(x.r)) * 1000000) AS firing_us
		    FROM episodes e
		    CROSS JOIN LATERAL generate_series(((e.starts_at AT TIME ZONE 'UTC')::date)::timestamp,
		                                       (e.ends_at AT TIME ZONE 'UTC')::date::timestamp, interval '1 day') AS g(at)
		    CROSS JOIN LATERAL (SELECT g.at::date AS day) d
		    CROSS JOIN LATERAL (SELECT tstzrange(e.starts_at, e.ends_at)
		                               * tstzrange(g.at AT TIME ZONE 'UTC', (g.at + interval '1 day') AT TIME ZONE 'UTC') AS r) x
		    WHERE e.ends_at IS NOT NULL AND NOT isempty(x.r)
		    GROUP BY 1, 2, 3
		), raw AS (
		    SELECT coalesce(s.day, f.day) AS day, coalesce(s.team, f.team) AS team, coalesce(s.alertname, f.alertname) AS alertname,
		           coalesce(s.fires, 0) AS fires, coalesce(s.silenced, 0) AS silenced, coalesce(s.flaps, 0) AS flaps,
		           coalesce(f.firing_us, 0) AS firing_us
		    FROM starts s FULL JOIN firing f ON f.day = s.day AND f.team = s.team AND f.alertname = s.alertname
		), rolled AS (
		    SELECT day, team, alertname, sum(fires) AS fires, sum(silenced) AS silenced, sum(flaps) AS flaps,
		           sum(firing_us) AS firing_us
		    FROM episode_day_fires GROUP BY 1, 2, 3
		    HAVING sum(fires) <> 0 OR sum(silenced) <> 0 OR sum(flaps) <> 0 OR sum(firing_us) <> 0
		)
		SELECT coalesce(r.day, o.day)::text || ' ' || coalesce(r.team, o.team) || '/' || coalesce(r.alertname, o.alertname)
		       || ': ' || coalesce(o.fires::text, '-') || ' fires, ' || coalesce(o.silenced::text, '-') || ' silenced, '
		       || coalesce(o.flaps::text, '-') || ' flaps, ' || coalesce(o.firing_us::text, '-') || ' µs; want '
		       || coalesce(r.fires::text, '-') || ', ' || coalesce(r.silenced::text, '-') || ', '
		       || coalesce(r.flaps::text, '-') || ', ' || coalesce(r.firing_us::text, '-')
		FROM raw r
		FULL JOIN rolled o ON o.day = r.day AND o.team = r.team AND o.alertname = r.alertname
		WHERE r.fires IS DISTINCT FROM o.fires OR r.silenced IS DISTINCT FROM o.silenced
		   OR r.flaps IS DISTINCT FROM o.flaps OR r.firing_us IS DISTINCT FROM o.firing_us
		ORDER BY 1`)
	return strings.Join(bad, "; "), err
}

// ruleCountsDiff compares RuleCounts over the rollup with the raw statement (every episode of the
// window) for the Monday-based weeks from 2026-10-12 in each of rollupZones, a window of 90 days
// and one of 40 days ending off midnight, and whole UTC months, each with several team filters and
// two clocks (one inside the history, so some episodes start after it).
func ruleCountsDiff(s *Store) (string, error) {
	ctx := context.Background()
	var ft, rw time.Duration
	var secs [2]float64
	if err := s.db.QueryRow(`SELECT extract(epoch FROM flap_threshold)::float8, extract(epoch FROM refire_window)::float8
	                         FROM episode_day_settings`).Scan(&secs[0], &secs[1]); err != nil {
		return "", err
	}
	ft, rw = time.Duration(secs[0]*float64(time.Second)), time.Duration(secs[1]*float64(time.Second))
	var windows [][2]time.Time
	for _, zone := range rollupZones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return "", err
		}
		for k := 0; k < 6; k++ {
			windows = append(windows, [2]time.Time{time.Date(2026, 10, 12+7*k, 0, 0, 0, 0, loc), time.Date(2026, 10, 19+7*k, 0, 0, 0, 0, loc)})
		}
	}
	end := time.Date(2026, 11, 20, 13, 17, 23, 0, time.UTC)
	windows = append(windows,
		[2]time.Time{end.AddDate(0, 0, -90), end},
		[2]time.Time{time.Date(2026, 10, 14, 18, 30, 0, 0, time.UTC), time.Date(2026, 11, 23, 5, 45, 0, 0, time.UTC)},
		[2]time.Time{time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		[2]time.Time{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		[2]time.Time{time.Date(2026, 10, 20, 6, 0, 0, 0, time.UTC), time.Date(2026, 10, 21, 6, 0, 0, 0, time.UTC)},
	)
	var bad []string
	for _, w := range windows {
		for _, now := range []time.Time{time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)} {
			for _, teams := range [][]string{nil, {"a"}, {"", "b"}, {"nobody"}} {
				f := CountFilter{From: w[0], To: w[1], Now: now, Teams: teams, Ignore: []string{"Rule3"},
					FlapThreshold: ft, RefireWindow: rw}
				const day = 24 * time.Hour
				d1, d2 := f.From.UTC().Truncate(day), f.To.UTC().Truncate(day)
				if d1.Before(f.From) {
					d1 = d1.Add(day)
				}
				got, exact, err := s.ruleCountsRollup(ctx, f, d1, d2)
				if err != nil {
					return "", err
				}
				want, err := s.ruleCountsRaw(ctx, f)
				if err != nil {
					return "", err
				}
				if len(got) > 0 && !exact {
					bad = append(bad, fmt.Sprintf("%s: the rollup's flaps are not exact for its own thresholds", w[0].Format(time.RFC3339)))
				}
				if (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
					bad = append(bad, fmt.Sprintf("from %s to %s, now %s, teams %q:\n  got  %+v\n  want %+v",
						w[0].Format(time.RFC3339), w[1].Format(time.RFC3339), now.Format(time.RFC3339), teams, got, want))
				}
			}
		}
	}
	return strings.Join(bad, "\n"), nil
}

// rawWeeklyFires is WeeklyFires as it was before the rollup: every episode of the window.
func rawWeeklyFires(s *Store, bounds []time.Time, f CountFilter) (map[string][]int, error) {
	allTeams, teams := f.teams()
	bs := make([]*time.Time, len(bounds))
	for i := range bounds {
		bs[i] = &bounds[i]
	}
	var rows []struct {
		Alertname string `db:"alertname"`
		Bucket    int    `db:"bucket"`
		Fires     int    `db:"fires"`
	}
	if err := s.db.Select(&rows, `
		SELECT e.alertname, width_bucket(e.starts_at, $1::timestamptz[]) AS bucket, count(*) AS fires
		FROM episodes e
		WHERE e.starts_at >= $2 AND e.starts_at < $3
		  AND ($4 OR e.team = ANY($5::text[]))
		  AND NOT (e.alertname = ANY($6::text[]))
		GROUP BY 1, 2`,
		tsArray(bs), bounds[0], bounds[len(bounds)-1], allTeams, teams, f.ignore()); err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, r := range rows {
		if out[r.Alertname] == nil {
			out[r.Alertname] = make([]int, len(bounds)-1)
		}
		out[r.Alertname][r.Bucket-1] += r.Fires
	}
	return out, nil
}

// rollupZones are the teams' timezones the comparisons use: New York and Berlin leave summer time
// inside the weeks compared (2026-11-01, 2026-10-25); Kolkata and Chatham are off UTC by
// fractions of an hour.
var rollupZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Chatham"}

// weeklyDiff compares WeeklyFires with rawWeeklyFires for the five Monday-based weeks from
// 2026-10-12 in each timezone, hourly buckets of one day, and several team filters.
func weeklyDiff(s *Store) (string, error) {
	var bad []string
	for _, zone := range rollupZones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return "", err
		}
		var weeks []time.Time
		for k := 0; k <= 5; k++ {
			weeks = append(weeks, time.Date(2026, 10, 12+7*k, 0, 0, 0, 0, loc))
		}
		var hours []time.Time
		for k := 0; k <= 30; k += 3 {
			hours = append(hours, time.Date(2026, 10, 25, k, 0, 0, 0, loc))
		}
		for _, bounds := range [][]time.Time{weeks, hours} {
			for _, teams := range [][]string{nil, {"a"}, {"", "b"}, {"nobody"}} {
				f := CountFilter{Teams: teams, Ignore: []string{"Rule3"}}
				got, err := s.WeeklyFires(context.Background(), bounds, f)
				if err != nil {
					return "", err
				}
				want, err := rawWeeklyFires(s, bounds, f)
				if err != nil {
					return "", err
				}
				if !reflect.DeepEqual(got, want) {
					bad = append(bad, fmt.Sprintf("%s from %s, teams %q: %v, want %v", zone, bounds[0].Format(time.RFC3339), teams, got, want))
				}
			}
		}
	}
	return strings.Join(bad, "\n"), nil
}

func checkRollup(t *testing.T, s *Store, when string) {
	t.Helper()
	diff, err := rollupDiff(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Fatalf("%s: episode_day_fires differs from the episodes: %s", when, diff)
	}
	diff, err = weeklyDiff(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Fatalf("%s: WeeklyFires differs from a count of the episodes:\n%s", when, diff)
	}
	diff, err = ruleCountsDiff(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Fatalf("%s: RuleCounts over the rollup differs from the raw statement:\n%s", when, diff)
	}
}

// rollupHistory is random alert reports over six weeks around 2026-10-25: starts anywhere in the
// day, some on UTC midnight and on local midnights, firing then resolved, some silenced.
func rollupHistory(rng *rand.Rand, fps []int) []review.AlertReport {
	from := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
	var out []review.AlertReport
	for _, fp := range fps {
		at := from.Add(time.Duration(rng.Intn(48*60)) * time.Minute)
		silenced := rng.Intn(4) == 0
		for k := 0; k < 14; k++ {
			switch rng.Intn(6) {
			case 0:
				at = at.Truncate(24 * time.Hour).Add(24 * time.Hour) // on UTC midnight
			case 1:
				at = at.Truncate(time.Hour).Add(time.Hour + 30*time.Minute) // Kolkata's midnight is 18:30 UTC
			}
			end := at.Add(time.Duration(1+rng.Intn(300)) * time.Minute)
			if rng.Intn(8) == 0 { // runs for days
				end = at.Add(time.Duration(24*60+rng.Intn(4*24*60)) * time.Minute)
			}
			r := review.AlertReport{
				Fingerprint: uint64(fp), Labels: map[string]string{"alertname": fmt.Sprintf("Rule%d", fp%5), "instance": fmt.Sprint(fp)},
				StartsAt: at, ObservedAt: at.Add(time.Second), Road: review.RoadWebhook, Team: []string{"a", "b", ""}[fp%3],
				Silenced: silenced,
			}
			if k == 13 && fp%4 == 0 { // still firing
				out = append(out, r)
				break
			}
			resolved := r
			resolved.EndsAt, resolved.EndKind = end, review.EndResolved
			out = append(out, r, resolved)
			at = end.Add(time.Duration(rng.Intn(5*24*60)) * time.Minute)
		}
	}
	return out
}

// ingestShuffled delivers reports in random order and batches, as webhook notifications or as
// collector reports.
func ingestShuffled(ctx context.Context, s *Store, rng *rand.Rand, reports []review.AlertReport, tag string) error {
	rng.Shuffle(len(reports), func(i, j int) { reports[i], reports[j] = reports[j], reports[i] })
	for i := 0; i < len(reports); {
		n := min(1+rng.Intn(10), len(reports)-i)
		batch := reports[i : i+n]
		i += n
		if rng.Intn(3) == 0 {
			if err := s.IngestAlerts(ctx, batch, nil); err != nil {
				return err
			}
			continue
		}
		status := "firing"
		if !batch[0].EndsAt.IsZero() {
			status = "resolved"
		}
		if _, err := s.IngestNotification(ctx, Notification{
			Receiver: "pager", Status: status, GroupKey: fmt.Sprintf("%s-%d", tag, i),
			ReceivedAt: batch[0].StartsAt.Add(time.Minute), Alerts: batch,
		}); err != nil {
			return err
		}
	}
	return nil
}

// TestDailyFiresRollupIsExact drives random histories through every writer of episodes (shuffled
// webhook and collector ingest, merges that move a start across midnight, team, rule and silence
// changes, deletes, retention, concurrent writers with concurrent compactions) and checks after
// each step, before and after compaction, that the rollup and WeeklyFires over it equal a count of
// the episodes, for week bounds in several timezones including weeks that leave summer time.
func TestDailyFiresRollupIsExact(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(73))
	var fps []int
	for fp := 1; fp <= 30; fp++ {
		fps = append(fps, fp)
	}
	if err := ingestShuffled(ctx, s, rng, rollupHistory(rng, fps), "first"); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, "after shuffled ingest")
	var deltas int
	if err := s.db.Get(&deltas, `SELECT count(*) FROM episode_day_fires WHERE delta`); err != nil {
		t.Fatal(err)
	}
	if deltas == 0 {
		t.Fatal("ingest wrote no delta rows; the comparison proves nothing")
	}
	if _, err := s.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, "after compaction")
	var keys, rows int
	if err := s.db.Get(&keys, `SELECT count(DISTINCT (day, team, alertname)) FROM episode_day_fires`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Get(&rows, `SELECT count(*) FROM episode_day_fires`); err != nil {
		t.Fatal(err)
	}
	if rows != keys {
		t.Fatalf("after compaction: %d rows for %d keys, want one row per key", rows, keys)
	}
	// Thresholds that make many flaps: the rollup is rebuilt for them, and RuleCounts reads it only
	// under them.
	if rebuilt, err := s.SetFlapRules(ctx, 30*time.Minute, 6*time.Hour); err != nil || !rebuilt {
		t.Fatalf("changing the flap thresholds: rebuilt %v, %v", rebuilt, err)
	}
	if rebuilt, err := s.SetFlapRules(ctx, 30*time.Minute, 6*time.Hour); err != nil || rebuilt {
		t.Fatalf("setting the same flap thresholds again: rebuilt %v, %v", rebuilt, err)
	}
	var flaps int
	if err := s.db.Get(&flaps, `SELECT sum(flaps) FROM episode_day_fires`); err != nil || flaps < 20 {
		t.Fatalf("%d flaps in the rollup (%v): the comparisons prove little", flaps, err)
	}
	checkRollup(t, s, "after a change of flap thresholds")

	// A report that started 20 s earlier, before UTC midnight, merges into an episode that started
	// just after it and moves it to the day before.
	midnight := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	later := review.AlertReport{Fingerprint: 900, Labels: map[string]string{"alertname": "Rule1", "instance": "900"},
		StartsAt: midnight.Add(10 * time.Second), ObservedAt: midnight.Add(11 * time.Second), Road: review.RoadWebhook, Team: "a"}
	if err := s.IngestAlerts(ctx, []review.AlertReport{later}, nil); err != nil {
		t.Fatal(err)
	}
	earlier := later
	earlier.StartsAt, earlier.ObservedAt = midnight.Add(-10*time.Second), midnight.Add(30*time.Second)
	if err := s.IngestAlerts(ctx, []review.AlertReport{earlier}, nil); err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	if err := s.db.Select(&starts, `SELECT starts_at FROM episodes WHERE fingerprint = 900`); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 1 || !starts[0].Equal(earlier.StartsAt) {
		t.Fatalf("the earlier report did not merge: starts %v", starts)
	}
	checkRollup(t, s, "after a merge moved a start across midnight")

	// Any other writer: teams, rules and silences change, starts move across days, deletes, retention.
	steps := []struct{ name, sql string }{
		{"teams changed", `UPDATE episodes SET team = 'b' WHERE id % 4 = 1`},
		{"rules renamed", `UPDATE episodes SET alertname = 'Rule9' WHERE id % 9 = 2`},
		{"silences changed", `UPDATE episodes SET silenced = NOT silenced WHERE id % 5 = 3`},
		{"starts moved earlier", `UPDATE episodes SET starts_at = starts_at - gap_before / 2 WHERE id % 7 = 3 AND gap_before > interval '2 hours'`},
		{"starts moved within their day", `UPDATE episodes SET starts_at = starts_at + interval '1 second' WHERE id % 7 = 4`},
		{"ends moved", `UPDATE episodes SET ends_at = ends_at + interval '1 minute' WHERE id % 3 = 0 AND ends_at IS NOT NULL`},
		{"nothing changed", `UPDATE episodes SET team = team`},
		{"episodes deleted", `DELETE FROM episodes WHERE id % 11 = 2`},
	}
	for i, st := range steps {
		if _, err := s.db.ExecContext(ctx, st.sql); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		checkRollup(t, s, "after "+st.name)
		if i%3 == 2 {
			if _, err := s.CompactRollups(ctx); err != nil {
				t.Fatal(err)
			}
			checkRollup(t, s, "after "+st.name+" and a compaction")
		}
	}
	pruned, err := s.Retention(ctx, time.Date(2026, 10, 27, 12, 0, 0, 0, time.UTC), 7)
	if err != nil {
		t.Fatal(err)
	}
	if pruned["episodes"] == 0 {
		t.Fatal("retention deleted no episode; the step proves nothing")
	}
	checkRollup(t, s, "after retention")

	// Concurrent writers on the same days, teams and rules, and compactions running meanwhile.
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for w := 0; w < 4; w++ {
		var mine []int
		for fp := 0; fp < 8; fp++ {
			mine = append(mine, 1000+10*w+fp)
		}
		reports := rollupHistory(rand.New(rand.NewSource(int64(w))), mine)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- ingestShuffled(ctx, s, rand.New(rand.NewSource(int64(100+w))), reports, fmt.Sprintf("w%d", w))
		}()
	}
	stop := make(chan struct{})
	var cwg sync.WaitGroup
	for c := 0; c < 2; c++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.CompactRollups(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Meanwhile the thresholds change twice (another instance's configuration, then back): each
	// change waits for the writers of the moment, and later deltas use the new thresholds.
	cwg.Add(1)
	go func() {
		defer cwg.Done()
		for _, th := range [][2]time.Duration{{10 * time.Minute, 2 * time.Hour}, {30 * time.Minute, 6 * time.Hour}} {
			time.Sleep(200 * time.Millisecond)
			if _, err := s.SetFlapRules(ctx, th[0], th[1]); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	cwg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkRollup(t, s, "after concurrent writers and compactions")
	if _, err := s.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, "after the last compaction")

	// TRUNCATE empties it; the rebuild (migration backfill, bench loader) agrees with the triggers.
	var before, after string
	if err := s.db.Get(&before, `SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT day || team || alertname || sum(fires) || '/' || sum(silenced) AS k FROM episode_day_fires GROUP BY day, team, alertname HAVING sum(fires) <> 0) x`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`SELECT episode_day_fires_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Get(&after, `SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT day || team || alertname || sum(fires) || '/' || sum(silenced) AS k FROM episode_day_fires GROUP BY day, team, alertname HAVING sum(fires) <> 0) x`); err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("a rebuild changed the rollup the triggers kept:\n%s\nwant\n%s", after, before)
	}
	if _, err := s.db.Exec(`TRUNCATE episodes CASCADE`); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, "after TRUNCATE")
}

// TestDailyFiresCheckNoticesAMissingTrigger shows the comparisons above are not vacuous: without
// any one of the rollup's triggers, ingest, updates, deletes or a TRUNCATE leave the rollup, and
// RuleCounts or WeeklyFires over it, different from the episodes.
func TestDailyFiresCheckNoticesAMissingTrigger(t *testing.T) {
	for _, trigger := range []string{"episode_day_fires_insert", "episode_day_fires_update", "episode_day_fires_delete", "episode_day_fires_truncate"} {
		t.Run(trigger, func(t *testing.T) {
			s := newTestStore(t)
			ctx := context.Background()
			if _, err := s.db.Exec(`DROP TRIGGER ` + trigger + ` ON episodes`); err != nil {
				t.Fatal(err)
			}
			found := func() bool {
				for _, check := range []func(*Store) (string, error){rollupDiff, weeklyDiff, ruleCountsDiff} {
					if diff, err := check(s); err != nil {
						t.Fatal(err)
					} else if diff != "" {
						return true
					}
				}
				return false
			}
			rng := rand.New(rand.NewSource(1))
			if err := ingestShuffled(ctx, s, rng, rollupHistory(rng, []int{1, 2, 3, 4, 5, 6}), "x"); err != nil {
				t.Fatal(err)
			}
			if found() {
				return
			}
			for _, q := range []string{`UPDATE episodes SET team = 'b' WHERE id % 2 = 0`, `DELETE FROM episodes WHERE id % 3 = 0`, `TRUNCATE episodes CASCADE`} {
				if _, err := s.db.Exec(q); err != nil {
					t.Fatal(err)
				}
				if found() {
					return
				}
			}
			t.Fatal("no check noticed the missing trigger")
		})
	}
}

// TestRuleCountsUnderOtherThresholdsReadsEpisodes: flaps under thresholds the rollup was not kept
// with come from the episodes, so RuleCounts is still exact.
func TestRuleCountsUnderOtherThresholdsReadsEpisodes(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(5))
	if err := ingestShuffled(ctx, s, rng, rollupHistory(rng, []int{1, 2, 3, 4, 5, 6, 7, 8}), "x"); err != nil {
		t.Fatal(err)
	}
	f := CountFilter{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Now: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), FlapThreshold: 2 * time.Hour, RefireWindow: 2 * 24 * time.Hour}
	got, err := s.RuleCounts(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ruleCountsRaw(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ruleCounts(want)) {
		t.Fatalf("RuleCounts under other thresholds: %+v\nwant %+v", got, want)
	}
	if _, exact, err := s.ruleCountsRollup(ctx, f, f.From, f.To); err != nil || exact {
		t.Fatalf("the rollup claims exact flaps for thresholds it was not kept with (%v)", err)
	}
}

// TestDailyFiresHaveNoHotRow: two transactions that each add an episode of the same day, team and
// rule do not wait for each other (the second would fail on its lock timeout if it queued behind
// the first's uncommitted rollup write), and both count once committed.
func TestDailyFiresHaveNoHotRow(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	insert := `INSERT INTO episodes (fingerprint, alertname, team, labels, starts_at, last_seen_at)
	           VALUES ($1, 'DiskFull', 'a', '{"alertname": "DiskFull"}', $2, $2)`
	// Both keys exist as merged rows first, as they would after a compaction.
	if _, err := s.db.ExecContext(ctx, insert, 1, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	tx1, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback()
	if _, err := tx1.ExecContext(ctx, insert, 2, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tx2, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback()
	if _, err := tx2.ExecContext(ctx, `SET LOCAL lock_timeout = '3s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx2.ExecContext(ctx, insert, 3, at.Add(2*time.Minute)); err != nil {
		t.Fatalf("a second writer of the same day, team and rule waited for the first: %v", err)
	}
	if err := tx2.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := s.WeeklyFires(ctx, []time.Time{at.Truncate(24 * time.Hour), at.Truncate(24 * time.Hour).Add(24 * time.Hour)}, CountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "map[DiskFull:[3]]" {
		t.Fatalf("fires of the day: %v, want DiskFull 3", got)
	}
	checkRollup(t, s, "after two concurrent writers")
}

// TestRuleCountsOfAFirstOpenEpisodeAtTheEdge: a rule whose only episode is still open and has no
// episode before it (no gap_before: its flap test is NULL in SQL) starts in a window's partial last
// day. The rollup path counts it as the raw statement does — a fire, no flap — instead of failing
// on a NULL flap count (which turned the TV's noisiest panel into an error).
func TestRuleCountsOfAFirstOpenEpisodeAtTheEdge(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if _, err := s.SetFlapRules(ctx, 5*time.Minute, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC) // in [d2, To): 29 Nov 00:00 to 23:00 UTC
	if err := s.IngestAlerts(ctx, []review.AlertReport{report(77, start, time.Time{}, review.RoadPrometheus)}, nil); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	f := CountFilter{From: time.Date(2026, 11, 23, 0, 0, 0, 0, loc), To: time.Date(2026, 11, 30, 0, 0, 0, 0, loc),
		Now: start.Add(time.Hour), FlapThreshold: 5 * time.Minute, RefireWindow: 30 * time.Minute}
	got, err := s.RuleCounts(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ruleCountsRaw(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Fires != 1 || got[0].Flaps != 0 || !reflect.DeepEqual(got, ruleCounts(want)) {
		t.Fatalf("RuleCounts = %+v, want one fire and no flap as the raw statement gives: %+v", got, want)
	}
}
