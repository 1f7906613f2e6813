-- sendwatch schema, PostgreSQL flavour. Keep in step with migrations/sqlite/0001_init.sql.

-- One row per job run, scheduled or manual.
CREATE TABLE runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job           TEXT    NOT NULL,
    trigger       TEXT    NOT NULL,           -- 'schedule' | 'manual'
    scheduled_at  TIMESTAMPTZ,                       -- the cron instant a scheduled run is for
    started_at    TIMESTAMPTZ    NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        TEXT    NOT NULL,           -- 'running' | 'ok' | 'failed'
    summary       TEXT
);

-- One row per fetch of a source, whatever became of it.
CREATE TABLE loads (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       BIGINT  NOT NULL REFERENCES runs(id),
    source       TEXT    NOT NULL,
    url          TEXT    NOT NULL,            -- password removed
    fetched_at   TIMESTAMPTZ    NOT NULL,
    http_status  INTEGER,
    bytes        BIGINT,
    sha256       TEXT,
    rows_loaded  BIGINT,
    data_as_of   DATE,                        -- latest event date in the extract
    outcome      TEXT    NOT NULL,            -- 'loaded' | 'fetch_failed' | 'rejected'
    error        TEXT
);
CREATE INDEX loads_run ON loads(run_id);

-- The load each source's tables currently hold.
CREATE TABLE extract_current (
    source     TEXT PRIMARY KEY,
    load_id    BIGINT  NOT NULL REFERENCES loads(id),
    swapped_at TIMESTAMPTZ    NOT NULL
);

-- The EHCP tracker, as of the current load of its source.
CREATE TABLE tracker_cases (
    source                       TEXT    NOT NULL,
    load_id                      BIGINT  NOT NULL REFERENCES loads(id),
    line                         BIGINT  NOT NULL,
    case_id                      TEXT    NOT NULL,
    request_received_date        DATE    NOT NULL,
    decision_to_assess_date      DATE,
    health_advice_requested_date DATE,
    health_advice_returned_date  DATE,
    draft_plan_issued_date       DATE,
    final_plan_issued_date       DATE,
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
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         BIGINT  NOT NULL REFERENCES runs(id),
    kpi_id         TEXT    NOT NULL,
    period         TEXT    NOT NULL,          -- YYYY-MM
    numerator      BIGINT,
    denominator    BIGINT,
    value          DOUBLE PRECISION,
    previous_value DOUBLE PRECISION,
    target         DOUBLE PRECISION,
    rag            TEXT    NOT NULL,
    load_id        BIGINT  REFERENCES loads(id),
    UNIQUE (run_id, kpi_id)
);

-- Outgoing mail, written before delivery so that none is lost.
CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      BIGINT  NOT NULL REFERENCES runs(id),
    sub_group   TEXT    NOT NULL,
    recipients  TEXT    NOT NULL,             -- comma-separated
    subject     TEXT    NOT NULL,
    body_text   TEXT    NOT NULL,
    status      TEXT    NOT NULL,             -- 'pending' | 'sent' | 'failed'
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TIMESTAMPTZ    NOT NULL,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX outbox_status ON outbox(status);
