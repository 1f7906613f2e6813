//! KPIs from a SEN2 return, on both backends: 1/2 and 1/2a computed from the return's requests
//! equal those computed from the tracker extract of the same generated cases, for three seeds
//! and every month stored (and for the "started" basis), and so does the decision on a request
//! within 6 weeks (also counted by hand from the tracker); the variant without the 20-week
//! exceptions, stored beside it, differs from it by exactly the excepted plans of each month.
//!
//! Fixtures: tests/fixtures/sen2 (seed 4, with review persons) and its seed1/ and seed2/
//! (tracker persons only), each with the tracker.csv of the same seed.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use sendwatch::job::{App, RunOptions};
use sendwatch::kpi::StoredResult;
use sendwatch::load::{Format, LoadSettings, Records, Sen2Settings};

use crate::harness::{app, outbox, over_example, parse_rows};
use crate::sen2::fix;
use crate::support::backends;

/// A computed KPI over `source`, reported monthly; `extra` adds keys (`measure` too, else
/// the 20-week one).
fn kpi(id: &str, source: &str, started_from: &str, extra: &str) -> String {
    let measure = if extra.contains("measure") {
        String::new()
    } else {
        "measure = \"ehcp_within_20_weeks\"\n".into()
    };
    format!(
        "[kpis.\"{id}\"]\ntitle = \"{id}\"\naction = \"1.2\"\nowner = \"performance\"\n\
         frequency = \"quarterly\"\nperiod = \"month\"\nunit = \"percent\"\n{measure}\
         source = \"{source}\"\nstarted_from = {started_from}\n\
         baseline = {{ text = \"none\" }}\n{extra}\n"
    )
}

fn config(dir: &Path, store_url: &str, seed_dir: &str) -> std::path::PathBuf {
    let fixture = |f: &str| fix(&format!("{seed_dir}{f}")).display().to_string();
    let mut text = format!(
        "[general]\ndata_dir = {data:?}\n\n[store]\nurl = {store_url:?}\n\n\
         [delivery]\nmode = \"folder\"\nfolder = {out:?}\n\n\
         [sources.tracker]\nkind = \"tracker\"\nurl = {tracker:?}\n\n\
         [sources.sen2]\nkind = \"sen2_requests\"\nurl = {xml:?}\n\
         [sources.sen2.load]\nformat = \"sen2-xml\"\nsen2 = {{ records = \"requests\" }}\n\n\
         [jobs.monthly-exceptions]\nsources = [\"tracker\", \"sen2\"]\nmanual_kpis = false\n\n\
         [http]\nlisten = \"\"\n\n",
        data = dir.join("data").display().to_string(),
        out = outbox(dir).display().to_string(),
        tracker = fixture("tracker.csv"),
        xml = fixture("sen2.xml"),
    );
    // The plan's 1/2 and 1/2a read the tracker; these read the return, the same way.
    text.push_str(&kpi("S/2", "sen2", "2019-06-01", ""));
    text.push_str(&kpi("S/2a", "sen2", "2020-01-01", ""));
    text.push_str(&kpi(
        "S/2a-ex",
        "sen2",
        "2020-01-01",
        "week20_exceptions = \"exclude\"",
    ));
    text.push_str(&kpi("T/2s", "tracker", "2019-01-01", "basis = \"started\""));
    text.push_str(&kpi("S/2s", "sen2", "2019-01-01", "basis = \"started\""));
    // The decision on a request within 6 weeks, from each.
    let decision = "measure = \"decision_within_6_weeks\"";
    text.push_str(&kpi("T/6w", "tracker", "2019-01-01", decision));
    text.push_str(&kpi("S/6w", "sen2", "2019-01-01", decision));
    let path = dir.join("kpis.toml");
    std::fs::write(&path, over_example(&text)).expect("write config");
    path
}

/// The latest stored result of each KPI by period: (numerator, denominator, value, backlog).
type Series = BTreeMap<String, (Option<i64>, Option<i64>, Option<f64>, Option<i64>)>;

async fn series(app: &App) -> BTreeMap<String, Series> {
    let mut out: BTreeMap<String, Series> = BTreeMap::new();
    let all: Vec<StoredResult> = app.store.stored_results().await.expect("results");
    for r in all {
        out.entry(r.kpi_id.clone()).or_default().insert(
            r.period.to_string(),
            (r.numerator, r.denominator, r.value, r.overdue_open),
        );
    }
    out
}

