//! What an outbox row's message is built from besides its text: the HTML part (`body_html`)
//! and the parts (`outbox_parts`, migration 0017: inline images and attached files), written
//! with the row ([`super::outbox_queue`]) and read back here when the message is built, so a
//! re-sent message is the same email.

use super::{Store, StoreError};
use crate::news::{Part, PartKind};

/// An outbox row's HTML part, if it has one, and its parts in the order the message
/// carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBody {
    pub html: Option<String>,
    pub parts: Vec<Part>,
}

impl Store {
    /// The HTML part and the parts of outbox row `id`.
    pub async fn outbox_body(&self, id: i64) -> Result<StoredBody, StoreError> {
        const HTML: &str = "SELECT body_html FROM outbox WHERE id = $1 AND area = $2";
        // A row's parts are its area's: through the row.
        const PARTS: &str = "SELECT kind, name, content_type, bytes FROM outbox_parts \
                             WHERE outbox_id = $1 \
                             AND outbox_id IN (SELECT id FROM outbox WHERE area = $2) ORDER BY position";
        let html: Option<Option<String>> = on_pool!(self, p => sqlx::query_scalar(HTML).bind(id).bind(self.area()).fetch_optional(p).await?);
        let rows: Vec<(String, String, String, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(PARTS).bind(id).bind(self.area()).fetch_all(p).await?);
        let parts = rows
            .into_iter()
            .map(|(kind, name, content_type, bytes)| {
                let kind = PartKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("outbox part kind `{kind}`")))?;
                Ok(Part {
                    kind,
                    name,
                    content_type,
                    bytes,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(StoredBody {
            html: html.flatten(),
            parts,
        })
    }
}
