//! What people enter into the KPI table, through the real binary, on SQLite and PostgreSQL:
//! `kpi set` and `kpi import` record who and when, a later entry supersedes an earlier one
//! and both are kept, a refused import stores nothing, a computed KPI takes no value by hand,
//! `kpi retarget` keeps the old schedule for earlier periods, a run rates the values entered
//! and tells an owner of a value overdue (never mailing a note), and records its results
//! together, each with the load or the entry it came from.

use std::path::{Path, PathBuf};

use chrono::{Days, Utc};
use sendwatch::job::RunOptions;
use sendwatch::kpi::Period;

use crate::harness::{
    Delivery, Mail, app, binary, folder_mail, outbox, repo, run_example, write_config,
};
use crate::support::backends;

/// A config for `store_url` whose job also rates the manual KPIs.
pub(crate) fn config(dir: &Path, store_url: &str) -> PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    write_config(
        dir,
        store_url,
        &tracker,
        Delivery::Folder(&outbox(dir)),
        "[jobs.monthly-exceptions]\nmanual_kpis = true\n",
    )
}

/// The binary with the words of `line` (a "quoted phrase" is one word), as user `ann`.
pub(crate) fn run(dir: &Path, cfg: &Path, line: &str) -> (bool, String, String) {
    let mut words = Vec::new();
    for (i, part) in line.split('"').enumerate() {
        if i % 2 == 1 {
            words.push(part);
        } else {
            words.extend(part.split_whitespace());
        }
    }
    binary(dir, cfg, &[("USER", "ann")], &words)
}

const HEAD: &str = "kpi,period,value,numerator,denominator,note,by\n";

async fn set_and_import_record_who_and_when_and_a_later_entry_supersedes_an_earlier_one() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let before = Utc::now();
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            r#"kpi set 3/3 --period 2020-Q2 --value 34 --numerator 34 --denominator 100
               --note "34 trained by June""#,
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("KPI 3/3 Apr-Jun 2020: 34.0% entered by ann at "),
            "{name}: the login name by default: {out}"
        );
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            r#"kpi set 3/3 --period 2020-Q2 --value 40 --by "Bob Jones""#,
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.contains("it supersedes entry 1 (by ann at "),
            "{name}: {out}"
        );
        let csv = dir.path().join("meeting.csv");
        std::fs::write(
            &csv,
            format!("{HEAD}4/1,AY2019/20,41.5,,,survey of Dec 2019,\n3/4,2020-05,20,2,10,,Dee\n"),
        )
        .expect("write csv");
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            &format!("kpi import {} --by Cy", csv.display()),
        );
        assert!(ok, "{name}: {err}");
        assert!(out.contains(": 2 values stored at "), "{name}: {out}");
        let after = Utc::now();

        let app = app(&cfg).await;
        let all = app.store.manual_history(None).await.expect("history");
        let who: Vec<(&str, String, &str, &str)> = all
            .iter()
            .map(|e| {
                (
                    e.value.kpi_id.as_str(),
                    e.value.period.to_string(),
                    e.value.by.as_str(),
                    e.via.as_str(),
                )
            })
            .collect();
        assert_eq!(
            who,
            [
                ("3/3", "2020-Q2".to_string(), "ann", "set"),
                ("3/3", "2020-Q2".to_string(), "Bob Jones", "set"),
                ("3/4", "2020-05".to_string(), "Dee", "import"),
                ("4/1", "AY2019/20".to_string(), "Cy", "import"),
            ],
            "{name}"
        );
        assert!(
            all.iter()
                .all(|e| before <= e.entered_at && e.entered_at <= after),
            "{name}: entered when the command ran: {all:?}"
        );
        assert_eq!(
            (all[0].value.numerator, all[0].value.denominator),
            (Some(34), Some(100))
        );
        let in_force = app.store.manual_values().await.expect("values");
        assert_eq!(in_force.len(), 3, "{name}");
        assert_eq!(in_force[0].value.value, 40.0, "{name}: the later entry");
        app.store.close().await;

        let (ok, out, err) = run(dir.path(), &cfg, "kpi values 3/3");
        assert!(ok, "{err}");
        assert!(
            out.contains("entry 2: 40.0% by Bob Jones at ") && out.contains("via set, in force"),
            "{name}: {out}"
        );
        assert!(
            out.contains("entry 1: 34.0% (34 of 100) by ann at ")
                && out.contains("via set, superseded")
                && out.contains("note: 34 trained by June"),
            "{name}: the history stays: {out}"
        );
        let (ok, out, err) = run(dir.path(), &cfg, "kpi show 4/1");
        assert!(ok, "{err}");
        assert!(
            out.contains("academic year 2019/20")
                && out.contains("41.5%        by Cy on ")
                && out.contains("note: survey of Dec 2019"),
            "{name}: {out}"
        );
    }
}

