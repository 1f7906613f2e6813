//! A twice-yearly KPI (2/3) through the real binary, on SQLite and PostgreSQL: rated per
//! quarter before half-years were a kind (the example plan's 2/3 with `period = "quarter"`),
//! then per half-year. Its half-year is entered as `2021-H1` or as the digest names it
//! ("Jan-Jun 2021"), the same period either way; a quarter is refused; and `kpi show` reads
//! its half-years only, whatever quarters the store still holds.

use std::path::{Path, PathBuf};

use sendwatch::job::RunOptions;

use crate::harness::{Delivery, app, outbox, write_config};
use crate::manual::run;
use crate::support::backends;

/// The example with the manual KPIs rated; 2/3 per quarter when `quarterly` (as it was).
fn config(dir: &Path, store_url: &str, quarterly: bool) -> PathBuf {
    let tracker = crate::harness::repo("examples/tracker.csv")
        .display()
        .to_string();
    let old = if quarterly {
        "[kpis.\"2/3\"]\nperiod = \"quarter\"\n\n"
    } else {
        ""
    };
    write_config(
        dir,
        store_url,
        &tracker,
        Delivery::Folder(&outbox(dir)),
        &format!("{old}[jobs.monthly-exceptions]\nmanual_kpis = true\n"),
    )
}

async fn rate(cfg: &Path, period: &str) -> Vec<(String, String, Option<f64>)> {
    let app = app(cfg).await;
    let report = app
        .run_job(
            "monthly-exceptions",
            RunOptions {
                period: Some(period.parse().expect("period")),
                ..RunOptions::manual()
            },
        )
        .await
        .expect("run");
    let results = app.store.run_results(report.run_id).await.expect("results");
    app.store.close().await;
    results
        .into_iter()
        .filter(|r| r.0 == "2/3")
        .map(|(_, period, rag, value)| (period, rag, value))
        .collect()
}

async fn a_twice_yearly_kpi_is_entered_and_shown_by_its_half_years_only() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        // Before: rated per quarter, Apr-Jun 2021 the latest (it starts after Jan-Jun).
        let cfg = config(dir.path(), &backend.url, true);
        for (period, value) in [("2020-Q4", 30), ("2021-Q1", 31), ("2021-Q2", 32)] {
            let (ok, _, err) = run(
                dir.path(),
                &cfg,
                &format!("kpi set 2/3 --period {period} --value {value}"),
            );
            assert!(ok, "{name}: {period}: {err}");
        }
        let rated = rate(&cfg, "2021-06").await;
        assert!(rated.iter().any(|r| r.0 == "2021-Q2"), "{name}: {rated:?}");

        // Now: twice-yearly. The half-year by its key or as the digest names it is one period.
        let cfg = config(dir.path(), &backend.url, false);
        let (ok, out, err) = run(dir.path(), &cfg, "kpi set 2/3 --period 2020-H2 --value 70");
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("KPI 2/3 Jul-Dec 2020: 70.0% entered by ann"),
            "{out}"
        );
        let (ok, out, err) = run(dir.path(), &cfg, "kpi set 2/3 --period 2021-H1 --value 79");
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("KPI 2/3 Jan-Jun 2021: 79.0% entered by ann"),
            "{out}"
        );
        let (ok, out, err) = run(
            dir.path(),
            &cfg,
            r#"kpi set 2/3 --period "Jan-Jun 2021" --value 80"#,
        );
        assert!(ok, "{name}: {err}");
        assert!(
            out.starts_with("KPI 2/3 Jan-Jun 2021: 80.0% entered by ann")
                && out.contains("it supersedes entry 5"),
            "{name}: the same period: {out}"
        );
        // A quarter is not the half-year asked for: refused, saying what is.
        for quarter in ["2021-Q2", "\"Apr-Jun 2021\""] {
            let (ok, out, err) = run(
                dir.path(),
                &cfg,
                &format!("kpi set 2/3 --period {quarter} --value 33"),
            );
            assert!(!ok, "{name}: {quarter}: {out}");
            assert!(
                err.contains(
                    "this KPI's values are entered for a half-year (YYYY-Hn or Jan-Jun YYYY) \
                     (biannually)"
                ),
                "{name}: {quarter}: {err}"
            );
        }
        let (ok, values, err) = run(dir.path(), &cfg, "kpi values 2/3");
        assert!(ok, "{name}: {err}");
        assert!(
            !values.contains("33.0%"),
            "{name}: nothing stored: {values}"
        );

        let rated = rate(&cfg, "2021-06").await;
        let last = rated.last().expect("rated");
        assert_eq!(
            (last.0.as_str(), last.2),
            ("2021-H1", Some(80.0)),
            "{name}: {rated:?}"
        );

        // `kpi show` reads its half-years only: the quarters still stored are not its latest.
        let (ok, json, err) = run(dir.path(), &cfg, "kpi show 2/3 --format json");
        assert!(ok, "{name}: {err}");
        let mut v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let row = &mut v[0];
        assert_eq!(row["latest"]["period"], "2021-H1", "{name}: {json}");
        assert_eq!(row["latest"]["value"], 80.0, "{name}: {json}");
        // The entries are listed as entered (Apr-Jun 2021 was typed); what is rated and
        // shown as its figures is the half-years alone.
        row.as_object_mut().expect("a row").remove("entered");
        let rated = row.to_string();
        for quarter in ["-Q", "Apr-Jun", "Jan-Mar", "Oct-Dec"] {
            assert!(!rated.contains(quarter), "{name}: {quarter}: {rated}");
        }
        let (ok, table, err) = run(dir.path(), &cfg, "kpi show 2/3");
        assert!(ok, "{name}: {err}");
        assert!(table.contains("Jan-Jun 2021"), "{name}: {table}");
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(a_twice_yearly_kpi_is_entered_and_shown_by_its_half_years_only).each_backend()]
}
