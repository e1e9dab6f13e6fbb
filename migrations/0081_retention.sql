-- Retention (store.Prune) deletes old episodes in batches; each deleted episode cascades to its
-- receiver_episodes rows, whose primary key starts with the receiver: without an index on the
-- episode alone every cascaded delete would scan the whole table.
CREATE INDEX receiver_episodes_episode ON receiver_episodes (episode_id);
