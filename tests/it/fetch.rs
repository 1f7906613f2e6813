//! `sendwatch::source::Fetcher` against a real loopback HTTP server and real local files:
//! retries (or none), the total timeout, the size cap counted on bytes read, conditional
//! GET, refused special files, redacted URLs, and private spool files that never outlive a
//! failure. Each case checks the outcome, how many requests were made, and the spool dir.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use sendwatch::source::{
    Fetch, FetchError, FetchFailure, Fetcher, NotReloaded, SourceSettings, Spooled, Validators,
};
use sha2::{Digest, Sha256};

use crate::support::{BodyMode, HttpServer, Response};

/// A hang guard only: every case ends far sooner, or fails.
const GUARD: Duration = Duration::from_secs(60);

/// A source with fast retries; `extra` overrides keys (JSON object fields).
pub fn source(url: &str, extra: serde_json::Value) -> SourceSettings {
    let mut v = serde_json::json!({
        "kind": "tracker",
        "url": url,
        "timeout_secs": 20,
        "retry_base_ms": 10,
    });
    if let (Some(base), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        base.extend(more.clone());
    }
    serde_json::from_value(v).expect("source settings")
}

/// A temporary folder whose `spool` subfolder (not yet created) is the spool dir.
pub struct Spool {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Spool {
    pub fn new() -> Spool {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("spool");
        Spool { _tmp: tmp, dir }
    }

    /// Files in the spool dir (none if it was never created).
    fn files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd.map(|e| e.expect("dir entry").path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn assert_empty(&self) {
        assert_eq!(
            self.files(),
            Vec::<PathBuf>::new(),
            "spool files left behind"
        );
    }
}

pub async fn fetch(
    s: &SourceSettings,
    prev: &Validators,
    spool: &Spool,
) -> Result<Fetch, FetchError> {
    let sources = BTreeMap::from([("t".to_string(), s.clone())]);
    let fetcher = Fetcher::new(&sources).expect("fetcher");
    tokio::time::timeout(GUARD, fetcher.fetch("t", s, prev, &spool.dir, Utc::now()))
        .await
        .expect("the fetch ended (hang guard)")
}

pub fn got(r: Result<Fetch, FetchError>) -> Spooled {
    match r {
        Ok(Fetch::Got(s)) => s,
        other => panic!("expected Got, have {other:?}"),
    }
}

pub fn failed(r: Result<Fetch, FetchError>) -> FetchError {
    match r {
        Err(e) => e,
        Ok(other) => panic!("expected an error, have {other:?}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Some bytes that are not all alike, so a mix-up would show.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn assert_content(s: &Spooled, want: &[u8]) {
    let have = std::fs::read(&s.path).expect("spool file");
    assert!(
        have == want,
        "spooled {} bytes, want {}",
        have.len(),
        want.len()
    );
    assert_eq!(s.bytes, want.len() as u64);
    assert_eq!(s.sha256, sha256_hex(want));
}

async fn http_404_fails_at_once_without_a_retry() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    let err = failed(
        fetch(
            &source(&srv.url("/gone.csv"), serde_json::json!({})),
            &Validators::default(),
            &spool,
        )
        .await,
    );
    assert!(
        matches!(err.reason(), FetchFailure::Status { status: 404 }),
        "{err}"
    );
    assert_eq!(err.http_status(), Some(404));
    assert_eq!((srv.hits("/gone.csv"), err.attempts()), (1, 1));
    spool.assert_empty();
}

async fn http_500_then_200_is_retried_and_the_second_answer_kept() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    let want = body(5000);
    srv.set_sequence(
        "/x.csv",
        vec![Response::status(500), Response::ok(want.clone())],
    );
    let s = got(fetch(
        &source(&srv.url("/x.csv"), serde_json::json!({})),
        &Validators::default(),
        &spool,
    )
    .await);
    assert_eq!((srv.hits("/x.csv"), s.attempts), (2, 2));
    assert_eq!(s.http_status, Some(200));
    assert_content(&s, &want);
    s.discard();
    spool.assert_empty();
}

async fn http_500_every_time_fails_after_all_retries_with_the_status() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set("/x.csv", Response::status(503));
    let s = source(&srv.url("/x.csv"), serde_json::json!({ "retries": 2 }));
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert_eq!(err.http_status(), Some(503), "{err}");
    assert_eq!((srv.hits("/x.csv"), err.attempts()), (3, 3));
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    spool.assert_empty();
}

async fn http_429_with_retry_after_is_retried() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set_sequence(
        "/x.csv",
        vec![
            Response::status(429).with_header("Retry-After", "1"),
            Response::ok("a,b\n"),
        ],
    );
    let s = got(fetch(
        &source(&srv.url("/x.csv"), serde_json::json!({})),
        &Validators::default(),
        &spool,
    )
    .await);
    assert_eq!((srv.hits("/x.csv"), s.attempts), (2, 2));
    assert_content(&s, b"a,b\n");
    s.discard();
    spool.assert_empty();
}

