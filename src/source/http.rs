//! HTTP sources: one reqwest client per source, retries with backoff, conditional GET.
//!
//! Owns: building a source's client (connect timeout, extra CA roots), one attempt (auth,
//! `If-None-Match` / `If-Modified-Since`, status, the body streamed into a spool file under
//! the `max_bytes` cap), redirects ([`redirect`]: followed by hand, never to plain http from
//! https, credentials only to the configured host), and the retry loop: 5xx, 429 (honouring
//! `Retry-After`), refused connections and bodies cut short are retried with exponential
//! backoff and full jitter; other 4xx, an over-size body, a refused redirect and a local
//! spool failure are not. The source's total `timeout_secs` bounds every attempt, every wait
//! and every body read together.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use reqwest::{Certificate, Method, StatusCode};
use secrecy::ExposeSecret;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::spool::{self, OverCap, Tally};
use super::{Body, FetchFailure, Got, SourceSettings, Validators, root_cause};

mod redirect;
pub(super) use redirect::send;

/// The longest wait between two attempts, whatever `retry_base_ms` and the attempt number.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Buffer between the body stream and the spool file.
const SPOOL_BUFFER: usize = 256 * 1024;

/// Build the client for one source: its connect timeout and any extra CA roots.
pub(super) fn client(s: &SourceSettings) -> Result<reqwest::Client, FetchFailure> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("sendwatch/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(s.connect_timeout())
        // Redirects are followed by `redirect::send`, one request per hop, under its rules.
        .redirect(reqwest::redirect::Policy::none())
        .referer(false);
    if let Some(path) = &s.ca_file {
        let ca_error = |error: String| FetchFailure::CaFile {
            path: path.clone(),
            error,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let certs = Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(root_cause(&e)))?;
        if certs.is_empty() {
            return Err(ca_error("no PEM certificate in it".into()));
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| FetchFailure::Client(root_cause(&e.without_url())))
}

/// Everything the attempts of one fetch share.
pub(super) struct Attempts<'a> {
    pub name: &'a str,
    /// The redacted URL, for logs.
    pub shown_url: &'a str,
    pub settings: &'a SourceSettings,
    pub prev: &'a Validators,
    pub spool_dir: &'a std::path::Path,
    /// End of the source's total time.
    pub deadline: Instant,
}

/// One attempt that did not bring the extract back.
pub(super) struct AttemptFailed {
    pub(super) failure: FetchFailure,
    retry: bool,
    /// The server's `Retry-After`, when it gave one.
    after: Option<Duration>,
}

impl AttemptFailed {
    fn fatal(failure: FetchFailure) -> AttemptFailed {
        AttemptFailed {
            failure,
            retry: false,
            after: None,
        }
    }
    fn transient(failure: FetchFailure) -> AttemptFailed {
        AttemptFailed {
            failure,
            retry: true,
            after: None,
        }
    }
}

/// Fetch with retries. On failure, also says how many requests were made.
pub(super) async fn fetch(
    client: &reqwest::Client,
    url: reqwest::Url,
    ctx: &Attempts<'_>,
) -> Result<Got, (FetchFailure, u32)> {
    let s = ctx.settings;
    let mut previous: Option<FetchFailure> = None;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let failed =
            match tokio::time::timeout_at(ctx.deadline, once(client, url.clone(), ctx, attempt))
                .await
            {
                Ok(Ok(got)) => return Ok(got),
                Ok(Err(f)) => f,
                Err(_elapsed) => {
                    let failure = FetchFailure::Timeout {
                        secs: s.timeout_secs,
                        previous: previous.map(Box::new),
                    };
                    return Err((failure, attempt));
                }
            };
        if !failed.retry || attempt > s.retries {
            return Err((failed.failure, attempt));
        }
        let remaining = ctx.deadline.saturating_duration_since(Instant::now());
        let Some(delay) = next_delay(attempt, s.retry_base_ms, failed.after, remaining, |hi| {
            fastrand::u64(0..=hi)
        }) else {
            tracing::warn!(
                source = ctx.name,
                attempt,
                url = %ctx.shown_url,
                reason = %failed.failure,
                "Fetch attempt failed; no time left for another."
            );
            return Err((failed.failure, attempt));
        };
        tracing::warn!(
            source = ctx.name,
            attempt,
            url = %ctx.shown_url,
            reason = %failed.failure,
            retry_in_ms = delay.as_millis() as u64,
            "Fetch attempt failed; retrying."
        );
        tokio::time::sleep(delay).await;
        previous = Some(failed.failure);
    }
}

/// How long to wait before retry number `attempt` (1 = the first retry), or `None` when the
/// wait would not end before the deadline. A server's `Retry-After` is honoured as given;
/// otherwise the wait is random in 0 ..= min(30 s, base × 2^(attempt-1)) ("full jitter").
/// `random(hi)` returns a number in 0 ..= hi.
fn next_delay(
    attempt: u32,
    base_ms: u64,
    retry_after: Option<Duration>,
    remaining: Duration,
    random: impl FnOnce(u64) -> u64,
) -> Option<Duration> {
    let delay = match retry_after {
        Some(d) => d,
        None => {
            let factor = 1u64
                .checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u64::MAX);
            let ceiling = base_ms
                .saturating_mul(factor)
                .min(MAX_BACKOFF.as_millis() as u64);
            Duration::from_millis(random(ceiling).min(ceiling))
        }
    };
    (delay < remaining).then_some(delay)
}

