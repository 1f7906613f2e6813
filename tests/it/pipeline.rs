//! End to end: an HTTP server on loopback serves the extract, the job fetches, loads,
//! evaluates, and a real SMTP server on loopback receives the exception reports.

use sha2::{Digest, Sha256};

use sendwatch::store::RunStatus;

use crate::harness::{
    Delivery, Mail, app, big_tracker, oracle, pct, run_example, share, write_config,
};
use crate::support::{HttpServer, Response, SmtpOptions, SmtpSink, backends};

async fn fetch_load_evaluate_and_mail_on_both_backends() {
    let sink = SmtpSink::start(SmtpOptions {
        auth: Some(("sendwatch".into(), "mail-pass-e2e".into())),
        ..Default::default()
    });
    // The example twice over (ids made unique): the same percentages from twice the counts.
    // In the example itself 1/5's June 2021 (19 of 22 on time) has a rest under 5, so it is
    // not rated and, with July, raises no risk (issue 17); doubled, it is rated, and R10's
    // trigger reads two rated RED months.
    let data = tempfile::tempdir().expect("tempdir");
    let csv_path = data.path().join("tracker.csv");
    std::fs::write(&csv_path, big_tracker(2, "x")).expect("write the extract");
    let csv = std::fs::read(&csv_path).expect("the extract");
    let sha: String = Sha256::digest(&csv)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let http = HttpServer::start().await;
    http.set("/exports/tracker.csv", Response::ok(csv.clone()));
    let url = http.url("/exports/tracker.csv");

    // The example was generated with --as-of 2021-07-31, so the report is for July 2021.
    let ehcp = oracle(
        &csv_path,
        "request_received_date",
        "final_plan_issued_date",
        140,
        "2021-07",
        Some("2020-01-01"),
    );
    let ehcp_prev = oracle(
        &csv_path,
        "request_received_date",
        "final_plan_issued_date",
        140,
        "2021-06",
        Some("2020-01-01"),
    );
    let health = oracle(
        &csv_path,
        "health_advice_requested_date",
        "health_advice_returned_date",
        42,
        "2021-07",
        None,
    );
    let health_prev = oracle(
        &csv_path,
        "health_advice_requested_date",
        "health_advice_returned_date",
        42,
        "2021-06",
        None,
    );
    assert!(
        ehcp.1 > 0 && health.1 > 0,
        "the example has data for July 2021"
    );

    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(
            dir.path(),
            &backend.url,
            &url,
            Delivery::Smtp {
                port: sink.port(),
                auth: Some(("sendwatch", "mail-pass-e2e")),
            },
            "",
        );
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let report = run_example(&app).await;
        assert_eq!(report.status, RunStatus::Ok, "{}: {report:?}", backend.name);
        // One report per sub-group with a slipped KPI (performance, health), and one to the
        // risk log's holder: 1/2a RED three months running raises R12, 1/5 two months R10.
        let all = sink.wait_for(before + 4).await;
        let mails = &all[before..];
        assert_eq!(mails.len(), 4, "{}: one digest per recipient", backend.name);
        let holder = mails
            .iter()
            .find(|m| m.rcpt_tos == vec!["governance@example.org".to_string()])
            .map(|m| Mail::parse(&m.data))
            .expect("report to the risk log's holder");
        for r in ["Risk R10: ", "Risk R12: "] {
            assert!(holder.body.contains(r), "{r} not in\n{}", holder.body);
        }
        // R10's trigger read two rated months, and its reason shows them.
        let why = format!(
            "Why: KPI 1/5 was RED for 2 periods running: June 2021 {} against 95.0%, July \
             2021 {} against 95.0%",
            pct(health_prev.0, health_prev.1),
            pct(health.0, health.1)
        );
        let flat = holder.body.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&why), "`{why}` not in\n{}", holder.body);
        for m in mails {
            assert_eq!(m.auth_password.as_deref(), Some("mail-pass-e2e"));
            assert_eq!(m.mail_from, "sendwatch@example.org");
        }

        let perf = mails
            .iter()
            .find(|m| m.rcpt_tos == vec!["pm-ap-subgroup@example.org".to_string()])
            .expect("report to the performance sub-group");
        let perf = Mail::parse(&perf.data);
        let subject = perf.header("Subject").expect("subject");
        assert!(subject.contains("July 2021"), "{subject}");
        assert!(subject.contains("1 KPI slipped"), "{subject}");
        assert!(
            subject.contains("Performance Management and Assessment & Provision Sub Group"),
            "{subject}"
        );
        assert!(perf.body.contains("KPI 1/2a: "), "{}", perf.body);
        let value_line = format!(
            "Value:            {} new EHC plans within 20 weeks)",
            share(ehcp.0, ehcp.1)
        );
        assert!(
            perf.body.contains(&value_line),
            "want `{value_line}` in\n{}",
            perf.body
        );
        assert!(
            perf.body
                .contains("Target in force:  75.0% (milestone from June 2021"),
            "{}",
            perf.body
        );
        let previous = share(ehcp_prev.0, ehcp_prev.1);
        let previous = match previous.split_once(" (") {
            Some((shown, _)) if !shown.starts_with("not shown") => pct(ehcp_prev.0, ehcp_prev.1),
            _ => "not shown: <5 in a count".to_string(),
        };
        assert!(
            perf.body
                .contains(&format!("Previous value:   {previous} (June 2021)"))
        );
        assert!(perf.body.contains("RAG:              RED"));
        assert!(perf.body.contains(&url), "names the extract's URL");
        assert!(perf.body.contains(&sha), "carries the extract's sha256");
        assert!(perf.body.contains("HTTP 200"));

        let health_mail = mails
            .iter()
            .find(|m| m.rcpt_tos == vec!["health-performance@example.org".to_string()])
            .expect("digest to health's first owner");
        let health_mail = Mail::parse(&health_mail.data);
        let value_line = format!(
            "Value:            {} health advice requests within 6 weeks)",
            share(health.0, health.1)
        );
        assert!(
            health_mail.body.contains(&value_line),
            "want `{value_line}` in\n{}",
            health_mail.body
        );
        assert!(health_mail.body.contains("Target in force:  95.0%"));

        // Nothing child-level: no case id from the extract appears in any message.
        for m in mails {
            assert!(!m.data.contains("C000"), "a case id leaked into an email");
        }

        // The run, its fetch and its results are on record.
        let run = app.store.run(report.run_id).await.expect("run record");
        assert_eq!(run.status, RunStatus::Ok);
        let loads = app.store.run_loads(report.run_id).await.expect("loads");
        assert_eq!(loads.len(), 1);
        assert_eq!(loads[0].outcome, "loaded");
        assert_eq!(loads[0].http_status, Some(200));
        assert_eq!(loads[0].sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(loads[0].bytes, Some(csv.len() as i64));
        assert_eq!(loads[0].rows_loaded, Some(2 * 540));
        let results = app.store.run_results(report.run_id).await.expect("results");
        // The three computed KPIs of the catalogue: 1/2 (no target since its reporting
        // period ended in April 2020, so not mailed) beside the two slipped ones.
        let rags: Vec<(&str, &str, &str)> = results
            .iter()
            .filter(|(_, period, _, _)| period == "2021-07")
            .map(|(id, period, rag, _)| (id.as_str(), period.as_str(), rag.as_str()))
            .collect();
        // The months before the report period are recorded too: the history the risk
        // triggers and the board's table read (twelve months of 1/2a, June 2021 among them).
        let history = results.iter().filter(|r| r.0 == "1/2a").count();
        assert_eq!(history, 12, "{results:?}");
        assert!(results.iter().any(|r| r.0 == "1/2a" && r.1 == "2021-06"));
        assert_eq!(
            rags,
            [
                ("1/2", "2021-07", "NO TARGET"),
                ("1/2a", "2021-07", "RED"),
                ("1/5", "2021-07", "RED")
            ],
            "{results:?}"
        );
        let outbox = app.store.run_mail(report.run_id).await.expect("outbox");
        assert!(
            outbox
                .iter()
                .all(|o| o.status == "sent" && o.sent_at.is_some())
        );
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(fetch_load_evaluate_and_mail_on_both_backends)
            .each_backend()
            .smtp(),
    ]
}
