-- Pages of a week (store.Pages) read firing notifications by time, their first-notified episodes
-- and those episodes' team and rule. Covering indexes keep all three index-only: at a year of history
-- the heap fetches of 20,000+ notifications and episodes a week were most of the query's time.
CREATE INDEX notifications_firing_received_at ON notifications (received_at) INCLUDE (id, receiver)
    WHERE status = 'firing';
CREATE INDEX receiver_episodes_first_covering ON receiver_episodes (first_notification_id)
    INCLUDE (receiver, episode_id);
DROP INDEX receiver_episodes_first;
CREATE INDEX episodes_id_team ON episodes (id) INCLUDE (team, alertname);