async fn a_retry_after_longer_than_the_time_left_is_not_waited_for() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set_sequence(
        "/x.csv",
        vec![
            Response::status(429).with_header("Retry-After", "3600"),
            Response::ok("never asked for"),
        ],
    );
    let err = failed(
        fetch(
            &source(&srv.url("/x.csv"), serde_json::json!({})),
            &Validators::default(),
            &spool,
        )
        .await,
    );
    assert_eq!(err.http_status(), Some(429), "{err}");
    assert_eq!(srv.hits("/x.csv"), 1);
    spool.assert_empty();
}

async fn a_body_that_never_finishes_ends_at_the_total_timeout() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set(
        "/slow.csv",
        Response::ok(body(100_000)).with_mode(BodyMode::Hang),
    );
    let s = source(
        &srv.url("/slow.csv"),
        serde_json::json!({ "timeout_secs": 1 }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::Timeout { secs: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("timed out after 1 s"), "{err}");
    assert_eq!(srv.hits("/slow.csv"), 1, "no time is left for a retry");
    spool.assert_empty();
}

async fn a_body_over_max_bytes_with_an_honest_content_length_is_too_large() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set("/big.csv", Response::ok(body(10_000)));
    let s = source(
        &srv.url("/big.csv"),
        serde_json::json!({ "max_bytes": 1000 }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::TooLarge(1000)),
        "{err}"
    );
    assert_eq!(srv.hits("/big.csv"), 1, "not retried");
    spool.assert_empty();
}

async fn a_chunked_body_over_max_bytes_is_too_large_counted_on_bytes_read() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set(
        "/big.csv",
        Response::ok(body(10_000)).with_mode(BodyMode::Chunked(512)),
    );
    let s = source(
        &srv.url("/big.csv"),
        serde_json::json!({ "max_bytes": 1000 }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::TooLarge(1000)),
        "{err}"
    );
    assert_eq!(srv.hits("/big.csv"), 1, "not retried");
    spool.assert_empty();
}

async fn a_big_chunked_body_under_the_cap_is_spooled_whole() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    let want = body(3 * 1024 * 1024 + 7);
    srv.set(
        "/big.csv",
        Response::ok(want.clone()).with_mode(BodyMode::Chunked(16 * 1024)),
    );
    let s = source(
        &srv.url("/big.csv"),
        serde_json::json!({ "max_bytes": 4 * 1024 * 1024 }),
    );
    let s = got(fetch(&s, &Validators::default(), &spool).await);
    assert_eq!(srv.hits("/big.csv"), 1);
    assert_content(&s, &want);
    s.discard();
    spool.assert_empty();
}

