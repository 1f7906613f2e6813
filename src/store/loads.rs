//! Loads: the record of every fetch, and the tracker rows of each source's current load.
//!
//! A new extract replaces the old in one transaction: record the load, delete the source's
//! rows, insert the new ones, point `extract_current` at the load, commit. Until the commit
//! readers see the previous load; a failure or a kill before it leaves that load in place.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use super::{Store, StoreError};
use crate::load::{CaseStatus, ParsedTracker, TrackerCase};
use crate::source::Fetched;

/// Rows per INSERT: 16 binds a row stays far below SQLite's 32,766 and PostgreSQL's 65,535.
const CHUNK: usize = 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoadRecord {
    pub id: i64,
    pub run_id: i64,
    pub source: String,
    pub url: String,
    pub fetched_at: DateTime<Utc>,
    pub http_status: Option<i32>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub rows_loaded: Option<i64>,
    pub data_as_of: Option<NaiveDate>,
    pub outcome: String,
    pub error: Option<String>,
}

const LOAD_COLUMNS: &str = "id, run_id, source, url, fetched_at, http_status, bytes, sha256, \
                            rows_loaded, data_as_of, outcome, error";

#[derive(sqlx::FromRow)]
struct CaseRow {
    line: i64,
    case_id: String,
    request_received_date: NaiveDate,
    decision_to_assess_date: Option<NaiveDate>,
    health_advice_requested_date: Option<NaiveDate>,
    health_advice_returned_date: Option<NaiveDate>,
    draft_plan_issued_date: Option<NaiveDate>,
    final_plan_issued_date: Option<NaiveDate>,
    status: String,
    ncy: String,
    school_phase: String,
    caseworker_team: String,
    looked_after: bool,
    out_of_borough: bool,
}

