-- Episodes: one firing interval of one alert instance. The exclusion constraint makes a second
-- episode of the same fingerprint over an overlapping interval impossible, whoever writes it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE episodes (
    id               bigserial   PRIMARY KEY,
    fingerprint      bigint      NOT NULL,
    alertname        text        NOT NULL,
    team             text        NOT NULL DEFAULT '',
    labels           jsonb       NOT NULL,
    annotations      jsonb       NOT NULL DEFAULT '{}',
    generator_url    text        NOT NULL DEFAULT '',
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz,
    end_kind         smallint    NOT NULL DEFAULT 0,
    expires_at       timestamptz,
    last_seen_at     timestamptz NOT NULL,
    last_seen_by     text        NOT NULL DEFAULT '',
    via_webhook      boolean     NOT NULL DEFAULT false,
    via_alertmanager boolean     NOT NULL DEFAULT false,
    via_prometheus   boolean     NOT NULL DEFAULT false,
    silenced         boolean     NOT NULL DEFAULT false,
    flags            jsonb       NOT NULL DEFAULT '[]',
    missing_polls    smallint    NOT NULL DEFAULT 0,
    CONSTRAINT episodes_end_after_start CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CONSTRAINT episodes_one_per_interval EXCLUDE USING gist (
        fingerprint WITH =,
        tstzrange(starts_at, coalesce(ends_at, 'infinity'::timestamptz), '[]') WITH &&
    ) DEFERRABLE INITIALLY IMMEDIATE
);

-- Windows count an episode when it starts in them; the covering columns keep counts index-only.
CREATE INDEX episodes_starts_at ON episodes (starts_at) INCLUDE (alertname, team, ends_at);
CREATE INDEX episodes_alertname_starts_at ON episodes (alertname, starts_at);
CREATE INDEX episodes_team_starts_at ON episodes (team, starts_at);
CREATE INDEX episodes_open ON episodes (fingerprint) WHERE ends_at IS NULL;

-- Notifications: one delivery of a group of alerts to a receiver. Copies from retries and
-- Alertmanager replicas share dedup_key (receiver, group, status and the episodes carried).
CREATE TABLE notifications (
    id               bigserial   PRIMARY KEY,
    dedup_key        bytea       NOT NULL UNIQUE,
    receiver         text        NOT NULL,
    group_key        text        NOT NULL,
    group_key_hash   bytea       NOT NULL,
    status           text        NOT NULL CHECK (status IN ('firing', 'resolved')),
    received_at      timestamptz NOT NULL,
    last_received_at timestamptz NOT NULL,
    deliveries       integer     NOT NULL DEFAULT 1,
    alerts           integer     NOT NULL,
    truncated_alerts integer     NOT NULL DEFAULT 0,
    external_url     text        NOT NULL DEFAULT '',
    group_labels     jsonb       NOT NULL DEFAULT '{}',
    -- sent_at orders notifications by what they carry (the newest alert start), not by arrival,
    -- so that shuffled replays pick the same notification as the first of each episode.
    sent_at          timestamptz NOT NULL
);
CREATE INDEX notifications_received_at ON notifications (received_at) INCLUDE (receiver, status);

CREATE TABLE notification_episodes (
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    episode_id      bigint NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    alert_status    text   NOT NULL,
    PRIMARY KEY (notification_id, episode_id)
);
CREATE INDEX notification_episodes_episode ON notification_episodes (episode_id);

-- The first firing notification of each episode to each receiver: a notification that is first for
-- at least one episode is a new page (when its receiver pages); the rest are repeats.
CREATE TABLE receiver_episodes (
    receiver              text        NOT NULL,
    episode_id            bigint      NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    first_notification_id bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    first_sent_at         timestamptz NOT NULL,
    first_dedup_key       bytea       NOT NULL,
    PRIMARY KEY (receiver, episode_id)
);
CREATE INDEX receiver_episodes_first ON receiver_episodes (first_notification_id);

-- Alert rules as Prometheus reports them, with a history of their versions.
CREATE TABLE alert_rules (
    id                     bigserial   PRIMARY KEY,
    rule_key               bytea       NOT NULL UNIQUE,
    source                 text        NOT NULL,
    group_file             text        NOT NULL,
    group_name             text        NOT NULL,
    group_interval_seconds double precision NOT NULL DEFAULT 0,
    alertname              text        NOT NULL,
    expr                   text        NOT NULL,
    for_seconds            double precision NOT NULL DEFAULT 0,
    labels                 jsonb       NOT NULL DEFAULT '{}',
    annotations            jsonb       NOT NULL DEFAULT '{}',
    content_hash           bytea       NOT NULL,
    health                 text        NOT NULL DEFAULT '',
    last_error             text        NOT NULL DEFAULT '',
    first_seen             timestamptz NOT NULL,
    last_seen              timestamptz NOT NULL,
    gone_at                timestamptz
);
CREATE INDEX alert_rules_alertname ON alert_rules (alertname);

CREATE TABLE alert_rule_versions (
    rule_id      bigint      NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    seen_at      timestamptz NOT NULL,
    expr         text        NOT NULL,
    for_seconds  double precision NOT NULL,
    labels       jsonb       NOT NULL,
    annotations  jsonb       NOT NULL,
    content_hash bytea       NOT NULL,
    PRIMARY KEY (rule_id, seen_at)
);

-- Silences read from Alertmanager's API.
CREATE TABLE silences (
    source     text        NOT NULL,
    id         text        NOT NULL,
    matchers   jsonb       NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_by text        NOT NULL DEFAULT '',
    comment    text        NOT NULL DEFAULT '',
    state      text        NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (source, id)
);

-- One row per collector of each source: where it got to and how it is doing.
CREATE TABLE collector_state (
    source          text        NOT NULL,
    kind            text        NOT NULL,
    watermark       timestamptz,
    last_attempt    timestamptz,
    last_success    timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    last_error_at   timestamptz,
    external_labels jsonb       NOT NULL DEFAULT '{}',
    upstream_start  timestamptz,
    PRIMARY KEY (source, kind)
);