async fn a_connection_dropped_mid_body_is_retried_and_a_whole_answer_kept() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    let want = body(20_000);
    srv.set_sequence(
        "/x.csv",
        vec![
            Response::ok(want.clone()).with_mode(BodyMode::CutShort(5000)),
            Response::ok(want.clone()),
        ],
    );
    let s = got(fetch(
        &source(&srv.url("/x.csv"), serde_json::json!({})),
        &Validators::default(),
        &spool,
    )
    .await);
    assert_eq!((srv.hits("/x.csv"), s.attempts), (2, 2));
    assert_content(&s, &want);
    s.discard();
    spool.assert_empty();
}

async fn a_connection_always_dropped_mid_body_fails_and_leaves_no_partial_spool() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set(
        "/x.csv",
        Response::ok(body(20_000)).with_mode(BodyMode::CutShort(5000)),
    );
    let s = source(&srv.url("/x.csv"), serde_json::json!({ "retries": 1 }));
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::BodyDropped(_)),
        "{err}"
    );
    assert_eq!((srv.hits("/x.csv"), err.attempts()), (2, 2));
    spool.assert_empty();
}

async fn an_etag_makes_the_next_fetch_conditional_and_304_is_not_modified() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set(
        "/x.csv",
        Response::ok("a,b\n1,2\n").with_header("ETag", "\"v1\""),
    );
    let s = source(&srv.url("/x.csv"), serde_json::json!({}));
    let first = got(fetch(&s, &Validators::default(), &spool).await);
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    assert_eq!(srv.last_request_header("/x.csv", "If-None-Match"), None);
    let prev = first.validators();
    first.discard();

    match fetch(&s, &prev, &spool).await {
        Ok(Fetch::Unchanged {
            reason: NotReloaded::NotModified,
            http_status: Some(304),
            attempts: 1,
            ..
        }) => {}
        other => panic!("expected Unchanged(NotModified), have {other:?}"),
    }
    assert_eq!(
        srv.last_request_header("/x.csv", "If-None-Match")
            .as_deref(),
        Some("\"v1\"")
    );
    assert_eq!(srv.hits("/x.csv"), 2);
    spool.assert_empty();
}

async fn the_same_bytes_again_without_an_etag_are_same_content() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    let lm = "Wed, 21 Oct 2026 07:28:00 GMT";
    srv.set(
        "/x.csv",
        Response::ok("a,b\n1,2\n").with_header("Last-Modified", lm),
    );
    let s = source(&srv.url("/x.csv"), serde_json::json!({}));
    let first = got(fetch(&s, &Validators::default(), &spool).await);
    assert_eq!(first.last_modified.as_deref(), Some(lm));
    let prev = first.validators();
    first.discard();

    // This server ignores If-Modified-Since and sends the same bytes again.
    match fetch(&s, &prev, &spool).await {
        Ok(Fetch::Unchanged {
            reason: NotReloaded::SameContent,
            http_status: Some(200),
            ..
        }) => {}
        other => panic!("expected Unchanged(SameContent), have {other:?}"),
    }
    assert_eq!(
        srv.last_request_header("/x.csv", "If-Modified-Since")
            .as_deref(),
        Some(lm)
    );
    assert_eq!(srv.hits("/x.csv"), 2);
    spool.assert_empty();

    // Different bytes are a new extract.
    srv.set("/x.csv", Response::ok("a,b\n1,3\n"));
    let third = got(fetch(&s, &prev, &spool).await);
    assert_content(&third, b"a,b\n1,3\n");
    third.discard();
}

async fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fifo = tmp.path().join("extract.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let spool = Spool::new();
    let s = source(
        fifo.to_str().expect("utf-8 path"),
        serde_json::json!({ "timeout_secs": 2 }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::NotRegularFile("FIFO")),
        "{err}"
    );
    assert!(
        err.to_string().contains("not a regular file (FIFO)"),
        "{err}"
    );
    spool.assert_empty();
}

