//! The risk log end to end, on SQLite and PostgreSQL: a KPI RED two periods running raises its
//! risk and the run's exception report to the risk's owner (and to the log's holder) says so;
//! a period back on target clears it, recorded; a stale source raises its risk; `sendwatch
//! risks` (the binary) prints the register and its history; changes assessed from a log
//! another run has since written to are not recorded.
//!
//! The KPI test loads an extract written below ([`extract`]): cases with health advice
//! returned in each of March-June 2021 (KPI 1/5, on time within 42 days), every plan
//! finalised within 20 weeks (KPI 1/2a 100% throughout, so no other risk moves):
//!   March 2021: 100 of 105 on time (39 days; 5 took 60)   95.2%  GREEN (target 95%)
//!   April 2021:   6 of 15 (9 took 60 days)                 40.0%  RED
//!   May 2021:     6 of 15                                  40.0%  RED
//!   June 2021:  100 of 105                                 95.2%  GREEN
//! Every count, and every rest (late cases), is 5 or more, so every month's figure is shown
//! and rated. A figure with a count under 5 is not rated: it raises no risk, as the raise
//! would tell which side of its target the hidden value is (issue 17). tests/it/routes.rs
//! loads the same extract, for a KPI slipped and back on track that is rated.
//! R10 (slipping health actions, owner `health`) has "KPI 1/5 RED for 2 periods running",
//! raising its likelihood 3 -> 4: score 9 (medium) -> 12 (high).

use sendwatch::job::{App, RunOptions, RunReport};
use sendwatch::risk::ChangeKind;
use sendwatch::store::OutboxRow;

use crate::harness::{app, assert_lines, binary, folder_config, folder_mail, outbox, repo};
use crate::ingest::age_current_load;
use crate::support::backends;

async fn run(app: &App, period: Option<&str>) -> RunReport {
    let opts = RunOptions {
        period: period.map(|p| p.parse().expect("month")),
        ..RunOptions::manual()
    };
    app.run_job("monthly-exceptions", opts).await.expect("run")
}

/// The run's mail to one sub-group, if any.
/// The digest a run queued for a sub-group's first owner (one digest per recipient).
async fn mail_to(app: &App, r: &RunReport, sub_group: &str) -> Option<OutboxRow> {
    let owner = match sub_group {
        "health" => "health-performance@example.org",
        "governance" => "governance@example.org",
        other => panic!("no owner known for {other}"),
    };
    let mails = app.store.run_mail(r.run_id).await.expect("outbox");
    mails.into_iter().find(|m| m.recipients == owner)
}