/// Per month (`YYYY-MM` of the plan's start), the excepted plans of requests received from
/// `from`: (of them on time, all of them).
fn excepted(seed_dir: &str, from: NaiveDate) -> BTreeMap<String, (i64, i64)> {
    let settings = LoadSettings {
        format: Format::Sen2Xml,
        sen2: Sen2Settings {
            records: Some(Records::Requests),
            ..Sen2Settings::default()
        },
        ..LoadSettings::default()
    };
    let bytes = std::fs::read(fix(&format!("{seed_dir}sen2.xml"))).expect("fixture");
    let (_, rows) = parse_rows(&bytes, "sen2_requests", &settings).expect("parses");
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (_, r) in rows {
        let (Some(received), Some(plan)) = (day(&r[1]), day(&r[7])) else {
            continue;
        };
        if r[6] == "Y" && received >= from {
            let e = out.entry(plan.format("%Y-%m").to_string()).or_default();
            e.1 += 1;
            e.0 += i64::from((plan - received).num_days() <= 140);
        }
    }
    out
}

async fn kpis_from_a_sen2_return_equal_the_trackers_and_the_exceptions_differ_exactly() {
    for backend in backends().await {
        let mut excepted_seen = 0;
        for seed_dir in ["", "seed1/", "seed2/"] {
            let at = format!("{} {seed_dir}", backend.name);
            let dir = tempfile::tempdir().expect("tempdir");
            let store = if backend.name == "sqlite" {
                format!("sqlite://{}", dir.path().join("k.db").display())
            } else {
                // One database per seed: a fresh one beside the backend's.
                crate::support::db::pg_database().await
            };
            let app = app(&config(dir.path(), &store, seed_dir)).await;
            let report = app
                .run_job("monthly-exceptions", RunOptions::manual())
                .await
                .expect("run");
            assert!(
                report.sources.iter().all(|(_, o)| o.word() == "loaded"),
                "{at}: {:?}",
                report.sources
            );
            let all = series(&app).await;
            let months = |id: &str| all.get(id).cloned().unwrap_or_default();
            let pairs = [
                ("S/2", "1/2"),
                ("S/2a", "1/2a"),
                ("S/2s", "T/2s"),
                ("S/6w", "T/6w"),
            ];
            for (ours, theirs) in pairs {
                let (s, t) = (months(ours), months(theirs));
                assert!(s.len() >= 6, "{at}: {ours} stored {} periods", s.len());
                // The plan's KPIs store their milestones' months too, counted or not.
                for (period, figures) in &t {
                    match s.get(period) {
                        Some(ours_now) => {
                            assert_eq!(ours_now, figures, "{at}: {ours} vs {theirs} {period}")
                        }
                        None => assert_eq!(figures.1.unwrap_or(0), 0, "{at}: {theirs} {period}"),
                    }
                }
                assert!(s.keys().all(|p| t.contains_key(p)), "{at}: {ours}");
                assert!(
                    s.values().any(|f| f.1.unwrap_or(0) > 0),
                    "{at}: {ours} counted nothing"
                );
            }
            // The decisions counted by hand from the tracker: by the month decided, on time
            // within 42 days of the request.
            let tracker =
                std::fs::read_to_string(fix(&format!("{seed_dir}tracker.csv"))).expect("tracker");
            let mut by_hand: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for line in tracker.lines().skip(1) {
                let f: Vec<&str> = line.split(',').collect();
                let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
                if let (Some(req), Some(dec)) = (day(f[1]), day(f[2])) {
                    let e = by_hand.entry(dec.format("%Y-%m").to_string()).or_default();
                    e.1 += 1;
                    e.0 += i64::from((dec - req).num_days() <= 42);
                }
            }
            let stored: BTreeMap<String, (i64, i64)> = months("T/6w")
                .into_iter()
                .filter(|(_, f)| f.1.unwrap_or(0) > 0)
                .map(|(p, f)| (p, (f.0.unwrap_or(0), f.1.unwrap_or(0))))
                .collect();
            let in_stored: BTreeMap<String, (i64, i64)> = by_hand
                .into_iter()
                .filter(|(p, _)| stored.contains_key(p))
                .collect();
            assert_eq!(stored, in_stored, "{at}: decisions within 6 weeks by hand");
            assert!(stored.len() >= 6, "{at}: {} months", stored.len());
            // Without the exceptions: each month less its excepted plans, on time or not.
            let from = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
            let want = excepted(seed_dir, from);
            let (with, without) = (months("S/2a"), months("S/2a-ex"));
            for (period, w) in &with {
                let (on_time, plans) = want.get(period).copied().unwrap_or_default();
                excepted_seen += plans;
                // A month whose every plan was excepted counts nothing, and is not stored.
                let got = without
                    .get(period)
                    .map_or((0, 0), |e| (e.0.unwrap_or(0), e.1.unwrap_or(0)));
                let want = (w.0.unwrap_or(0) - on_time, w.1.unwrap_or(0) - plans);
                assert_eq!(got, want, "{at}: {period}");
            }
            assert!(without.keys().all(|p| with.contains_key(p)), "{at}");
            app.store.close().await;
        }
        assert!(
            excepted_seen >= 2,
            "the fixtures' excepted plans were counted"
        );
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(kpis_from_a_sen2_return_equal_the_trackers_and_the_exceptions_differ_exactly)
            .each_backend(),
    ]
}
