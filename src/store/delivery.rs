//! The outbox's delivery bookkeeping: claiming a due row for one delivery pass, renewing
//! that claim while the pass sends, recording the outcome, and handing the administrator the
//! rows that failed (each once).
//!
//! A claim is a lease (`claimed_until`) held by one pass (`claimed_by`). It is taken in a
//! transaction that finds the row and sets the claim: `FOR UPDATE SKIP LOCKED` on PostgreSQL,
//! so two processes never pick the same row and neither waits for the other; an immediate
//! transaction on SQLite, which takes the write lock before reading. A pass killed while it
//! holds a claim frees the row when the lease passes, and another pass takes it then.

use chrono::{DateTime, Utc};

use crate::news::Outgoing;

use super::outbox::{COLUMNS, OutboxStatus};
use super::outbox_queue::queue_in;
use super::tx::{Tx, on_tx};
use super::{OutboxRow, Pool, Store, StoreError};

/// Which due rows a pass may claim: pending, not claimed by a live lease, and due by the
/// instant the pass began (a row the pass itself put off is later than that: no tight loop).
const DUE: &str = "status = 'pending' AND (claimed_until IS NULL OR claimed_until < $1) \
                   AND (next_attempt_at IS NULL OR next_attempt_at <= $2) AND area = $3";

/// A row that failed for good or ended ambiguous, for the administrator's notice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FailedMail {
    pub id: i64,
    pub run_id: i64,
    pub sub_group: String,
    pub recipients: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// How the outbox stands, for `status` and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    /// Pending and put off after a failed attempt (a subset of `pending`).
    pub retrying: i64,
    pub failed: i64,
    pub ambiguous: i64,
}

