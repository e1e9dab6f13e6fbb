-- Runbooks: what is known of each runbook URL linked from an alert. Which alerts link to it is
-- read from alert rule and episode annotations at query time (the annotation names are
-- configurable); this table holds what cannot be read from them: when the URL was first seen,
-- the last HTTP check and the last review.
CREATE TABLE runbooks (
    url           text        PRIMARY KEY,
    first_seen    timestamptz NOT NULL,
    checked_at    timestamptz,
    status_code   integer     NOT NULL DEFAULT 0,
    check_error   text        NOT NULL DEFAULT '',
    last_modified timestamptz,
    final_url     text        NOT NULL DEFAULT '',
    last_reviewed timestamptz,
    reviewed_by   text        NOT NULL DEFAULT ''
);
CREATE INDEX runbooks_checked_at ON runbooks (checked_at NULLS FIRST);

-- Every "mark reviewed", who and when: the decision history behind runbooks.last_reviewed.
CREATE TABLE runbook_reviews (
    id          bigserial   PRIMARY KEY,
    url         text        NOT NULL REFERENCES runbooks (url) ON DELETE CASCADE,
    reviewed_by text        NOT NULL,
    reviewed_at timestamptz NOT NULL
);
CREATE INDEX runbook_reviews_url ON runbook_reviews (url, reviewed_at DESC);