impl Store {
    /// Record a fetch that brought nothing back.
    pub async fn record_fetch_failure(
        &self,
        run_id: i64,
        source: &str,
        url: &str,
        at: DateTime<Utc>,
        http_status: Option<u16>,
        error: &str,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO loads (run_id, source, url, fetched_at, http_status, outcome, error) \
                           VALUES ($1, $2, $3, $4, $5, 'fetch_failed', $6) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(run_id)
            .bind(source)
            .bind(url)
            .bind(at)
            .bind(http_status.map(i32::from))
            .bind(error)
            .fetch_one(p)
            .await?))
    }

    /// Record an extract that was fetched but failed validation; nothing of it is stored.
    pub async fn record_rejection(
        &self,
        run_id: i64,
        source: &str,
        fetched: &Fetched,
        error: &str,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO loads (run_id, source, url, fetched_at, http_status, bytes, sha256, outcome, error) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, 'rejected', $8) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(run_id)
            .bind(source)
            .bind(&fetched.url)
            .bind(fetched.fetched_at)
            .bind(fetched.http_status.map(i32::from))
            .bind(fetched.bytes.len() as i64)
            .bind(&fetched.sha256)
            .bind(error)
            .fetch_one(p)
            .await?))
    }

    /// Swap a validated tracker in for `source`, in one transaction. Returns the load id.
    pub async fn replace_tracker(
        &self,
        run_id: i64,
        source: &str,
        fetched: &Fetched,
        parsed: &ParsedTracker,
    ) -> Result<i64, StoreError> {
        const RECORD: &str = "INSERT INTO loads \
            (run_id, source, url, fetched_at, http_status, bytes, sha256, rows_loaded, data_as_of, outcome) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'loaded') RETURNING id";
        const CLEAR: &str = "DELETE FROM tracker_cases WHERE source = $1";
        const SWAP: &str = "INSERT INTO extract_current (source, load_id, swapped_at) VALUES ($1, $2, $3) \
                            ON CONFLICT (source) DO UPDATE SET load_id = excluded.load_id, swapped_at = excluded.swapped_at";
        const INSERT: &str = "INSERT INTO tracker_cases (source, load_id, line, case_id, request_received_date, \
            decision_to_assess_date, health_advice_requested_date, health_advice_returned_date, \
            draft_plan_issued_date, final_plan_issued_date, status, ncy, school_phase, caseworker_team, \
            looked_after, out_of_borough) ";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let load_id: i64 = sqlx::query_scalar(RECORD)
                .bind(run_id)
                .bind(source)
                .bind(&fetched.url)
                .bind(fetched.fetched_at)
                .bind(fetched.http_status.map(i32::from))
                .bind(fetched.bytes.len() as i64)
                .bind(&fetched.sha256)
                .bind(parsed.cases.len() as i64)
                .bind(parsed.as_of)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(CLEAR).bind(source).execute(&mut *tx).await?;
            for chunk in parsed.cases.chunks(CHUNK) {
                let mut qb = QueryBuilder::new(INSERT);
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(source)
                        .push_bind(load_id)
                        .push_bind(c.line as i64)
                        .push_bind(&c.case_id)
                        .push_bind(c.request_received)
                        .push_bind(c.decision_to_assess)
                        .push_bind(c.health_advice_requested)
                        .push_bind(c.health_advice_returned)
                        .push_bind(c.draft_plan_issued)
                        .push_bind(c.final_plan_issued)
                        .push_bind(c.status.as_str())
                        .push_bind(&c.ncy)
                        .push_bind(&c.school_phase)
                        .push_bind(&c.caseworker_team)
                        .push_bind(c.looked_after)
                        .push_bind(c.out_of_borough);
                });
                qb.build().execute(&mut *tx).await?;
            }
            sqlx::query(SWAP).bind(source).bind(load_id).bind(fetched.fetched_at).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(load_id)
        })
    }

    /// The load a source's rows currently come from, if any was ever accepted.
    pub async fn current_load(&self, source: &str) -> Result<Option<LoadRecord>, StoreError> {
        const SQL: &str = "SELECT l.id, l.run_id, l.source, l.url, l.fetched_at, l.http_status, l.bytes, \
            l.sha256, l.rows_loaded, l.data_as_of, l.outcome, l.error \
            FROM extract_current c JOIN loads l ON l.id = c.load_id WHERE c.source = $1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(source).fetch_optional(p).await?))
    }

    /// Every fetch a run made, in order.
    pub async fn run_loads(&self, run_id: i64) -> Result<Vec<LoadRecord>, StoreError> {
        let sql = format!("SELECT {LOAD_COLUMNS} FROM loads WHERE run_id = $1 ORDER BY id");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_all(p).await?),
        )
    }

    /// The tracker cases of a source's current load, in extract order.
    pub async fn tracker_cases(&self, source: &str) -> Result<Vec<TrackerCase>, StoreError> {
        const SQL: &str = "SELECT line, case_id, request_received_date, decision_to_assess_date, \
            health_advice_requested_date, health_advice_returned_date, draft_plan_issued_date, \
            final_plan_issued_date, status, ncy, school_phase, caseworker_team, looked_after, out_of_borough \
            FROM tracker_cases WHERE source = $1 ORDER BY line";
        let rows: Vec<CaseRow> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(source).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                let status: CaseStatus = r
                    .status
                    .parse()
                    .map_err(|()| StoreError::Corrupt(format!("tracker status `{}`", r.status)))?;
                Ok(TrackerCase {
                    case_id: r.case_id,
                    request_received: r.request_received_date,
                    decision_to_assess: r.decision_to_assess_date,
                    health_advice_requested: r.health_advice_requested_date,
                    health_advice_returned: r.health_advice_returned_date,
                    draft_plan_issued: r.draft_plan_issued_date,
                    final_plan_issued: r.final_plan_issued_date,
                    status,
                    ncy: r.ncy,
                    school_phase: r.school_phase,
                    caseworker_team: r.caseworker_team,
                    looked_after: r.looked_after,
                    out_of_borough: r.out_of_borough,
                    line: r.line as u64,
                })
            })
            .collect()
    }
}
