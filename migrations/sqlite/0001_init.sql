-- sendwatch schema, SQLite flavour. Keep in step with migrations/postgres/0001_init.sql.

-- One row per job run, scheduled or manual.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job           TEXT    NOT NULL,
    trigger       TEXT    NOT NULL,           -- 'schedule' | 'manual'
    scheduled_at  TEXT,                       -- the cron instant a scheduled run is for
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    status        TEXT    NOT NULL,           -- 'running' | 'ok' | 'failed'
    summary       TEXT
);

-- One row per fetch of a source, whatever became of it.
CREATE TABLE loads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    source       TEXT    NOT NULL,
    url          TEXT    NOT NULL,            -- password removed
    fetched_at   TEXT    NOT NULL,
    http_status  INTEGER,
    bytes        INTEGER,
    sha256       TEXT,
    rows_loaded  INTEGER,
    data_as_of   TEXT,                        -- latest event date in the extract
    outcome      TEXT    NOT NULL,            -- 'loaded' | 'fetch_failed' | 'rejected'
    error        TEXT
);
CREATE INDEX loads_run ON loads(run_id);

-- The load each source's tables currently hold.
CREATE TABLE extract_current (
    source     TEXT PRIMARY KEY,
    load_id    INTEGER NOT NULL REFERENCES loads(id),
    swapped_at TEXT    NOT NULL
);

-- The EHCP tracker, as of the current load of its source.
CREATE TABLE tracker_cases (
    source                       TEXT    NOT NULL,
    load_id                      INTEGER NOT NULL REFERENCES loads(id),
    line                         INTEGER NOT NULL,
    case_id                      TEXT    NOT NULL,
    request_received_date        TEXT    NOT NULL,
    decision_to_assess_date      TEXT,
    health_advice_requested_date TEXT,
    health_advice_returned_date  TEXT,
    draft_plan_issued_date       TEXT,
    final_plan_issued_date       TEXT,
    status                       TEXT    NOT NULL,
    ncy                          TEXT    NOT NULL,
    school_phase                 TEXT    NOT NULL,
    caseworker_team              TEXT    NOT NULL,
    looked_after                 BOOLEAN NOT NULL,
    out_of_borough               BOOLEAN NOT NULL,
    PRIMARY KEY (source, case_id)
);

-- Every KPI evaluated by a run, with the load its figures came from.
CREATE TABLE kpi_results (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id         INTEGER NOT NULL REFERENCES runs(id),
    kpi_id         TEXT    NOT NULL,
    period         TEXT    NOT NULL,          -- YYYY-MM
    numerator      INTEGER,
    denominator    INTEGER,
    value          REAL,
    previous_value REAL,
    target         REAL,
    rag            TEXT    NOT NULL,
    load_id        INTEGER REFERENCES loads(id),
    UNIQUE (run_id, kpi_id)
);

-- Outgoing mail, written before delivery so that none is lost.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    sub_group   TEXT    NOT NULL,
    recipients  TEXT    NOT NULL,             -- comma-separated
    subject     TEXT    NOT NULL,
    body_text   TEXT    NOT NULL,
    status      TEXT    NOT NULL,             -- 'pending' | 'sent' | 'failed'
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT    NOT NULL,
    sent_at     TEXT
);
CREATE INDEX outbox_status ON outbox(status);
