-- The noisy-alerts counts of a long window (RuleCounts: fires, silenced, flaps and firing time per
-- rule) read whole UTC days from the daily rollup of 0073 instead of every episode of the window.
-- The same rows gain two columns, so one set of triggers keeps all four exact (one delta row per
-- key and statement, no second rollup to write on every webhook):
--   flaps     episodes starting that day that are flaps under the thresholds in episode_day_settings
--   firing_us microseconds of that day during which a CLOSED episode was firing: an episode spanning
--             days adds its overlap with each of them; open episodes add nothing (their time grows
--             with the clock, RuleCounts reads them from episodes)
ALTER TABLE episode_day_fires
    ADD COLUMN flaps integer NOT NULL DEFAULT 0,
    ADD COLUMN firing_us bigint NOT NULL DEFAULT 0;

-- Flaps depend on configuration (alerts.flap_threshold, alerts.refire_window). The triggers read the
-- thresholds here (one row, read and never locked by writers); the server writes its configured ones
-- at start (store.SetFlapRules), which rebuilds the rollup when they changed. RuleCounts uses the
-- rollup's flaps only while flaps_exact holds and the thresholds are the ones asked for.
CREATE TABLE episode_day_settings (
    only_row       boolean  PRIMARY KEY DEFAULT true CHECK (only_row),
    flap_threshold interval NOT NULL,
    refire_window  interval NOT NULL,
    flaps_exact    boolean  NOT NULL -- false from a change of thresholds until the rebuild commits
);
INSERT INTO episode_day_settings VALUES (true, interval '5 minutes', interval '30 minutes', true);
ANALYZE episode_day_settings; -- one row: the triggers' plans must not expect a thousand

-- What one episode adds to the rollup: its start day's fire, silence and flap, and, once closed, its
-- firing time on each UTC day it overlaps. The flap rule is RuleCounts' raw one.
CREATE FUNCTION episode_day_parts(s timestamptz, e timestamptz, sil boolean, gap interval, ft interval, rw interval)
RETURNS TABLE (day date, fires integer, silenced integer, flaps integer, firing_us bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT (s AT TIME ZONE 'UTC')::date, 1, sil::int,
           coalesce((e IS NOT NULL AND e - s < ft) OR gap <= rw, false)::int, 0::bigint
    UNION ALL
    SELECT d::date, 0, 0, 0,
           (extract(epoch FROM least(e AT TIME ZONE 'UTC', d + interval '1 day') - greatest(s AT TIME ZONE 'UTC', d)) * 1000000)::bigint
    FROM generate_series(date_trunc('day', s AT TIME ZONE 'UTC'), e AT TIME ZONE 'UTC', interval '1 day') AS d
    WHERE d < e AT TIME ZONE 'UTC'
$$;

-- The triggers of 0073, now with every column. The thresholds are joined, not read into variables:
-- a statement without parameters keeps one cached plan per session (with parameters PL/pgSQL
-- planned it anew on every call, more than running it). JIT is off: generate_series' default
-- estimate made the plan look costly enough to compile (1.6 s per webhook statement). Keys whose
-- four sums do not change (labels, polls, last_seen_at) write nothing; an end, a gap
-- (episodes_refresh_gaps updates gap_before, which fires the update trigger) or a move does.
--
-- Inserted episodes are mostly still open: their start-day counts come straight from the rows, and
-- only closed ones go through episode_day_parts for their firing time per day.
CREATE OR REPLACE FUNCTION episode_day_fires_after_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, flaps, firing_us)
    SELECT c.day, c.team, c.alertname, sum(c.fires), sum(c.silenced), sum(c.flaps), sum(c.firing_us)
    FROM (SELECT (n.starts_at AT TIME ZONE 'UTC')::date AS day, n.team, n.alertname, 1 AS fires,
                 n.silenced::int AS silenced,
                 coalesce((n.ends_at IS NOT NULL AND n.ends_at - n.starts_at < s.flap_threshold)
                          OR n.gap_before <= s.refire_window, false)::int AS flaps,
                 0::bigint AS firing_us
          FROM new_rows n
          CROSS JOIN episode_day_settings s
          UNION ALL
          SELECT p.day, n.team, n.alertname, 0, 0, 0, p.firing_us
          FROM new_rows n
          CROSS JOIN LATERAL episode_day_parts(n.starts_at, n.ends_at, false, NULL, NULL, NULL) p
          WHERE n.ends_at IS NOT NULL AND p.fires = 0) c
    GROUP BY 1, 2, 3
    HAVING sum(c.fires) <> 0 OR sum(c.firing_us) <> 0;
    RETURN NULL;
END $$;

