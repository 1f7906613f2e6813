-- One row: this installation's random id, made when its database is. Message-IDs carry it,
-- so mail from a reinstall (a new database whose runs and outbox ids start again at 1) never
-- repeats an earlier installation's Message-ID, which receivers that deduplicate on it would
-- drop.
CREATE TABLE installation (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO installation (only_row, id, created_at)
VALUES (1, replace(gen_random_uuid()::text, '-', ''), now());
