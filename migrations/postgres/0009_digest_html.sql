-- A digest's HTML part and its inline images (issue 9): the outbox row keeps everything the
-- message is built from, so a digest re-sent after a crash is the same email.
--   outbox.body_html: the HTML part (NULL: a text-only email, as data and administrator
--                     notices are);
--   outbox_images:    the HTML part's inline images (the trend charts), by Content-ID.
ALTER TABLE outbox ADD COLUMN body_html TEXT;
CREATE TABLE outbox_images (
    outbox_id BIGINT NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    cid       TEXT   NOT NULL,
    png       BYTEA  NOT NULL,
    PRIMARY KEY (outbox_id, cid)
);
