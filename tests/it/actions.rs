//! The action log and the commentary loop through the real binary, on SQLite and PostgreSQL:
//! `action list` shows the shipped log with its owners; `action set` and `action import`
//! record who and when, a later update supersedes an earlier one and both are kept (`action
//! history`); a refused import stores nothing and names line, column and rule; `comment`,
//! `comment import` and `comment list` keep owners' commentary, the latest in force.

use std::path::Path;

use chrono::Utc;
use sendwatch::action::Status;

use crate::harness::app;
use crate::manual::{config, run};
use crate::support::backends;

const HEAD: &str = "reference,status,note,evidence,next_steps,author\n";

/// Write `text` to a CSV in `dir` and run `command FILE rest` on it.
fn import(dir: &Path, cfg: &Path, command: &str, text: &str, rest: &str) -> (bool, String, String) {
    let csv = dir.join("meeting.csv");
    std::fs::write(&csv, text).expect("write csv");
    run(dir, cfg, &format!("{command} {} {rest}", csv.display()))
}

async fn action_list_shows_the_shipped_log_with_owners_and_contacts() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let (ok, out, err) = run(dir.path(), &cfg, "action list");
        assert!(ok, "{name}: {err}");
        for want in [
            "1.2.1  Develop and monitor a resourced recovery plan",
            "owner performance; contact SEND team, with the Performance and Business \
             Intelligence team; due 2020-10-31  OVERDUE",
            "status not-on-track: Action not on track, risk to implementation",
            "last update: none (the log's rating)",
            "5.2  Commission a NICE-compliant neurodevelopmental (ASD) diagnostic pathway",
            // Every due date of the shipped log is past (2019-2021): all but the completed one
            // are overdue today.
            "15 actions: 1 completed, 8 on-track, 3 not-on-track, 3 not-started; 14 overdue",
        ] {
            assert!(out.contains(want), "{name}: `{want}` not in\n{out}");
        }
        let (ok, out, err) = run(dir.path(), &cfg, "action list --format json");
        assert!(ok, "{name}: {err}");
        let list: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
        assert_eq!(list.len(), 15, "{name}");
        assert!(
            list.iter()
                .all(|a| a["owner"].as_str().is_some_and(|o| !o.is_empty())
                    && a["contact"].as_str().is_some_and(|c| !c.is_empty())),
            "{name}: every action has an owner and a contact: {out}"
        );
        let (ok, out, err) = run(dir.path(), &cfg, "action list --owner health --format csv");
        assert!(ok, "{name}: {err}");
        let refs: Vec<&str> = out
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .collect();
        assert_eq!(refs, ["1.6.1", "2.1", "5.4"], "{name}: {out}");
        let (ok, out, err) = run(dir.path(), &cfg, "check-config");
        assert!(ok, "{name}: {err}");
        assert!(
            out.contains(
                "  action 1.3: Put processes in place to prioritise and resource annual \
                 reviews so that EHC plans are reviewed within statutory timescales -> performance \
                 (due 2020-07-31, not-on-track)"
            ),
            "{name}: {out}"
        );
        let (ok, _, err) = run(dir.path(), &cfg, "action list --owner nobody");
        assert!(
            !ok && err.contains("no sub-group named `nobody`"),
            "{name}: {err}"
        );
    }
}

async fn set_and_import_record_who_and_when_and_history_keeps_every_update() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let before = Utc::now();
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            r#"action set 1.3 --status on-track --note "recovery plan agreed, tracker in place"
               --evidence "Y6 reviews 80% done""#,
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("action 1.3: on-track recorded by ann at "),
            "{name}: the login name by default: {out}"
        );
        let (ok, out, err) = import(
            dir.path(),
            &cfg,
            "action import",
            &format!(
                "{HEAD}1.3,not-on-track,Y11 reviews behind,,\"prioritise Y11, then Y9\",Dee\n\
                 4.3,bau,funded from the core budget,,,\n"
            ),
            r#"--author "Cy Lee""#,
        );
        assert!(ok, "{name}: {err}");
        assert!(out.contains(": 2 updates recorded at "), "{name}: {out}");
        let after = Utc::now();

        let app = app(&cfg).await;
        let all = app.store.action_updates(None).await.expect("updates");
        app.store.close().await;
        let who: Vec<(&str, Status, &str)> = all
            .iter()
            .map(|u| {
                (
                    u.update.reference.as_str(),
                    u.update.status,
                    u.update.author.as_str(),
                )
            })
            .collect();
        assert_eq!(
            who,
            [
                ("1.3", Status::OnTrack, "ann"),
                ("1.3", Status::NotOnTrack, "Dee"),
                ("4.3", Status::Bau, "Cy Lee"),
            ],
            "{name}"
        );
        assert!(
            all.iter()
                .all(|u| before <= u.entered_at && u.entered_at <= after),
            "{name}: entered when the command ran: {all:?}"
        );
        assert_eq!(
            all[1].update.next_steps.as_deref(),
            Some("prioritise Y11, then Y9")
        );

        // A board meeting in three days: every open action without a recent update is asked
        // for one; 1.3, just updated, and 4.3, now business as usual, are not.
        let meeting = (Utc::now() + chrono::Days::new(3)).date_naive();
        let mut text = std::fs::read_to_string(&cfg).expect("read config");
        text.push_str(&format!("\n[action_log]\nmeetings = [{meeting}]\n"));
        std::fs::write(&cfg, text).expect("write config");
        let (ok, out, err) = run(dir.path(), &cfg, "action list --format json");
        assert!(ok, "{name}: {err}");
        let list: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
        let asked: Vec<&str> = list
            .iter()
            .filter(|a| a["update_wanted_for"] == serde_json::json!(meeting.to_string()))
            .filter_map(|a| a["reference"].as_str())
            .collect();
        assert_eq!(
            asked.len(),
            12,
            "{name}: 15 less 1.3, 4.3 and the completed 2.1: {out}"
        );
        assert!(
            !asked.contains(&"1.3") && !asked.contains(&"4.3"),
            "{name}: {asked:?}"
        );

        let (ok, out, err) = run(dir.path(), &cfg, "action history 1.3");
        assert!(ok, "{name}: {err}");
        let dee = out.find("not-on-track by Dee at ").expect("Dee's update");
        let ann = out.find("on-track by ann at ").expect("ann's update");
        assert!(dee < ann, "{name}: newest first: {out}");
        assert!(
            out.contains("status now not-on-track")
                && out.contains(", in force\n    progress: Y11 reviews behind")
                && out.contains(", superseded\n    progress: recovery plan agreed")
                && out.contains("evidence: Y6 reviews 80% done"),
            "{name}: {out}"
        );
        let (ok, out, err) = run(dir.path(), &cfg, "action list --status bau");
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("4.3  Strengthen the offer from SENDIASS")
                && out.contains(" by Cy Lee")
                && !out.contains("OVERDUE"),
            "{name}: business as usual is not overdue: {out}"
        );
    }
}

