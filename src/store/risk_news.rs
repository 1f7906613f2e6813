//! Whether the news of each risk change has been queued (`risk_events.news_run`, `told_at`,
//! migration 0016). A run records its changes, queues the digests that tell them, then marks
//! them told. A run killed or failed between the two leaves them untold; the next run that
//! assesses the register takes them over ([`Store::take_untold_risk_news`]) and tells them
//! with its own, so no change goes untold and none is taken by two runs at once.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::risk::RiskEvent;

impl Store {
    /// Take over the untold risk news of runs that have ended (failed, abandoned, or ok but
    /// ended before marking it) for `run_id`, and return every change whose news `run_id` now
    /// owes, its own included, oldest first. One statement moves them, so two runs at once
    /// cannot both take the same change; news of a run still running stays with it.
    pub async fn take_untold_risk_news(&self, run_id: i64) -> Result<Vec<RiskEvent>, StoreError> {
        const TAKE: &str = "UPDATE risk_events SET news_run = $1 WHERE told_at IS NULL \
            AND news_run <> $1 AND area = $2 \
            AND news_run IN (SELECT id FROM runs WHERE status <> 'running' AND area = $2)";
        let taken = on_pool!(self, p => sqlx::query(TAKE).bind(run_id).bind(self.area()).execute(p).await?.rows_affected());
        if taken > 0 {
            tracing::warn!(
                changes = taken,
                "Risk changes recorded by a run that ended before telling them are told by this run."
            );
        }
        self.risk_events_where("AND news_run = $2 AND told_at IS NULL", Some(run_id))
            .await
    }

    /// Mark the news `run_id` owes as told: its digests are queued.
    pub async fn mark_risk_news_told(
        &self,
        run_id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "UPDATE risk_events SET told_at = $2 WHERE news_run = $1 AND told_at IS NULL AND area = $3";
        Ok(
            on_pool!(self, p => sqlx::query(SQL).bind(run_id).bind(now).bind(self.area()).execute(p).await?.rows_affected()),
        )
    }
}
