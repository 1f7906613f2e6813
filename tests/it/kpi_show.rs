//! `sendwatch kpi show`: the board's KPI table from the real binary, after a real run stored
//! its results, on SQLite and PostgreSQL.

use std::path::Path;

use sendwatch::job::RunOptions;
use sendwatch::kpi::{Unit, catalogue};

use crate::harness::{app, binary, folder_config, folder_config_with, repo};
use crate::support::backends;

const IDS: [&str; 26] = [
    "1/1", "1/2", "1/2a", "1/3", "1/3a", "1/4", "1/5", "1/6", "2/1", "2/2", "2/3", "3/1", "3/2",
    "3/3", "3/4", "3/5", "4/1", "4/2", "4/3", "4/4", "4/5", "4/6", "5/1", "5/2", "5/3", "5/4",
];

const OCT_20: &str = "Oct-20: 50% or national average whichever is the higher";

/// `kpi show ARGS` from the binary; (success, stdout, stderr).
fn kpi_show(dir: &Path, cfg: &Path, args: &[&str]) -> (bool, String, String) {
    binary(dir, cfg, &[], &[&["kpi", "show"], args].concat())
}

async fn kpi_show_prints_all_26_kpis_with_milestones_and_stored_actuals_on_both_backends() {
    let extract = repo("examples/tracker.csv");
    let shipped = catalogue::builtin().expect("catalogue");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract.display().to_string());
        // A run for June 2021, the month of 1/2a's and 1/5's last milestone, stores results.
        let app = app(&cfg).await;
        let june = || RunOptions {
            period: Some("2021-06".parse().expect("month")),
            ..RunOptions::manual()
        };
        let first = app
            .run_job("monthly-exceptions", june())
            .await
            .expect("run");
        let report = app
            .run_job("monthly-exceptions", june())
            .await
            .expect("run");
        // The latest result per KPI and period: the second run's, once each, for June 2021
        // and the eleven months before it.
        let latest = app.store.stored_results().await.expect("latest results");
        let june: Vec<&str> = latest
            .iter()
            .filter(|r| r.period.to_string() == "2021-06")
            .map(|r| r.kpi_id.as_str())
            .collect();
        assert_eq!(june, ["1/2", "1/2a", "1/5"], "{}", backend.name);
        assert_eq!(latest.len(), 3 * 12, "{}", backend.name);
        assert!(
            latest
                .iter()
                .all(|r| r.run_id == report.run_id && r.run_id != first.run_id),
            "{latest:?}"
        );
        app.store.close().await;
        let k12a = report
            .evaluations
            .iter()
            .find(|e| e.kpi_id == "1/2a")
            .expect("1/2a evaluated");
        let value = Unit::Percent.format(k12a.value().expect("a value for June 2021"));
        let actual = format!("actual {value} {}", k12a.rag);

        let (ok, table, err) = kpi_show(dir.path(), &cfg, &[]);
        assert!(ok, "{}: {err}", backend.name);
        for id in IDS {
            assert!(
                table.lines().any(|l| l.starts_with(&format!("KPI {id}  "))),
                "{}: KPI {id} missing from\n{table}",
                backend.name
            );
        }
        assert!(table.contains(OCT_20), "{table}");
        let jun = table
            .lines()
            .skip_while(|l| !l.starts_with("KPI 1/2a  "))
            .find(|l| l.contains("Jun-21: 75% or national average"))
            .expect("1/2a's Jun-21 milestone");
        assert!(
            jun.contains("target 75.0%") && jun.contains(&actual),
            "{}: want `{actual}` in `{jun}`",
            backend.name
        );

        let (ok, csv, err) = kpi_show(dir.path(), &cfg, &["--format", "csv"]);
        assert!(ok, "{err}");
        let mut lines = csv.lines();
        let header = lines.next().expect("header");
        assert!(header.starts_with("kpi,title,action,owner,"), "{header}");
        let rows: Vec<&str> = lines.collect();
        let want: usize = shipped.values().map(|k| k.milestones.len().max(1)).sum();
        assert_eq!(rows.len(), want, "one row per KPI milestone");
        for id in IDS {
            assert!(
                rows.iter().any(|r| r.starts_with(&format!("{id},"))),
                "{id}"
            );
        }
        assert!(
            rows.iter()
                .any(|r| r.starts_with("1/2a,") && r.contains(OCT_20))
        );

        let (ok, json, err) = kpi_show(dir.path(), &cfg, &["--format", "json"]);
        assert!(ok, "{err}");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let kpis = parsed.as_array().expect("an array of KPIs");
        assert_eq!(kpis.len(), 26);
        let k = kpis
            .iter()
            .find(|k| k["id"] == "1/2a")
            .expect("1/2a in JSON");
        let jun = k["milestones"]
            .as_array()
            .expect("milestones")
            .iter()
            .find(|m| m["from"] == "2021-06")
            .expect("Jun-21");
        assert_eq!(jun["actual"]["rag"], k12a.rag.as_str(), "{}", backend.name);

        // --period: a month KPI shows the last month of the quarter asked for, with the
        // direction as rated; the Oct-20 milestone's actual comes from the run's history.
        let (ok, json, err) = kpi_show(
            dir.path(),
            &cfg,
            &["1/2a", "--period", "2021-Q1", "--format", "json"],
        );
        assert!(ok, "{err}");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let latest = &parsed[0]["latest"];
        assert_eq!(latest["period"], "2021-03", "{json}");
        assert_eq!(latest["period_label"], "March 2021");
        assert!(
            latest["direction"]
                .as_str()
                .is_some_and(|d| d.starts_with("Performance has ")),
            "{json}"
        );
        let oct = parsed[0]["milestones"]
            .as_array()
            .expect("milestones")
            .iter()
            .find(|m| m["from"] == "2020-10")
            .expect("Oct-20");
        assert_eq!(oct["actual"]["period"], "2020-10", "{json}");

        let (ok, one, _) = kpi_show(dir.path(), &cfg, &["1/5"]);
        assert!(
            ok && one.starts_with("KPI 1/5  ") && !one.contains("KPI 1/2a"),
            "{one}"
        );
        let (ok, _, err) = kpi_show(dir.path(), &cfg, &["9/9"]);
        assert!(!ok && err.contains("no KPI named `9/9`"), "{err}");
        // Aggregates only: the table carries no count and no case.
        assert!(!table.contains("C000"), "no case id");
    }
}

