//! Files mailed with an outbox row (migration 0013): the board pack a pack job sends, queued
//! with its row in one transaction and read back when the message is built, so a re-sent
//! pack is the same email. Queued once per key: the same pack to the same person is not
//! queued twice.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An email with files, for the outbox.
#[derive(Debug, Clone)]
pub struct FilesMail<'a> {
    pub run_id: i64,
    /// What the row is about, as the outbox names it ("pack:board").
    pub sub_group: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    /// Unique: a second row with the same key is not queued.
    pub idem_key: &'a str,
    pub files: &'a [StoredFile],
}

impl Store {
    /// Queue `mail` and its files in one transaction; `None` when a row with its key exists.
    pub async fn enqueue_with_files(
        &self,
        mail: &FilesMail<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, status, \
                           created_at, idem_key) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) \
                           ON CONFLICT (idem_key) DO NOTHING RETURNING id";
        const FILE: &str = "INSERT INTO outbox_attachments (outbox_id, filename, content_type, bytes) \
                            VALUES ($1, $2, $3, $4)";
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(SQL)
                .bind(mail.run_id)
                .bind(mail.sub_group)
                .bind(mail.recipient)
                .bind(mail.subject)
                .bind(mail.body_text)
                .bind(now)
                .bind(mail.idem_key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(id) = id {
                for f in mail.files {
                    sqlx::query(FILE)
                        .bind(id)
                        .bind(&f.filename)
                        .bind(&f.content_type)
                        .bind(&f.bytes)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            id
        }))
    }

    /// The files of outbox row `id`, by name.
    pub async fn outbox_files(&self, id: i64) -> Result<Vec<StoredFile>, StoreError> {
        const SQL: &str = "SELECT filename, content_type, bytes FROM outbox_attachments \
                           WHERE outbox_id = $1 ORDER BY filename";
        let rows: Vec<(String, String, Vec<u8>)> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(filename, content_type, bytes)| StoredFile {
                filename,
                content_type,
                bytes,
            })
            .collect())
    }
}
