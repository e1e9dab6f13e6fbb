-- Pages of a window straight from receiver_episodes: each first notification of an episode to a
-- receiver carries the episode's team and rule and when that notification was received (NULL when
-- it is not a firing one, so it is never a page). Ingest writes them with the row; triggers follow
-- the rare changes (an episode moving team, a copy of a notification received earlier).
ALTER TABLE receiver_episodes
    ADD COLUMN team        text,
    ADD COLUMN alertname   text,
    ADD COLUMN received_at timestamptz;

-- Sets every row's copies, in one statement (the backfill, and the bench loader's after a COPY).
CREATE FUNCTION receiver_episodes_rebuild() RETURNS bigint LANGUAGE sql AS $$
    WITH up AS (
        UPDATE receiver_episodes r
        SET team = e.team, alertname = e.alertname,
            received_at = CASE WHEN n.status = 'firing' THEN n.received_at END
        FROM episodes e, notifications n
        WHERE e.id = r.episode_id AND n.id = r.first_notification_id
          AND (r.team IS DISTINCT FROM e.team OR r.alertname IS DISTINCT FROM e.alertname
               OR r.received_at IS DISTINCT FROM CASE WHEN n.status = 'firing' THEN n.received_at END)
        RETURNING 1
    )
    SELECT count(*) FROM up
$$;

CREATE FUNCTION receiver_episodes_follow_episode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE receiver_episodes SET team = NEW.team, alertname = NEW.alertname WHERE episode_id = NEW.id;
    RETURN NULL;
END $$;

CREATE FUNCTION receiver_episodes_follow_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE receiver_episodes SET received_at = CASE WHEN NEW.status = 'firing' THEN NEW.received_at END
    WHERE first_notification_id = NEW.id;
    RETURN NULL;
END $$;

-- The first notification of a row can also change (an earlier-sent copy arrives): ingest sets the
-- copies in the same upsert; a writer that only sets the ids gets them filled here.
CREATE FUNCTION receiver_episodes_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.team, e.alertname INTO NEW.team, NEW.alertname FROM episodes e WHERE e.id = NEW.episode_id;
    SELECT CASE WHEN n.status = 'firing' THEN n.received_at END INTO NEW.received_at
    FROM notifications n WHERE n.id = NEW.first_notification_id;
    RETURN NEW;
END $$;

SELECT receiver_episodes_rebuild();

CREATE TRIGGER receiver_episodes_episode AFTER UPDATE OF team, alertname ON episodes
    FOR EACH ROW WHEN (OLD.team IS DISTINCT FROM NEW.team OR OLD.alertname IS DISTINCT FROM NEW.alertname)
    EXECUTE FUNCTION receiver_episodes_follow_episode();
CREATE TRIGGER receiver_episodes_notification AFTER UPDATE OF received_at, status ON notifications
    FOR EACH ROW WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION receiver_episodes_follow_notification();
-- Only rows written without the copies pay for the look-ups (ingest writes them itself).
CREATE TRIGGER receiver_episodes_fill BEFORE INSERT ON receiver_episodes
    FOR EACH ROW WHEN (NEW.team IS NULL OR NEW.alertname IS NULL)
    EXECUTE FUNCTION receiver_episodes_fill();
CREATE TRIGGER receiver_episodes_refill BEFORE UPDATE OF first_notification_id, episode_id ON receiver_episodes
    FOR EACH ROW WHEN (OLD.first_notification_id IS DISTINCT FROM NEW.first_notification_id
                       AND OLD.received_at IS NOT DISTINCT FROM NEW.received_at
                       OR OLD.episode_id IS DISTINCT FROM NEW.episode_id)
    EXECUTE FUNCTION receiver_episodes_fill();

CREATE INDEX receiver_episodes_received_at ON receiver_episodes (received_at)
    INCLUDE (receiver, team, alertname, first_notification_id);
CREATE INDEX receiver_episodes_team_received_at ON receiver_episodes (team, received_at)
    INCLUDE (receiver, alertname, first_notification_id);
-- Pages no longer read firing notifications by time (0060; episodes_id_team went in 0070).
DROP INDEX notifications_firing_received_at;
