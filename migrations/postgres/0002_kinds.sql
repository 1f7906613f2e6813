-- Extract kinds as data. Keep in step with the other backend's 0002_kinds.sql.
--
-- Each accepted load's rows now live in a table of their own, made from the kind's columns
-- (rows_<load id>), named in loads.row_table: a new extract is written beside the current one
-- and swapped in by moving extract_current in the same transaction, so no row is deleted
-- while it might be read, and the key index is built once, after the rows, not row by row.
-- The old tracker_cases rows go; every source is loaded afresh by its next run.
DROP TABLE tracker_cases;
DELETE FROM extract_current;

ALTER TABLE loads ADD COLUMN kind TEXT;
ALTER TABLE loads ADD COLUMN row_table TEXT;         -- this load's rows; NULL once dropped
ALTER TABLE loads ADD COLUMN rows_set_aside BIGINT;     -- quarantine: bad rows not loaded
ALTER TABLE loads ADD COLUMN etag TEXT;
ALTER TABLE loads ADD COLUMN last_modified TEXT;
ALTER TABLE loads ADD COLUMN held_reason TEXT;       -- why a load was held, not swapped in
ALTER TABLE loads ADD COLUMN kept_file TEXT;         -- a rejected or held extract kept for inspection
ALTER TABLE loads ADD COLUMN approved_at TIMESTAMPTZ;
-- outcome is now one of: 'loading' (only inside the load's own transaction), 'loaded', 'held',
-- 'approved' (held, then swapped in by an operator), 'superseded' (held, never approved),
-- 'rejected', 'fetch_failed', 'unchanged' (304 or the same sha256: nothing reloaded).
CREATE INDEX loads_source ON loads(source, id);

-- Where a load's bad rows were (quarantine) or why its keys clashed: line, column and rule only.
CREATE TABLE load_problems (
    load_id     BIGINT NOT NULL REFERENCES loads(id),
    line        BIGINT NOT NULL,
    column_no   INTEGER,
    column_name TEXT,
    problem     TEXT    NOT NULL
);
CREATE INDEX load_problems_load ON load_problems(load_id);
