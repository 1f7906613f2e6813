-- Dead-man notices: one row per job and lapse (the instant since which it has had no
-- successful run), so the administrator is told once per lapse, even by two daemons.
CREATE TABLE dead_man_notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT    NOT NULL,
    lapse_since TEXT    NOT NULL,
    told_at     TEXT    NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES runs(id),  -- the job's newest ledger row then
    UNIQUE (job, lapse_since)
);
