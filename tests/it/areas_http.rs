//! Isolation of areas in the live view (issue 19), through the real daemon serving two areas
//! on SQLite and PostgreSQL: each area's token opens its own pages and none of the other's,
//! whatever the path or parameter tricks, with curl-like requests and in headless Chromium;
//! the operator token sees the health, metrics and ledger of both and no area's figures.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::board::get;
use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{Delivery, outbox, repo, write_config};
use crate::ops::free_port;
use crate::support::backends;
use crate::support::dom_and_requests;
use crate::support::html::{decode, rows};
use crate::support::trials::{Spec, trial};

const SEFTON: &str = "sefton-area-token-0123456789abcdef";
const WIGAN: &str = "wigan-area-token-0123456789abcdefgh";
const OPERATOR: &str = "operator-token-0123456789abcdefghij";

/// The two areas of `areas.rs`, each with its own token, served on `port`.
fn deployment(dir: &std::path::Path, db: &str, port: u16) -> std::path::PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    crate::areas::wigan_plan(dir);
    std::fs::create_dir_all(dir.join("areas")).expect("areas");
    std::fs::write(
        dir.join("areas/sefton.toml"),
        format!("[general]\narea = \"Sefton\"\n\n[http]\ntoken = \"{SEFTON}\"\n"),
    )
    .expect("a");
    std::fs::write(
        dir.join("areas/wigan.toml"),
        format!(
            "[general]\narea = \"Wigan\"\n\n[plan]\ndir = \"../plans/wigan\"\n\n[http]\ntoken = \"{WIGAN}\"\n"
        ),
    )
    .expect("b");
    write_config(
        dir,
        db,
        &tracker,
        Delivery::Folder(&outbox(dir)),
        &format!(
            "[jobs.monthly-exceptions]\ncron = \"*/3 * * * * *\"\n\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
             operator_token = \"{OPERATOR}\"\n\n[areas]\ndir = \"areas\"\n"
        ),
    )
}

