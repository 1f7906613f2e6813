-- Dead-man notices: one row per job and lapse (the instant since which it has had no
-- successful run), so the administrator is told once per lapse, even by two daemons.
CREATE TABLE dead_man_notices (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         TEXT        NOT NULL,
    lapse_since TIMESTAMPTZ NOT NULL,
    told_at     TIMESTAMPTZ NOT NULL,
    run_id      BIGINT      NOT NULL REFERENCES runs(id),
    UNIQUE (job, lapse_since)
);
