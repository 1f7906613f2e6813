//! Answers from the digest as stored (migration 0024): a draft per used link, its approver's
//! decision, and an approved answer written into its own table in the same transaction, so
//! that an answer is never applied twice nor lost between the decision and the entry.
//!
//! A link answers or decides once: its digest (never the link) goes into `answer_links` in
//! the transaction that stores what it did, so two posts of one link, from two replicas or
//! two tabs, store one answer.

use chrono::{DateTime, Utc};

use super::actions::{insert_commentary, insert_update};
use super::manual::insert_value;
use super::{Store, StoreError};
use crate::answer::entry::{Entry, Fields};
use crate::answer::{Ask, Decision};

/// An answer as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    pub id: i64,
    /// What it answers (never [`Ask::Approve`]).
    pub ask: Ask,
    pub fields: Fields,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
    pub entered_from: String,
    /// `draft`, `approved` or `rejected`.
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_via: Option<String>,
}

/// What became of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// Recorded (and, approved, written into its table).
    Done,
    /// The link had been used already.
    LinkUsed,
    /// No draft with that id in this area (decided already, or never).
    NotADraft,
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    DateTime<Utc>,
    String,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

const COLUMNS: &str = "SELECT id, kind, item, period, fields, entered_by, entered_at, \
    entered_from, state, decided_by, decided_at, decided_via FROM answers";

fn stored(r: Row) -> Result<StoredAnswer, StoreError> {
    let (id, kind, item, period, fields, entered_by, entered_at, entered_from, state, by, at, via) =
        r;
    let period = || {
        period
            .clone()
            .ok_or_else(|| StoreError::Corrupt(format!("answers {id}: no period")))
    };
    let ask = match kind.as_str() {
        "commentary" => Ask::Commentary {
            kpi: item,
            period: period()?,
        },
        "value" => Ask::Value {
            kpi: item,
            period: period()?,
        },
        "action" => Ask::Action { reference: item },
        _ => return Err(StoreError::Corrupt(format!("answers {id}: kind not known"))),
    };
    let fields: Fields = serde_json::from_str(&fields)
        .map_err(|_| StoreError::Corrupt(format!("answers {id}: fields not JSON")))?;
    Ok(StoredAnswer {
        id,
        ask,
        fields,
        entered_by,
        entered_at,
        entered_from,
        state,
        decided_by: by,
        decided_at: at,
        decided_via: via,
    })
}

/// (kind, item, period) of what an answer answers.
fn key(ask: &Ask) -> (&'static str, &str, Option<&str>) {
    match ask {
        Ask::Commentary { kpi, period } | Ask::Value { kpi, period } => {
            (ask.kind(), kpi, Some(period))
        }
        Ask::Action { reference } => (ask.kind(), reference, None),
        Ask::Approve { .. } => (ask.kind(), "", None),
    }
}

impl Store {
    /// Store an answer through the link whose digest is `link_id`, as a draft; its id, or
    /// `None` if that link had been used.
    pub async fn record_answer(
        &self,
        link_id: &str,
        ask: &Ask,
        fields: &Fields,
        by: &str,
        from: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        const USE: &str = "INSERT INTO answer_links (link_id, area, used_at) VALUES ($1, $2, $3) \
                           ON CONFLICT (link_id) DO NOTHING";
        const SQL: &str = "INSERT INTO answers (area, kind, item, period, fields, entered_by, \
            entered_at, entered_from, link_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
            RETURNING id";
        let (kind, item, period) = key(ask);
        let json = serde_json::to_string(fields).unwrap_or_default();
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let used = sqlx::query(USE)
                .bind(link_id)
                .bind(self.area())
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if used == 0 {
                None
            } else {
                let id: i64 = sqlx::query_scalar(SQL)
                    .bind(self.area())
                    .bind(kind)
                    .bind(item)
                    .bind(period)
                    .bind(&json)
                    .bind(by)
                    .bind(now)
                    .bind(from)
                    .bind(link_id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Some(id)
            }
        }))
    }

    /// Whether the link whose digest is `link_id` has been used.
    pub async fn link_used(&self, link_id: &str) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM answer_links WHERE link_id = $1 AND area = $2";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(SQL).bind(link_id).bind(self.area()).fetch_one(p).await?);
        Ok(n > 0)
    }

    /// The area's answers in `state` (every state: `None`), oldest first.
    pub async fn answers(&self, state: Option<&str>) -> Result<Vec<StoredAnswer>, StoreError> {
        let sql = format!(
            "{COLUMNS} WHERE area = $1 AND (CAST($2 AS TEXT) IS NULL OR state = $2) ORDER BY id"
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.area()).bind(state).fetch_all(p).await?);
        rows.into_iter().map(stored).collect()
    }

    /// The area's answer `id`, if there is one.
    pub async fn answer(&self, id: i64) -> Result<Option<StoredAnswer>, StoreError> {
        let sql = format!("{COLUMNS} WHERE area = $1 AND id = $2");
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.area()).bind(id).fetch_all(p).await?);
        rows.into_iter().next().map(stored).transpose()
    }

    /// Decide draft `id` as `by` by way of `via` (`link`, with the link's digest, or `cli`); an
    /// approval writes `entry` (checked by the caller against the plan in force) into its table
    /// in the same transaction.
    pub async fn decide_answer(
        &self,
        id: i64,
        decision: Decision,
        entry: Option<&Entry>,
        by: &str,
        link_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Decided, StoreError> {
        const USE: &str = "INSERT INTO answer_links (link_id, area, used_at) VALUES ($1, $2, $3) \
                           ON CONFLICT (link_id) DO NOTHING";
        const DECIDE: &str = "UPDATE answers SET state = $1, decided_by = $2, decided_at = $3, \
            decided_via = $4 WHERE id = $5 AND area = $6 AND state = 'draft'";
        const APPLIED: &str = "UPDATE answers SET applied_id = $1 WHERE id = $2 AND area = $3";
        let via = if link_id.is_some() { "link" } else { "cli" };
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let fresh = match link_id {
                Some(l) => {
                    sqlx::query(USE).bind(l).bind(self.area()).bind(now).execute(&mut *tx).await?.rows_affected() == 1
                }
                None => true,
            };
            let changed = if fresh {
                sqlx::query(DECIDE)
                    .bind(decision.state())
                    .bind(by)
                    .bind(now)
                    .bind(via)
                    .bind(id)
                    .bind(self.area())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            if !fresh {
                Decided::LinkUsed
            } else if changed == 0 {
                Decided::NotADraft
            } else {
                let applied = match (decision, entry) {
                    (Decision::Approve, Some(Entry::Commentary(c))) => {
                        Some(insert_commentary!(&mut *tx, self.area(), c))
                    }
                    (Decision::Approve, Some(Entry::Value(v))) => {
                        Some(insert_value!(&mut *tx, self.area(), v, now, "link"))
                    }
                    (Decision::Approve, Some(Entry::Action(u))) => {
                        Some(insert_update!(&mut *tx, self.area(), u, now))
                    }
                    _ => None,
                };
                if let Some(applied) = applied {
                    sqlx::query(APPLIED).bind(applied).bind(id).bind(self.area()).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Decided::Done
            }
        }))
    }
}
