//! The action log in the owners' digests (issue 11), over real SMTP on loopback and both
//! backends: an overdue action and one rated "not on track" each reach their own sub-group's
//! owner, and neither is mailed again within the repeat interval.

use sendwatch::job::RunOptions;
use sendwatch::store::RunStatus;

use crate::digest::by_recipient;
use crate::harness::{Delivery, app, binary, repo, run_example, write_config};
use crate::support::trials::{Spec, trial};
use crate::support::{SmtpOptions, SmtpSink, assert_nothing_disclosive, backends};

/// 1.1 (performance) is overdue as shipped; 4.1 (coproduction) is due in 2030 and will be
/// rated not on track by hand. The job tells of actions (`manual_kpis`).
const EXTRA: &str = r#"
[sub_groups.performance]
owners = ["perf@example.org"]
[sub_groups.coproduction]
owners = ["copro@example.org"]

[actions."4.1"]
due = 2030-06-30

[jobs.monthly-exceptions]
manual_kpis = true
"#;

/// The action lines of a digest ("Action REF: title" and what follows up to the next blank),
/// with runs of spaces closed up ("Why now: overdue").
fn action_block(body: &str, reference: &str) -> Option<String> {
    let start = body.find(&format!("Action {reference}: "))?;
    let rest = &body[start..];
    let block = rest.split("\n\n").next().unwrap_or(rest);
    Some(block.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn overdue_and_not_on_track_actions_reach_their_owners_once() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = Delivery::Smtp {
            port: sink.port(),
            auth: None,
        };
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp, EXTRA);
        let (ok, out, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "action",
                "set",
                "4.1",
                "--status",
                "not-on-track",
                "--note",
                "Survey provider withdrew",
                "--author",
                "Forum chair",
            ],
        );
        assert!(ok, "{name}: {out}{err}");
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run_example(&app).await;
        assert_eq!(r.status, RunStatus::Ok, "{name}: {r:?}");
        sink.wait_for(before + r.delivery.sent).await;
        let got = by_recipient(&sink, before);
        let perf = &got["perf@example.org"].body;
        let copro = &got["copro@example.org"].body;
        let overdue = action_block(perf, "1.1").unwrap_or_else(|| panic!("{name}: {perf}"));
        assert!(overdue.contains("Why now: overdue"), "{name}: {overdue}");
        assert!(overdue.contains("Due: 2020-10-31"), "{name}: {overdue}");
        let slipping = action_block(copro, "4.1").unwrap_or_else(|| panic!("{name}: {copro}"));
        assert!(
            slipping.contains("Why now: not on track"),
            "{name}: {slipping}"
        );
        // Each owner hears of their own actions only; the note stays out of the mail.
        assert!(action_block(perf, "4.1").is_none(), "{name}: {perf}");
        assert!(action_block(copro, "1.1").is_none(), "{name}: {copro}");
        assert!(
            !copro.contains("Survey provider withdrew"),
            "{name}: free text in the mail"
        );
        for (to, m) in &got {
            assert_nothing_disclosive(&m.body, &format!("{name} {to}"));
        }

        // The same news again within the repeat interval: nothing is sent.
        let again = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("second run");
        assert_eq!(
            (again.queued, again.delivery.sent),
            (0, 0),
            "{name}: {again:?}"
        );
        app.store.close().await;
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(overdue_and_not_on_track_actions_reach_their_owners_once)
            .each_backend()
            .smtp(),
    ]
}
