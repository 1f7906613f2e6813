//! Redirects of HTTP(S) sources against real loopback servers (one speaking TLS with the test
//! CA's certificate): https is never given up for plain http (the plain server sees no
//! request, and the last good load stays current), credentials never reach another host a
//! redirect leads to (the error says so), they do follow a redirect on the source's own host,
//! and a redirect loop ends at the bound.

use std::collections::BTreeMap;
use std::path::Path;

use sendwatch::job::SourceOutcome;
use sendwatch::source::{FetchFailure, Fetcher, Validators};

use crate::fetch::{Spool, failed, fetch, got, source};
use crate::harness::{GoodLoad, app, folder_config, repo, run_example};
use crate::support::{HttpServer, Response, backends};

/// The CA that signed the TLS server's certificate.
fn ca_file() -> String {
    repo("tests/fixtures/tls/ca.pem").display().to_string()
}

fn redirect(code: u16, to: &str) -> Response {
    Response::status(code).with_header("Location", to)
}

async fn an_https_source_redirected_to_plain_http_is_refused_and_nothing_goes_over_http() {
    let tls = HttpServer::start_tls().await;
    let plain = HttpServer::start().await;
    let spool = Spool::new();
    plain.set("/x.csv", Response::ok("a,b\n1,2\n"));
    let downgrade = format!("{}?sig=SIGVALUE", plain.url("/x.csv"));
    tls.set("/x.csv", redirect(302, &downgrade));
    let s = source(
        &tls.url("/x.csv"),
        serde_json::json!({ "ca_file": ca_file(), "username": "u", "password": "PASSWORD" }),
    );

    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(matches!(err.reason(), FetchFailure::Redirect(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("redirect refused")
            && text.contains("a redirect from https to plain http is never followed")
            && text.contains(&tls.url("/x.csv"))
            && text.contains(&format!("{}?sig=***", plain.url("/x.csv"))),
        "{text}"
    );
    assert!(
        !text.contains("SIGVALUE") && !text.contains("PASSWORD"),
        "{text}"
    );
    assert_eq!(
        (tls.hits("/x.csv"), plain.hits("/x.csv"), err.attempts()),
        (1, 0, 1),
        "asked once over TLS, never over plain http, not retried"
    );
    spool.assert_empty();

    // check-config --connect's probe follows the same rules.
    let fetcher = Fetcher::new(&BTreeMap::from([("t".to_string(), s.clone())])).expect("fetcher");
    let probed = fetcher.probe("t", &s).await.expect_err("refused");
    assert!(
        matches!(probed.reason(), FetchFailure::Redirect(_)),
        "{probed}"
    );
    assert_eq!(plain.hits("/x.csv"), 0);
}

/// `write_config`'s tracker source, trusting the test CA.
fn trusting_the_test_ca(cfg: &Path) {
    let text = std::fs::read_to_string(cfg).expect("config");
    let text = text.replacen(
        "[sources.tracker]\n",
        &format!("[sources.tracker]\nca_file = {:?}\n", ca_file()),
        1,
    );
    std::fs::write(cfg, text).expect("config");
}

async fn an_https_to_http_redirect_fails_the_fetch_and_the_last_good_load_stays_current() {
    let tracker = std::fs::read(repo("examples/tracker.csv")).expect("tracker");
    let tls = HttpServer::start_tls().await;
    let plain = HttpServer::start().await;
    for backend in backends().await {
        let path = format!("/{}/tracker.csv", backend.name);
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &tls.url(&path));
        trusting_the_test_ca(&cfg);
        let app = app(&cfg).await;
        tls.set(&path, Response::ok(tracker.clone()));
        let good = GoodLoad::run(&app).await;

        // The same extract, offered over plain http.
        plain.set(&path, Response::ok(tracker.clone()));
        tls.set(&path, redirect(301, &plain.url(&path)));
        let r = run_example(&app).await;
        let SourceOutcome::FetchFailed { error } = &r.sources[0].1 else {
            panic!("{:?}", r.sources)
        };
        assert!(
            error.contains("redirect refused") && error.contains("https to plain http"),
            "{error}"
        );
        good.assert_still_current(&app, &r).await;
        assert_eq!(plain.hits(&path), 0, "nothing was asked over plain http");
        let loads = app.store.run_loads(r.run_id).await.expect("loads");
        assert_eq!(loads[0].outcome, "fetch_failed");
        app.store.close().await;
    }
}

async fn credentials_never_reach_another_host_a_redirect_leads_to() {
    let origin = HttpServer::start().await;
    let other = HttpServer::start().await;
    let spool = Spool::new();
    // Basic auth: the other host wants it too, so its 401 shows the credentials stayed home.
    origin.require_basic_auth("u", "PASSWORD");
    other.require_basic_auth("u", "PASSWORD");
    let elsewhere = format!("http://localhost:{}/x.csv", other.addr().port());
    origin.set("/x.csv", redirect(302, &elsewhere));
    let s = source(
        &format!("{}?token=TOKENVALUE", origin.url("/x.csv")),
        serde_json::json!({ "username": "u", "password": "PASSWORD" }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(
        matches!(err.reason(), FetchFailure::CredentialsWithheld { status: 401, at } if at == &elsewhere),
        "{err}"
    );
    assert_eq!(err.http_status(), Some(401));
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401 Unauthorized from http://localhost:")
            && text.contains("another host")
            && text.contains("credentials were not sent"),
        "{text}"
    );
    assert!(
        !text.contains("PASSWORD") && !text.contains("TOKENVALUE"),
        "{text}"
    );
    assert!(
        origin
            .last_request_header("/x.csv", "authorization")
            .is_some(),
        "the source's own host had them"
    );
    assert_eq!(other.hits("/x.csv"), 1);
    assert_eq!(other.last_request_header("/x.csv", "authorization"), None);
    // No Referer either: it would carry the source's URL, query token and all.
    assert_eq!(other.last_request_header("/x.csv", "referer"), None);
    spool.assert_empty();

    // A bearer token, and a host that needs none (a pre-signed download): fetched without it.
    let open = HttpServer::start().await;
    open.set("/signed.csv", Response::ok("a,b\n1,2\n"));
    let tokened = HttpServer::start().await;
    tokened.set("/x.csv", redirect(307, &open.url("/signed.csv")));
    let s = source(
        &tokened.url("/x.csv"),
        serde_json::json!({ "bearer_token": "BEARERVALUE" }),
    );
    let ok = got(fetch(&s, &Validators::default(), &spool).await);
    assert_eq!(
        tokened
            .last_request_header("/x.csv", "authorization")
            .as_deref(),
        Some("Bearer BEARERVALUE")
    );
    assert_eq!(open.hits("/signed.csv"), 1);
    assert_eq!(
        open.last_request_header("/signed.csv", "authorization"),
        None
    );
    ok.discard();
    spool.assert_empty();
}

async fn a_redirect_on_the_same_host_keeps_the_credentials_and_a_loop_ends_at_the_bound() {
    let srv = HttpServer::start().await;
    let spool = Spool::new();
    srv.require_basic_auth("u", "PASSWORD");
    srv.set("/old.csv", redirect(301, "/x.csv"));
    srv.set("/x.csv", Response::ok("a,b\n1,2\n"));
    let s = source(
        &srv.url("/old.csv"),
        serde_json::json!({ "username": "u", "password": "PASSWORD" }),
    );
    let ok = got(fetch(&s, &Validators::default(), &spool).await);
    assert_eq!(
        (srv.hits("/old.csv"), srv.hits("/x.csv"), ok.attempts),
        (1, 1, 1)
    );
    assert!(
        ok.url.ends_with("/old.csv"),
        "the configured URL is recorded"
    );
    ok.discard();

    srv.set("/loop.csv", redirect(302, "/loop.csv"));
    let s = source(
        &srv.url("/loop.csv"),
        serde_json::json!({ "username": "u", "password": "PASSWORD" }),
    );
    let err = failed(fetch(&s, &Validators::default(), &spool).await);
    assert!(matches!(err.reason(), FetchFailure::Redirect(_)), "{err}");
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    assert_eq!(
        (srv.hits("/loop.csv"), err.attempts()),
        (11, 1),
        "the first request and ten redirects, not retried"
    );
    spool.assert_empty();
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(an_https_source_redirected_to_plain_http_is_refused_and_nothing_goes_over_http),
        trial!(an_https_to_http_redirect_fails_the_fetch_and_the_last_good_load_stays_current)
            .each_backend(),
        trial!(credentials_never_reach_another_host_a_redirect_leads_to),
        trial!(a_redirect_on_the_same_host_keeps_the_credentials_and_a_loop_ends_at_the_bound),
    ]
}
