//! Bad input on purpose: every fault the generator makes, HTTP errors, refused connections
//! and timeouts. Each is a clear error naming the file (and line and column where they
//! apply), the run records it, and the KPIs still read the last good load.

use std::time::Duration;

use sendwatch::job::{App, RunReport, SourceOutcome};
use sendwatch::load::LoadSettings;
use sendwatch::store::RunStatus;

use crate::harness::{
    GoodLoad, app, fixture, fixture_meta, folder_config, folder_mail, outbox, parse_rows, repo,
    run_example,
};
use crate::support::{HttpServer, Response, backends, refused_url};

const REJECTED_FAULTS: [&str; 7] = [
    "bad-dates",
    "missing-column",
    "extra-column",
    "duplicate-ids",
    "truncated",
    "empty",
    "wrong-encoding",
];

/// What the error must say for a fault, worked out from the generator's own record of it.
fn expected_location(fault: &str) -> String {
    let meta = fixture_meta(fault);
    let d = &meta["fault_detail"];
    let columns: Vec<String> = meta["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().expect("name").to_string())
        .collect();
    let col = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .expect("known column")
            + 1
    };
    let row_line = |row: &serde_json::Value| row.as_u64().expect("row number") + 1; // header is line 1
    match fault {
        "bad-dates" => {
            let first = &d["rows"][0];
            let name = first[1].as_str().expect("column");
            format!(
                "line {}, column {} ({name})",
                row_line(&first[0]),
                col(name)
            )
        }
        "missing-column" => format!(
            "line 1: missing column `{}`",
            d["dropped_column"].as_str().expect("name")
        ),
        "extra-column" => format!(
            "line 1, column {} (free_text_notes)",
            d["position"].as_u64().expect("pos") + 1
        ),
        "duplicate-ids" => format!(
            "line {}, column 1 (case_id)",
            row_line(&d["id_clash_rows"][0][0])
        ),
        "truncated" => format!(
            "line {}: ",
            d["complete_data_rows"].as_u64().expect("rows") + 2
        ),
        "empty" => "the file is empty".to_string(),
        "wrong-encoding" => {
            let name = d["column"].as_str().expect("column");
            format!(
                "line {}, column {} ({name})",
                row_line(&d["rows"][0]),
                col(name)
            )
        }
        other => panic!("no expectation for {other}"),
    }
}

/// The last good load is still what the KPIs read, and the run that failed says so.
async fn assert_last_good_kept(app: &App, good: &GoodLoad, after: &RunReport) {
    good.assert_still_current(app, after).await;
    assert_eq!(after.status, RunStatus::Failed);
}

async fn every_generator_fault_is_rejected_by_line_and_column_and_the_last_good_load_stays() {
    let http = HttpServer::start().await;
    let good_csv = std::fs::read(repo("examples/tracker.csv")).expect("example");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = http.url(&format!("/{}/tracker.csv", backend.name));
        let cfg = folder_config(dir.path(), &backend.url, &url);
        let app = app(&cfg).await;
        http.set(
            &format!("/{}/tracker.csv", backend.name),
            Response::ok(good_csv.clone()),
        );
        let good = GoodLoad::run(&app).await;

        for fault in REJECTED_FAULTS {
            let bytes = std::fs::read(fixture(fault)).expect("fixture");
            http.set(
                &format!("/{}/tracker.csv", backend.name),
                Response::ok(bytes),
            );
            let r = run_example(&app).await;
            let SourceOutcome::Rejected { error } = &r.sources[0].1 else {
                panic!(
                    "{}: {fault} was not rejected: {:?}",
                    backend.name, r.sources
                );
            };
            assert!(
                error.starts_with(&url),
                "{fault}: the error names the file: {error}"
            );
            let want = expected_location(fault);
            assert!(error.contains(&want), "{fault}: want `{want}` in: {error}");
            if fault == "truncated" {
                assert!(error.contains("truncated"), "{error}");
            }
            assert_last_good_kept(&app, &good, &r).await;
            let loads = app.store.run_loads(r.run_id).await.expect("loads");
            assert_eq!(loads[0].outcome, "rejected");
            assert!(loads[0].error.as_deref().is_some_and(|e| e.contains(&want)));
            assert_eq!(
                app.store.run(r.run_id).await.expect("run").status,
                RunStatus::Failed
            );
        }
        app.store.close().await;
    }
}

