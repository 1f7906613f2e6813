//! SMTP refusals: a permanent refusal is recorded and not retried; a temporary one leaves the
//! report in the outbox, and a later run delivers it. Nothing is lost, nothing sent twice.

use sendwatch::job::RunOptions;
use sendwatch::store::RunStatus;

use crate::harness::{Delivery, Mail, app, repo, write_config};
use crate::support::{SmtpOptions, SmtpSink, backends};

#[tokio::test]
async fn a_refused_recipient_fails_that_report_only() {
    let Some(sink) = SmtpSink::start(SmtpOptions {
        refuse_rcpt: vec!["dco@example.org".into()],
        ..Default::default()
    }) else {
        return;
    };
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(
            dir.path(),
            &backend.url,
            &extract,
            Delivery::Smtp {
                port: sink.port(),
                auth: None,
            },
            "",
        );
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert_eq!(r.status, RunStatus::Failed);
        // Performance's report and the risk log holder's (1/5 RED two months running raises
        // R10) go; health's is refused.
        assert_eq!(
            (r.delivery.sent, r.delivery.failed, r.delivery.still_pending),
            (2, 1, 0)
        );
        let got = sink.wait_for(before + 2).await;
        assert_eq!(got.len(), before + 2);
        let mut to: Vec<&str> = got[before..]
            .iter()
            .map(|m| m.rcpt_tos.join(","))
            .map(|t| {
                if t.starts_with("pm-ap") {
                    "performance"
                } else {
                    "governance"
                }
            })
            .collect();
        to.sort();
        assert_eq!(to, ["governance", "performance"], "{:?}", &got[before..]);
        assert_eq!(
            got[before..]
                .iter()
                .filter(|m| m.rcpt_tos == vec!["governance@example.org".to_string()])
                .count(),
            1
        );
        let outbox = app.store.run_mail(r.run_id).await.expect("outbox");
        let health = outbox
            .iter()
            .find(|o| o.sub_group == "health")
            .expect("health report");
        assert_eq!(health.status, "failed");
        assert!(
            health
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("550")),
            "{:?}",
            health.last_error
        );
        assert_eq!(app.store.run(r.run_id).await.expect("run").status, "failed");

        // A permanent failure is not retried by the next run.
        let r2 = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        let earlier = app.store.run_mail(r.run_id).await.expect("outbox");
        assert_eq!(
            earlier
                .iter()
                .find(|o| o.sub_group == "health")
                .map(|o| o.attempts),
            Some(1)
        );
        assert_eq!(
            r2.delivery.failed, 1,
            "only the new run's health report fails"
        );
        app.store.close().await;
    }
}

#[tokio::test]
async fn a_temporary_refusal_keeps_reports_pending_until_a_later_run_delivers_them() {
    let Some(busy) = SmtpSink::start(SmtpOptions {
        refuse_data: Some(451),
        ..Default::default()
    }) else {
        return;
    };
    let Some(good) = SmtpSink::start(SmtpOptions::default()) else {
        return;
    };
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(
            dir.path(),
            &backend.url,
            &extract,
            Delivery::Smtp {
                port: busy.port(),
                auth: None,
            },
            "",
        );
        let app = app(&cfg).await;
        let r = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert_eq!(r.status, RunStatus::Failed);
        // Performance, health, and the risk log's holder (R10 and R12 raised).
        assert_eq!(
            (r.delivery.sent, r.delivery.failed, r.delivery.still_pending),
            (0, 0, 3)
        );
        let pending = app.store.pending_mail().await.expect("outbox");
        assert_eq!(pending.len(), 3);
        assert!(
            pending
                .iter()
                .all(|o| o.attempts == 3
                    && o.last_error.as_deref().is_some_and(|e| e.contains("451")))
        );
        app.store.close().await;

        // The server is back: the next run delivers the held reports and its own, once each.
        let cfg = write_config(
            dir.path(),
            &backend.url,
            &extract,
            Delivery::Smtp {
                port: good.port(),
                auth: None,
            },
            "",
        );
        let app = crate::harness::app(&cfg).await;
        let before = good.messages().len();
        let r2 = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert_eq!(r2.status, RunStatus::Ok);
        // Its own two reports (the risks hold: no change to report) and the first run's three.
        assert_eq!(r2.delivery.sent, 5);
        let got = good.wait_for(before + 5).await;
        let ids: Vec<String> = got[before..]
            .iter()
            .filter_map(|m| Mail::parse(&m.data).header("Message-ID"))
            .collect();
        let first_run = format!("sendwatch.{}.", r.run_id);
        assert_eq!(
            ids.iter().filter(|id| id.contains(&first_run)).count(),
            3,
            "{ids:?}"
        );
        assert!(app.store.pending_mail().await.expect("outbox").is_empty());
        let r3 = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert_eq!(r3.delivery.sent, 2, "earlier reports are not sent again");
        app.store.close().await;
    }
}
