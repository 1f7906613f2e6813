-- Areas (issue 19): one deployment serves many areas on one database. Every table of an
-- area's data carries its area; each key that was unique in the deployment is now unique in
-- its area. Rows written before this migration get '' and are given to the configured area
-- at the first start after it (Store::adopt_unscoped), since SQL here cannot know its name.
-- Child rows (load_problems, outbox_parts) belong to their parent row's area.
ALTER TABLE runs ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE loads ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE kpi_results ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE kpi_manual_values ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE kpi_retargets ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE risk_events ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE silences ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE action_updates ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE commentary ADD COLUMN area TEXT NOT NULL DEFAULT '';

-- SQLite cannot change a table's key in place: these two are made again.
CREATE TABLE extract_current_new (
    area       TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL,
    load_id    INTEGER NOT NULL REFERENCES loads(id),
    swapped_at TEXT    NOT NULL,
    PRIMARY KEY (area, source)
);
INSERT INTO extract_current_new (area, source, load_id, swapped_at)
    SELECT '', source, load_id, swapped_at FROM extract_current;
DROP TABLE extract_current;
ALTER TABLE extract_current_new RENAME TO extract_current;

CREATE TABLE dead_man_notices_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    area        TEXT    NOT NULL DEFAULT '',
    job         TEXT    NOT NULL,
    lapse_since TEXT    NOT NULL,
    told_at     TEXT    NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    UNIQUE (area, job, lapse_since)
);
INSERT INTO dead_man_notices_new (id, area, job, lapse_since, told_at, run_id)
    SELECT id, '', job, lapse_since, told_at, run_id FROM dead_man_notices;
DROP TABLE dead_man_notices;
ALTER TABLE dead_man_notices_new RENAME TO dead_man_notices;

DROP INDEX runs_claim;
CREATE UNIQUE INDEX runs_claim ON runs (area, claim_key);
DROP INDEX runs_one_running;
CREATE UNIQUE INDEX runs_one_running ON runs (area, job) WHERE status = 'running';
DROP INDEX runs_job;
CREATE INDEX runs_job ON runs (area, job, id);
DROP INDEX outbox_idem_key;
CREATE UNIQUE INDEX outbox_idem_key ON outbox (area, idem_key);
DROP INDEX loads_source;
CREATE INDEX loads_source ON loads (area, source, id);
DROP INDEX kpi_results_kpi_period;
CREATE INDEX kpi_results_kpi_period ON kpi_results (area, kpi_id, period, id);
CREATE INDEX runs_area ON runs (area, id);
CREATE INDEX outbox_area ON outbox (area, status);