async fn dev_zero_is_refused_as_not_a_regular_file() {
    let spool = Spool::new();
    let s = source(
        "/dev/zero",
        serde_json::json!({ "timeout_secs": 2, "max_bytes": 1000 }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(
            err.reason(),
            FetchFailure::NotRegularFile("character device")
        ),
        "{err}"
    );
    spool.assert_empty();
}

async fn a_regular_file_over_max_bytes_is_too_large_and_one_under_is_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("extract.csv");
    let spool = Spool::new();

    std::fs::write(&path, body(10_000)).expect("write");
    let s = source(
        path.to_str().expect("utf-8 path"),
        serde_json::json!({ "max_bytes": 1000 }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::TooLarge(1000)),
        "{err}"
    );
    spool.assert_empty();

    let want = body(999);
    std::fs::write(&path, &want).expect("write");
    let file_url = format!("file://{}", path.display());
    let s = got(fetch(
        &source(&file_url, serde_json::json!({ "max_bytes": 1000 })),
        &Validators::default(),
        &spool,
    )
    .await);
    assert_eq!((s.http_status, s.attempts), (None, 1));
    assert_content(&s, &want);
    s.discard();
    spool.assert_empty();
}

async fn a_token_in_the_query_string_is_never_shown() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    let url = format!("{}?token=abc123&x=1", srv.url("/x.csv"));
    let s = source(&url, serde_json::json!({}));

    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    for shown in [err.to_string(), format!("{err:?}"), err.url().to_string()] {
        assert!(shown.contains("?token=***&x=***"), "{shown}");
        assert!(!shown.contains("abc123"), "{shown}");
    }

    srv.set("/x.csv", Response::ok("a\n"));
    let ok = got(fetch(&s, &Validators::default(), &spool).await);
    assert!(ok.url.ends_with("/x.csv?token=***&x=***"), "{}", ok.url);
    // The real token was sent; only the shown URL is redacted.
    assert_eq!(srv.hits("/x.csv"), 2);
    ok.discard();
}

async fn spool_files_are_0600_in_a_0700_folder_and_outlive_the_fetch() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.set("/x.csv", Response::ok("a,b\n"));
    let s = got(fetch(
        &source(&srv.url("/x.csv"), serde_json::json!({})),
        &Validators::default(),
        &spool,
    )
    .await);
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&spool.dir), 0o700);
    assert_eq!(mode(&s.path), 0o600);
    assert_eq!(s.path.parent(), Some(spool.dir.as_path()));
    assert_eq!(
        spool.files(),
        vec![s.path.clone()],
        "the caller owns the file"
    );
    s.discard();
    spool.assert_empty();
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(http_404_fails_at_once_without_a_retry),
        trial!(http_500_then_200_is_retried_and_the_second_answer_kept),
        trial!(http_500_every_time_fails_after_all_retries_with_the_status),
        trial!(http_429_with_retry_after_is_retried),
        trial!(a_retry_after_longer_than_the_time_left_is_not_waited_for),
        trial!(a_body_that_never_finishes_ends_at_the_total_timeout),
        trial!(a_body_over_max_bytes_with_an_honest_content_length_is_too_large),
        trial!(a_chunked_body_over_max_bytes_is_too_large_counted_on_bytes_read),
        trial!(a_big_chunked_body_under_the_cap_is_spooled_whole),
        trial!(a_connection_dropped_mid_body_is_retried_and_a_whole_answer_kept),
        trial!(a_connection_always_dropped_mid_body_fails_and_leaves_no_partial_spool),
        trial!(an_etag_makes_the_next_fetch_conditional_and_304_is_not_modified),
        trial!(the_same_bytes_again_without_an_etag_are_same_content),
        trial!(a_fifo_is_refused_without_waiting_for_a_writer),
        trial!(dev_zero_is_refused_as_not_a_regular_file),
        trial!(a_regular_file_over_max_bytes_is_too_large_and_one_under_is_read),
        trial!(a_token_in_the_query_string_is_never_shown),
        trial!(spool_files_are_0600_in_a_0700_folder_and_outlive_the_fetch),
    ]
}