/// A body with its wrapped lines joined and runs of spaces made one, to read as sentences.
fn flat(body: &str) -> String {
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The KPI test's tracker extract (see the header): for each month of 2021, how many cases
/// had their health advice back within 6 weeks (39 days) and how many late (60 days). Each
/// case's other dates follow from its advice's: the request received 20 days before the
/// advice was asked for, the plan final 4 days after it came back (63 or 84 days from the
/// request, within 20 weeks).
pub(crate) fn extract() -> String {
    use chrono::{Days, NaiveDate};
    const MONTHS: [(u32, usize, usize); 4] = [(3, 100, 5), (4, 6, 9), (5, 6, 9), (6, 100, 5)];
    let mut out = String::from(
        "case_id,request_received_date,decision_to_assess_date,health_advice_requested_date,\
         health_advice_returned_date,draft_plan_issued_date,final_plan_issued_date,status,ncy,\
         school_phase,caseworker_team,looked_after,out_of_borough\n",
    );
    let mut id = 0;
    for (month, on_time, late) in MONTHS {
        for i in 0..on_time + late {
            id += 1;
            let day = u32::try_from(1 + i % 20).expect("a day");
            let returned = NaiveDate::from_ymd_opt(2021, month, day).expect("date");
            let took = if i < on_time { 39 } else { 60 };
            let after = |n: u64| returned + Days::new(n);
            let requested = returned - Days::new(took);
            let received = requested - Days::new(20);
            let decision = received + Days::new(14);
            out.push_str(&format!(
                "K{id:05},{received},{decision},{requested},{returned},{},{},\
                 Final plan issued,{},Primary,North,N,N\n",
                after(2),
                after(4),
                3 + id % 5
            ));
        }
    }
    out
}

fn r10(r: &RunReport) -> Option<ChangeKind> {
    r.risks.iter().find(|c| c.risk_id == "R10").map(|c| c.kind)
}

async fn a_kpi_red_two_periods_running_raises_its_risk_and_the_owner_hears_then_it_clears() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tracker.csv");
        std::fs::write(&file, extract()).expect("write the extract");
        let cfg = folder_config(dir.path(), &backend.url, &file.display().to_string());
        let app = app(&cfg).await;

        // March GREEN, then April RED once: nothing moves.
        for month in ["2021-03", "2021-04"] {
            let r = run(&app, Some(month)).await;
            assert_eq!(r10(&r), None, "{name} {month}: {:?}", r.risks);
        }
        let april = app.store.last_run_id().await.expect("runs").expect("a run");
        assert!(
            app.store
                .run_mail(april)
                .await
                .expect("outbox")
                .iter()
                .all(|m| !m.body_text.contains("Risk R10")),
            "{name}"
        );

        // May RED too: raised, and the report to the risk's owner says so.
        let may = run(&app, Some("2021-05")).await;
        assert_eq!(
            r10(&may),
            Some(ChangeKind::Raised),
            "{name}: {:?}",
            may.risks
        );
        let health = mail_to(&app, &may, "health").await.expect("mail to health");
        assert_eq!(health.recipients, "health-performance@example.org");
        assert!(
            health
                .subject
                .contains("1 KPI slipped (1 red), 1 risk changed"),
            "{}",
            health.subject
        );
        let want = [
            "KPI 1/5: ",
            "Risk R10: Slipping health actions (Action 3, KPI 1/6, 3/x)",
            "Change: RAISED from 9 (medium) to 12 (high) likelihood 3 -> 4, impact 3 -> 3",
            "Owner: SEND Health Performance Improvement Group; contact: Designated Clinical \
             Officer (DCO)",
            "Why: KPI 1/5 was RED for 2 periods running: April 2021 40.0% against 95.0%, \
             May 2021 40.0% against 95.0%",
            "Mitigation: Recovery plan; pilot of the revised health advice process",
        ];
        assert_lines(&flat(&health.body_text), &want, name);
        // The log's holder hears of it too, in a report with no KPI of its own.
        let gov = mail_to(&app, &may, "governance")
            .await
            .expect("mail to governance");
        assert!(
            gov.subject.contains("risk log: 1 risk changed"),
            "{}",
            gov.subject
        );
        assert!(
            gov.body_text
                .contains("RAISED from 9 (medium) to 12 (high)")
        );
        assert!(!gov.body_text.contains("KPI 1/5: "), "{}", gov.body_text);

        // May again: the risk holds, nothing recorded, no risk mail.
        let again = run(&app, Some("2021-05")).await;
        assert!(again.risks.is_empty(), "{name}: {:?}", again.risks);
        assert!(mail_to(&app, &again, "governance").await.is_none());

        // The register now, from the binary: R10 raised, since the May run.
        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["risks"]);
        assert!(ok, "{name}: {err}");
        let r10_block: String = table
            .split("\n\n")
            .find(|b| b.starts_with("R10  "))
            .expect("R10 in the table")
            .to_string();
        assert!(
            r10_block.contains("likelihood 4, impact 3, score 12 (high), RAISED since"),
            "{name}: {r10_block}"
        );
        assert!(
            r10_block.contains("  Why:        KPI 1/5 was RED for 2 periods running: April 2021"),
            "{r10_block}"
        );

        // June back on target: cleared, recorded, and both hear what cleared it.
        let june = run(&app, Some("2021-06")).await;
        assert_eq!(
            r10(&june),
            Some(ChangeKind::Cleared),
            "{name}: {:?}",
            june.risks
        );
        let health = mail_to(&app, &june, "health")
            .await
            .expect("mail to health");
        // With a resolved notice: 1/5, RED in May's report, is back on target.
        assert!(
            health.subject.contains("1 risk changed, 1 back on track"),
            "{}",
            health.subject
        );
        let want = [
            "Change: CLEARED: back to the register's 9 (medium), from 12 (high)",
            "Was raised by: KPI 1/5 RED for 2 periods running",
            "Cleared because: KPI 1/5 was GREEN in June 2021 (95.2%)",
            "Now: GREEN in June 2021: 95.2% against 95.0%",
        ];
        assert_lines(&flat(&health.body_text), &want, name);
        assert!(mail_to(&app, &june, "governance").await.is_some());

        let events = app.store.risk_events().await.expect("risk events");
        let kinds: Vec<(&str, ChangeKind, i64)> = events
            .iter()
            .map(|e| (e.change.risk_id.as_str(), e.change.kind, e.run_id))
            .collect();
        assert_eq!(
            kinds,
            [
                ("R10", ChangeKind::Raised, may.run_id),
                ("R10", ChangeKind::Cleared, june.run_id)
            ],
            "{name}"
        );

        let (ok, history, err) = binary(dir.path(), &cfg, &[], &["risks", "--history"]);
        assert!(ok, "{err}");
        assert!(
            history.contains(&format!(
                "run {}  R10  RAISED: 9 (medium) -> 12 (high)",
                may.run_id
            )),
            "{name}: {history}"
        );
        assert!(
            history.contains(&format!(
                "run {}  R10  CLEARED: 12 (high) -> 9 (medium)",
                june.run_id
            )),
            "{history}"
        );
        let (ok, csv, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &["risks", "--history", "--format", "csv"],
        );
        assert!(ok, "{err}");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        let (ok, json, err) = binary(dir.path(), &cfg, &[], &["risks", "--format", "json"]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let risks = v.as_array().expect("an array of risks");
        assert_eq!(risks.len(), 13);
        let r = risks.iter().find(|r| r["id"] == "R10").expect("R10");
        assert_eq!(
            (r["raised"].as_bool(), r["current"]["score"].as_u64()),
            (Some(false), Some(9))
        );

        // Aggregates only: no case id in any mail delivered, nor in what the binary printed.
        for m in folder_mail(&outbox(dir.path())) {
            assert!(!m.body.contains("K00"), "{name}: a case id in\n{}", m.body);
        }
        for out in [&table, &history, &csv, &json] {
            assert!(!out.contains("K00"));
        }
        app.store.close().await;
    }
}

