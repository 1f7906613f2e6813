//! The outbox: every email is written here before delivery and marked when delivered, so a
//! crash between render and send loses nothing, and a delivered email is not sent again.

use chrono::{DateTime, Utc};

use super::named::{UnknownValue, named, named_column};
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
    const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Superseded,
        OutboxStatus::Ambiguous,
    ];

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

named_column!(OutboxStatus);

impl TryFrom<String> for OutboxStatus {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        named(
            &OutboxStatus::ALL,
            OutboxStatus::as_str,
            "outbox.status",
            value,
        )
    }
}

/// As its column's text (the JSON of `runs`).
impl serde::Serialize for OutboxStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status is its column's text.
impl PartialEq<&str> for OutboxStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
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
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// A row waiting after a failure that may pass is not tried before this.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Set when an attempt ended with no answer after the message was sent.
    pub ambiguous_at: Option<DateTime<Utc>>,
    /// Why a keyed row was news when queued ([`crate::news::Reason`]); none for other mail.
    pub reason: Option<String>,
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
                       last_error, created_at, sent_at, next_attempt_at, ambiguous_at, reason FROM outbox";

/// How far back [`Store::chase_told`] reads: longer than any chase of one period runs (asked,
/// reminded before and after the next meeting, escalated: a few months at most).
pub const CHASE_MEMORY: chrono::TimeDelta = chrono::TimeDelta::days(400);

impl Store {
    /// Each recipient's (lower-cased) last digest, queued or sent (not superseded or failed):
    /// its item lines, what they were last told. Data notices are keyed too but are not
    /// digests: a KPI is not "no longer told" because one came since.
    pub async fn last_digest_items(
        &self,
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, StoreError> {
        const SQL: &str = "SELECT recipients, items FROM outbox WHERE id IN (SELECT max(id) FROM outbox \
                           WHERE items IS NOT NULL AND status IN ('sent', 'pending') \
                           AND kind = 'digest' AND area = $1 GROUP BY lower(recipients)) AND area = $1";
        let rows: Vec<(String, String)> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(self.area()).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(r, items)| {
                let lines = items.lines().map(str::to_string).collect();
                (r.trim().to_ascii_lowercase(), lines)
            })
            .collect())
    }

    /// Each recipient's (lower-cased) chase lines ([`crate::news::is_chase`]) in the keyed mail
    /// they were told (not superseded) in the [`CHASE_MEMORY`] before `now`: a chase item
    /// told is carried in no later digest. Bounded in time, not read over the years: a chase
    /// line names its period and stage, and only the latest due period is chased, so a line
    /// older than that is never asked again.
    pub async fn chase_told(
        &self,
        now: DateTime<Utc>,
    ) -> Result<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>, StoreError>
    {
        const SQL: &str = "SELECT recipients, items FROM outbox WHERE items LIKE '%|overdue|%' \
                           AND status <> 'superseded' AND created_at > $2 AND area = $1";
        let since = now - CHASE_MEMORY;
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(self.area())
            .bind(since)
            .fetch_all(p)
            .await?);
        let mut out: std::collections::BTreeMap<_, std::collections::BTreeSet<_>> =
            Default::default();
        for (r, items) in rows {
            out.entry(r.trim().to_ascii_lowercase())
                .or_default()
                .extend(
                    items
                        .lines()
                        .filter(|l| crate::news::is_chase(l))
                        .map(str::to_string),
                );
        }
        Ok(out)
    }

    /// Mail not yet delivered, oldest first.
    pub async fn pending_mail(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE status = 'pending' AND area = $1 ORDER BY id");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.area()).fetch_all(p).await?),
        )
    }

    /// Mail a run queued, in order.
    pub async fn run_mail(&self, run_id: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE run_id = $1 AND area = $2 ORDER BY id");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).bind(self.area()).fetch_all(p).await?),
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
            status: OutboxStatus::Pending,
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
            next_attempt_at: None,
            ambiguous_at: None,
            reason: None,
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
