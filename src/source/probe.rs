//! `check-config --connect`'s source probe: is the extract there? For an HTTP source a HEAD
//! (a ranged GET of one byte if the server refuses HEAD) with the source's client,
//! credentials and timeouts, no retries; for a file, that it exists and is a regular file
//! (not opened: a FIFO is refused by its type, without blocking).

use reqwest::StatusCode;
use reqwest::header::RANGE;

use super::{FetchError, FetchFailure, Fetcher, Location, SourceSettings, file, http};
use crate::secret::redact_url;

impl Fetcher {
    /// What was found, in words, or why not.
    pub async fn probe(&self, name: &str, s: &SourceSettings) -> Result<String, FetchError> {
        let fail = |reason: FetchFailure| FetchError::Failed {
            source_name: name.to_string(),
            url: redact_url(&s.url),
            reason,
            attempts: 1,
        };
        match Location::parse(&s.url).map_err(|e| fail(e.into()))? {
            Location::File(path) => {
                let meta = std::fs::metadata(&path).map_err(|e| fail(e.into()))?;
                if let Some(k) = file::kind(&meta) {
                    return Err(fail(FetchFailure::NotRegularFile(k)));
                }
                Ok(format!("a regular file of {} bytes", meta.len()))
            }
            Location::Http(url) => {
                let built;
                let client = match self.clients.get(name) {
                    Some(c) => c,
                    None => {
                        built = http::client(s).map_err(fail)?;
                        &built
                    }
                };
                let limit = s.timeout();
                let ask = |req: reqwest::RequestBuilder| async move {
                    match tokio::time::timeout(limit, http::authorize(req, s).send()).await {
                        Ok(Ok(r)) => Ok(r.status()),
                        Ok(Err(e)) => Err(http::send_failed(e).failure),
                        Err(_) => Err(FetchFailure::Timeout {
                            secs: s.timeout_secs,
                            previous: None,
                        }),
                    }
                };
                let mut status = ask(client.head(url.clone())).await.map_err(fail)?;
                let mut how = "HEAD";
                if matches!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
                ) {
                    status = ask(client.get(url).header(RANGE, "bytes=0-0"))
                        .await
                        .map_err(fail)?;
                    how = "GET of one byte";
                }
                if status.is_success() || status.is_redirection() {
                    Ok(format!("{how} answered HTTP {}", status.as_u16()))
                } else {
                    Err(fail(FetchFailure::Status {
                        status: status.as_u16(),
                    }))
                }
            }
        }
    }
}
