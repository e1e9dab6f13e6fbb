-- The foreign keys of sli_samples and sli_baselines to slis are checked once per row: a lookup and
-- a row lock of the SLI for each of the 10,000 samples of a backfill chunk, about two thirds of the
-- cost of inserting them. The same guarantee, once per statement: every SLI the new rows name is
-- locked as a foreign key would lock it (FOR KEY SHARE: it cannot be deleted until the writing
-- transaction ends) and must exist; deleting an SLI deletes its rows (ON DELETE CASCADE before).
-- SLI ids are never changed (serial); TRUNCATE slis must name the two tables too, as the store's
-- callers do.
ALTER TABLE sli_samples DROP CONSTRAINT sli_samples_sli_id_fkey;
ALTER TABLE sli_baselines DROP CONSTRAINT sli_baselines_sli_id_fkey;

CREATE FUNCTION opsreview_check_sli_reference() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing integer;
BEGIN
    PERFORM 1 FROM slis WHERE id IN (SELECT DISTINCT sli_id FROM new_rows) FOR KEY SHARE;
    SELECT n.sli_id INTO missing
    FROM (SELECT DISTINCT sli_id FROM new_rows) n
    WHERE NOT EXISTS (SELECT 1 FROM slis s WHERE s.id = n.sli_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" names SLI % that is not present', TG_TABLE_NAME, missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sli_samples_reference_insert AFTER INSERT ON sli_samples
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_check_sli_reference();
CREATE TRIGGER sli_samples_reference_update AFTER UPDATE ON sli_samples
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_check_sli_reference();
CREATE TRIGGER sli_baselines_reference_insert AFTER INSERT ON sli_baselines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_check_sli_reference();
CREATE TRIGGER sli_baselines_reference_update AFTER UPDATE ON sli_baselines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_check_sli_reference();

CREATE FUNCTION opsreview_delete_sli_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sli_samples WHERE sli_id IN (SELECT id FROM old_rows);
    DELETE FROM sli_baselines WHERE sli_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;

CREATE TRIGGER slis_delete_rows AFTER DELETE ON slis
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opsreview_delete_sli_rows();
