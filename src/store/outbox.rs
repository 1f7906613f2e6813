//! The outbox: every email is written here before delivery and marked when delivered, so a
//! crash between render and send loses nothing, and a delivered email is not sent again.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Not yet delivered; tried by the next delivery pass once `next_attempt_at` has come.
    Pending,
    Sent,
    /// Refused for good (e.g. 5xx from the server); kept for the record.
    Failed,
    /// Replaced, undelivered, by a newer digest for the same recipient and period; never sent.
    Superseded,
    /// Given up after an attempt with no answer after the message was sent and its one later
    /// retry: it may have arrived (once or twice, with the same Message-ID).
    Ambiguous,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Superseded => "superseded",
            OutboxStatus::Ambiguous => "ambiguous",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub run_id: i64,
    pub sub_group: String,
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// A row waiting after a failure that may pass is not tried before this.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Set when an attempt ended with no answer after the message was sent.
    pub ambiguous_at: Option<DateTime<Utc>>,
}

impl OutboxRow {
    /// The row's recipients: one a line (a digest has one). Never split on commas, which an
    /// address's display name may hold (`"Smith, John" <john@example.org>`); a row written
    /// before, comma-joined, is split only when the whole is not one address.
    pub fn recipient_list(&self) -> Vec<&str> {
        let r = self.recipients.trim();
        let sep = if r.contains('\n') || r.parse::<lettre::message::Mailbox>().is_ok() {
            '\n'
        } else {
            ','
        };
        r.split(sep)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

pub(super) const COLUMNS: &str = "SELECT id, run_id, sub_group, recipients, subject, body_text, status, attempts, \
                       last_error, created_at, sent_at, next_attempt_at, ambiguous_at FROM outbox";

/// What marks a digest for the outbox (see migration 0008).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKey {
    /// A hash of the recipient, sub-groups, period and items.
    pub digest: String,
    /// Recipient and period: a newer digest with the same topic supersedes an undelivered one.
    pub topic: String,
    /// Each item as "sub-group|kind|id|period|state", sorted.
    pub items: Vec<String>,
}

/// Whether a digest went into the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued as this row; `superseded` older undelivered rows were marked superseded.
    Yes { id: i64, superseded: u64 },
    /// The same digest was queued (or sent) to the same person within the repeat interval.
    Repeat,
}

