-- What people enter into the KPI table. Keep in step with the other backend's 0004_kpi_inputs.sql.

-- Values entered by hand for the KPIs no extract carries (`kpi set`, `kpi import`). Every
-- entry is kept: the latest for a KPI and period is in force, earlier ones are its history.
CREATE TABLE kpi_manual_values (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kpi_id      TEXT    NOT NULL,
    period      TEXT    NOT NULL,             -- 2020-03, 2020-Q1, AY2019/20, FY2019/20, 2020
    value       REAL    NOT NULL,
    numerator   INTEGER,
    denominator INTEGER,
    note        TEXT,                         -- free text for the board's table; never mailed
    entered_by  TEXT    NOT NULL,
    entered_at  TEXT    NOT NULL,
    via         TEXT    NOT NULL              -- 'set' | 'import'
);
CREATE INDEX kpi_manual_values_kpi ON kpi_manual_values(kpi_id, period, id);

-- Target versions recorded with `kpi retarget` (a recovery plan's schedule from a month on),
-- laid over the catalogue's own when sendwatch starts. The old schedule stays in force before.
CREATE TABLE kpi_retargets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kpi_id      TEXT    NOT NULL,
    effective   TEXT    NOT NULL,             -- YYYY-MM
    reason      TEXT    NOT NULL,
    schedule    TEXT    NOT NULL,             -- the `retargets` entry as JSON
    entered_by  TEXT    NOT NULL,
    entered_at  TEXT    NOT NULL
);
CREATE INDEX kpi_retargets_kpi ON kpi_retargets(kpi_id, id);

-- A KPI result evaluated from a value entered by hand names that entry (as a computed one
-- names its load).
ALTER TABLE kpi_results ADD COLUMN manual_value_id INTEGER REFERENCES kpi_manual_values(id);