async fn a_stale_source_raises_its_risk_until_new_data_arrives() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        // A copy of the example tracker, so that new bytes can arrive later.
        let file = dir.path().join("tracker.csv");
        let text = std::fs::read_to_string(repo("examples/tracker.csv")).expect("example");
        std::fs::write(&file, &text).expect("copy");
        let cfg = folder_config(dir.path(), &backend.url, &file.display().to_string());
        let app = app(&cfg).await;
        let r11 = |r: &RunReport| r.risks.iter().find(|c| c.risk_id == "R11").cloned();

        let fresh = run(&app, None).await;
        assert!(r11(&fresh).is_none(), "{name}: {:?}", fresh.risks);

        // The current data is 45 days old: past a month plus 10 days' grace.
        age_current_load(&app, "tracker", 45).await;
        let stale = run(&app, None).await;
        let c = r11(&stale).expect("R11 raised");
        assert_eq!(c.kind, ChangeKind::Raised);
        assert_eq!(c.triggers, ["source `tracker` stale past its deadline"]);
        assert!(
            c.reasons[0].starts_with("source `tracker` has brought no new data since ")
                && c.reasons[0].ends_with("(monthly, plus 10 days' grace)"),
            "{:?}",
            c.reasons
        );
        assert_eq!(
            (c.from.text(), c.to.text()),
            ("9 (medium)".into(), "12 (high)".into())
        );
        // R11 is the holder's own: one report to governance carries it.
        let gov = mail_to(&app, &stale, "governance")
            .await
            .expect("governance");
        assert!(
            gov.body_text.contains("Risk R11: Data and tracking gaps"),
            "{}",
            gov.body_text
        );
        assert!(
            flat(&gov.body_text).contains("Why: source `tracker` has brought no new data"),
            "{}",
            gov.body_text
        );

        // A new extract (the same rows, CRLF line ends: new bytes) arrives: cleared.
        std::fs::write(&file, text.replace('\n', "\r\n")).expect("rewrite");
        let back = run(&app, None).await;
        let c = r11(&back).expect("R11 cleared");
        assert_eq!(c.kind, ChangeKind::Cleared, "{name}");
        assert!(
            c.reasons[0].starts_with("source `tracker` is up to date"),
            "{:?}",
            c.reasons
        );
        for m in folder_mail(&outbox(dir.path())) {
            assert!(!m.body.contains("C000"), "{name}: a case id in\n{}", m.body);
        }
        app.store.close().await;
    }
}

