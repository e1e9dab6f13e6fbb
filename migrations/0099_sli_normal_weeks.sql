-- The review's "Know your normal" figures of one SLI over one closed window (a review week):
-- abnormal samples and runs, hours without data, the median shift against the bands four weeks
-- (672 hours) earlier. params is the key of everything else the figures depend on (direction,
-- abnormal_after, the hours' time zone). Only windows ending at or before the SLI's watermark are
-- stored; a statement writing samples or bands deletes the rows whose window (or window four weeks
-- later, for bands) overlaps what it changed, so a stored row always equals a recomputation.
CREATE TABLE sli_normal_weeks (
    sli_id           integer NOT NULL,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    params           text NOT NULL,
    abnormal_samples integer NOT NULL,
    runs             integer NOT NULL,
    no_data_hours    integer NOT NULL,
    shift            double precision, -- null: no hour known in both periods, or the earlier mean is zero
    shift_hours      integer NOT NULL,
    PRIMARY KEY (sli_id, window_start, window_end, params)
);

-- A counter per SLI moved by every write the rows depend on, before the rows are deleted: the
-- store writes a row computed from a snapshot only while the counter still has the value that
-- snapshot saw (holding it FOR SHARE), so a write committed after the read cannot leave a stale row.
CREATE TABLE sli_normal_versions (
    sli_id  integer PRIMARY KEY,
    version bigint NOT NULL
);

CREATE FUNCTION opsreview_sli_samples_normal_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sli_normal_versions AS v (sli_id, version)
    SELECT DISTINCT sli_id, 1 FROM changed_rows ORDER BY sli_id
    ON CONFLICT (sli_id) DO UPDATE SET version = v.version + 1;
    DELETE FROM sli_normal_weeks w
    USING (SELECT sli_id, min(at) AS first, max(at) AS last FROM changed_rows GROUP BY sli_id) c
    WHERE w.sli_id = c.sli_id AND w.window_start <= c.last AND w.window_end >= c.first;
    RETURN NULL;
END
$$;

CREATE FUNCTION opsreview_sli_baselines_normal_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sli_normal_versions AS v (sli_id, version)
    SELECT DISTINCT sli_id, 1 FROM changed_rows ORDER BY sli_id
    ON CONFLICT (sli_id) DO UPDATE SET version = v.version + 1;
    -- A band of [hour_start, hour_end) is read for a window [s, e] when hour_end > s and
    -- hour_start <= e; the earlier bands of a window are those of [s, e] - 672 hours.
    DELETE FROM sli_normal_weeks w
    USING (SELECT sli_id, min(hour_start) AS first, max(hour_end) AS last FROM changed_rows GROUP BY sli_id) c
    WHERE w.sli_id = c.sli_id
      AND ((w.window_start < c.last AND w.window_end >= c.first)
        OR (w.window_start - interval '672 hours' < c.last AND w.window_end - interval '672 hours' >= c.first));
    RETURN NULL;
END
$$;

CREATE FUNCTION opsreview_sli_normal_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sli_normal_versions SET version = version + 1;
    DELETE FROM sli_normal_weeks;
    RETURN NULL;
END
$$;

CREATE TRIGGER sli_samples_normal_insert AFTER INSERT ON sli_samples
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_samples_normal_invalidate();
CREATE TRIGGER sli_samples_normal_delete AFTER DELETE ON sli_samples
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_samples_normal_invalidate();
CREATE TRIGGER sli_samples_normal_update_old AFTER UPDATE ON sli_samples
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_samples_normal_invalidate();
CREATE TRIGGER sli_samples_normal_update_new AFTER UPDATE ON sli_samples
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_samples_normal_invalidate();
CREATE TRIGGER sli_samples_normal_truncate AFTER TRUNCATE ON sli_samples
    FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_normal_truncate();

CREATE TRIGGER sli_baselines_normal_insert AFTER INSERT ON sli_baselines
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_baselines_normal_invalidate();
CREATE TRIGGER sli_baselines_normal_delete AFTER DELETE ON sli_baselines
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_baselines_normal_invalidate();
CREATE TRIGGER sli_baselines_normal_update_old AFTER UPDATE ON sli_baselines
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_baselines_normal_invalidate();
CREATE TRIGGER sli_baselines_normal_update_new AFTER UPDATE ON sli_baselines
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_baselines_normal_invalidate();
CREATE TRIGGER sli_baselines_normal_truncate AFTER TRUNCATE ON sli_baselines
    FOR EACH STATEMENT EXECUTE FUNCTION opsreview_sli_normal_truncate();
