//! A source URL's query values never show: not in check-config's report, not in `loads.url`
//! or a load's error, not in a mail (text or HTML). Only the keys are shown
//! (`?auth=***&page=***`), whatever they are called.

use sendwatch::job::SourceOutcome;

use crate::harness::run_example;
use crate::harness::{GoodLoad, Mail, app, binary, folder_config, folder_mail, outbox, repo};
use crate::support::{HttpServer, Response, backends};

const SECRETS: [&str; 3] = ["SECRETVALUE", "PWDVALUE", "SESSIONVALUE"];
const QUERY: &str = "?auth=SECRETVALUE&pwd=PWDVALUE&session=SESSIONVALUE&page=2";
const SHOWN: &str = "?auth=***&pwd=***&session=***&page=***";

fn assert_hidden(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

fn mail_text(m: &Mail) -> String {
    format!(
        "{}\n{}\n{}",
        m.headers,
        m.body,
        m.html.as_deref().unwrap_or("")
    )
}

async fn query_values_of_a_source_url_show_in_no_report_row_or_mail() {
    let tracker = std::fs::read(repo("examples/tracker.csv")).expect("tracker");
    let srv = HttpServer::start().await;
    for backend in backends().await {
        let path = format!("/{}/tracker.csv", backend.name);
        let url = format!("{}{QUERY}", srv.url(&path));
        let shown = format!("{}{SHOWN}", srv.url(&path));
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &url);

        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["check-config"]);
        assert!(ok, "{out}{err}");
        assert!(out.contains(&shown), "{out}");
        assert_hidden(&format!("{out}{err}"), "check-config");

        let app = app(&cfg).await;
        srv.set(&path, Response::ok(tracker.clone()));
        let good = GoodLoad::run(&app).await;
        // The server was asked with the real values; only what is shown is redacted.
        assert_eq!(srv.hits(&path), 1);
        let loads = app
            .store
            .run_loads(good.report.run_id)
            .await
            .expect("loads");
        assert_eq!(loads[0].url, shown);

        // A failed fetch: its error, stored and mailed, names the URL too.
        srv.set(&path, Response::status(500));
        let r = run_example(&app).await;
        let SourceOutcome::FetchFailed { error } = &r.sources[0].1 else {
            panic!("{:?}", r.sources)
        };
        assert!(error.contains(&shown), "{error}");
        assert_hidden(error, "the fetch error");
        let loads = app.store.run_loads(r.run_id).await.expect("loads");
        assert_eq!(loads[0].url, shown);
        assert_hidden(loads[0].error.as_deref().unwrap_or(""), "loads.error");

        let mails = folder_mail(&outbox(dir.path()));
        assert!(
            mails.iter().any(|m| mail_text(m).contains(&shown)),
            "no mail names the source's URL, so this test shows nothing"
        );
        for m in &mails {
            assert_hidden(&mail_text(m), "a mail");
        }
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(query_values_of_a_source_url_show_in_no_report_row_or_mail).each_backend()]
}
