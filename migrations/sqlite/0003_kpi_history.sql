-- Each run records every KPI for its report period and the periods before it (the history
-- the risk triggers and the board's table read), so a result is keyed by run, KPI and
-- period. `period` is a kpi::Period as written: 2021-05, 2021-Q2, AY2020/21, FY2020/21, 2021.
-- Also kept: the year-to-date figures and the direction-of-travel sentence as rated.
CREATE TABLE kpi_results_v3 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    kpi_id          TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    numerator       INTEGER,
    denominator     INTEGER,
    value           REAL,
    previous_value  REAL,
    target          REAL,
    rag             TEXT    NOT NULL,
    load_id         INTEGER REFERENCES loads(id),
    ytd_numerator   INTEGER,
    ytd_denominator INTEGER,
    ytd_value       REAL,
    direction       TEXT,
    UNIQUE (run_id, kpi_id, period)
);
INSERT INTO kpi_results_v3
    (id, run_id, kpi_id, period, numerator, denominator, value, previous_value, target, rag, load_id)
    SELECT id, run_id, kpi_id, period, numerator, denominator, value, previous_value, target, rag, load_id
    FROM kpi_results;
DROP TABLE kpi_results;
ALTER TABLE kpi_results_v3 RENAME TO kpi_results;
CREATE INDEX kpi_results_kpi_period ON kpi_results (kpi_id, period, id);
