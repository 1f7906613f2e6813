//! SMTP refusals: a permanent refusal is recorded for that recipient's digest and not retried,
//! the others get theirs and the administrator is told; a temporary one leaves the digests in
//! the outbox, and a later run delivers them once they are due. Nothing is lost, nothing sent
//! twice. (The outbox's own faults: tests/it/outbox.rs.)

use sendwatch::store::RunStatus;

use crate::harness::{Delivery, Mail, app, repo, run_example, write_config};
use crate::support::{SmtpOptions, SmtpSink, backends};

async fn a_refused_recipient_fails_that_report_only() {
    let sink = SmtpSink::start(SmtpOptions {
        refuse_rcpt: vec!["dco@example.org".into()],
        ..Default::default()
    });
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
        let r = run_example(&app).await;
        assert_eq!(r.status, RunStatus::Failed);
        // One digest per recipient: performance's, the two health owners' (dco is refused) and
        // the risk log holder's (1/5 RED two months running raises R10). The refusal fails
        // dco's alone, and the administrator's notice of it goes in the same pass.
        assert_eq!(
            (r.delivery.sent, r.delivery.failed, r.delivery.still_pending),
            (4, 1, 0)
        );
        let got = sink.wait_for(before + 4).await;
        assert_eq!(got.len(), before + 4);
        let admin = crate::outbox::admin_notices(&got[before..]);
        assert_eq!(admin.len(), 1, "{admin:?}");
        assert!(admin[0].contains("dco@example.org"), "{}", admin[0]);
        let mut to: Vec<String> = got[before..]
            .iter()
            .map(|m| m.rcpt_tos.join(","))
            .filter(|to| to != crate::outbox::ADMIN)
            .collect();
        to.sort();
        assert_eq!(
            to,
            [
                "governance@example.org",
                "health-performance@example.org",
                "pm-ap-subgroup@example.org"
            ],
            "{:?}",
            &got[before..]
        );
        let outbox = app.store.run_mail(r.run_id).await.expect("outbox");
        let dco = outbox
            .iter()
            .find(|o| o.recipients == "dco@example.org")
            .expect("dco's digest");
        assert_eq!(dco.status, "failed");
        assert!(
            dco.last_error.as_deref().is_some_and(|e| e.contains("550")),
            "{:?}",
            dco.last_error
        );
        assert_eq!(
            app.store.run(r.run_id).await.expect("run").status,
            RunStatus::Failed
        );

        // A permanent failure is not retried by the next run, and with the data unchanged
        // nothing is queued again: nothing is sent, nothing fails.
        let r2 = run_example(&app).await;
        let earlier = app.store.run_mail(r.run_id).await.expect("outbox");
        assert_eq!(
            earlier
                .iter()
                .find(|o| o.recipients == "dco@example.org")
                .map(|o| o.attempts),
            Some(1)
        );
        assert_eq!((r2.queued, r2.delivery.sent, r2.delivery.failed), (0, 0, 0));
        assert_eq!(sink.messages().len(), before + 4);
        app.store.close().await;
    }
}

async fn a_temporary_refusal_keeps_reports_pending_until_a_later_run_delivers_them() {
    let busy = SmtpSink::start(SmtpOptions {
        refuse_data: Some(451),
        ..Default::default()
    });
    let good = SmtpSink::start(SmtpOptions::default());
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
            crate::outbox::QUICK_RETRY,
        );
        let app = app(&cfg).await;
        let r = run_example(&app).await;
        assert_eq!(r.status, RunStatus::Failed);
        // Performance, the two health owners, and the risk log's holder (R10 and R12 raised).
        assert_eq!(
            (r.delivery.sent, r.delivery.failed, r.delivery.still_pending),
            (0, 0, 4)
        );
        // One attempt each in a pass; a later pass tries again once they are due.
        let pending = app.store.pending_mail().await.expect("outbox");
        assert_eq!(pending.len(), 4);
        assert!(
            pending.iter().all(|o| o.attempts == 1
                && o.next_attempt_at.is_some()
                && o.last_error.as_deref().is_some_and(|e| e.contains("451"))),
            "{pending:?}"
        );
        crate::outbox::wait_until_due(&app).await;
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
            crate::outbox::QUICK_RETRY,
        );
        let app = crate::harness::app(&cfg).await;
        let before = good.messages().len();
        let r2 = run_example(&app).await;
        assert_eq!(r2.status, RunStatus::Ok);
        // The first run's four, once each. Its own would say the same to the same people (the
        // risks hold: no change to report), so it queues none: the old and the new report do
        // not both go.
        assert_eq!((r2.queued, r2.delivery.sent), (0, 4));
        let got = good.wait_for(before + 4).await;
        let ids: Vec<String> = got[before..]
            .iter()
            .filter_map(|m| Mail::parse(&m.data).header("Message-ID"))
            .collect();
        // `<sendwatch.INSTALLATION.RUN.ROW@domain>`
        let run_of = |id: &str| id.split('.').nth(2).map(str::to_string);
        assert_eq!(
            ids.iter()
                .filter(|id| run_of(id) == Some(r.run_id.to_string()))
                .count(),
            4,
            "{ids:?}"
        );
        assert!(app.store.pending_mail().await.expect("outbox").is_empty());
        let r3 = run_example(&app).await;
        assert_eq!(r3.delivery.sent, 0, "the same news is not sent again");
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_refused_recipient_fails_that_report_only)
            .each_backend()
            .smtp(),
        trial!(a_temporary_refusal_keeps_reports_pending_until_a_later_run_delivers_them)
            .each_backend()
            .smtp(),
    ]
}
