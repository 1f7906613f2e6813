-- The run ledger. A scheduled run is claimed before it starts by inserting its row with a
-- claim key, 'JOB@INSTANT' (UTC, RFC 3339): the unique index is the lock, so one scheduled
-- instant never runs twice, even with two daemons on one database. Manual runs have no key.
-- status is now 'running' | 'ok' | 'failed' | 'abandoned' | 'skipped'; trigger may also be
-- 'catch_up'. A running run renews lease_until while it works; a run whose lease has passed
-- was left by a process that died, and is marked abandoned.
ALTER TABLE runs ADD COLUMN claim_key   TEXT;   -- NULL for manual runs
ALTER TABLE runs ADD COLUMN runner      TEXT;   -- host:pid of the process that ran it
ALTER TABLE runs ADD COLUMN lease_until TEXT;
ALTER TABLE runs ADD COLUMN note        TEXT;   -- why skipped, which catch-up, why abandoned
CREATE UNIQUE INDEX runs_claim ON runs (claim_key);
CREATE INDEX runs_job ON runs (job, id);
CREATE INDEX runs_running ON runs (lease_until) WHERE status = 'running';
-- Runs an earlier version left running have no lease: the first sweep abandons them.
UPDATE runs SET lease_until = started_at WHERE status = 'running';

-- A delivery pass claims each pending email before sending it, so that two processes
-- delivering at once do not both send it. Cleared when an attempt fails.
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
