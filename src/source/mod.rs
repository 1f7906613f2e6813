//! Source: fetch an extract from an `http(s)://` URL or a local file into a spool file.
//!
//! Owns: a source's settings and their checks, where an extract lives ([`Location`]), the
//! per-source HTTP clients ([`Fetcher`]), the total time and size bounds, retries,
//! conditional GET, and the facts recorded for every fetch (status, bytes, sha256, time,
//! validators). The bytes go to a private spool file, never into memory; the caller owns
//! that file afterwards. Every URL this module shows or returns is redacted.
//! Must not: parse bytes or touch the store.
//!
//! Layout: [`http`] (reqwest, retries, conditional GET), [`file`] (bounded local read),
//! [`spool`] (the spool file, hashed and counted as it is written).

mod file;
mod http;
mod probe;
mod settings;
mod spool;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::secret::redact_url;
pub(crate) use file::kind as file_kind;
pub use probe::unreadable_file;
pub use settings::{DataOwner, MAX_RETRIES, SourceSettings};

pub mod freshness;

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
            let bad = || LocationError::BadUrl(redact_url(url));
            let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
            return parsed.to_file_path().map(Location::File).map_err(|_| bad());
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
    #[error("source `{source_name}` ({url}): {reason}{}", attempts_note(*attempts))]
    Failed {
        source_name: String,
        url: String,
        reason: FetchFailure,
        /// Requests made (1 for a file source or a failure before any request).
        attempts: u32,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchFailure {
    #[error("bad location: {0}")]
    Location(#[from] LocationError),
    #[error("HTTP {status} {reason}", reason = http_reason(*.status))]
    Status { status: u16 },
    /// A 401 or 403 from a host a redirect led to, where the credentials were not sent.
    #[error(
        "HTTP {status} {reason} from {at}: the source redirected there, to another host, and \
         its credentials were not sent there (they go only to the scheme, host and port of the \
         source's url; if that host should have them, make it the url)",
        reason = http_reason(*.status)
    )]
    CredentialsWithheld { status: u16, at: String },
    #[error("redirect refused: {0}")]
    Redirect(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("timed out after {secs} s{}", previous.as_ref().map(|p| format!("; the attempt before failed: {p}")).unwrap_or_default())]
    Timeout {
        secs: u64,
        /// What the last finished attempt ran into, when the time ran out during a retry.
        previous: Option<Box<FetchFailure>>,
    },
    #[error("request failed: {0}")]
    Request(String),
    #[error("connection dropped while reading the body: {0}")]
    BodyDropped(String),
    #[error("larger than the {0}-byte limit (sources.*.max_bytes)")]
    TooLarge(u64),
    #[error("not a regular file ({0})")]
    NotRegularFile(&'static str),
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the spool file: {0}")]
    Spool(std::io::Error),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("cannot use ca_file {path}: {error}")]
    CaFile { path: PathBuf, error: String },
}

fn http_reason(code: u16) -> &'static str {
    reqwest::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl FetchFailure {
    /// The HTTP status this failure is about, if any (looking through a timeout to the
    /// attempt before it).
    pub fn http_status(&self) -> Option<u16> {
        match self {
            FetchFailure::Status { status } | FetchFailure::CredentialsWithheld { status, .. } => {
                Some(*status)
            }
            FetchFailure::Timeout {
                previous: Some(p), ..
            } => p.http_status(),
            _ => None,
        }
    }
}

impl FetchError {
    pub fn http_status(&self) -> Option<u16> {
        self.reason().http_status()
    }

    pub fn reason(&self) -> &FetchFailure {
        match self {
            FetchError::Failed { reason, .. } => reason,
        }
    }

    pub fn attempts(&self) -> u32 {
        match self {
            FetchError::Failed { attempts, .. } => *attempts,
        }
    }

    /// The redacted URL of the source.
    pub fn url(&self) -> &str {
        match self {
            FetchError::Failed { url, .. } => url,
        }
    }
}

/// What the source's last accepted load was, for conditional GET and "same content" checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: Option<String>,
}

