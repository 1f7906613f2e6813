-- One running run per job at a time: this partial unique index is the lock. Two `run-now`
-- of one job at once used to both run; each recorded the same risk changes at its own
-- instant and mailed them, so a recipient could hear the same news twice. Now a second start
-- finds the job held: a manual run waits for it (or is refused with `--no-wait`), and a
-- scheduled instant is recorded as skipped. A dead holder's lease lapses and the sweep
-- abandons it, which frees the job.
--
-- Rows an earlier version left running beside a newer one of the same job are abandoned
-- first, so that the index can be made.
UPDATE runs SET status = 'abandoned', finished_at = COALESCE(finished_at, started_at),
    note = 'left running beside a newer run of the same job (found when sendwatch began to allow one running run per job)'
WHERE status = 'running'
  AND id NOT IN (SELECT max(id) FROM runs WHERE status = 'running' GROUP BY job);
CREATE UNIQUE INDEX runs_one_running ON runs (job) WHERE status = 'running';
