//! Reading the run ledger: the newest runs (`sendwatch runs`), each job's last run and the
//! runs under way (`sendwatch status`), and where a job's ledger ends (catch-up).

use chrono::{DateTime, Utc};

use super::runs::RUN_COLUMNS;
use super::{RunRecord, Store, StoreError};

impl Store {
    /// The ledger, newest first: every job's rows, or one job's.
    pub async fn list_runs(
        &self,
        job: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let limit = i64::from(limit);
        Ok(match job {
            Some(job) => {
                let sql =
                    format!("{RUN_COLUMNS} WHERE job = $1 AND area = $3 ORDER BY id DESC LIMIT $2");
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(job).bind(limit).bind(self.area()).fetch_all(p).await?)
            }
            None => {
                let sql = format!("{RUN_COLUMNS} WHERE area = $2 ORDER BY id DESC LIMIT $1");
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).bind(self.area()).fetch_all(p).await?)
            }
        })
    }

    /// A job's newest run that started (skipped instants are not runs).
    pub async fn last_run_of(&self, job: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!(
            "{RUN_COLUMNS} WHERE job = $1 AND area = $2 AND status <> 'skipped' ORDER BY id DESC LIMIT 1"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(job).bind(self.area()).fetch_optional(p).await?),
        )
    }

    /// A job's newest successful run.
    pub async fn last_ok_of(&self, job: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!(
            "{RUN_COLUMNS} WHERE job = $1 AND area = $2 AND status = 'ok' ORDER BY id DESC LIMIT 1"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(job).bind(self.area()).fetch_optional(p).await?),
        )
    }

    /// A job's first and newest ledger rows (runs and skipped instants alike).
    pub async fn first_and_last_row_of(
        &self,
        job: &str,
    ) -> Result<Option<(RunRecord, RunRecord)>, StoreError> {
        let first = format!("{RUN_COLUMNS} WHERE job = $1 AND area = $2 ORDER BY id LIMIT 1");
        let last = format!("{RUN_COLUMNS} WHERE job = $1 AND area = $2 ORDER BY id DESC LIMIT 1");
        let first: Option<RunRecord> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(first)).bind(job).bind(self.area()).fetch_optional(p).await?);
        let last: Option<RunRecord> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(last)).bind(job).bind(self.area()).fetch_optional(p).await?);
        Ok(first.zip(last))
    }

    /// Runs marked running, oldest first (a run whose lease has passed is awaiting the sweep).
    pub async fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!("{RUN_COLUMNS} WHERE status = 'running' AND area = $1 ORDER BY id");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.area()).fetch_all(p).await?),
        )
    }

    /// The latest instant a job's ledger covers: its newest scheduled instant, or the start of
    /// its newest manual run if that is later. `None` for a job that never ran.
    pub async fn job_covered_until(&self, job: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        const SCHEDULED: &str = "SELECT scheduled_at FROM runs WHERE job = $1 AND area = $2 \
            AND scheduled_at IS NOT NULL ORDER BY scheduled_at DESC LIMIT 1";
        const MANUAL: &str = "SELECT started_at FROM runs WHERE job = $1 AND area = $2 \
            AND scheduled_at IS NULL ORDER BY id DESC LIMIT 1";
        let scheduled: Option<DateTime<Utc>> = on_pool!(self, p => sqlx::query_scalar(SCHEDULED).bind(job).bind(self.area()).fetch_optional(p).await?);
        let manual: Option<DateTime<Utc>> = on_pool!(self, p => sqlx::query_scalar(MANUAL).bind(job).bind(self.area()).fetch_optional(p).await?);
        Ok(scheduled.max(manual))
    }
}
