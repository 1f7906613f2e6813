-- One way to the outbox (issue 18).
--   outbox_parts:  every part of a row besides its text and HTML, in the order the message
--                  carries them: inline images (by Content-ID) and attached files (by file
--                  name) in one table, replacing outbox_images and outbox_attachments. Their
--                  rows are copied in the order they were read before (images by cid, files by
--                  name), so a row queued before is, re-sent, the same email.
--   outbox.kind:   what the row is (digest, data, admin, pack), so queries no longer read it
--                  out of sub_group ("source:NAME", "admin", "pack:board").
--   outbox.reason: why a keyed row was news when it was queued (first, changed, repeat
--                  interval passed, resolved); NULL for rows queued before and unkeyed mail.
CREATE TABLE outbox_parts (
    outbox_id    BIGINT  NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('inline', 'attachment')),
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    bytes        BYTEA  NOT NULL,
    PRIMARY KEY (outbox_id, position)
);
INSERT INTO outbox_parts (outbox_id, position, kind, name, content_type, bytes)
    SELECT outbox_id, ROW_NUMBER() OVER (PARTITION BY outbox_id ORDER BY cid) - 1,
           'inline', cid, 'image/png', png
    FROM outbox_images;
INSERT INTO outbox_parts (outbox_id, position, kind, name, content_type, bytes)
    SELECT a.outbox_id,
           (SELECT count(*) FROM outbox_images i WHERE i.outbox_id = a.outbox_id)
               + ROW_NUMBER() OVER (PARTITION BY a.outbox_id ORDER BY a.filename) - 1,
           'attachment', a.filename, a.content_type, a.bytes
    FROM outbox_attachments a;
DROP TABLE outbox_images;
DROP TABLE outbox_attachments;
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'digest';
UPDATE outbox SET kind = CASE
    WHEN sub_group = 'admin' THEN 'admin'
    WHEN sub_group LIKE 'source:%' THEN 'data'
    WHEN sub_group LIKE 'pack:%' THEN 'pack'
    ELSE 'digest' END;
ALTER TABLE outbox ADD COLUMN reason TEXT;
CREATE INDEX outbox_recipients ON outbox(recipients);
