//! Routes and silences (issue 9), over real SMTP on loopback and both backends: recipients
//! get exactly the items their routes give them (a named list outside the sub-groups, with
//! `continue`; an owner written `"Smith, John" <john@example.org>`, checked and delivered);
//! unchanged data sends nothing again and a KPI back on target sends a resolved notice once,
//! where the route asks; a silence holds items back, lists them at the foot, and ends.

use sendwatch::job::{App, RunOptions, RunReport};
use sendwatch::store::RunStatus;

use crate::digest::by_recipient;
use crate::harness::{Delivery, app, big_tracker, binary, binary_status, repo, write_config};
use crate::support::{SmtpOptions, SmtpSink, backends};

/// Performance to alice, health to John Smith; 1/5 also to the CCG's list (continue, no
/// resolved notices); the example's risk and KPI routes after it.
const ROUTED: &str = r#"
[sub_groups.performance]
owners = ["alice@example.org"]
[sub_groups.health]
owners = ["\"Smith, John\" <john@example.org>"]

[notify.recipients]
ccg = ["ccg@example.org"]

[[notify.routes]]
match = ["kpi=1/5"]
lists = ["ccg"]
continue = true
send_resolved = false

[[notify.routes]]
match = ["kind=~risk_raised|risk_lowered"]
owners = true
sub_groups = ["governance"]

[[notify.routes]]
match = ["kpi=~.+"]
owners = true
"#;

async fn run(app: &App, period: Option<&str>) -> RunReport {
    let opts = RunOptions {
        period: period.map(|p| p.parse().expect("period")),
        ..RunOptions::manual()
    };
    app.run_job("monthly-exceptions", opts).await.expect("run")
}

fn smtp(sink: &SmtpSink) -> Delivery<'static> {
    Delivery::Smtp {
        port: sink.port(),
        auth: None,
    }
}

async fn each_recipient_gets_one_digest_with_exactly_the_items_routed_to_them() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp(&sink), ROUTED);
        // The quoted name with a comma passes check-config ...
        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["check-config"]);
        assert!(ok, "{name}: {out}{err}");
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run(&app, None).await;
        assert_eq!(r.status, RunStatus::Ok, "{name}: {r:?}");
        // alice, John, the CCG and the risk log's holder.
        assert_eq!((r.queued, r.delivery.sent), (4, 4), "{name}");
        sink.wait_for(before + 4).await;
        let got = by_recipient(&sink, before);
        let to: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            to,
            [
                "alice@example.org",
                "ccg@example.org",
                "governance@example.org",
                "john@example.org"
            ],
            "{name}"
        );
        // ... and is delivered, the name intact.
        let john = &got["john@example.org"];
        // "Smith, John" as an RFC 2047 encoded word.
        assert_eq!(
            john.header("To").as_deref(),
            Some("=?utf-8?b?U21pdGgsIEpvaG4=?= <john@example.org>"),
            "{}",
            john.headers
        );
        let kpis = |to: &str| -> Vec<String> {
            got[to]
                .body
                .lines()
                .filter(|l| l.starts_with("KPI "))
                .map(|l| l.split(':').next().unwrap_or(l).to_string())
                .collect()
        };
        assert_eq!(kpis("alice@example.org"), ["KPI 1/2a"], "{name}");
        assert_eq!(kpis("john@example.org"), ["KPI 1/5"], "{name}");
        // The CCG's list hears of 1/5 alone: no risk, no other KPI.
        assert_eq!(kpis("ccg@example.org"), ["KPI 1/5"], "{name}");
        assert!(
            !got["ccg@example.org"].body.contains("Risk R"),
            "{}",
            got["ccg@example.org"].body
        );
        assert!(kpis("governance@example.org").is_empty(), "{name}");
        // Each digest with KPIs has its HTML part naming the same KPIs, and a trend chart per
        // KPI as an inline PNG the HTML refers to by cid.
        for (to, ids) in [
            ("alice@example.org", ["1/2a"]),
            ("john@example.org", ["1/5"]),
            ("ccg@example.org", ["1/5"]),
        ] {
            let mail = &got[to];
            let html = mail
                .html
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: {to} has no HTML part"));
            let html = crate::support::html::decode(html);
            for id in ids {
                assert!(html.contains(&format!("KPI {id}")), "{name}: {to}: {html}");
            }
            assert_eq!(
                mail.images.len(),
                ids.len(),
                "{name}: {to}: one chart per KPI"
            );
            for (cid, png) in &mail.images {
                assert!(
                    png.starts_with(b"\x89PNG\r\n\x1a\n"),
                    "{name}: {to}: {cid} is a PNG"
                );
                assert!(
                    html.contains(&format!("cid:{cid}")),
                    "{name}: {to}: {cid} not in the HTML"
                );
            }
        }
        app.store.close().await;
    }
}

