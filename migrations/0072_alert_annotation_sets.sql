-- The distinct annotations each alert rule's episodes carried, with the first start of each:
-- runbook links are read from these (a few rows per rule) instead of from
-- every episode's annotations. Statement-level triggers keep it exact for every writer.
CREATE TABLE alert_annotation_sets (
    alertname   text        NOT NULL,
    key         bytea       NOT NULL, -- md5 of the annotations' canonical text
    annotations jsonb       NOT NULL,
    first_start timestamptz NOT NULL,
    PRIMARY KEY (alertname, key)
);

-- Adds episodes. A set that is already known is neither written nor locked unless an episode
-- starts before its first one (a backfill), so concurrent ingests of one rule do not queue here.
CREATE FUNCTION alert_annotation_sets_add(names text[], anns jsonb[], starts timestamptz[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    WITH g AS (
        SELECT alertname, decode(md5(annotations::text), 'hex') AS key, annotations, min(starts_at) AS first
        FROM unnest(names, anns, starts) AS u(alertname, annotations, starts_at)
        GROUP BY alertname, annotations
    ), earlier AS (
        UPDATE alert_annotation_sets s SET first_start = g.first
        FROM g
        WHERE s.alertname = g.alertname AND s.key = g.key AND s.first_start > g.first
    )
    INSERT INTO alert_annotation_sets (alertname, key, annotations, first_start)
    SELECT alertname, key, annotations, first FROM g
    ORDER BY alertname, key
    ON CONFLICT (alertname, key) DO NOTHING;
END $$;

-- Takes episodes away: a set whose earliest episode went finds its new first start with the
-- (alertname, starts_at) index, or is dropped when none is left.
CREATE FUNCTION alert_annotation_sets_remove(names text[], anns jsonb[], starts timestamptz[]) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    UPDATE alert_annotation_sets s
    SET first_start = coalesce((SELECT min(e.starts_at) FROM episodes e
                                WHERE e.alertname = s.alertname AND e.annotations = s.annotations),
                               '-infinity')
    FROM (SELECT alertname, decode(md5(annotations::text), 'hex') AS key, min(starts_at) AS first
          FROM unnest(names, anns, starts) AS u(alertname, annotations, starts_at)
          GROUP BY alertname, annotations) g
    WHERE s.alertname = g.alertname AND s.key = g.key AND g.first <= s.first_start;
    DELETE FROM alert_annotation_sets WHERE alertname = ANY(names) AND first_start = '-infinity';
END $$;

CREATE FUNCTION alert_annotation_sets_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alert_annotation_sets_add(array_agg(alertname), array_agg(annotations), array_agg(starts_at))
    FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION alert_annotation_sets_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    SELECT array_agg(n.id) INTO changed
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.alertname IS DISTINCT FROM o.alertname OR n.starts_at IS DISTINCT FROM o.starts_at
       OR n.annotations IS DISTINCT FROM o.annotations;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM alert_annotation_sets_add(array_agg(alertname), array_agg(annotations), array_agg(starts_at))
    FROM new_rows WHERE id = ANY(changed);
    PERFORM alert_annotation_sets_remove(array_agg(alertname), array_agg(annotations), array_agg(starts_at))
    FROM old_rows WHERE id = ANY(changed);
    RETURN NULL;
END $$;

CREATE FUNCTION alert_annotation_sets_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM alert_annotation_sets_remove(array_agg(alertname), array_agg(annotations), array_agg(starts_at))
    FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

-- Rebuilds the table from the episodes in one statement (the backfill, and the bench loader's).
CREATE FUNCTION alert_annotation_sets_rebuild() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM alert_annotation_sets;
    INSERT INTO alert_annotation_sets (alertname, key, annotations, first_start)
    SELECT alertname, decode(md5(annotations::text), 'hex'), annotations, min(starts_at)
    FROM episodes
    GROUP BY alertname, annotations;
    SELECT count(*) FROM alert_annotation_sets;
$$;

SELECT alert_annotation_sets_rebuild();

CREATE TRIGGER alert_annotation_sets_insert AFTER INSERT ON episodes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_annotation_sets_after_insert();
CREATE TRIGGER alert_annotation_sets_update AFTER UPDATE ON episodes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_annotation_sets_after_update();
CREATE TRIGGER alert_annotation_sets_delete AFTER DELETE ON episodes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_annotation_sets_after_delete();
