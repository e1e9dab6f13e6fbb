-- The data version: a number that grows with every committed write to the data the pages show, so
-- that every instance sharing this database can tell in one cheap read whether a page it built
-- earlier is still current. Writes bump it from statement triggers, once per transaction, in the
-- same transaction as the data (a reader that sees the new number also sees the new rows). The
-- number is spread over 16 rows so that concurrent writers (webhooks, collectors) rarely wait for
-- each other's row lock; readers take the sum.
CREATE TABLE data_version (
    shard smallint PRIMARY KEY CHECK (shard BETWEEN 0 AND 15),
    v     bigint   NOT NULL DEFAULT 0
);
INSERT INTO data_version (shard) SELECT generate_series(0, 15);

CREATE FUNCTION opsreview_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per transaction: the setting is local to it and gone at its end.
    IF coalesce(current_setting('opsreview.data_version_bumped', true), '') <> 'on' THEN
        UPDATE data_version SET v = v + 1 WHERE shard = pg_backend_pid() % 16;
        PERFORM set_config('opsreview.data_version_bumped', 'on', true);
    END IF;
    RETURN NULL;
END
$$;

-- Every table of the schema except bookkeeping that no page shows. A table added later needs the
-- same trigger (store's TestDataVersionCoversEveryTable names any that lacks it).
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
               AND c.relname NOT IN ('data_version', 'schema_migrations', 'access_tokens', 'collector_state')
               AND NOT c.relispartition
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION opsreview_bump_data_version()',
                       t || '_data_version', t);
    END LOOP;
END
$$;