fn a_bad_address_in_a_route_or_list_fails_check_config_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = crate::support::sqlite_backend();
    let extract = repo("examples/tracker.csv").display().to_string();
    let bad = ROUTED
        .replace(
            "ccg = [\"ccg@example.org\"]",
            "ccg = [\"Smith, John <john@example.org>\"]",
        )
        .replace(
            "match = [\"kpi=1/5\"]",
            "match = [\"kpi=1/5\", \"colour=red\"]",
        );
    let cfg = write_config(
        dir.path(),
        &backend.url,
        &extract,
        Delivery::Folder(&dir.path().join("outbox")),
        &bad,
    );
    let (code, _out, err) = binary_status(dir.path(), &cfg, &[], &["check-config"]);
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("notify.recipients.ccg[0]"), "{err}");
    assert!(err.contains("notify.routes[0].match[1]"), "{err}");
    assert!(err.contains("`colour` is not a label"), "{err}");
}

/// The extract tests/it/risks.rs writes ([`crate::risks::extract`]): KPI 1/5 GREEN in March
/// 2021 (100 of 105), RED in April and May (6 of 15), GREEN again in June (100 of 105). Every
/// count and every rest is 5 or more, so each month is rated: only a rated KPI is listed as
/// slipped or back on track (issue 17).
async fn unchanged_data_sends_nothing_again_and_a_kpi_back_on_target_is_said_once() {
    let sink = SmtpSink::start(SmtpOptions::default());
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tracker.csv");
        std::fs::write(&file, crate::risks::extract()).expect("write the extract");
        let extract = file.display().to_string();
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp(&sink), ROUTED);
        let app = app(&cfg).await;
        let before = sink.messages().len();

        // April: 1/5 RED, to John and the CCG.
        let april = run(&app, Some("2021-04")).await;
        assert_eq!(april.queued, 2, "{name}: {april:?}");
        sink.wait_for(before + 2).await;
        let got = by_recipient(&sink, before);
        assert!(got["john@example.org"].body.contains("KPI 1/5: "));
        assert!(got["ccg@example.org"].body.contains("KPI 1/5: "));

        // The same again: nothing.
        let again = run(&app, Some("2021-04")).await;
        assert_eq!((again.queued, again.delivery.sent), (0, 0), "{name}");

        // June: back on target. John's route asks for resolved notices, the CCG's does not.
        let before = sink.messages().len();
        let june = run(&app, Some("2021-06")).await;
        assert_eq!(june.queued, 1, "{name}: {june:?}");
        sink.wait_for(before + 1).await;
        let got = by_recipient(&sink, before);
        let to: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(to, ["john@example.org"], "{name}");
        let body = &got["john@example.org"].body;
        assert!(
            body.contains("Back on track since the last report:"),
            "{body}"
        );
        assert!(body.contains("KPI 1/5: "), "{body}");
        // June is rated (100 of 105, 5 late), so its rating is said.
        assert!(
            body.contains("GREEN in June 2021: 95.2% against 95.0%"),
            "{body}"
        );
        assert!(!body.contains("not rated"), "{body}");
        let subject = got["john@example.org"]
            .header("Subject")
            .unwrap_or_default();
        assert!(subject.contains("1 back on track"), "{subject}");

        // Said once: June again sends nothing.
        let once = run(&app, Some("2021-06")).await;
        assert_eq!((once.queued, once.delivery.sent), (0, 0), "{name}");
        assert_eq!(sink.messages().len(), before + 1, "{name}");
        app.store.close().await;
    }
}