-- Old rows count -1 and new rows +1 per key. Rows whose counted columns did not change cancel out
-- first (multiset difference, no join on the id: exact for any update), so the many updates that
-- change nothing counted (last_seen_at, labels, polls) compute no parts.
CREATE OR REPLACE FUNCTION episode_day_fires_after_update() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, flaps, firing_us)
    SELECT p.day, c.team, c.alertname, sum(c.sign * p.fires), sum(c.sign * p.silenced), sum(c.sign * p.flaps),
           sum(c.sign * p.firing_us)
    FROM ((SELECT 1 AS sign, team, alertname, starts_at, ends_at, silenced, gap_before FROM new_rows
           EXCEPT ALL
           SELECT 1, team, alertname, starts_at, ends_at, silenced, gap_before FROM old_rows)
          UNION ALL
          (SELECT -1, team, alertname, starts_at, ends_at, silenced, gap_before FROM old_rows
           EXCEPT ALL
           SELECT -1, team, alertname, starts_at, ends_at, silenced, gap_before FROM new_rows)) c
    CROSS JOIN episode_day_settings s
    CROSS JOIN LATERAL episode_day_parts(c.starts_at, c.ends_at, c.silenced, c.gap_before, s.flap_threshold, s.refire_window) p
    GROUP BY 1, 2, 3
    HAVING sum(c.sign * p.fires) <> 0 OR sum(c.sign * p.silenced) <> 0 OR sum(c.sign * p.flaps) <> 0
        OR sum(c.sign * p.firing_us) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION episode_day_fires_after_delete() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, flaps, firing_us)
    SELECT p.day, o.team, o.alertname, -sum(p.fires), -sum(p.silenced), -sum(p.flaps), -sum(p.firing_us)
    FROM old_rows o
    CROSS JOIN episode_day_settings s
    CROSS JOIN LATERAL episode_day_parts(o.starts_at, o.ends_at, o.silenced, o.gap_before, s.flap_threshold, s.refire_window) p
    GROUP BY 1, 2, 3
    HAVING sum(p.fires) <> 0 OR sum(p.firing_us) <> 0;
    RETURN NULL;
END $$;

-- Compaction and rebuild exclude each other (a rebuild's DELETE skips rows a concurrent compaction
-- deleted, and would not see the merged row it inserts): both take this transaction lock first, and
-- their main statement's snapshot is taken after it.
CREATE OR REPLACE FUNCTION episode_day_fires_compact() RETURNS bigint LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(7309458139548580211); -- "episdays"
    WITH keys AS (
        SELECT DISTINCT day, team, alertname FROM episode_day_fires WHERE delta
    ), gone AS (
        DELETE FROM episode_day_fires r
        USING keys k
        WHERE r.day = k.day AND r.team = k.team AND r.alertname = k.alertname
        RETURNING r.day, r.team, r.alertname, r.fires, r.silenced, r.flaps, r.firing_us
    ), merged AS (
        INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, flaps, firing_us, delta)
        SELECT day, team, alertname, sum(fires), sum(silenced), sum(flaps), sum(firing_us), false
        FROM gone
        GROUP BY 1, 2, 3
        HAVING sum(fires) <> 0 OR sum(silenced) <> 0 OR sum(flaps) <> 0 OR sum(firing_us) <> 0
        RETURNING 1
    )
    SELECT count(*) FROM gone -- merged runs to completion whether read or not
$$;

-- Rebuilds the table from the episodes under the current thresholds, in one statement (one
-- snapshot: deltas that concurrent writers commit later stay and count once), and marks the flaps
-- exact if the thresholds are still those it used. The backfill, the bench loader's after a COPY with
-- the triggers off, and store.SetFlapRules after a change of thresholds.
CREATE OR REPLACE FUNCTION episode_day_fires_rebuild() RETURNS bigint LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(7309458139548580211);
    WITH s AS (
        SELECT flap_threshold, refire_window FROM episode_day_settings
    ), gone AS (
        DELETE FROM episode_day_fires RETURNING 1
    ), filled AS (
        INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, flaps, firing_us, delta)
        SELECT p.day, e.team, e.alertname, sum(p.fires), sum(p.silenced), sum(p.flaps), sum(p.firing_us), false
        FROM episodes e
        CROSS JOIN s
        CROSS JOIN LATERAL episode_day_parts(e.starts_at, e.ends_at, e.silenced, e.gap_before, s.flap_threshold, s.refire_window) p
        GROUP BY 1, 2, 3
        HAVING sum(p.fires) <> 0 OR sum(p.firing_us) <> 0
        RETURNING 1
    ), exact AS (
        UPDATE episode_day_settings u SET flaps_exact = true
        FROM s
        WHERE u.flap_threshold = s.flap_threshold AND u.refire_window = s.refire_window AND NOT u.flaps_exact
        RETURNING 1
    )
    SELECT count(*) FROM filled
$$;

-- The reads stay index-only with the new columns.
DROP INDEX episode_day_fires_day;
DROP INDEX episode_day_fires_team_day;

SET LOCAL work_mem = '256MB';
SELECT episode_day_fires_rebuild();

CREATE INDEX episode_day_fires_day ON episode_day_fires (day, team, alertname) INCLUDE (fires, silenced, flaps, firing_us);
CREATE INDEX episode_day_fires_team_day ON episode_day_fires (team, day, alertname) INCLUDE (fires, silenced, flaps, firing_us);

CREATE TRIGGER episode_day_settings_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON episode_day_settings
    FOR EACH STATEMENT EXECUTE FUNCTION opsreview_bump_data_version();
