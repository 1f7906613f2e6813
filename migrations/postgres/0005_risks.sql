-- The risk log's history. Keep in step with the other backend's 0005_risks.sql.
--
-- One row per change of a risk's score: raised by a trigger, changed while raised, or cleared
-- back to the register's level. Holds do not add rows. A risk's current state is its last
-- row (none yet: the register's level); `sendwatch risks --history` lists them all.
CREATE TABLE risk_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           BIGINT  NOT NULL REFERENCES runs(id),
    risk_id          TEXT    NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    change           TEXT    NOT NULL,            -- 'raised' | 'changed' | 'cleared'
    owner            TEXT    NOT NULL,            -- the owning sub-group told of it
    prev_likelihood  INTEGER NOT NULL,
    prev_impact      INTEGER NOT NULL,
    prev_score       INTEGER NOT NULL,
    prev_band        TEXT    NOT NULL,
    likelihood       INTEGER NOT NULL,
    impact           INTEGER NOT NULL,
    score            INTEGER NOT NULL,
    band             TEXT    NOT NULL,
    triggers         TEXT    NOT NULL,            -- the triggers in words, one a line
    reason           TEXT    NOT NULL             -- why, one line a trigger; aggregates only
);
CREATE INDEX risk_events_risk ON risk_events(risk_id, id);

-- Cases still open past a KPI's limit at the data's as-of date (the backlog a risk trigger
-- may watch); NULL for manual KPIs and for results stored before this migration.
ALTER TABLE kpi_results ADD COLUMN overdue_open BIGINT;