/// Changes assessed from a risk log another run has since written to are not recorded (the
/// run assesses again): one change is recorded once, however many runs assess at once.
async fn risk_changes_assessed_from_a_stale_log_are_not_recorded() {
    use sendwatch::risk::{Level, RiskChange, Scored};
    let extract = repo("examples/tracker.csv");
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract.display().to_string());
        let app = app(&cfg).await;
        let now = chrono::Utc::now();
        let run = app
            .store
            .start_run("risks", sendwatch::store::Trigger::Manual, None, now)
            .await
            .expect("run");
        let scored = |likelihood, impact, band: &str| Scored {
            level: Level::new(likelihood, impact),
            band: band.into(),
        };
        let change = |kind| RiskChange {
            risk_id: "R10".into(),
            owner: "health".into(),
            kind,
            from: scored(3, 3, "medium"),
            to: scored(4, 3, "high"),
            triggers: vec!["a test's trigger".into()],
            reasons: vec!["a test's reason".into()],
            at: now,
        };
        let record = |basis, kind| {
            let (store, c) = (app.store.clone(), change(kind));
            async move {
                store
                    .record_risk_changes(run, basis, &[c])
                    .await
                    .expect("record")
            }
        };
        let ids = || async { app.store.risk_events().await.expect("events") };

        // Assessed from the empty log, twice (two runs at once): the first is recorded.
        assert!(record(None, ChangeKind::Raised).await, "{name}");
        assert!(!record(None, ChangeKind::Raised).await, "{name}");
        let events = ids().await;
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        // Assessed from the log as it now stands: recorded.
        let newest = events.last().map(|e| e.id);
        assert!(record(newest, ChangeKind::Cleared).await, "{name}");
        let kinds: Vec<_> = ids().await.iter().map(|e| e.change.kind).collect();
        assert_eq!(kinds, [ChangeKind::Raised, ChangeKind::Cleared], "{name}");
        // No change is nothing to refuse, whatever it was assessed from.
        assert!(
            app.store
                .record_risk_changes(run, None, &[])
                .await
                .expect("record nothing"),
            "{name}"
        );
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_kpi_red_two_periods_running_raises_its_risk_and_the_owner_hears_then_it_clears)
            .each_backend(),
        trial!(a_stale_source_raises_its_risk_until_new_data_arrives).each_backend(),
        trial!(risk_changes_assessed_from_a_stale_log_are_not_recorded).each_backend(),
    ]
}
