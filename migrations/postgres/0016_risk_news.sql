-- Whether the news of a risk change has been queued. A run used to record its changes and
-- then queue the digests that tell them; killed between the two, the news was never sent
-- (the next run saw no change). Now each change names the run that owes its news
-- (`news_run`, at first the run that recorded it) and when that run queued it (`told_at`).
-- A run takes over the untold news of runs that ended (failed or abandoned) and tells it
-- with its own. Changes recorded before this migration count as told.
ALTER TABLE risk_events ADD COLUMN news_run BIGINT REFERENCES runs(id);
ALTER TABLE risk_events ADD COLUMN told_at TIMESTAMPTZ;
UPDATE risk_events SET news_run = run_id, told_at = at;
CREATE INDEX risk_events_untold ON risk_events(news_run) WHERE told_at IS NULL;
