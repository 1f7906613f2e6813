-- Answers from the digest (issue 22): what a person entered through a signed link, a draft
-- until its approver decides, and the links already used. Keep in step with the other
-- backend's 0024_answers.sql.

-- One answer: the form's fields as typed (JSON; checked as the CLI checks them when entered
-- and again when approved), who the link was made for, when and from which address. An
-- approved answer is written into its own table (commentary, kpi_manual_values,
-- action_updates) in the same transaction; `applied_id` names that row.
CREATE TABLE answers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    area         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,            -- commentary | value | action
    item         TEXT    NOT NULL,            -- the KPI's id or the action's reference
    period       TEXT,                        -- the KPI's period
    fields       TEXT    NOT NULL,
    entered_by   TEXT    NOT NULL,
    entered_at   TEXT    NOT NULL,
    entered_from TEXT    NOT NULL,
    link_id      TEXT    NOT NULL,            -- the SHA-256 of the link, never the link
    state        TEXT    NOT NULL DEFAULT 'draft',   -- draft | approved | rejected
    decided_by   TEXT,
    decided_at   TEXT,
    decided_via  TEXT,                        -- link | cli
    applied_id   INTEGER
);
CREATE INDEX answers_area_state ON answers(area, state, id);

-- A link answers once: its use is recorded in the transaction that stores what it did.
CREATE TABLE answer_links (
    link_id  TEXT PRIMARY KEY,
    area     TEXT NOT NULL,
    used_at  TEXT NOT NULL
);
