-- Fires per (UTC day of the start, team, alert rule), and how many of them were silenced: the
-- trends (fires per rule in each of the weeks before a review) read whole days from here instead of
-- every episode, and only the partial days at the week bounds (a team's timezone) from episodes.
--
-- Exact at all times without a hot row: statement triggers on episodes append delta rows (+n for
-- episodes inserted or moved into a key, -n for those deleted or moved out of it), which concurrent
-- writers never lock or wait for. Readers sum every row of a key. episode_day_fires_compact(),
-- called hourly, merges each key's deltas into one row in a single statement (one snapshot:
-- it deletes exactly the rows whose sum it inserts, so a reader sees either both or neither).
CREATE TABLE episode_day_fires (
    day       date    NOT NULL, -- (starts_at AT TIME ZONE 'UTC')::date
    team      text    NOT NULL,
    alertname text    NOT NULL,
    fires     integer NOT NULL,
    silenced  integer NOT NULL,
    delta     boolean NOT NULL DEFAULT true -- written by a trigger, not merged yet
);

CREATE FUNCTION episode_day_fires_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced)
    SELECT (starts_at AT TIME ZONE 'UTC')::date, team, alertname, count(*), count(*) FILTER (WHERE silenced)
    FROM new_rows
    GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;

-- Old rows count -1 and new rows +1 per key; keys whose counts did not change (ends, labels,
-- polls, a start moved within its day) write nothing. No join on the id: exact for any update.
CREATE FUNCTION episode_day_fires_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced)
    SELECT day, team, alertname, sum(f), sum(s)
    FROM (SELECT (starts_at AT TIME ZONE 'UTC')::date AS day, team, alertname, 1 AS f, silenced::int AS s FROM new_rows
          UNION ALL
          SELECT (starts_at AT TIME ZONE 'UTC')::date, team, alertname, -1, -(silenced::int) FROM old_rows) c
    GROUP BY 1, 2, 3
    HAVING sum(f) <> 0 OR sum(s) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION episode_day_fires_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced)
    SELECT (starts_at AT TIME ZONE 'UTC')::date, team, alertname, -count(*), -count(*) FILTER (WHERE silenced)
    FROM old_rows
    GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;

CREATE FUNCTION episode_day_fires_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM episode_day_fires;
    RETURN NULL;
END $$;

-- Merges the deltas: every key that has one becomes a single row (none when it sums to zero).
-- Returns the number of rows it rewrote (deleted and summed). Concurrent runs stay exact: a row
-- another run deleted first is skipped by this one's DELETE and so not summed twice; deltas of
-- transactions not yet committed are not seen and wait for the next run.
CREATE FUNCTION episode_day_fires_compact() RETURNS bigint LANGUAGE sql AS $$
    WITH keys AS (
        SELECT DISTINCT day, team, alertname FROM episode_day_fires WHERE delta
    ), gone AS (
        DELETE FROM episode_day_fires r
        USING keys k
        WHERE r.day = k.day AND r.team = k.team AND r.alertname = k.alertname
        RETURNING r.day, r.team, r.alertname, r.fires, r.silenced
    ), merged AS (
        INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, delta)
        SELECT day, team, alertname, sum(fires), sum(silenced), false
        FROM gone
        GROUP BY 1, 2, 3
        HAVING sum(fires) <> 0 OR sum(silenced) <> 0
        RETURNING 1
    )
    SELECT count(*) FROM gone -- merged runs to completion whether read or not
$$;

-- Rebuilds the table from the episodes in one statement (the backfill, and the bench loader's after
-- a COPY with the triggers off).
CREATE FUNCTION episode_day_fires_rebuild() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM episode_day_fires;
    INSERT INTO episode_day_fires (day, team, alertname, fires, silenced, delta)
    SELECT (starts_at AT TIME ZONE 'UTC')::date, team, alertname, count(*), count(*) FILTER (WHERE silenced), false
    FROM episodes
    GROUP BY 1, 2, 3;
    SELECT count(*) FROM episode_day_fires;
$$;

SET LOCAL work_mem = '256MB';
SELECT episode_day_fires_rebuild();

-- A window's days for every team, and for some teams: index-only. Both end with the rule, so the
-- compaction finds a key's rows directly.
CREATE INDEX episode_day_fires_day ON episode_day_fires (day, team, alertname) INCLUDE (fires, silenced);
CREATE INDEX episode_day_fires_team_day ON episode_day_fires (team, day, alertname) INCLUDE (fires, silenced);
-- What the compaction merges.
CREATE INDEX episode_day_fires_deltas ON episode_day_fires (day, team, alertname) WHERE delta;

CREATE TRIGGER episode_day_fires_insert AFTER INSERT ON episodes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION episode_day_fires_after_insert();
CREATE TRIGGER episode_day_fires_update AFTER UPDATE ON episodes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION episode_day_fires_after_update();
CREATE TRIGGER episode_day_fires_delete AFTER DELETE ON episodes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION episode_day_fires_after_delete();
CREATE TRIGGER episode_day_fires_truncate AFTER TRUNCATE ON episodes
    FOR EACH STATEMENT EXECUTE FUNCTION episode_day_fires_after_truncate();

-- Pages cache on the data version (0080): a database that has it already needs the trigger here; a
-- new one gets it from 0080, which runs after this migration and covers every table.
DO $$
BEGIN
    IF to_regproc('opsreview_bump_data_version') IS NOT NULL THEN
        CREATE TRIGGER episode_day_fires_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON episode_day_fires
            FOR EACH STATEMENT EXECUTE FUNCTION opsreview_bump_data_version();
    END IF;
END
$$;