impl Store {
    /// Claim the oldest row due by `due_by` for the pass `who` until `until`; None when no
    /// row is free. Two passes at once (other processes, other hosts) never get the same row.
    pub async fn claim_due_mail(
        &self,
        who: &str,
        now: DateTime<Utc>,
        due_by: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<OutboxRow>, StoreError> {
        const SET: &str =
            "UPDATE outbox SET claimed_until = $1, claimed_by = $2 WHERE id = $3 AND area = $4";
        let pick = format!("SELECT id FROM outbox WHERE {DUE} ORDER BY id LIMIT 1");
        let read = format!("{COLUMNS} WHERE id = $1 AND area = $2");
        // On SQLite the write lock comes first (no other writer reads the row free between
        // our read and our write); on PostgreSQL the row is locked and others skip it.
        let pick = match &self.pool {
            Pool::Sqlite(_) => pick,
            Pool::Postgres(_) => format!("{pick} FOR UPDATE SKIP LOCKED"),
        };
        let mut tx = Tx::begin(self).await?;
        let row = on_tx!(&mut tx, t => {
            let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(pick))
                .bind(now)
                .bind(due_by)
                .bind(self.area())
                .fetch_optional(&mut **t)
                .await?;
            let Some(id) = id else {
                return Ok(None);
            };
            sqlx::query(SET)
                .bind(until)
                .bind(who)
                .bind(id)
                .bind(self.area())
                .execute(&mut **t)
                .await?;
            sqlx::query_as::<_, OutboxRow>(sqlx::AssertSqlSafe(read))
                .bind(id)
                .bind(self.area())
                .fetch_one(&mut **t)
                .await?
        });
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Extend `who`'s claim on row `id`; false if the pass no longer holds it.
    pub async fn renew_mail_claim(
        &self,
        id: i64,
        who: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3 \
                           AND status = 'pending' AND area = $4";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(until).bind(id).bind(who).bind(self.area()).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Delivered: the claim ends with the row.
    pub async fn mark_sent(
        &self,
        id: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, \
                           last_error = NULL, next_attempt_at = NULL, claimed_until = NULL \
                           WHERE id = $2 AND claimed_by = $3 AND area = $4";
        on_pool!(self, p => sqlx::query(SQL).bind(now).bind(id).bind(who).bind(self.area()).execute(p).await?.rows_affected());
        Ok(())
    }

    /// A failed attempt that may pass: still pending, not tried before `next_at`. `ambiguous`
    /// marks an attempt with no answer after the message was sent (the first such is kept).
    pub async fn mark_retry(
        &self,
        id: i64,
        who: &str,
        error: &str,
        next_at: DateTime<Utc>,
        ambiguous: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE outbox SET last_error = $1, attempts = attempts + 1, \
                           next_attempt_at = $2, ambiguous_at = COALESCE(ambiguous_at, $3), \
                           claimed_until = NULL WHERE id = $4 AND claimed_by = $5 AND area = $6";
        on_pool!(self, p => sqlx::query(SQL)
            .bind(error)
            .bind(next_at)
            .bind(ambiguous)
            .bind(id)
            .bind(who)
            .bind(self.area())
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Given up: `failed` (refused for good, or out of attempts) or `ambiguous`.
    pub async fn mark_given_up(
        &self,
        id: i64,
        who: &str,
        status: OutboxStatus,
        error: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE outbox SET status = $1, last_error = $2, attempts = attempts + 1, \
                           next_attempt_at = NULL, claimed_until = NULL \
                           WHERE id = $3 AND claimed_by = $4 AND area = $5";
        on_pool!(self, p => sqlx::query(SQL)
            .bind(status.as_str())
            .bind(error)
            .bind(id)
            .bind(who)
            .bind(self.area())
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Rows given up and not yet told to the administrator (their own notices aside), marked
    /// told in the same transaction that queues the notice `notice` makes of them (given the
    /// newest run among them, which the notice belongs to): each row is told once, by one
    /// process, and a crash tells it later rather than never. How many rows were told.
    pub async fn tell_failed_mail(
        &self,
        notice: impl FnOnce(i64, &[FailedMail]) -> Outgoing,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        const PICK: &str = "SELECT id, run_id, sub_group, recipients, status, attempts, last_error \
                            FROM outbox WHERE status IN ('failed', 'ambiguous') AND told_at IS NULL \
                            AND kind <> 'admin' AND area = $1 ORDER BY id";
        const TOLD: &str = "UPDATE outbox SET told_at = $1 WHERE id = $2 AND area = $3";
        let mut tx = Tx::begin(self).await?;
        let pick = match &self.pool {
            Pool::Sqlite(_) => PICK.to_string(),
            Pool::Postgres(_) => format!("{PICK} FOR UPDATE SKIP LOCKED"),
        };
        let rows: Vec<FailedMail> = on_tx!(&mut tx, t => sqlx::query_as(sqlx::AssertSqlSafe(pick))
            .bind(self.area())
            .fetch_all(&mut **t)
            .await?);
        // The notice names the newest run among them (every row belongs to one).
        let Some(run_id) = rows.iter().map(|r| r.run_id).max() else {
            return Ok(0);
        };
        for r in &rows {
            on_tx!(&mut tx, t => {
             sqlx::query(TOLD)
                            .bind(now)
                            .bind(r.id)
                            .bind(self.area())
                            .execute(&mut **t)
                            .await?;
            });
        }
        queue_in(&mut tx, self.area(), &notice(run_id, &rows), now).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// How the outbox stands.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        const SQL: &str = "SELECT status, count(*), \
                           sum(CASE WHEN next_attempt_at IS NULL THEN 0 ELSE 1 END) \
                           FROM outbox WHERE area = $1 GROUP BY status";
        let rows: Vec<(String, i64, Option<i64>)> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(self.area()).fetch_all(p).await?);
        let mut c = OutboxCounts::default();
        for (status, n, later) in rows {
            match status.as_str() {
                "pending" => {
                    c.pending = n;
                    c.retrying = later.unwrap_or(0);
                }
                "failed" => c.failed = n,
                "ambiguous" => c.ambiguous = n,
                _ => {}
            }
        }
        Ok(c)
    }
}
