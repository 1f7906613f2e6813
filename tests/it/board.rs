//! The live board view from a running `sendwatch daemon`, on SQLite and PostgreSQL: the
//! board page with all 26 KPIs, a KPI's history page and the run ledger, behind the token;
//! the pages in headless Chromium with screenshots for a person to look at; an address
//! other than loopback without credentials refused at check-config.

use std::time::Duration;

use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{binary_status, repo};
use crate::ledger::ledger_config;
use crate::ops::free_port;
use crate::support::html::{rows, text_of};
use crate::support::trials::{Spec, trial};
use crate::support::{artefact, dom_and_requests, screenshot_url};
use crate::support::{assert_nothing_disclosive, backends};

const TOKEN: &str = "board-view-token-0123456789abcdef";

pub async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("GET");
    let code = r.status().as_u16();
    (code, r.text().await.expect("body"))
}

async fn the_daemon_serves_the_board_a_kpi_history_and_the_ledger_behind_its_token() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &tracker,
            &format!(
                "cron = \"*/3 * * * * *\"\n[http]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{TOKEN}\"\n"
            ),
            60,
        );
        let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let (ran, log) = wait_for_line(&rx, "Scheduled run done.", Duration::from_secs(60));
        assert!(ran, "{name}: {log:#?}");
        let base = format!("http://127.0.0.1:{port}");

        // The token guards every page but /healthz.
        for path in ["/", "/kpi/1/2a", "/runs", "/metrics"] {
            let (code, _) = get(&format!("{base}{path}"), None).await;
            assert_eq!(code, 401, "{name}: {path} without the token");
            let (code, _) = get(&format!("{base}{path}"), Some("not-the-token")).await;
            assert_eq!(code, 401, "{name}: {path} with a wrong token");
        }
        let (code, _) = get(&format!("{base}/healthz"), None).await;
        assert_ne!(
            code, 401,
            "{name}: /healthz carries no figures and stays open"
        );

        let (code, board) = get(&format!("{base}/"), Some(TOKEN)).await;
        assert_eq!(code, 200, "{name}: {board}");
        assert_eq!(rows(&board, "kpi"), 26, "{name}: all 26 KPIs on the board");
        assert!(board.contains("href=\"/kpi/1&#x2f;2a\"") || board.contains("href=\"/kpi/1/2a\""));
        let (code, kpi) = get(&format!("{base}/kpi/1/2a"), Some(TOKEN)).await;
        assert_eq!(code, 200, "{name}: {kpi}");
        assert!(
            kpi.contains("KPI 1&#x2f;2a") || kpi.contains("KPI 1/2a"),
            "{name}"
        );
        // The run stored 12 months of 1/2a; the page lists each with its RAG.
        assert_eq!(rows(&kpi, "period"), 12, "{name}: {kpi}");
        let (code, _) = get(&format!("{base}/kpi/9/9"), Some(TOKEN)).await;
        assert_eq!(code, 404, "{name}: no such KPI");
        let (code, runs) = get(&format!("{base}/runs"), Some(TOKEN)).await;
        assert_eq!(code, 200, "{name}");
        assert!(rows(&runs, "run") >= 1, "{name}: {runs}");
        for (page, html) in [("board", &board), ("kpi", &kpi), ("runs", &runs)] {
            assert_nothing_disclosive(&format!("\n\n{}", text_of(html)), &format!("{name} {page}"));
            assert!(!html.contains("<script"), "{name}: {page} has a script");
        }

        // In a browser (the token as the Basic password in the URL): the board's table and a
        // KPI's history render, nothing else is fetched, and screenshots are saved.
        let authed = format!("http://board:{TOKEN}@127.0.0.1:{port}");
        let (dom, requests) = dom_and_requests(&format!("{authed}/"));
        assert_eq!(rows(&dom, "kpi"), 26, "{name}: the rendered board");
        assert!(
            requests.iter().all(|u| u.starts_with(&base)),
            "{name}: the board asked elsewhere: {requests:?}"
        );
        let (dom, _) = dom_and_requests(&format!("{authed}/kpi/1/2a"));
        assert_eq!(rows(&dom, "period"), 12, "{name}: the rendered history");
        screenshot_url(
            &format!("{authed}/"),
            &artefact(&format!("board-{name}.png")),
            1400,
            2000,
        );
        screenshot_url(
            &format!("{authed}/kpi/1/2a"),
            &artefact(&format!("board-kpi-{name}.png")),
            1000,
            1400,
        );

        signal(&child, "TERM");
        let status = child.wait().expect("daemon exits");
        assert!(status.success(), "{name}: {status:?}");
    }
}

fn check_config_refuses_an_open_address_other_than_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = repo("examples/tracker.csv").display().to_string();
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let open = ledger_config(
        dir.path(),
        &db,
        &tracker,
        "cron = \"0 7 2 * *\"\n[http]\nlisten = \"0.0.0.0:9187\"\n",
        60,
    );
    let (code, out, err) = binary_status(dir.path(), &open, &[], &["check-config"]);
    assert_eq!(code, Some(78), "{out}\n{err}");
    assert!(
        err.contains("http.listen") && err.contains("no credentials"),
        "{err}"
    );

    // With a token from a file it passes; a short one is refused.
    let token = dir.path().join("http_token");
    std::fs::write(&token, format!("{TOKEN}\n")).expect("token file");
    let guarded = ledger_config(
        dir.path(),
        &db,
        &tracker,
        &format!(
            "cron = \"0 7 2 * *\"\n[http]\nlisten = \"0.0.0.0:9187\"\ntoken_file = {:?}\n",
            token.display().to_string()
        ),
        60,
    );
    let (code, out, err) = binary_status(dir.path(), &guarded, &[], &["check-config"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    std::fs::write(&token, "short\n").expect("token file");
    let (code, _, err) = binary_status(dir.path(), &guarded, &[], &["check-config"]);
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("http.token: must be at least 32"), "{err}");
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(the_daemon_serves_the_board_a_kpi_history_and_the_ledger_behind_its_token)
            .each_backend()
            .chromium()
            .multi_thread(2),
        trial!(check_config_refuses_an_open_address_other_than_loopback),
    ]
}
