-- Know your normal: SLIs, their samples (with explicit gaps) and materialized hour-of-week baselines.

-- One row per configured SLI. The config is the truth; this row keeps what the stored samples were
-- collected with, so a changed query or step starts over instead of mixing two expressions.
CREATE TABLE slis (
    id           serial      PRIMARY KEY,
    name         text        NOT NULL UNIQUE,
    source       text        NOT NULL,
    query        text        NOT NULL,
    step_seconds integer     NOT NULL CHECK (step_seconds > 0),
    -- The time zone, weeks and band the stored baselines were computed with.
    baseline_key text        NOT NULL DEFAULT '',
    -- The SLI's watermark: every aligned step up to here is stored, as a value or a gap. It moves in
    -- the same transaction as the samples.
    collected_to timestamptz,
    last_error   text        NOT NULL DEFAULT '',
    last_error_at timestamptz
);

-- One row per aligned step: value NULL is an explicit gap (the source answered, with no value).
-- A step with no row was never collected. Collection writes every SLI's step at once, so one SLI's
-- rows are scattered over the heap: the key includes the value, and a window of one SLI is an
-- index-only scan of a few adjacent index pages instead of one heap page per sample.
-- 500 SLIs x 8 weeks x 5-minute steps is 8 million rows, about 92 bytes each with the key: 0.75 GB.
CREATE TABLE sli_samples (
    sli_id integer          NOT NULL REFERENCES slis (id) ON DELETE CASCADE,
    at     timestamptz      NOT NULL,
    value  double precision,
    PRIMARY KEY (sli_id, at) INCLUDE (value)
);

-- The baseline of each occurrence of a local hour of the week ([hour_start, hour_end): two hours
-- long for the hour repeated when DST ends): median and band of the same local hour over the
-- weeks before it. Numbers are NULL when there was not enough data. Recomputed for the hours a
-- batch of new samples touches, so a page view reads rows instead of weeks of samples.
CREATE TABLE sli_baselines (
    sli_id       integer          NOT NULL REFERENCES slis (id) ON DELETE CASCADE,
    hour_start   timestamptz      NOT NULL,
    hour_end     timestamptz      NOT NULL,
    hour_of_week smallint         NOT NULL CHECK (hour_of_week BETWEEN 0 AND 167),
    samples      integer          NOT NULL,
    weeks        smallint         NOT NULL,
    median       double precision,
    low          double precision,
    high         double precision,
    PRIMARY KEY (sli_id, hour_start)
);
