//! Silences as stored (migration 0011): added, listed, expired by hand. Whether one applies
//! is [`crate::notify::silence`]'s business, with `now` as an argument.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::notify::silence::Silence;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    matchers: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    comment: String,
    author: String,
    created_at: DateTime<Utc>,
    expired_at: Option<DateTime<Utc>>,
}

impl From<Row> for Silence {
    fn from(r: Row) -> Silence {
        Silence {
            id: r.id,
            matchers: r.matchers.lines().map(str::to_string).collect(),
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            comment: r.comment,
            author: r.author,
            created_at: r.created_at,
            expired_at: r.expired_at,
        }
    }
}

const COLUMNS: &str = "SELECT id, matchers, starts_at, ends_at, comment, author, created_at, expired_at \
                       FROM silences";

impl Store {
    /// Record a silence (already checked); its id.
    pub async fn add_silence(
        &self,
        matchers: &[String],
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        comment: &str,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO silences (matchers, starts_at, ends_at, comment, author, created_at, area) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(matchers.join("\n"))
            .bind(starts_at)
            .bind(ends_at)
            .bind(comment)
            .bind(author)
            .bind(now)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter().next().ok_or(sqlx::Error::RowNotFound)?))
    }

    /// Silences not yet ended or expired at `now` (with `all`, every one), newest first.
    pub async fn silences(
        &self,
        now: DateTime<Utc>,
        all: bool,
    ) -> Result<Vec<Silence>, StoreError> {
        let rows: Vec<Row> = if all {
            let sql = format!("{COLUMNS} WHERE area = $1 ORDER BY id DESC");
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.area()).fetch_all(p).await?)
        } else {
            let sql = format!(
                "{COLUMNS} WHERE ends_at > $1 AND (expired_at IS NULL OR expired_at > $1) \
                 AND area = $2 ORDER BY id DESC"
            );
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(self.area()).fetch_all(p).await?)
        };
        Ok(rows.into_iter().map(Silence::from).collect())
    }

    /// Expire silence `id` at `now`. False if there is none, or it had already ended.
    pub async fn expire_silence(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE silences SET expired_at = $1 WHERE id = $2 AND ends_at > $1 \
                           AND (expired_at IS NULL OR expired_at > $1) AND area = $3";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(now).bind(id).bind(self.area()).execute(p).await?.rows_affected());
        Ok(n == 1)
    }
}