async fn a_silence_holds_items_back_lists_them_at_the_foot_and_ends() {
    let sink = SmtpSink::start(SmtpOptions::default());
    // The example twice over (ids made unique), so that 1/5's June 2021 is rated: in the
    // example itself its rest is under 5, so it is not rated and raises no risk (issue 17).
    // Doubled, 1/5 is RED in June and July 2021 and raises R10, the silenced risk below.
    let data = tempfile::tempdir().expect("tempdir");
    let file = data.path().join("tracker.csv");
    std::fs::write(&file, big_tracker(2, "x")).expect("write the extract");
    let extract = file.display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp(&sink), ROUTED);
        let app = app(&cfg).await;

        // A silence needs a comment and an end in the future.
        let (ok, _, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "silence",
                "add",
                "--match",
                "sub_group=health",
                "--until",
                "2020-01-01",
                "--comment",
                "x",
                "--author",
                "pm",
            ],
        );
        assert!(!ok && err.contains("not in the future"), "{err}");
        let (ok, _, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "silence",
                "add",
                "--match",
                "sub_group=health",
                "--until",
                "7d",
                "--author",
                "pm",
            ],
        );
        assert!(!ok && err.contains("--comment"), "{err}");

        // Everything of the health sub-group, for a week.
        let (ok, out, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "silence",
                "add",
                "--match",
                "sub_group=health",
                "--until",
                "7d",
                "--comment",
                "recovery plan agreed at SENDCIB",
                "--author",
                "pm",
            ],
        );
        assert!(ok, "{name}: {err}");
        let id: String = out
            .strip_prefix("silence ")
            .and_then(|s| s.split(':').next())
            .expect("silence id")
            .to_string();
        let (ok, list, _) = binary(dir.path(), &cfg, &[], &["silence", "list"]);
        assert!(
            ok && list.contains("active") && list.contains("sub_group=health"),
            "{list}"
        );

        let before = sink.messages().len();
        let r = run(&app, None).await;
        sink.wait_for(before + r.queued).await;
        let got = by_recipient(&sink, before);
        // John's digest would hold silenced items only: not sent. The CCG's 1/5 is silenced
        // too (a silence matches the item, whoever hears of it).
        let to: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            to,
            ["alice@example.org", "governance@example.org"],
            "{name}"
        );
        // The holder's report lists the health risk at its foot, with the silence.
        // Wrapped lines joined, to read as sentences.
        let gov = &got["governance@example.org"]
            .body
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            gov.contains("Silenced (held back from this report, not dropped):"),
            "{gov}"
        );
        assert!(
            gov.contains("risk R10 raised to 12 (high): silence "),
            "{gov}"
        );
        assert!(
            gov.contains("by pm: recovery plan agreed at SENDCIB"),
            "{gov}"
        );
        assert!(!gov.contains("Risk R10: "), "{gov}");

        // Expired: 1/5 is news to John and the CCG.
        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["silence", "expire", &id]);
        assert!(ok, "{out}{err}");
        let (ok, list, _) = binary(dir.path(), &cfg, &[], &["silence", "list", "--all"]);
        assert!(ok && list.contains("expired"), "{list}");
        let before = sink.messages().len();
        let r = run(&app, None).await;
        sink.wait_for(before + r.queued).await;
        let got = by_recipient(&sink, before);
        // The risk change was a one-off event (listed at the holder's foot while silenced);
        // the KPI is still RED, and news to them.
        assert!(got["john@example.org"].body.contains("KPI 1/5: "), "{name}");
        assert!(got["ccg@example.org"].body.contains("KPI 1/5: "), "{name}");
        assert!(!got["john@example.org"].body.contains("Silenced"), "{name}");
        app.store.close().await;
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(each_recipient_gets_one_digest_with_exactly_the_items_routed_to_them)
            .each_backend()
            .smtp(),
        trial!(a_bad_address_in_a_route_or_list_fails_check_config_naming_the_key),
        trial!(unchanged_data_sends_nothing_again_and_a_kpi_back_on_target_is_said_once)
            .each_backend()
            .smtp(),
        trial!(a_silence_holds_items_back_lists_them_at_the_foot_and_ends)
            .each_backend()
            .smtp(),
    ]
}
