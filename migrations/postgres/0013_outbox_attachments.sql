-- Files mailed with an outbox row (issue 11: the board pack a pack job mails, its HTML and
-- PDF), kept with the row so that a message re-sent after a crash is the same email.
CREATE TABLE outbox_attachments (
    outbox_id    BIGINT NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    filename     TEXT   NOT NULL,
    content_type TEXT   NOT NULL,
    bytes        BYTEA  NOT NULL,
    PRIMARY KEY (outbox_id, filename)
);