/// An extract fetched into a spool file. The caller owns the file: nothing is deleted on
/// drop; call [`Spooled::discard`] (or remove `path`) when done.
#[derive(Debug, Clone)]
pub struct Spooled {
    /// The spool file, mode 0600, inside the spool directory given to [`Fetcher::fetch`].
    pub path: PathBuf,
    /// The source's location, redacted, as recorded and shown.
    pub url: String,
    pub fetched_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    /// Bytes written to the spool file (= bytes read).
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the spool file's contents.
    pub sha256: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Requests made (1 for a file source).
    pub attempts: u32,
}

/// Why a fetch brought nothing new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReloaded {
    /// The server answered 304 Not Modified to the conditional GET.
    NotModified,
    /// The bytes read have the sha256 of the last accepted load.
    SameContent,
}

/// What one fetch came to.
#[derive(Debug, Clone)]
pub enum Fetch {
    Got(Spooled),
    /// Nothing new; no spool file is left behind.
    Unchanged {
        reason: NotReloaded,
        url: String,
        http_status: Option<u16>,
        fetched_at: DateTime<Utc>,
        attempts: u32,
    },
}

/// An extract held in memory: what the current parser and store take. Build it with
/// [`Spooled::into_fetched`].
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The location, redacted, as recorded and shown.
    pub url: String,
    pub fetched_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Fetches sources: one HTTP client per HTTP source (each has its own CA file and connect
/// timeout). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Fetcher {
    clients: BTreeMap<String, reqwest::Client>,
}

impl Fetcher {
    /// Build a client for every HTTP source. Fails on an unreadable or empty `ca_file`.
    pub fn new(sources: &BTreeMap<String, SourceSettings>) -> Result<Fetcher, FetchError> {
        let mut clients = BTreeMap::new();
        for (name, s) in sources {
            if let Ok(Location::Http(_)) = Location::parse(&s.url) {
                let client = http::client(s).map_err(|reason| FetchError::Failed {
                    source_name: name.clone(),
                    url: redact_url(&s.url),
                    reason,
                    attempts: 0,
                })?;
                clients.insert(name.clone(), client);
            }
        }
        Ok(Fetcher { clients })
    }

