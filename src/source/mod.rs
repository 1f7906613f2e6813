//! Source: fetch an extract's bytes from an `http(s)://` URL or a local file.
//!
//! Owns: where an extract lives, the HTTP client, timeouts, size caps, authentication, and
//! the facts recorded for every fetch (status, bytes, sha256, time). Must not: parse bytes.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::{SourceSettings, redact_url};

/// Where an extract is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Http(reqwest::Url),
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error("`{0}` is not a valid URL")]
    BadUrl(String),
    #[error("scheme `{0}` is not supported (use http, https, file or a path)")]
    Scheme(String),
}

impl Location {
    pub fn parse(url: &str) -> Result<Location, LocationError> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return reqwest::Url::parse(url)
                .map(Location::Http)
                .map_err(|_| LocationError::BadUrl(redact_url(url)));
        }
        if lower.starts_with("file://") {
            let parsed = reqwest::Url::parse(url).map_err(|_| LocationError::BadUrl(url.into()))?;
            return parsed
                .to_file_path()
                .map(Location::File)
                .map_err(|_| LocationError::BadUrl(url.into()));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(LocationError::Scheme(scheme.to_string()));
        }
        if url.trim().is_empty() {
            return Err(LocationError::BadUrl(url.into()));
        }
        Ok(Location::File(PathBuf::from(url)))
    }
}

/// Why a fetch failed. Every variant names the source and its (redacted) URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("source `{source_name}` ({url}): {reason}")]
    Failed {
        source_name: String,
        url: String,
        reason: FetchFailure,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FetchFailure {
    #[error("bad location: {0}")]
    Location(#[from] LocationError),
    #[error("HTTP {status} {reason}", reason = http_reason(*.status))]
    Status { status: u16 },
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("timed out after {0} s")]
    Timeout(u64),
    #[error("request failed: {0}")]
    Request(String),
    #[error("larger than the {0}-byte limit (sources.*.max_bytes)")]
    TooLarge(u64),
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
}

fn http_reason(code: u16) -> &'static str {
    reqwest::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl FetchError {
    pub fn http_status(&self) -> Option<u16> {
        match self {
            FetchError::Failed {
                reason: FetchFailure::Status { status },
                ..
            } => Some(*status),
            _ => None,
        }
    }
}

/// What one fetch brought back.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The location, with any password removed, as recorded and shown.
    pub url: String,
    pub fetched_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Shared HTTP client (connection pool, TLS with the platform's roots).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("sendwatch/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .build()
}

/// Fetch one source's extract.
pub async fn fetch(
    client: &reqwest::Client,
    name: &str,
    settings: &SourceSettings,
    now: DateTime<Utc>,
) -> Result<Fetched, FetchError> {
    let url = redact_url(&settings.url);
    let fail = |reason: FetchFailure| FetchError::Failed {
        source_name: name.to_string(),
        url: url.clone(),
        reason,
    };
    let location = Location::parse(&settings.url).map_err(|e| fail(e.into()))?;
    let (bytes, http_status) = match location {
        Location::File(path) => (
            read_file(&path, settings.max_bytes).await.map_err(fail)?,
            None,
        ),
        Location::Http(u) => {
            let (b, s) = get(client, u, settings).await.map_err(fail)?;
            (b, Some(s))
        }
    };
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Fetched {
        url,
        fetched_at: now,
        http_status,
        sha256,
        bytes,
    })
}

async fn read_file(path: &std::path::Path, max: u64) -> Result<Vec<u8>, FetchFailure> {
    let meta = tokio::fs::metadata(path).await?;
    if meta.len() > max {
        return Err(FetchFailure::TooLarge(max));
    }
    Ok(tokio::fs::read(path).await?)
}

async fn get(
    client: &reqwest::Client,
    url: reqwest::Url,
    s: &SourceSettings,
) -> Result<(Vec<u8>, u16), FetchFailure> {
    let mut req = client.get(url).timeout(Duration::from_secs(s.timeout_secs));
    if let Some(user) = &s.username {
        req = req.basic_auth(
            user,
            s.password.as_ref().map(|p| p.expose_secret().to_string()),
        );
    } else if let Some(token) = &s.bearer_token {
        req = req.bearer_auth(token.expose_secret());
    }
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            FetchFailure::Timeout(s.timeout_secs)
        } else if e.is_connect() {
            FetchFailure::Connect(root_cause(&e))
        } else {
            FetchFailure::Request(root_cause(&e))
        }
    };
    let mut resp = req.send().await.map_err(classify)?;
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        return Err(FetchFailure::Status { status });
    }
    if resp.content_length().is_some_and(|n| n > s.max_bytes) {
        return Err(FetchFailure::TooLarge(s.max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() as u64 + chunk.len() as u64 > s.max_bytes {
            return Err(FetchFailure::TooLarge(s.max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, status))
}

/// The innermost cause, which says what actually went wrong ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert!(matches!(
            Location::parse("examples/tracker.csv"),
            Ok(Location::File(_))
        ));
        assert!(
            matches!(Location::parse("file:///tmp/x.csv"), Ok(Location::File(p)) if p.as_path() == std::path::Path::new("/tmp/x.csv"))
        );
        assert!(matches!(
            Location::parse("https://example.org/x.csv"),
            Ok(Location::Http(_))
        ));
        assert!(Location::parse("ftp://example.org/x.csv").is_err());
    }
}