async fn a_refused_import_stores_nothing_and_a_computed_kpi_takes_no_value_by_hand() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let csv = dir.path().join("meeting.csv");
        std::fs::write(
            &csv,
            format!("{HEAD}3/3,2020-Q2,34,,,,\n3/4,2020-Q2,120,,,,\n4/1,2020-Q1,40,,,,\n"),
        )
        .expect("write csv");
        let (ok, out, err) = run(dir.path(), &cfg, &format!("kpi import {}", csv.display()));
        assert!(!ok, "{name}: {out}");
        for want in [
            "import refused, nothing stored (2 problems)",
            "line 3, column 3 (value): a percentage is between 0 and 100",
            "line 4, column 2 (period): this KPI's values are entered for an academic year",
        ] {
            assert!(err.contains(want), "{name}: `{want}` not in {err}");
        }
        let (ok, _, err) = run(dir.path(), &cfg, "kpi set 1/2a --period 2020-05 --value 40");
        assert!(!ok);
        assert!(
            err.contains("kpi set 1/2a: refused, nothing stored")
                && err.contains("computed by each run from the `tracker` extract"),
            "{name}: {err}"
        );
        let app = app(&cfg).await;
        let all = app.store.manual_history(None).await.expect("history");
        assert!(all.is_empty(), "{name}: nothing stored: {all:?}");
        app.store.close().await;
    }
}

async fn a_retarget_keeps_the_old_schedule_for_earlier_periods_and_a_run_rates_by_it() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            r#"kpi retarget 3/3 --effective 2020-04 --reason "SENDCIB agreed recovery plan"
               --milestone "2020-06=60:Jun-20: 60% (recovery plan)" --milestone 2020-10=baseline+10
               --baseline "60% (Mar-20)" --baseline-value 60 --baseline-date 2020-03"#,
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.contains("KPI 3/3: targets reset from April 2020 (2 milestones), recorded by ann"),
            "{out}"
        );
        let (ok, _, err) = run(
            dir.path(),
            &cfg,
            "kpi retarget 3/3 --effective 2020-04 --reason x --milestone 2020-06=national",
        );
        assert!(
            !ok && err.contains("--milestone #1: national_average needs"),
            "{err}"
        );

        let (ok, table, err) = run(dir.path(), &cfg, "kpi show 3/3");
        assert!(ok, "{err}");
        let jun20: Vec<&str> = table.lines().filter(|l| l.contains("Jun-20:")).collect();
        assert_eq!(jun20.len(), 2, "{name}: both versions: {table}");
        assert!(
            jun20[0].contains("Jun-20: 75%") && jun20[0].contains("target 75.0%"),
            "{table}"
        );
        assert!(
            table.contains("Targets reset from 2020-04: SENDCIB agreed recovery plan"),
            "{table}"
        );
        assert!(jun20[1].contains("target 60.0%"), "{table}");
        assert!(table.contains("(baseline 60.0% plus 10 points)"), "{table}");

        // A run rates each period by the version in force at its end.
        let csv = dir.path().join("meeting.csv");
        std::fs::write(
            &csv,
            format!("{HEAD}3/3,2020-Q1,52,,,,\n3/3,2020-Q2,58,,,,\n"),
        )
        .expect("write csv");
        let (ok, _, err) = run(dir.path(), &cfg, &format!("kpi import {}", csv.display()));
        assert!(ok, "{err}");
        let app = app(&cfg).await;
        let report = app
            .run_job(
                "monthly-exceptions",
                RunOptions {
                    period: Some("2020-06".parse().expect("period")),
                    ..RunOptions::manual()
                },
            )
            .await
            .expect("run");
        let results = app.store.run_results(report.run_id).await.expect("results");
        let k33: Vec<(String, String, Option<f64>)> = results
            .into_iter()
            .filter(|r| r.0 == "3/3")
            .map(|(_, period, rag, value)| (period, rag, value))
            .collect();
        assert_eq!(
            k33,
            [
                ("2019-Q4".to_string(), "NO DATA".to_string(), None),
                // As printed: 50% from Dec-19.
                ("2020-Q1".to_string(), "GREEN".to_string(), Some(52.0)),
                // Reset: 60% from Jun-20 (75% as printed would make it RED).
                ("2020-Q2".to_string(), "AMBER".to_string(), Some(58.0)),
            ],
            "{name}"
        );
        app.store.close().await;
    }
}

