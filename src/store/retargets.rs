//! Target versions recorded with `kpi retarget`: a recovery plan's schedule (and baseline)
//! from a month on, who recorded it, when and why. Laid over the catalogue's own versions
//! when sendwatch starts ([`crate::kpi::manual::retarget::merge`]).

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::kpi::Retarget;
use crate::kpi::manual::retarget::StoredRetarget;

impl Store {
    /// Record a new target version for `kpi_id`; its id.
    pub async fn save_retarget(
        &self,
        kpi_id: &str,
        retarget: &Retarget,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO kpi_retargets \
            (kpi_id, effective, reason, schedule, entered_by, entered_at, area) \
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let schedule = serde_json::to_string(retarget)
            .map_err(|e| StoreError::Corrupt(format!("cannot write the schedule: {e}")))?;
        let id = on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(kpi_id)
            .bind(&retarget.effective)
            .bind(&retarget.reason)
            .bind(schedule)
            .bind(by)
            .bind(now)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter().next().ok_or(sqlx::Error::RowNotFound)?);
        Ok(id)
    }

    /// Every recorded target version, in the order they were recorded.
    pub async fn retargets(&self) -> Result<Vec<StoredRetarget>, StoreError> {
        const SQL: &str = "SELECT id, kpi_id, schedule, entered_by, entered_at \
                           FROM kpi_retargets WHERE area = $1 ORDER BY id";
        type Row = (i64, String, String, String, DateTime<Utc>);
        let rows: Vec<Row> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(self.area()).fetch_all(p).await?);
        rows.into_iter()
            .map(|(id, kpi_id, schedule, by, entered_at)| {
                let retarget = serde_json::from_str(&schedule).map_err(|e| {
                    StoreError::Corrupt(format!("kpi_retargets {id}: the schedule: {e}"))
                })?;
                Ok(StoredRetarget {
                    id,
                    kpi_id,
                    retarget,
                    by,
                    entered_at,
                })
            })
            .collect()
    }
}
