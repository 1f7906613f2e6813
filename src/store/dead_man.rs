//! Dead-man notices: which lapses of which jobs the administrator has been told of. A row
//! per (job, lapse) under a unique key: the process whose insert returns a row tells.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

impl Store {
    /// Record that `job`'s lapse since `since` is being told, against its newest ledger row
    /// `run_id`. False if it was told already (by this process or another).
    pub async fn claim_dead_man(
        &self,
        job: &str,
        since: DateTime<Utc>,
        run_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO dead_man_notices (job, lapse_since, told_at, run_id, area) \
                           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (area, job, lapse_since) DO NOTHING RETURNING id";
        let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(job)
            .bind(since)
            .bind(now)
            .bind(run_id)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter().next());
        Ok(id.is_some())
    }
}
