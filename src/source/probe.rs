//! `check-config --connect`'s source probe: is the extract there? For an HTTP source a HEAD
//! (a ranged GET of one byte if the server refuses HEAD) with the source's client,
//! credentials, timeouts and redirect rules, no retries; for a file, that it exists and is a
//! regular file (not opened: a FIFO is refused by its type, without blocking). Also
//! [`unreadable_file`], which plain `check-config` asks of file sources (no connection needed).

use reqwest::header::{HeaderMap, HeaderValue, RANGE};
use reqwest::{Method, StatusCode};

use super::{FetchError, FetchFailure, Fetcher, Location, SourceSettings, file, http};
use crate::secret::redact_url;

/// For a file source (a path or `file://` URL): why its extract cannot be read now, or `None`
/// (also for an HTTP source: only `check-config --connect` asks a server). The file is opened
/// only once it is known to be a regular file, so a FIFO cannot block the check.
pub fn unreadable_file(url: &str) -> Option<String> {
    let Ok(Location::File(path)) = Location::parse(url) else {
        return None;
    };
    let shown = std::path::absolute(&path).unwrap_or(path);
    let why = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{}` is not there", shown.display()),
        std::io::ErrorKind::PermissionDenied => {
            format!("`{}` cannot be read by this user", shown.display())
        }
        _ => format!("`{}`: {e}", shown.display()),
    };
    let meta = match std::fs::metadata(&shown) {
        Ok(m) => m,
        Err(e) => return Some(why(e)),
    };
    if let Some(k) = file::kind(&meta) {
        return Some(format!(
            "`{}` is a {k}, not a regular file",
            shown.display()
        ));
    }
    std::fs::File::open(&shown).err().map(why)
}

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
                let url = &url;
                // Redirects as a fetch follows them: the same rules, the same refusals.
                let ask = |method: Method, headers: HeaderMap| async move {
                    let sent = http::send(client, method, url, s, name, &headers);
                    match tokio::time::timeout(limit, sent).await {
                        Ok(Ok(sent)) => Ok(sent),
                        Ok(Err(e)) => Err(e.failure),
                        Err(_) => Err(FetchFailure::Timeout {
                            secs: s.timeout_secs,
                            previous: None,
                        }),
                    }
                };
                let mut sent = ask(Method::HEAD, HeaderMap::new()).await.map_err(fail)?;
                let mut how = "HEAD";
                if matches!(
                    sent.resp.status(),
                    StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
                ) {
                    let one_byte =
                        HeaderMap::from_iter([(RANGE, HeaderValue::from_static("bytes=0-0"))]);
                    sent = ask(Method::GET, one_byte).await.map_err(fail)?;
                    how = "GET of one byte";
                }
                let status = sent.resp.status();
                if status.is_success() || status.is_redirection() {
                    Ok(format!("{how} answered HTTP {}", status.as_u16()))
                } else {
                    Err(fail(sent.status_failure()))
                }
            }
        }
    }
}