/// Each KPI's AMBER band in its own unit, from `[rag]` as configured (a band per unit) or the
/// KPI's own, with the setting that gives it: in the table and in the JSON.
fn kpi_show_says_each_kpis_amber_band_in_its_unit_and_where_it_is_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("sw.db").display());
    let extract = repo("examples/tracker.csv");
    let cfg = folder_config_with(
        dir.path(),
        &db,
        &extract.display().to_string(),
        "[rag]\namber_tolerance_weeks = 2.5\n\n[kpis.\"1/5\"]\namber_tolerance = 3.0\n",
    );
    let rating = |id: &str| {
        let (ok, out, err) = kpi_show(dir.path(), &cfg, &[id]);
        assert!(ok, "{err}");
        out.lines()
            .find(|l| l.starts_with("  Rating:"))
            .unwrap_or_else(|| panic!("no rating line in\n{out}"))
            .to_string()
    };
    let says =
        |band: &str| format!("  Rating:   GREEN at or better than target; {band}; RED beyond");
    assert_eq!(
        rating("5/4"),
        says("AMBER within 2.5 weeks of target (rag.amber_tolerance_weeks)")
    );
    assert_eq!(
        rating("1/2a"),
        says("AMBER within 5 points of target (rag.amber_tolerance)")
    );
    assert_eq!(
        rating("1/5"),
        says("AMBER within 3 points of target (the KPI's own amber_tolerance)")
    );
    assert_eq!(
        rating("2/2"),
        says("no AMBER band: RED once worse than target (rag.amber_tolerance_deliverable)")
    );
    let (ok, json, err) = kpi_show(dir.path(), &cfg, &["5/1", "--format", "json"]);
    assert!(ok, "{err}");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(parsed[0]["amber"], "AMBER within 2.5 weeks of target");
    assert_eq!(parsed[0]["amber_tolerance"], 2.5);
    assert_eq!(parsed[0]["amber_set_by"], "rag.amber_tolerance_weeks");
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(kpi_show_prints_all_26_kpis_with_milestones_and_stored_actuals_on_both_backends)
            .each_backend(),
        trial!(kpi_show_says_each_kpis_amber_band_in_its_unit_and_where_it_is_set),
    ]
}
