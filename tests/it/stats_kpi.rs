//! KPI 1/2a's "N or the national average, whichever is the higher" milestones take England's
//! figure from the imported release (dated, with its provenance) and fall back to the figure
//! typed into the catalogue before one is imported; `kpi show` says which was used.

use sendwatch::job::RunOptions;
use sendwatch::kpi::{Better, Target, rate};

use crate::harness::{app, binary, evaluation, folder_config, repo, settings};
use crate::support::backends;
use crate::support::trials::{Spec, trial};

pub fn tests() -> Vec<Spec> {
    vec![trial!(an_or_national_milestone_is_rated_with_the_imported_england_figure).each_backend()]
}

const OCT_20: &str = "Oct-20: 50% or national average whichever is the higher";

/// `kpi show 1/2a`'s Oct-20 milestone line and the note under it.
fn oct_20(table: &str) -> (String, String) {
    let mut lines = table.lines().skip_while(|l| !l.contains(OCT_20));
    let line = lines
        .next()
        .unwrap_or_else(|| panic!("no Oct-20 line in\n{table}"));
    (
        line.to_string(),
        lines.next().unwrap_or_default().to_string(),
    )
}

async fn an_or_national_milestone_is_rated_with_the_imported_england_figure() {
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract);
        let december = || RunOptions {
            period: Some("2020-12".parse().expect("month")),
            ..RunOptions::manual()
        };
        // Before any import: England 2018 as typed into the catalogue (60.1%).
        let before = app(&cfg).await;
        let r = before
            .run_job("monthly-exceptions", december())
            .await
            .expect("run");
        before.store.close().await;
        let typed = evaluation(&r, "1/2a");
        let in_force = typed.in_force.clone().expect("a milestone in force");
        assert_eq!(in_force.target, Target::Value(60.1), "{}", backend.name);
        let note = in_force.note.unwrap_or_default();
        assert!(
            note.contains("typed in the catalogue, from January 2019"),
            "{note}"
        );
        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["kpi", "show", "1/2a"]);
        assert!(ok, "{err}");
        let (line, note) = oct_20(&table);
        assert!(line.contains("target 60.1%"), "{line}");
        assert!(note.contains("typed in the catalogue"), "{note}");

        let path = repo("tests/fixtures/ees-ehcp-2025").display().to_string();
        let (ok, _, err) = binary(dir.path(), &cfg, &[], &["stats", "import", &path]);
        assert!(ok, "{err}");

        // England 2019 (58.7%, published) is in force from January 2020 and beats 50%.
        let after = app(&cfg).await;
        let r = after
            .run_job("monthly-exceptions", december())
            .await
            .expect("run");
        after.store.close().await;
        let e = evaluation(&r, "1/2a");
        let in_force = e.in_force.clone().expect("a milestone in force");
        assert_eq!(in_force.target, Target::Value(58.7), "{}", backend.name);
        assert_eq!(e.milestone.as_ref().map(|m| m.target), Some(58.7));
        let note = in_force.note.unwrap_or_default();
        for want in [
            "national average 58.7% (published, from January 2020: England, 2019",
            "release ees-ehcp-2025 (reporting year 2025), timeliness_20_week.csv line 2",
            "is higher than 50.0%",
        ] {
            assert!(note.contains(want), "want `{want}` in {note}");
        }
        let s = settings(&cfg);
        let tolerance = s.kpis["1/2a"]
            .amber_tolerance
            .unwrap_or(s.rag.amber_tolerance);
        assert!(
            e.value().is_some(),
            "the example has a December 2020 figure"
        );
        assert_eq!(
            e.rag,
            rate(e.value(), Some(58.7), Better::Higher, tolerance)
        );
        assert_eq!(e.value(), typed.value(), "the same figure, rated anew");

        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["kpi", "show", "1/2a"]);
        assert!(ok, "{err}");
        let (line, note) = oct_20(&table);
        assert!(line.contains("target 58.7%"), "{line}");
        assert!(
            note.contains("(national average 58.7% (published, from January 2020"),
            "{note}"
        );
        // From June 2021, 75% is higher than England 2020's 55.6%.
        assert!(
            table
                .lines()
                .any(|l| l.contains("Jun-21: 75%") && l.contains("target 75.0%")),
            "{table}"
        );
    }
}