    /// Fetch source `name` unconditionally and read it into memory, deleting the spool file:
    /// the form today's parser and store take. Transitional, until they read spool files.
    pub async fn fetch_bytes(
        &self,
        name: &str,
        s: &SourceSettings,
        spool_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<Fetched, FetchError> {
        match self
            .fetch(name, s, &Validators::default(), spool_dir, now)
            .await?
        {
            Fetch::Got(spooled) => {
                let (url, attempts) = (spooled.url.clone(), spooled.attempts);
                spooled.into_fetched().map_err(|e| FetchError::Failed {
                    source_name: name.to_string(),
                    url,
                    reason: FetchFailure::Spool(e),
                    attempts,
                })
            }
            // Without validators neither a 304 nor "same content" can happen.
            Fetch::Unchanged { url, attempts, .. } => Err(FetchError::Failed {
                source_name: name.to_string(),
                url,
                reason: FetchFailure::Request("unexpectedly reported as unchanged".into()),
                attempts,
            }),
        }
    }

    /// Fetch source `name` into a new spool file in `spool_dir` (created 0700 if missing).
    ///
    /// `prev` are the validators of the source's last accepted load: an ETag or
    /// Last-Modified makes the request conditional (a 304 gives [`NotReloaded::NotModified`]),
    /// and a sha256 equal to the new bytes' gives [`NotReloaded::SameContent`]. On any error
    /// and on `Unchanged` the spool file is removed. `now` is recorded as `fetched_at`.
    pub async fn fetch(
        &self,
        name: &str,
        s: &SourceSettings,
        prev: &Validators,
        spool_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<Fetch, FetchError> {
        let url = redact_url(&s.url);
        let deadline = tokio::time::Instant::now() + s.timeout();
        let fail = |reason: FetchFailure, attempts: u32| FetchError::Failed {
            source_name: name.to_string(),
            url: url.clone(),
            reason,
            attempts,
        };
        let location = Location::parse(&s.url).map_err(|e| fail(e.into(), 0))?;
        let got = match location {
            Location::File(path) => file::fetch(name, &path, s, spool_dir, deadline)
                .await
                .map_err(|e| fail(e, 1))?,
            Location::Http(u) => {
                let built;
                let client = match self.clients.get(name) {
                    Some(c) => c,
                    None => {
                        built = http::client(s).map_err(|e| fail(e, 0))?;
                        &built
                    }
                };
                let ctx = http::Attempts {
                    name,
                    shown_url: &url,
                    settings: s,
                    prev,
                    spool_dir,
                    deadline,
                };
                http::fetch(client, u, &ctx)
                    .await
                    .map_err(|(e, attempts)| fail(e, attempts))?
            }
        };
        let unchanged = |reason, http_status, attempts| Fetch::Unchanged {
            reason,
            url: url.clone(),
            http_status,
            fetched_at: now,
            attempts,
        };
        match got {
            Got::NotModified {
                http_status,
                attempts,
            } => Ok(unchanged(NotReloaded::NotModified, http_status, attempts)),
            Got::Body(b) => {
                if prev.sha256.as_deref() == Some(b.written.sha256.as_str()) {
                    // Dropping the guard removes the spool file.
                    return Ok(unchanged(
                        NotReloaded::SameContent,
                        b.http_status,
                        b.attempts,
                    ));
                }
                Ok(Fetch::Got(Spooled {
                    path: b.spool.keep(),
                    url,
                    fetched_at: now,
                    http_status: b.http_status,
                    bytes: b.written.bytes,
                    sha256: b.written.sha256,
                    etag: b.etag,
                    last_modified: b.last_modified,
                    attempts: b.attempts,
                }))
            }
        }
    }
}

/// What [`http`] and [`file`] hand back before the "same content" check.
enum Got {
    NotModified {
        http_status: Option<u16>,
        attempts: u32,
    },
    Body(Body),
}

struct Body {
    /// Removes the spool file on drop unless kept.
    spool: spool::SpoolGuard,
    written: spool::Written,
    http_status: Option<u16>,
    etag: Option<String>,
    last_modified: Option<String>,
    attempts: u32,
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
    use secrecy::SecretString;
    use serde::Deserialize;

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

    fn settings(toml_text: &str) -> SourceSettings {
        #[derive(Deserialize)]
        struct Wrap {
            s: SourceSettings,
        }
        let w: Wrap = config::Config::builder()
            .add_source(config::File::from_str(toml_text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("settings parse");
        w.s
    }

    #[test]
    fn defaults_fill_in_for_old_config_files() {
        let s = settings("[s]\nkind = \"tracker\"\nurl = \"x.csv\"\n");
        assert_eq!(
            (
                s.timeout_secs,
                s.connect_timeout_secs,
                s.max_bytes,
                s.retries,
                s.retry_base_ms
            ),
            (60, 10, 256 * 1024 * 1024, 3, 500)
        );
        assert!(s.ca_file.is_none());
    }

    #[test]
    fn validate_names_each_bad_key() {
        let mut s = settings("[s]\nkind = \"tracker\"\nurl = \"ftp://x\"\n");
        s.timeout_secs = 0;
        s.connect_timeout_secs = 0;
        s.max_bytes = 0;
        s.retries = MAX_RETRIES + 1;
        s.retry_base_ms = 10_000_000;
        s.password = Some(SecretString::from("p"));
        let mut keys = Vec::new();
        s.validate("sources.t", &mut |k, _| keys.push(k));
        for want in [
            "url",
            "timeout_secs",
            "connect_timeout_secs",
            "max_bytes",
            "retries",
            "retry_base_ms",
            "username",
        ] {
            assert!(
                keys.contains(&format!("sources.t.{want}")),
                "{want}: {keys:?}"
            );
        }
    }

    #[test]
    fn errors_show_attempts_and_status() {
        let e = FetchError::Failed {
            source_name: "t".into(),
            url: "http://h/x".into(),
            reason: FetchFailure::Timeout {
                secs: 2,
                previous: Some(Box::new(FetchFailure::Status { status: 503 })),
            },
            attempts: 3,
        };
        assert_eq!(e.http_status(), Some(503));
        assert_eq!(
            e.to_string(),
            "source `t` (http://h/x): timed out after 2 s; the attempt before failed: HTTP 503 Service Unavailable (after 3 attempts)"
        );
    }
}