fn bom_and_crlf_are_accepted_and_a_huge_field_is_not() {
    let settings = LoadSettings::default();
    let read = |fault: &str| std::fs::read(fixture(fault)).expect("fixture");
    let (_, clean) = parse_rows(&read("none"), "tracker", &settings).expect("clean");
    for fault in ["bom", "crlf"] {
        let (_, rows) = parse_rows(&read(fault), "tracker", &settings)
            .unwrap_or_else(|e| panic!("{fault}: {e}"));
        assert_eq!(rows, clean, "{fault} reads the same rows");
    }
    let err = parse_rows(&read("huge-field"), "tracker", &settings).unwrap_err();
    let row = fixture_meta("huge-field")["fault_detail"]["row"]
        .as_u64()
        .expect("row");
    assert!(
        err.to_string()
            .contains(&format!("line {}, column 11 (caseworker_team)", row + 1)),
        "{err}"
    );
}

async fn http_500_refused_connection_and_timeout_are_recorded_and_lose_nothing() {
    let http = HttpServer::start().await;
    let good_csv = std::fs::read(repo("examples/tracker.csv")).expect("example");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = outbox(dir.path());
        let path = format!("/{}/flaky.csv", backend.name);
        let url = http.url(&path);
        let cfg = folder_config(dir.path(), &backend.url, &url);
        let app = app(&cfg).await;
        http.set(&path, Response::ok(good_csv.clone()));
        let good = GoodLoad::run(&app).await;

        // HTTP 500.
        http.set(&path, Response::status(500));
        let before = folder_mail(&outbox).len();
        let r = run_example(&app).await;
        let SourceOutcome::FetchFailed { error } = &r.sources[0].1 else {
            panic!("{:?}", r.sources)
        };
        assert!(
            error.contains("source `tracker`")
                && error.contains(&url)
                && error.contains("HTTP 500"),
            "{error}"
        );
        assert_last_good_kept(&app, &good, &r).await;
        let loads = app.store.run_loads(r.run_id).await.expect("loads");
        assert_eq!(
            (loads[0].outcome.as_str(), loads[0].http_status),
            ("fetch_failed", Some(500))
        );
        // The reports still go out, saying the figures are from the last good load (news:
        // the same KPIs, now from an older load): to performance and health's two owners.
        let mails = folder_mail(&outbox);
        assert_eq!(mails.len(), before + 3);
        assert!(
            mails
                .iter()
                .all(|m| !m.body.contains("WARNING") || m.body.contains("HTTP 500"))
        );
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.body.contains("WARNING") && m.body.contains("HTTP 500"))
                .count(),
            3
        );

        // A timeout: the server answers after the source's 2 s limit.
        http.set(
            &path,
            Response::ok(good_csv.clone()).with_delay(Duration::from_secs(5)),
        );
        let r = run_example(&app).await;
        let SourceOutcome::FetchFailed { error } = &r.sources[0].1 else {
            panic!("{:?}", r.sources)
        };
        assert!(error.contains("timed out after 2 s"), "{error}");
        assert_last_good_kept(&app, &good, &r).await;
        app.store.close().await;

        // Connection refused: the same database, a source nobody listens on.
        let refused = refused_url();
        let cfg = folder_config(dir.path(), &backend.url, &refused);
        let app = crate::harness::app(&cfg).await;
        let r = run_example(&app).await;
        let SourceOutcome::FetchFailed { error } = &r.sources[0].1 else {
            panic!("{:?}", r.sources)
        };
        assert!(error.contains("connection failed"), "{error}");
        assert!(error.to_lowercase().contains("refused"), "{error}");
        assert_last_good_kept(&app, &good, &r).await;
        let loads = app.store.run_loads(r.run_id).await.expect("loads");
        assert_eq!(
            (loads[0].outcome.as_str(), loads[0].http_status),
            ("fetch_failed", None)
        );
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(every_generator_fault_is_rejected_by_line_and_column_and_the_last_good_load_stays)
            .each_backend(),
        trial!(bom_and_crlf_are_accepted_and_a_huge_field_is_not),
        trial!(http_500_refused_connection_and_timeout_are_recorded_and_lose_nothing)
            .each_backend(),
    ]
}
