-- The action log's updates and owners' commentary on exceptions (issue 11). Keep in step with
-- the other backend's 0012_actions.sql.

-- Every progress update the board records (`action set`, `action import`): the latest for a
-- reference is the action's state, earlier ones its history; before any, the log's own rating
-- (config/actions.toml) stands.
CREATE TABLE action_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reference   TEXT    NOT NULL,             -- the plan's reference, e.g. 1.2.1
    status      TEXT    NOT NULL,             -- completed | on-track | not-on-track | not-started | bau
    note        TEXT    NOT NULL,             -- progress on key actions; never mailed
    evidence    TEXT,
    next_steps  TEXT,
    author      TEXT    NOT NULL,
    entered_at  TEXT    NOT NULL
);
CREATE INDEX action_updates_reference ON action_updates(reference, id);

-- An owner's commentary and recovery plan for a KPI's exception in a period (`comment`,
-- `comment import`): the latest for a KPI and period is in force, earlier ones its history.
CREATE TABLE commentary (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kpi_id       TEXT    NOT NULL,
    period       TEXT    NOT NULL,            -- 2020-03, 2020-Q1, AY2019/20, FY2019/20, 2020
    reason       TEXT    NOT NULL,
    actions      TEXT    NOT NULL,
    revised_date TEXT,                        -- YYYY-MM-DD
    next_update  TEXT,                        -- YYYY-MM-DD
    author       TEXT    NOT NULL,
    entered_at   TEXT    NOT NULL
);
CREATE INDEX commentary_kpi ON commentary(kpi_id, period, id);