async fn a_refused_update_or_import_stores_nothing_and_names_line_column_and_rule() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let (ok, out, err) = import(
            dir.path(),
            &cfg,
            "action import",
            &format!("{HEAD}1.2.1,on-track,fine,,,\n1.9.9,on-track,fine,,,\n5.3,amber,fine,,,\n"),
            "",
        );
        assert!(!ok, "{name}: {out}");
        for want in [
            "import refused, nothing stored (2 problems)",
            "line 3, column 1 (reference): no action with this reference in the log",
            "line 4, column 2 (status): not a progress status; write one of completed, \
             on-track, not-on-track, not-started, bau",
        ] {
            assert!(err.contains(want), "{name}: `{want}` not in {err}");
        }
        assert!(!err.contains("amber") && !err.contains("1.9.9"), "{err}");
        let (ok, _, err) = run(
            dir.path(),
            &cfg,
            r#"action set 1.2.1 --status done --note """#,
        );
        assert!(!ok);
        assert!(
            err.contains("action set 1.2.1: refused, nothing stored")
                && err.contains("--status: not a progress status")
                && err.contains("--note: say what progress was made"),
            "{name}: {err}"
        );
        let app = app(&cfg).await;
        let all = app.store.action_updates(None).await.expect("updates");
        app.store.close().await;
        assert!(all.is_empty(), "{name}: nothing stored: {all:?}");
    }
}

async fn comment_set_import_and_list_keep_every_entry_and_the_latest_is_in_force() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            r#"comment 3/3 --period 2019-Q4 --reason "training capacity"
               --actions "more sessions in Q4 and Q1" --revised-date 2020-06-30
               --next-update 2020-04-14"#,
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("KPI 3/3 Oct-Dec 2019: commentary entered by ann at "),
            "{name}: {out}"
        );
        let (ok, out, err) = import(
            dir.path(),
            &cfg,
            "comment import",
            "kpi,period,reason,actions,revised_date,next_update,author\n\
             3/3,2019-Q4,fewer trainers than planned,\"75% by June 2020, recovery plan\",2020-06-30,,Bob\n\
             1/3a,2019-12,no tracker for other reviews,recovery plan agreed January 2020,,2020-02-11,\n",
            "--author Cy",
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.contains("KPI 1/3a December 2019: commentary entered by Cy"),
            "{name}: {out}"
        );

        let (ok, out, err) = run(dir.path(), &cfg, "comment list 3/3");
        assert!(ok, "{name}: {err}");
        let bob = out.find("by Bob at ").expect("Bob's entry");
        let ann = out.find("by ann at ").expect("ann's entry");
        assert!(bob < ann, "{name}: newest first: {out}");
        assert!(
            out.contains(", in force\n    reason: fewer trainers than planned")
                && out.contains(", superseded\n    reason: training capacity")
                && out.contains("next update: 2020-04-14"),
            "{name}: {out}"
        );

        let app = app(&cfg).await;
        let periods = ["2019-Q4".parse().expect("p"), "2019-12".parse().expect("p")];
        let now = app.store.commentary_for(&periods).await.expect("read");
        let only_q4 = app.store.commentary_for(&periods[..1]).await.expect("read");
        let all = app.store.commentary_history(None).await.expect("read");
        app.store.close().await;
        let latest: Vec<(&str, &str)> = now
            .iter()
            .map(|c| (c.kpi_id.as_str(), c.author.as_str()))
            .collect();
        assert_eq!(latest, [("1/3a", "Cy"), ("3/3", "Bob")], "{name}");
        assert_eq!(only_q4.len(), 1, "{name}");
        assert_eq!(all.len(), 3, "{name}: history kept");

        let (ok, _, err) = run(
            dir.path(),
            &cfg,
            r#"comment 4/1 --period 2019-12 --reason r --actions a --revised-date 30/06/2020"#,
        );
        assert!(!ok);
        assert!(
            err.contains("comment 4/1: refused, nothing stored")
                && err.contains("--period: this KPI is reported for an academic year")
                && err.contains("--revised-date: not a date"),
            "{name}: {err}"
        );
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(action_list_shows_the_shipped_log_with_owners_and_contacts).each_backend(),
        trial!(set_and_import_record_who_and_when_and_history_keeps_every_update).each_backend(),
        trial!(a_refused_update_or_import_stores_nothing_and_names_line_column_and_rule)
            .each_backend(),
        trial!(comment_set_import_and_list_keep_every_entry_and_the_latest_is_in_force)
            .each_backend(),
    ]
}
