-- Areas (issue 19): one deployment serves many areas on one database. Every table of an
-- area's data carries its area; each key that was unique in the deployment is now unique in
-- its area. Rows written before this migration get '' and are given to the configured area
-- at the first start after it (Store::adopt_unscoped), since SQL here cannot know its name.
-- Child rows (load_problems, outbox_parts) belong to their parent row's area.
ALTER TABLE runs ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE loads ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE extract_current ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE kpi_results ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE kpi_manual_values ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE kpi_retargets ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE risk_events ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_man_notices ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE silences ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE action_updates ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE commentary ADD COLUMN area TEXT NOT NULL DEFAULT '';

ALTER TABLE extract_current DROP CONSTRAINT extract_current_pkey;
ALTER TABLE extract_current ADD PRIMARY KEY (area, source);
ALTER TABLE dead_man_notices DROP CONSTRAINT dead_man_notices_job_lapse_since_key;
ALTER TABLE dead_man_notices ADD CONSTRAINT dead_man_notices_area_job_lapse UNIQUE (area, job, lapse_since);

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
