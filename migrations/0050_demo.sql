-- Demo data: `opsreview demo` (or `opsreview serve` with no config file) records each fill here, so
-- the pages can say the database holds made-up data and a second fill writes nothing. anchor is the
-- moment the demo history ends; a fill that did not finish (completed_at NULL) is resumed with the
-- same anchor and seed, so its rows come out identical.
CREATE TABLE demo_runs (
    seed         bigint      PRIMARY KEY,
    anchor       timestamptz NOT NULL,
    started_at   timestamptz NOT NULL,
    completed_at timestamptz
);
