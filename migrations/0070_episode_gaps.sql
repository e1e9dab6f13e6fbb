-- Flaps without a look-up per episode, and one-team weeks read from the index alone.
--
-- gap_before is the time from the end of the same fingerprint's previous episode (by start) to this
-- episode's start; NULL when there is none, it is still open, or it ended after this one started.
-- A flap is then "shorter than FlapThreshold or gap_before <= RefireWindow": the thresholds stay
-- configuration, only the raw gap is stored. Triggers keep it exact for every writer (webhook,
-- Alertmanager API, ALERTS backfill, vanished alerts, deletes), including an earlier episode
-- inserted later, which changes the next one's gap.
ALTER TABLE episodes ADD COLUMN gap_before interval;

-- The gaps of every episode, in one set-based statement (the migration's backfill, and the bench
-- loader's after a COPY with the triggers off).
CREATE FUNCTION episodes_rebuild_gaps() RETURNS bigint LANGUAGE sql AS $$
    WITH g AS (
        SELECT id, gap_before AS stored,
               CASE WHEN prev_end IS NOT NULL AND starts_at >= prev_end THEN starts_at - prev_end END AS gap
        FROM (SELECT id, starts_at, gap_before,
                     lag(ends_at) OVER (PARTITION BY fingerprint ORDER BY starts_at) AS prev_end
              FROM episodes) p
    ), up AS (
        UPDATE episodes e SET gap_before = g.gap
        FROM g
        WHERE e.id = g.id AND g.gap IS DISTINCT FROM g.stored
        RETURNING 1
    )
    SELECT count(*) FROM up
$$;

-- Recomputes the gaps of the episodes of fingerprints fps[i] that start at or after since[i]: a
-- change to an episode can only change its own gap and those of the episodes after it. PL/pgSQL
-- with one generic plan of index look-ups, kept for the session: the triggers run it once per
-- statement, planning it each time cost more than running it, and a plan made while the table was
-- small (a new install) must not stay a sequential scan as it grows.
CREATE FUNCTION episodes_refresh_gaps(fps bigint[], since timestamptz[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    WITH touched AS (
        SELECT t.fingerprint, min(t.since_at) AS since_at
        FROM unnest(fps, since) AS t(fingerprint, since_at)
        GROUP BY t.fingerprint
    ), g AS (
        SELECT e.id, e.gap_before AS stored,
               CASE WHEN p.ends_at IS NOT NULL AND e.starts_at >= p.ends_at THEN e.starts_at - p.ends_at END AS gap
        FROM touched t
        JOIN episodes e ON e.fingerprint = t.fingerprint AND e.starts_at >= t.since_at
        LEFT JOIN LATERAL (
            SELECT p.ends_at FROM episodes p
            WHERE p.fingerprint = e.fingerprint AND p.starts_at < e.starts_at
            ORDER BY p.starts_at DESC
            LIMIT 1
        ) p ON true
    )
    UPDATE episodes e SET gap_before = g.gap
    FROM g
    WHERE e.id = g.id AND g.gap IS DISTINCT FROM g.stored;
END $$;

-- One statement-level trigger per event (transition tables differ); the UPDATE one ignores rows
-- whose fingerprint, start and end did not change (vanished polls, labels, the gap itself).
CREATE FUNCTION episodes_gaps_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM episodes_refresh_gaps(array_agg(n.fingerprint), array_agg(n.starts_at)) FROM new_rows n HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION episodes_gaps_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM episodes_refresh_gaps(array_agg(c.fingerprint), array_agg(c.since))
    FROM (SELECT n.fingerprint, least(n.starts_at, o.starts_at) AS since
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE n.starts_at IS DISTINCT FROM o.starts_at OR n.ends_at IS DISTINCT FROM o.ends_at
             OR n.fingerprint <> o.fingerprint
          UNION ALL
          SELECT o.fingerprint, o.starts_at
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE n.fingerprint <> o.fingerprint) c
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION episodes_gaps_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM episodes_refresh_gaps(array_agg(o.fingerprint), array_agg(o.starts_at)) FROM old_rows o HAVING count(*) > 0;
    RETURN NULL;
END $$;

-- The indexes the backfill would otherwise maintain row by row are replaced below anyway
-- (episodes_id_team served only the old Pages statement, which 0071 replaces).
DROP INDEX episodes_starts_at;
DROP INDEX episodes_team_starts_at;
DROP INDEX episodes_running_until;
DROP INDEX episodes_id_team;
SET LOCAL work_mem = '256MB';

SELECT episodes_rebuild_gaps();

CREATE TRIGGER episodes_gaps_insert AFTER INSERT ON episodes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION episodes_gaps_after_insert();
CREATE TRIGGER episodes_gaps_update AFTER UPDATE ON episodes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION episodes_gaps_after_update();
CREATE TRIGGER episodes_gaps_delete AFTER DELETE ON episodes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION episodes_gaps_after_delete();

-- Counts of a window (RuleCounts, WeeklyFires, changes, runbook fires) read only the index: every
-- team's from the start-time index, one team's from the team-leading one.
CREATE INDEX episodes_starts_at ON episodes (starts_at) INCLUDE (alertname, team, ends_at, silenced, gap_before);
CREATE INDEX episodes_team_starts_at ON episodes (team, starts_at) INCLUDE (alertname, ends_at, silenced, gap_before);
-- Episodes carried into a window (started before it, still firing at its start) without scanning
-- everything that ended after it: the ones whose open interval contains the window's start.
CREATE INDEX episodes_span ON episodes USING gist (tstzrange(starts_at, coalesce(ends_at, 'infinity'::timestamptz), '()'));
