//! A deployment's own plan: a configuration that names its own plan folder runs with exactly
//! that plan, and nothing of the shipped Sefton example (its sources, owners, jobs, KPIs,
//! risks or actions) comes with it; the example is a file like any other, not a layer.

use std::collections::BTreeSet;
use std::path::Path;

use sendwatch::job::RunOptions;
use sendwatch::store::RunStatus;

use crate::harness::{app, folder_mail, repo, settings};
use crate::support::backends;

/// Wigan's own small plan: two KPIs read from the tracker and one risk on the first.
const KPIS: &str = r#"
[kpis."W/1"]
title = "New EHCPs completed within 20 weeks"
action = "1"
owner = "board"
frequency = "monthly"
unit = "percent"
better = "higher"
measure = "ehcp_within_20_weeks"
period = "month"
source = "cases"
basis = "completed"
baseline = { text = "not yet set" }
milestones = [{ from = "2019-10", target = 75.0, label = "75%" }]

[kpis."W/2"]
title = "Health advice returned within 6 weeks"
action = "2"
owner = "board"
frequency = "monthly"
unit = "percent"
better = "higher"
measure = "health_advice_within_6_weeks"
period = "month"
source = "cases"
basis = "completed"
baseline = { text = "not yet set" }
milestones = [{ from = "2019-10", target = 95.0, label = "95%" }]
"#;

const RISKS: &str = r#"
[risk_log]
holder = "board"
bands = [{ name = "low", from = 1 }, { name = "high", from = 10 }]

[risks.W1]
title = "Assessments keep missing the 20 weeks"
owner = "board"
likelihood = 2
impact = 4
mitigation = "Weekly case review."
triggers = [{ kind = "red", kpi = "W/1", periods = 2, likelihood = 4 }]
"#;

/// The deployment's configuration, in `etc/`, naming `plans/wigan` beside it.
fn deployment(dir: &Path, store_url: &str) -> std::path::PathBuf {
    let etc = dir.join("etc");
    std::fs::create_dir_all(etc.join("plans/wigan")).expect("mkdir");
    std::fs::write(etc.join("plans/wigan/kpis.toml"), KPIS).expect("kpis");
    std::fs::write(etc.join("plans/wigan/risks.toml"), RISKS).expect("risks");
    let text = format!(
        r#"[plan]
dir = "plans/wigan"

[general]
area = "Wigan"
time_zone = "Europe/London"
data_dir = {data:?}

[store]
url = {store_url:?}

[delivery]
mode = "folder"
folder = {outbox:?}
from = "sendwatch@wigan.example"

[delivery.smtp]
host = "127.0.0.1"
port = 25

[rag]
amber_tolerance = 5.0

[sources.cases]
kind = "tracker"
url = {tracker:?}

[sub_groups.board]
name = "Wigan SEND board"
owners = ["board@wigan.example"]

[admin]
email = "admin@wigan.example"

[jobs.monthly]
cron = "0 7 2 * *"
sources = ["cases"]

[http]
listen = ""
"#,
        data = dir.join("data").display().to_string(),
        outbox = dir.join("outbox").display().to_string(),
        tracker = repo("examples/tracker.csv").display().to_string(),
    );
    let path = etc.join("wigan.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn keys<V>(m: impl IntoIterator<Item = (String, V)>) -> Vec<String> {
    m.into_iter().map(|(k, _)| k).collect()
}

async fn a_deployment_naming_its_own_plan_runs_that_plan_and_nothing_of_sefton() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = deployment(dir.path(), &backend.url);
        let s = settings(&cfg);
        assert_eq!(keys(s.kpis.0.clone()), ["W/1", "W/2"], "{}", backend.name);
        assert_eq!(keys(s.risks.0.clone()), ["W1"]);
        assert!(s.actions.is_empty(), "no action log in the plan");
        assert_eq!(keys(s.sources.clone()), ["cases"]);
        assert_eq!(keys(s.sub_groups.clone()), ["board"]);
        assert_eq!(keys(s.jobs.clone()), ["monthly"]);
        assert_eq!(s.plan.dir, Some(dir.path().join("etc/plans/wigan")));

        let app = app(&cfg).await;
        let report = app
            .run_job("monthly", RunOptions::manual())
            .await
            .expect("run");
        assert_eq!(report.status, RunStatus::Ok, "{}: {report:?}", backend.name);
        let rated: BTreeSet<&str> = report
            .evaluations
            .iter()
            .map(|e| e.kpi_id.as_str())
            .collect();
        assert_eq!(rated, BTreeSet::from(["W/1", "W/2"]), "{}", backend.name);
        // The example's 1/2a (the same measure) is RED for months: W/1 is too, raising W1.
        let risks: Vec<&str> = report.risks.iter().map(|r| r.risk_id.as_str()).collect();
        assert_eq!(risks, ["W1"], "{}", backend.name);

        let mails = folder_mail(&dir.path().join("outbox"));
        assert!(!mails.is_empty(), "{}: the board hears", backend.name);
        for m in &mails {
            let to = m.header("To").unwrap_or_default();
            assert!(
                to.contains("@wigan.example") && !to.contains("example.org"),
                "{}: mail to {to}",
                backend.name
            );
        }
        app.store.close().await;
    }
}

fn check_config_says_when_no_plan_is_named_and_runs_with_no_kpis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = deployment(dir.path(), "sqlite://data/w.db");
    let text = std::fs::read_to_string(&cfg).expect("config");
    std::fs::write(&cfg, text.replace("[plan]\ndir = \"plans/wigan\"\n", "")).expect("write");
    let (ok, out, err) = crate::harness::binary(dir.path(), &cfg, &[], &["check-config"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("plan:     none named ([plan] dir): no KPIs, risks or actions"),
        "{out}"
    );
    assert!(!out.contains("KPI ") && !out.contains("risk "), "{out}");
    let (ok, out, err) = crate::harness::binary(dir.path(), &cfg, &[], &["run-now"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("source cases: loaded") && !out.contains("KPI "),
        "{out}"
    );
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_deployment_naming_its_own_plan_runs_that_plan_and_nothing_of_sefton)
            .each_backend(),
        trial!(check_config_says_when_no_plan_is_named_and_runs_with_no_kpis),
    ]
}