/// `Retry-After`: delay-seconds or an HTTP-date (IMF-fixdate, as RFC 2822 reads it).
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn header_string(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Classify an error from sending the request (before any status).
pub(super) fn send_failed(e: reqwest::Error) -> AttemptFailed {
    let e = e.without_url();
    if e.is_connect() {
        AttemptFailed::transient(FetchFailure::Connect(root_cause(&e)))
    } else if e.is_builder() || e.is_redirect() {
        AttemptFailed::fatal(FetchFailure::Request(root_cause(&e)))
    } else {
        // The connection was reset or closed before a response: worth another try.
        AttemptFailed::transient(FetchFailure::Request(root_cause(&e)))
    }
}

/// The source's credentials on a request: basic auth, else a bearer token.
pub(super) fn authorize(
    req: reqwest::RequestBuilder,
    s: &SourceSettings,
) -> reqwest::RequestBuilder {
    if let Some(user) = &s.username {
        req.basic_auth(
            user,
            s.password.as_ref().map(|p| p.expose_secret().to_string()),
        )
    } else if let Some(token) = &s.bearer_token {
        req.bearer_auth(token.expose_secret())
    } else {
        req
    }
}

/// One request: status, then the body into a new spool file.
async fn once(
    client: &reqwest::Client,
    url: reqwest::Url,
    ctx: &Attempts<'_>,
    attempt: u32,
) -> Result<Got, AttemptFailed> {
    let s = ctx.settings;
    let mut headers = HeaderMap::new();
    let validator = |v: &str| HeaderValue::from_str(v).ok();
    if let Some(etag) = ctx.prev.etag.as_deref().and_then(validator) {
        headers.insert(IF_NONE_MATCH, etag);
    }
    if let Some(lm) = ctx.prev.last_modified.as_deref().and_then(validator) {
        headers.insert(IF_MODIFIED_SINCE, lm);
    }
    let conditional = !headers.is_empty();
    let sent = send(client, Method::GET, &url, s, ctx.name, &headers).await?;
    let failure = sent.status_failure();
    let mut resp = sent.resp;
    let status = resp.status();
    if status == StatusCode::NOT_MODIFIED && conditional {
        return Ok(Got::NotModified {
            http_status: Some(status.as_u16()),
            attempts: attempt,
        });
    }
    if !status.is_success() {
        let retry = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        let after =
            header_string(&resp, RETRY_AFTER).and_then(|v| parse_retry_after(&v, Utc::now()));
        return Err(AttemptFailed {
            failure,
            retry,
            after,
        });
    }
    let max = s.max_bytes;
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(AttemptFailed::fatal(FetchFailure::TooLarge(max)));
    }
    let etag = header_string(&resp, ETAG);
    let last_modified = header_string(&resp, LAST_MODIFIED);

    // From here on, any early return drops `guard` and so removes the spool file.
    let (guard, file) = spool::create(ctx.spool_dir, ctx.name)
        .map_err(|e| AttemptFailed::fatal(FetchFailure::Spool(e)))?;
    let mut out =
        tokio::io::BufWriter::with_capacity(SPOOL_BUFFER, tokio::fs::File::from_std(file));
    let mut tally = Tally::new(max);
    let spool_failed = |e| AttemptFailed::fatal(FetchFailure::Spool(e));
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                return Err(AttemptFailed::transient(FetchFailure::BodyDropped(
                    root_cause(&e.without_url()),
                )));
            }
        };
        tally
            .add(&chunk)
            .map_err(|OverCap| AttemptFailed::fatal(FetchFailure::TooLarge(max)))?;
        out.write_all(&chunk).await.map_err(spool_failed)?;
    }
    out.flush().await.map_err(spool_failed)?;
    drop(out);
    Ok(Got::Body(Body {
        spool: guard,
        written: tally.finish(),
        http_status: Some(status.as_u16()),
        etag,
        last_modified,
        attempts: attempt,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_ca(path: &std::path::Path) -> SourceSettings {
        let v = serde_json::json!({ "kind": "tracker", "url": "https://h/x", "ca_file": path });
        serde_json::from_value(v).expect("settings")
    }

    #[test]
    fn a_ca_file_is_added_to_the_roots_and_a_bad_one_named() {
        let good =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/test-ca.pem");
        client(&with_ca(&good)).expect("a PEM root CA builds a client");

        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let missing = dir.path().join("missing.pem");
        for bad in [empty, missing] {
            let err = client(&with_ca(&bad)).unwrap_err();
            assert!(
                matches!(&err, FetchFailure::CaFile { path, .. } if *path == bad),
                "{err}"
            );
        }
    }

    const LOTS: Duration = Duration::from_secs(3600);

    #[test]
    fn backoff_grows_per_attempt_with_full_jitter_and_a_cap() {
        let top = |attempt| next_delay(attempt, 500, None, LOTS, |hi| hi);
        assert_eq!(top(1), Some(Duration::from_millis(500)));
        assert_eq!(top(2), Some(Duration::from_millis(1000)));
        assert_eq!(top(3), Some(Duration::from_millis(2000)));
        assert_eq!(top(7), Some(MAX_BACKOFF));
        assert_eq!(top(200), Some(MAX_BACKOFF), "no overflow");
        assert_eq!(
            next_delay(3, 500, None, LOTS, |_| 0),
            Some(Duration::ZERO),
            "the jitter reaches down to zero"
        );
        assert_eq!(
            next_delay(1, 500, None, LOTS, |_| u64::MAX),
            Some(Duration::from_millis(500)),
            "never above the ceiling"
        );
    }

    #[test]
    fn retry_after_is_honoured_but_not_past_the_deadline() {
        let ra = Some(Duration::from_secs(5));
        assert_eq!(
            next_delay(1, 500, ra, Duration::from_secs(10), |_| 0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(next_delay(1, 500, ra, Duration::from_secs(4), |_| 0), None);
        assert_eq!(
            next_delay(1, 500, None, Duration::from_millis(100), |hi| hi),
            None,
            "a backoff that ends after the deadline is not waited for"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