/// A request with `path` sent as written (no client tidies its `..` or `%2f`).
async fn raw(port: u16, path: &str, token: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

/// Wait until both areas have run once (the operator's ledger shows each).
async fn wait_for_both(base: &str) {
    for _ in 0..120 {
        let (code, body) = get(&format!("{base}/runs"), Some(OPERATOR)).await;
        if code == 200 && body.contains(">wigan<") && body.contains(">sefton<") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("both areas did not run within a minute");
}

/// Nothing of Wigan's in a body Sefton's token got.
fn none_of_wigans(body: &str, what: &str) {
    assert!(
        !body.contains("W1") && !body.contains("Wigan") && !body.contains("wigan"),
        "{what}: {body}"
    );
}

async fn an_areas_token_opens_its_own_pages_and_nothing_of_another_areas() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let cfg = deployment(dir.path(), &backend.url, port);
        let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let (up, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
        assert!(up, "{name}: {log:#?}");
        let base = format!("http://127.0.0.1:{port}");
        wait_for_both(&base).await;

        // Its own pages.
        let (code, board) = get(&format!("{base}/a/sefton/"), Some(SEFTON)).await;
        assert_eq!(code, 200, "{name}: {board}");
        assert_eq!(rows(&board, "kpi"), 26, "{name}: Sefton's board");
        assert!(
            decode(&board).contains("href=\"/a/sefton/kpi/"),
            "{name}: links stay in the area: {board}"
        );
        let (code, w) = get(&format!("{base}/a/wigan/"), Some(WIGAN)).await;
        assert_eq!(
            (code, rows(&w, "kpi")),
            (200, 1),
            "{name}: Wigan's board: {w}"
        );
        for path in ["/a/sefton/kpi/1/2a", "/a/sefton/runs", "/a/sefton"] {
            let (code, body) = get(&format!("{base}{path}"), Some(SEFTON)).await;
            assert_eq!(code, 200, "{name}: {path}");
            none_of_wigans(&body, &format!("{name} {path}"));
        }

        // Every page of Wigan's with Sefton's token, and the tricks: nothing.
        for path in [
            "/a/wigan/",
            "/a/wigan",
            "/a/wigan/kpi/W1",
            "/a/wigan/runs",
            "/a/WIGAN/",
            "/a/wigan%2f",
            "/a/sefton/../wigan/",
            "/a/sefton/%2e%2e/wigan/runs",
            "/a/sefton%2f..%2fwigan/",
            "/a/sefton/kpi/..%2f..%2f..%2fwigan%2fruns",
            "//a/wigan/",
            "/a/./wigan/runs",
            "/kpi/W1",
            "/runs",
            "/metrics",
            "/?area=wigan",
            "/a/sefton/?area=wigan",
            "/a/sefton/runs?area=wigan",
        ] {
            let (code, body) = raw(port, path, SEFTON).await;
            assert!(
                code == 404 || code == 200 || code == 400,
                "{name}: {path}: {code}"
            );
            none_of_wigans(&body, &format!("{name} {path} with Sefton's token"));
        }
        // The index shows Sefton's token its own area only.
        let (code, index) = get(&format!("{base}/"), Some(SEFTON)).await;
        assert_eq!(code, 200, "{name}");
        none_of_wigans(&index, &format!("{name}: the index"));
        // No token, a wrong one: refused.
        for path in ["/", "/a/sefton/", "/a/wigan/runs", "/runs", "/metrics"] {
            assert_eq!(
                get(&format!("{base}{path}"), None).await.0,
                401,
                "{name}: {path}"
            );
            assert_eq!(
                get(&format!("{base}{path}"), Some("x".repeat(40).as_str()))
                    .await
                    .0,
                401
            );
        }
        let (code, health) = get(&format!("{base}/healthz"), None).await;
        assert_eq!(code, 200, "{name}: {health}");
        none_of_wigans(&health, &format!("{name}: /healthz without a token"));

        // The operator: the health, metrics and ledger of both, no area's figures.
        let (code, runs) = get(&format!("{base}/runs"), Some(OPERATOR)).await;
        assert_eq!(code, 200, "{name}");
        assert!(
            runs.contains(">wigan<") && runs.contains(">sefton<"),
            "{name}: {runs}"
        );
        let (code, metrics) = get(&format!("{base}/metrics"), Some(OPERATOR)).await;
        assert_eq!(code, 200, "{name}");
        assert!(
            metrics.contains("wigan/monthly-exceptions"),
            "{name}: {metrics}"
        );
        let (_, health) = get(&format!("{base}/healthz"), Some(OPERATOR)).await;
        assert!(health.contains("\"area\":\"wigan\""), "{name}: {health}");
        for path in ["/a/wigan/", "/a/sefton/kpi/1/2a", "/a/wigan/runs"] {
            let (code, body) = get(&format!("{base}{path}"), Some(OPERATOR)).await;
            assert_eq!(code, 404, "{name}: {path} is an area's: {body}");
        }

        // In a browser, with Sefton's token as the Basic password.
        let authed = format!("http://board:{SEFTON}@127.0.0.1:{port}");
        let (dom, _) = dom_and_requests(&format!("{authed}/a/wigan/"));
        none_of_wigans(&dom, &format!("{name}: Chromium on Wigan's board"));
        let (dom, _) = dom_and_requests(&format!("{authed}/a/wigan/kpi/W1"));
        none_of_wigans(&dom, &format!("{name}: Chromium on Wigan's KPI"));
        let (dom, requests) = dom_and_requests(&format!("{authed}/a/sefton/"));
        assert_eq!(rows(&dom, "kpi"), 26, "{name}: Chromium on Sefton's board");
        assert!(
            requests.iter().all(|u| u.starts_with(&base)),
            "{name}: {requests:?}"
        );

        signal(&child, "TERM");
        let status = child.wait().expect("daemon exits");
        assert!(status.success(), "{name}: {status:?}");
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(an_areas_token_opens_its_own_pages_and_nothing_of_another_areas)
            .each_backend()
            .chromium(),
    ]
}
