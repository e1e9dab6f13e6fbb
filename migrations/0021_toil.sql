-- Toil logged by hand (a form in the UI, POST /api/v1/toil). request_key makes a double-submitted
-- form or a retried API call (Idempotency-Key) store one row.
CREATE TABLE toil_entries (
    id          bigserial   PRIMARY KEY,
    team        text        NOT NULL DEFAULT '',
    minutes     integer     NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    category    text        NOT NULL DEFAULT '',
    note        text        NOT NULL DEFAULT '',
    alertname   text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    who         text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    request_key text        UNIQUE
);
CREATE INDEX toil_entries_at ON toil_entries (at);
