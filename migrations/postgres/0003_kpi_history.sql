-- Each run records every KPI for its report period and the periods before it (the history
-- the risk triggers and the board's table read), so a result is keyed by run, KPI and
-- period. `period` is a kpi::Period as written: 2021-05, 2021-Q2, AY2020/21, FY2020/21, 2021.
-- Also kept: the year-to-date figures and the direction-of-travel sentence as rated.
ALTER TABLE kpi_results DROP CONSTRAINT kpi_results_run_id_kpi_id_key;
ALTER TABLE kpi_results ADD CONSTRAINT kpi_results_run_kpi_period UNIQUE (run_id, kpi_id, period);
ALTER TABLE kpi_results
    ADD COLUMN ytd_numerator   BIGINT,
    ADD COLUMN ytd_denominator BIGINT,
    ADD COLUMN ytd_value       DOUBLE PRECISION,
    ADD COLUMN direction       TEXT;
CREATE INDEX kpi_results_kpi_period ON kpi_results (kpi_id, period, id);
