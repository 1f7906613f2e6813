-- Delivery as exactly-once as SMTP allows (issue 9):
--   next_attempt_at: a row that failed for a reason that may pass (4xx, no connection) waits
--                    until then, the wait growing with each attempt (with jitter, capped);
--   ambiguous_at:    when an attempt ended with no answer after the message was sent (it may
--                    have arrived): one later retry with the same Message-ID, and no more;
--   claimed_by:      which delivery pass holds the claim (claimed_until, 0006), so that only
--                    it renews the claim or records the outcome;
--   told_at:         when the administrator was told the row failed or ended ambiguous (once).
-- Status 'ambiguous' (final): given up after that retry; the message may have arrived once.
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN ambiguous_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN told_at TIMESTAMPTZ;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
-- Failures from before this migration are history, not news: the administrator is not told
-- of them all at once on the first delivery pass after the upgrade.
UPDATE outbox SET told_at = created_at WHERE status = 'failed';
