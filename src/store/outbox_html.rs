//! A digest's HTML part and inline images in the outbox (migration 0009): written with the
//! row in [`Store::enqueue_digest`], read back when the message is built, so a re-sent digest
//! is the same email. Rows without them (data and administrator notices) stay text only.

use super::{Store, StoreError};

/// An inline image: its Content-ID (no angle brackets) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub cid: String,
    pub png: Vec<u8>,
}

/// The HTML part of an outbox row and the images it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlPart {
    pub html: String,
    pub images: Vec<StoredImage>,
}

impl Store {
    /// The HTML part of outbox row `id`, if it has one.
    pub async fn outbox_html(&self, id: i64) -> Result<Option<HtmlPart>, StoreError> {
        const HTML: &str = "SELECT body_html FROM outbox WHERE id = $1";
        const IMAGES: &str = "SELECT cid, png FROM outbox_images WHERE outbox_id = $1 ORDER BY cid";
        let html: Option<Option<String>> =
            on_pool!(self, p => sqlx::query_scalar(HTML).bind(id).fetch_optional(p).await?);
        let Some(html) = html.flatten() else {
            return Ok(None);
        };
        let rows: Vec<(String, Vec<u8>)> =
            on_pool!(self, p => sqlx::query_as(IMAGES).bind(id).fetch_all(p).await?);
        Ok(Some(HtmlPart {
            html,
            images: rows
                .into_iter()
                .map(|(cid, png)| StoredImage { cid, png })
                .collect(),
        }))
    }
}
