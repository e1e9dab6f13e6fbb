-- The weekly review: indexes for its counts, verdicts, action items and changes.

-- Flaps look up the previous episode of the same instance, across the window's start.
CREATE INDEX episodes_fingerprint_starts_at ON episodes (fingerprint, starts_at) INCLUDE (ends_at);
-- Firing time counts episodes that started before a window and ran into it (open ones too).
CREATE INDEX episodes_running_until ON episodes ((coalesce(ends_at, 'infinity'::timestamptz)))
    INCLUDE (starts_at, alertname, team);

-- Verdicts: every decision is a row (history kept); the highest version of (alertname, week) is
-- the verdict. A writer names the version it saw, so two people never silently overwrite each other.
CREATE TABLE verdicts (
    id              bigserial   PRIMARY KEY,
    alertname       text        NOT NULL,
    week            text        NOT NULL CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
    verdict         text        NOT NULL CHECK (verdict IN ('actionable', 'noise', 'needs-tuning', 'unreviewed')),
    version         integer     NOT NULL CHECK (version > 0),
    decided_by      text        NOT NULL,
    decided_at      timestamptz NOT NULL,
    idempotency_key text        UNIQUE,
    UNIQUE (alertname, week, version)
);
CREATE INDEX verdicts_week ON verdicts (week, alertname, version DESC);

-- Action items: decisions with an owner and a due date; open ones return as follow-ups.
CREATE TABLE action_items (
    id              bigserial   PRIMARY KEY,
    title           text        NOT NULL CHECK (title <> ''),
    owner           text        NOT NULL,
    due             date        NOT NULL,
    ticket_url      text        NOT NULL DEFAULT '',
    alertname       text        NOT NULL DEFAULT '',
    sli             text        NOT NULL DEFAULT '',
    runbook         text        NOT NULL DEFAULT '',
    team            text        NOT NULL DEFAULT '',
    week            text        NOT NULL,
    week_start      timestamptz NOT NULL,
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_by      text        NOT NULL,
    updated_at      timestamptz NOT NULL,
    closed_by       text        NOT NULL DEFAULT '',
    closed_at       timestamptz,
    version         integer     NOT NULL DEFAULT 1,
    idempotency_key text        UNIQUE
);
CREATE INDEX action_items_week_start ON action_items (week_start);
CREATE INDEX action_items_open ON action_items (week_start) WHERE closed_at IS NULL;
CREATE INDEX action_items_alertname ON action_items (alertname) WHERE alertname <> '';

-- Changes: deploys and config changes posted by CI; a retry of the same change is stored once.
CREATE TABLE changes (
    id         bigserial   PRIMARY KEY,
    service    text        NOT NULL,
    kind       text        NOT NULL,
    at         timestamptz NOT NULL,
    who        text        NOT NULL DEFAULT '',
    summary    text        NOT NULL DEFAULT '',
    url        text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    dedup_key  bytea       NOT NULL UNIQUE
);
CREATE INDEX changes_at ON changes (at);