impl Store {
    /// Queue a digest to `recipient` unless every item in it went to them within `repeat`
    /// before `now` (no news). The check and the insert hold a lock for the recipient (the
    /// write lock on SQLite, an advisory lock on their address on PostgreSQL), so that two
    /// runs at once, of one job or of two, cannot both find the news untold; the unique
    /// `idem_key` (digest and repeat window) backs that up.
    #[allow(clippy::too_many_arguments)]
    pub async fn enqueue_digest(
        &self,
        run_id: i64,
        sub_group: &str,
        recipient: &str,
        subject: &str,
        body_text: &str,
        html: Option<&super::HtmlPart>,
        key: &DigestKey,
        repeat: chrono::TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Queued, StoreError> {
        const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext(lower($1)))";
        const SEEN: &str = "SELECT items FROM outbox WHERE recipients = $1 AND created_at > $2 \
                            AND status <> 'superseded' AND items IS NOT NULL";
        const SQL: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, status, created_at, \
                           digest, idem_key, topic, items, body_html) \
                           VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11) \
                           ON CONFLICT (idem_key) DO NOTHING RETURNING id";
        const IMAGE: &str = "INSERT INTO outbox_images (outbox_id, cid, png) VALUES ($1, $2, $3)";
        // Not one being sent right now (claimed): that one goes, and this one after it. Nor one
        // whose send was ambiguous: it may have arrived, and "superseded" would say it did not.
        const SUPERSEDE: &str = "UPDATE outbox SET status = 'superseded' WHERE topic = $1 AND id < $2 \
                                 AND status = 'pending' AND ambiguous_at IS NULL \
                                 AND (claimed_until IS NULL OR claimed_until < $3)";
        let since = now
            .checked_sub_signed(repeat)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let window = now.timestamp() / repeat.num_seconds().max(1);
        let idem_key = format!("{}:{window}", key.digest);
        // The same steps in either backend's transaction: the row, its images and what it
        // supersedes, all or none, after the check.
        macro_rules! queue {
            ($tx:expr) => {{
                let mut tx = $tx;
                let seen: Vec<String> = sqlx::query_scalar(SEEN)
                    .bind(recipient)
                    .bind(since)
                    .fetch_all(&mut *tx)
                    .await?;
                let told: std::collections::BTreeSet<&str> =
                    seen.iter().flat_map(|s| s.lines()).collect();
                if key.items.iter().all(|i| told.contains(i.as_str())) {
                    return Ok(Queued::Repeat);
                }
                let id: Option<i64> = sqlx::query_scalar(SQL)
                    .bind(run_id)
                    .bind(sub_group)
                    .bind(recipient)
                    .bind(subject)
                    .bind(body_text)
                    .bind(now)
                    .bind(&key.digest)
                    .bind(&idem_key)
                    .bind(&key.topic)
                    .bind(key.items.join("\n"))
                    .bind(html.map(|h| h.html.as_str()))
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(id) = id else {
                    return Ok(Queued::Repeat);
                };
                for img in html.map_or(&[][..], |h| &h.images) {
                    sqlx::query(IMAGE)
                        .bind(id)
                        .bind(&img.cid)
                        .bind(&img.png)
                        .execute(&mut *tx)
                        .await?;
                }
                let superseded = sqlx::query(SUPERSEDE)
                    .bind(&key.topic)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(Queued::Yes { id, superseded })
            }};
        }
        match self {
            Store::Sqlite(p) => queue!(p.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query(LOCK).bind(recipient).execute(&mut *tx).await?;
                queue!(tx)
            }
        }
    }

    /// Each recipient's (lower-cased) last digest, queued or sent (not superseded or failed):
    /// its item lines, what they were last told. Data notices (sub-group `source:NAME`) are
    /// keyed too but are not digests: a KPI is not "no longer told" because one came since.
    pub async fn last_digest_items(
        &self,
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, StoreError> {
        const SQL: &str = "SELECT recipients, items FROM outbox WHERE id IN (SELECT max(id) FROM outbox \
                           WHERE items IS NOT NULL AND status IN ('sent', 'pending') \
                           AND sub_group NOT LIKE 'source:%' GROUP BY lower(recipients))";
        let rows: Vec<(String, String)> =
            on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(r, items)| {
                let lines = items.lines().map(str::to_string).collect();
                (r.trim().to_ascii_lowercase(), lines)
            })
            .collect())
    }

    pub async fn enqueue_mail(
        &self,
        run_id: i64,
        sub_group: &str,
        recipients: &[String],
        subject: &str,
        body_text: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, status, created_at) \
                           VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(run_id)
            .bind(sub_group)
            .bind(recipients.join("\n"))
            .bind(subject)
            .bind(body_text)
            .bind(now)
            .fetch_all(p)
            .await?
            .into_iter().next().ok_or(sqlx::Error::RowNotFound)?))
    }

    /// Mail not yet delivered, oldest first.
    pub async fn pending_mail(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE status = 'pending' ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// Mail a run queued, in order.
    pub async fn run_mail(&self, run_id: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE run_id = $1 ORDER BY id");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_all(p).await?),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(recipients: &str) -> OutboxRow {
        OutboxRow {
            id: 1,
            run_id: 1,
            sub_group: "health".into(),
            recipients: recipients.into(),
            subject: String::new(),
            body_text: String::new(),
            status: "pending".into(),
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
            next_attempt_at: None,
            ambiguous_at: None,
        }
    }

    #[test]
    fn a_display_name_with_a_comma_is_one_recipient() {
        let r = row("\"Smith, John\" <john@example.org>");
        assert_eq!(r.recipient_list(), ["\"Smith, John\" <john@example.org>"]);
        let r = row("a@example.org\n\"Smith, John\" <john@example.org>");
        assert_eq!(r.recipient_list().len(), 2);
        // Rows written before, comma-joined.
        assert_eq!(row("a@example.org,b@example.org").recipient_list().len(), 2);
    }
}
