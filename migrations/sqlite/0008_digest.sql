-- Digests never twice (issue 9): each digest row carries
--   digest:   a hash of its recipient, sub-groups, period and items (kind, id, period, state);
--   items:    those items, one a line, so that a digest whose every item went to the same
--             person within [notify] repeat_interval_hours is not queued (no news);
--   idem_key: the digest and the repeat window it was queued in, unique, so two runs at once
--             cannot both queue it;
--   topic:    recipient and period, so a newer digest supersedes an undelivered older one
--             (status 'superseded', never sent).
-- Other mail (data notices, administrator notices) leaves them NULL.
ALTER TABLE outbox ADD COLUMN digest TEXT;
ALTER TABLE outbox ADD COLUMN idem_key TEXT;
ALTER TABLE outbox ADD COLUMN topic TEXT;
ALTER TABLE outbox ADD COLUMN items TEXT;
CREATE UNIQUE INDEX outbox_idem_key ON outbox(idem_key);
CREATE INDEX outbox_digest ON outbox(digest);
CREATE INDEX outbox_topic ON outbox(topic);