/// The calendar quarters from 2019-Q4 whose values are past due (30 days after they end) on
/// `today`, worked out by hand.
fn quarters_due(today: chrono::NaiveDate) -> Vec<Period> {
    let mut q: Period = "2019-Q4".parse().expect("quarter");
    let mut out = Vec::new();
    while q
        .last_month()
        .last_day()
        .checked_add_days(Days::new(30))
        .is_some_and(|due| due < today)
    {
        out.push(q);
        q = q.next();
    }
    out
}

async fn an_overdue_manual_kpi_is_an_exception_to_its_owner_and_a_note_is_never_mailed() {
    const NOTE: &str = "NOTE-CANARY-7312 see the minutes";
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let today = Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        let due = quarters_due(today);
        let latest = *due.last().expect("quarters due");
        // 3/5: every quarter entered, on target. 3/4: only the latest, far off target, its
        // counts (5 of 50) large enough to be rated, so listed as RED (a count under 5 would
        // keep it out of every digest: issue 17). 3/3: nothing.
        let mut csv = HEAD.to_string();
        for q in &due {
            csv.push_str(&format!("3/5,{q},96,,,,\n"));
        }
        csv.push_str(&format!("3/4,{latest},10,5,50,{NOTE},\n"));
        let file = dir.path().join("meeting.csv");
        std::fs::write(&file, csv).expect("write csv");
        let (ok, _, err) = run(dir.path(), &cfg, &format!("kpi import {}", file.display()));
        assert!(ok, "{name}: {err}");

        let app = app(&cfg).await;
        let report = run_example(&app).await;
        app.store.close().await;
        let rated = |id: &str| {
            report
                .evaluations
                .iter()
                .find(|e| e.kpi_id == id)
                .map(|e| (e.period, e.rag.to_string()))
        };
        assert_eq!(rated("3/5"), Some((latest, "GREEN".to_string())), "{name}");
        assert_eq!(rated("3/4"), Some((latest, "RED".to_string())), "{name}");

        let mails = folder_mail(&outbox(dir.path()));
        let dco: Vec<&Mail> = mails
            .iter()
            .filter(|m| m.header("To").as_deref() == Some("dco@example.org"))
            .collect();
        assert_eq!(dco.len(), 1, "{name}: one digest to the DCO");
        assert!(
            dco[0].body.contains("Task and Finish Group led by the DCO"),
            "{}",
            dco[0].body
        );
        let body = &dco[0].body;
        let overdue = |id: &str, q: Period| {
            format!(
                "KPI {id}: {}\n  Overdue:          no value entered for {}, due by {}",
                match id {
                    "3/3" => "% of staff having completed training",
                    _ => "% of staff having completed refresher training",
                },
                q.label(),
                q.last_month().last_day() + Days::new(30)
            )
        };
        assert!(body.contains(&overdue("3/3", latest)), "{name}: {body}");
        // 3/4's latest value is in, but RED; the quarter before it is missing, and not
        // chased: only a KPI's latest due period is (issue 22).
        assert!(
            !body.contains(&overdue("3/4", latest.prev())),
            "{name}: {body}"
        );
        assert!(!body.contains("earlier period"), "{name}: {body}");
        assert!(
            body.contains("KPI 3/4: % of staff having completed refresher training\n  Period:")
                && body.contains("RAG:              RED")
                && body.contains("Source:           entered by hand by ann on "),
            "{name}: {body}"
        );
        assert!(
            !body.contains("KPI 3/5"),
            "{name}: on target and up to date: {body}"
        );
        let subject = dco[0].header("Subject").unwrap_or_default();
        assert!(
            subject.contains("values overdue") && subject.ends_with("(2 sub-groups)"),
            "{name}: {subject}"
        );
        for m in &mails {
            assert!(!m.body.contains("NOTE-CANARY"), "{name}: a note was mailed");
        }
        let (ok, shown, _) = run(dir.path(), &cfg, "kpi show 3/4");
        assert!(
            ok && shown.contains(NOTE),
            "{name}: the note is the board's table's: {shown}"
        );
    }
}

