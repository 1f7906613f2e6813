//! The run ledger: one row per job run, how it was triggered, how it ended.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Ok,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRecord {
    pub id: i64,
    pub job: String,
    pub trigger: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    pub summary: Option<String>,
}

impl Store {
    pub async fn start_run(
        &self,
        job: &str,
        trigger: Trigger,
        scheduled_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO runs (job, trigger, scheduled_at, started_at, status) \
                           VALUES ($1, $2, $3, $4, 'running') RETURNING id";
        let id = on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(job)
            .bind(trigger.as_str())
            .bind(scheduled_at)
            .bind(now)
            .fetch_one(p)
            .await?);
        Ok(id)
    }

    pub async fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        summary: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE runs SET status = $1, summary = $2, finished_at = $3 WHERE id = $4";
        on_pool!(self, p => sqlx::query(SQL)
            .bind(status.as_str())
            .bind(summary)
            .bind(now)
            .bind(id)
            .execute(p).await?.rows_affected());
        Ok(())
    }

    pub async fn run(&self, id: i64) -> Result<RunRecord, StoreError> {
        const SQL: &str = "SELECT id, job, trigger, scheduled_at, started_at, finished_at, status, summary \
                           FROM runs WHERE id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_one(p).await?))
    }

    /// The newest run's id, if any.
    pub async fn last_run_id(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT max(id) FROM runs";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).fetch_one(p).await?))
    }
}
