-- Access tokens: TV links (a wall screen's read-only access) and API tokens (machine clients).
-- Only a SHA-256 hash of each token is stored: the token itself is printed once, at creation.
CREATE TABLE access_tokens (
    id           bigserial   PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('tv', 'api')),
    name         text        NOT NULL CHECK (name <> ''),
    token_hash   bytea       NOT NULL UNIQUE,
    -- tv: the team the screen shows ('' for every team); api: 'read' or 'write'.
    scope        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
-- A name picks one live token of its kind, so "revoke lobby" is never ambiguous.
CREATE UNIQUE INDEX access_tokens_live_name ON access_tokens (kind, name) WHERE revoked_at IS NULL;