/// A run records every KPI and period it rated together, in one transaction (one commit
/// where each used to take its own): a computed result with the load it came from, a manual
/// one with the entry it came from (none for a period with no entry); a batch the table
/// refuses a row of stores none of it.
async fn a_run_records_its_results_together_with_their_load_or_entry_and_all_or_none() {
    use sendwatch::store::{Start, ToSave};
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let name = backend.name;
        let csv = dir.path().join("meeting.csv");
        std::fs::write(
            &csv,
            format!("{HEAD}3/3,2020-Q1,52,,,,\n3/3,2020-Q2,58,,,,\n"),
        )
        .expect("write csv");
        let (ok, _, err) = run(dir.path(), &cfg, &format!("kpi import {}", csv.display()));
        assert!(ok, "{name}: {err}");
        let app = app(&cfg).await;
        let entries = app.store.manual_values().await.expect("values");
        let entry = |period: &str| {
            entries
                .iter()
                .find(|e| e.value.period.to_string() == period)
                .map(|e| e.id)
        };
        let report = app
            .run_job(
                "monthly-exceptions",
                RunOptions {
                    period: Some("2020-06".parse().expect("period")),
                    ..RunOptions::manual()
                },
            )
            .await
            .expect("run");
        let tracker = app
            .store
            .current_load("tracker")
            .await
            .expect("load")
            .expect("the tracker is loaded");

        let stored = results(&app.store, report.run_id).await;
        let k33: Vec<(&str, Option<i64>)> = stored
            .iter()
            .filter(|r| r.0 == "3/3")
            .map(|r| (r.1.as_str(), r.3))
            .collect();
        assert_eq!(
            k33,
            [
                ("2019-Q4", None),
                ("2020-Q1", entry("2020-Q1")),
                ("2020-Q2", entry("2020-Q2"))
            ],
            "{name}"
        );
        assert!(k33[1].1.is_some(), "{name}: the entries are found");
        let k12a: Vec<&Stored> = stored.iter().filter(|r| r.0 == "1/2a").collect();
        assert!(!k12a.is_empty(), "{name}: {stored:?}");
        assert!(
            k12a.iter()
                .all(|r| r.2 == Some(tracker.id) && r.3.is_none()),
            "{name}: {k12a:?}"
        );

        // All or none: a batch with the same KPI and period twice stores nothing.
        let now = Utc::now();
        let Start::Run(other) = app
            .store
            .start_manual("by-hand", "test:1", now, now)
            .await
            .expect("a run")
        else {
            panic!("{name}: no other run holds `by-hand`");
        };
        let [a, b, ..] = report.evaluations.as_slice() else {
            panic!("{name}: two evaluations at least: {:?}", report.evaluations);
        };
        let save = |eval| ToSave {
            eval,
            load_id: None,
            manual_value_id: None,
        };
        app.store
            .save_evaluations(other, &[save(a), save(b), save(a)])
            .await
            .expect_err("the same KPI and period twice");
        assert!(
            results(&app.store, other).await.is_empty(),
            "{name}: none of the batch"
        );
        app.store
            .save_evaluations(other, &[save(a), save(b)])
            .await
            .expect("a batch the table takes");
        assert_eq!(results(&app.store, other).await.len(), 2, "{name}");
        app.store.close().await;
    }
}

/// A stored result as the table holds it: (kpi, period, load, manual entry).
type Stored = (String, String, Option<i64>, Option<i64>);

/// Run `run_id`'s stored results, in KPI and period order.
async fn results(store: &sendwatch::store::Store, run_id: i64) -> Vec<Stored> {
    use sendwatch::store::Pool;
    const SQL: &str = "SELECT kpi_id, period, load_id, manual_value_id FROM kpi_results \
                       WHERE run_id = $1 ORDER BY kpi_id, period";
    match store.pool() {
        Pool::Sqlite(p) => sqlx::query_as(SQL).bind(run_id).fetch_all(p).await,
        Pool::Postgres(p) => sqlx::query_as(SQL).bind(run_id).fetch_all(p).await,
    }
    .expect("kpi_results")
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(set_and_import_record_who_and_when_and_a_later_entry_supersedes_an_earlier_one)
            .each_backend(),
        trial!(a_refused_import_stores_nothing_and_a_computed_kpi_takes_no_value_by_hand)
            .each_backend(),
        trial!(a_retarget_keeps_the_old_schedule_for_earlier_periods_and_a_run_rates_by_it)
            .each_backend(),
        trial!(an_overdue_manual_kpi_is_an_exception_to_its_owner_and_a_note_is_never_mailed)
            .each_backend(),
        trial!(a_run_records_its_results_together_with_their_load_or_entry_and_all_or_none)
            .each_backend(),
    ]
}
