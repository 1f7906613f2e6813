-- Silences (issue 9): an operator holds back items matching all of `matchers` (one
-- LABEL=VALUE, LABEL!=VALUE or LABEL=~REGEX a line, as in routes) from starts_at until
-- ends_at, with a comment and an author. A silenced item is listed at the digest's foot,
-- never dropped silently. `silence expire ID` sets expired_at; a silence past ends_at or
-- expired no longer applies. Rows are kept for the record.
CREATE TABLE silences (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    matchers    TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    comment     TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expired_at  TEXT
);
CREATE INDEX silences_ends_at ON silences(ends_at);
