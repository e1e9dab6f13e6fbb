-- payload_key identifies a webhook delivery by its exact content (receiver, group, status and every
-- alert's fingerprint, times and annotations), computed before any lock is taken: a retry or a
-- clustered replica's copy of a stored notification is counted as a delivery without queueing on
-- its fingerprints' locks. NULL for notifications stored before it existed.
ALTER TABLE notifications ADD COLUMN payload_key bytea;
CREATE INDEX notifications_payload_key ON notifications (payload_key) WHERE payload_key IS NOT NULL;
