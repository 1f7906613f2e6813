//! The assessment backlog as a dated series (issue 20): beside 1/2 and 1/2a, each period's
//! backlog is the requests open past 20 weeks at that period's end, as the seeds print it
//! (147 -> 17 -> 8), not the extract's latest count for every period.
//!
//! `tests/fixtures/backlog/tracker.csv` is a generated extract (gen_extracts.py, 1,000 rows,
//! seed 11, requests 2019-2020, as of 2021-03-15; its `.meta.json` says how). The expected
//! count at each month's end is worked out here from the CSV alone, by this file's own
//! reading of it: a request is open at a date D if received on or before D and not finished
//! by D (its final plan issued on or before D); one closed without a plan (not agreed to
//! assess, not issuing, withdrawn: the tracker carries no date of that) counts as finished on
//! the latest date it carries; one still open (awaiting a decision, assessment in progress,
//! draft plan issued) is not finished. Past 20 weeks at D: received more than 140 days before
//! D. The extract's own count, at its latest date, is what a period that ends on or after
//! that date gets.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use sendwatch::job::RunOptions;
use sendwatch::kpi::Period;
use sendwatch::store::RunStatus;

use crate::harness::{app, folder_config_with, folder_mail, outbox, repo};
use crate::support::backends;

const OPEN: [&str; 3] = [
    "Awaiting decision",
    "Assessment in progress",
    "Draft plan issued",
];

/// One request as this test reads it: received, and finished (`None`: still open).
struct Request {
    received: NaiveDate,
    finished: Option<NaiveDate>,
}

/// The fixture's requests and its latest date, read with nothing of the library's.
fn requests() -> (Vec<Request>, NaiveDate) {
    let text = std::fs::read_to_string(repo("tests/fixtures/backlog/tracker.csv")).expect("csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (received, plan, status) = (
        at("request_received_date"),
        at("final_plan_issued_date"),
        at("status"),
    );
    let dates: Vec<usize> = (0..header.len())
        .filter(|i| header[*i].ends_with("_date"))
        .collect();
    let mut out = Vec::new();
    let mut latest = NaiveDate::MIN;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "a plain CSV: {line}");
        let date = |i: usize| NaiveDate::parse_from_str(cells[i], "%Y-%m-%d").ok();
        let carried: Vec<NaiveDate> = dates.iter().filter_map(|i| date(*i)).collect();
        let last = carried.iter().copied().max().expect("a request date");
        latest = latest.max(last);
        let finished = match date(plan) {
            Some(p) => Some(p),
            None if OPEN.contains(&cells[status]) => None,
            None => Some(last),
        };
        out.push(Request {
            received: date(received).expect("request date"),
            finished,
        });
    }
    (out, latest)
}

/// Requests open past 20 weeks at the end of the day `on`.
fn backlog_on(requests: &[Request], on: NaiveDate) -> i64 {
    requests
        .iter()
        .filter(|r| r.received <= on && (on - r.received).num_days() > 140)
        .filter(|r| r.finished.is_none_or(|f| f > on))
        .count() as i64
}

/// The last day of the month `p` (a monthly period) ends with.
fn month_end(p: &str) -> NaiveDate {
    let first = NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").expect("month");
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).expect("a day")
}

async fn each_periods_backlog_is_counted_at_its_end_on_both_backends() {
    let (requests, as_of) = requests();
    // Every KPI RED, so that the digest says the backlog.
    let extra = "[kpis.\"1/2a\"]\nmilestones = [{ from = \"2019-01\", target = 99.0, label = \"99%\" }]\n\n\
                 [kpis.\"1/2\"]\nmilestones = [{ from = \"2019-01\", target = 99.0, label = \"99%\" }]\n";
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let extract = repo("tests/fixtures/backlog/tracker.csv");
        let cfg = folder_config_with(
            dir.path(),
            &backend.url,
            &extract.display().to_string(),
            extra,
        );
        let app = app(&cfg).await;
        // Each period's backlog as stored by a run for it and the eleven before; the report
        // periods: the last complete month, June 2020 (`--period 2020-06`), and the month the
        // extract's latest date falls in (it ends after that date).
        let mut checked: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for period in [None, Some("2020-06"), Some("2021-03")] {
            let mut options = RunOptions::manual();
            options.period = period.map(|p| p.parse::<Period>().expect("period"));
            let report = app
                .run_job("monthly-exceptions", options)
                .await
                .expect("run");
            assert_eq!(report.status, RunStatus::Ok, "{}: {report:?}", backend.name);
            let stored = app.store.stored_results().await.expect("results");
            for r in stored.iter().filter(|r| r.run_id == report.run_id) {
                if r.kpi_id != "1/2" && r.kpi_id != "1/2a" {
                    continue;
                }
                let period = r.period.to_string();
                let end = month_end(&period);
                let expected = backlog_on(&requests, end.min(as_of));
                assert_eq!(
                    r.overdue_open,
                    Some(expected),
                    "{}: KPI {} {period}",
                    backend.name,
                    r.kpi_id
                );
                checked.insert(period, (expected, backlog_on(&requests, as_of)));
            }
        }
        // The runs covered 21 months, July 2019 to March 2021; in most the backlog then was not
        // the extract's latest (which every period used to get).
        assert_eq!(checked.len(), 21, "{}: {checked:?}", backend.name);
        let differ = checked.values().filter(|(then, now)| then != now).count();
        assert!(differ >= 15, "{}: {checked:?}", backend.name);
        assert_eq!(
            checked["2021-03"].0,
            backlog_on(&requests, as_of),
            "{}: the month holding the extract's latest date: its count",
            backend.name
        );

        // The digests say which: a past period's backlog at its end, the extract's as itself.
        let bodies: Vec<String> = folder_mail(&outbox(dir.path()))
            .into_iter()
            .map(|m| m.body)
            .collect();
        let june = format!(
            "Backlog at the end of June 2020: {} open requests past 20 weeks",
            checked["2020-06"].0
        );
        let latest = format!(
            "Backlog in the extract: {} open requests past 20 weeks",
            checked["2021-03"].0
        );
        for line in [june, latest] {
            assert!(
                bodies.iter().any(|b| b.contains(&line)),
                "{}: no digest says {line:?}",
                backend.name
            );
        }
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(each_periods_backlog_is_counted_at_its_end_on_both_backends).each_backend()]
}
