//! The configuration's checks: layering, validation, secrets.

use super::*;
use crate::notify::{DeliveryMode, SmtpTls};
use secrecy::SecretString;

fn example() -> Settings {
    Settings::load_unchecked(&Sources {
        file: Some(plan::example_file()),
        env: false,
    })
    .expect("example parses")
}

/// `text` as a file laid over the example (its `base`).
fn over_example(text: &str) -> String {
    format!(
        "base = {:?}\n{text}",
        plan::example_file().display().to_string()
    )
}

#[test]
fn the_example_is_valid() {
    example().validate().expect("example validates");
}

#[test]
fn plain_smtp_to_a_remote_host_is_rejected_with_its_key() {
    let mut s = example();
    s.delivery.mode = DeliveryMode::Smtp;
    s.delivery.smtp.host = "smtp.example.org".into();
    s.delivery.smtp.tls = SmtpTls::None;
    let err = s.validate().unwrap_err().to_string();
    assert!(err.contains("delivery.smtp.tls"), "{err}");
    s.delivery.smtp.host = "127.0.0.1".into();
    s.validate().expect("loopback plain SMTP is allowed");
}

#[test]
fn unknown_owner_and_bad_milestone_are_named() {
    let mut s = example();
    let k = s.kpis.get_mut("1/5").expect("1/5 in example");
    k.owner = "nobody".into();
    k.milestones[0].from = "2019-13".into();
    let err = s.validate().unwrap_err().to_string();
    assert!(err.contains("kpis.\"1/5\".owner"), "{err}");
    assert!(err.contains("kpis.\"1/5\".milestones[0].from"), "{err}");
}

#[test]
fn an_override_file_replaces_a_milestone_list_whole_and_keeps_other_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("override.toml");
    std::fs::write(
        &path,
        over_example("[kpis.\"1/5\"]\nmilestones = [{ from = \"2020-01\", target = 50.0 }]\n\n[sub_groups.health]\nowners = [\"a@example.net\"]\n"),
    )
    .expect("write");
    let s = Settings::load(&Sources {
        file: Some(path),
        env: false,
    })
    .expect("loads");
    let k = &s.kpis["1/5"];
    assert_eq!(k.milestones.len(), 1, "{:?}", k.milestones);
    assert_eq!(k.milestones[0].target, Some(50.0));
    assert_eq!(k.owner, "health", "untouched keys keep the example's value");
    assert_eq!(
        s.sub_groups["health"].owners,
        vec!["a@example.net".to_string()]
    );
    assert_eq!(
        s.sub_groups["health"].name,
        "SEND Health Performance Improvement Group"
    );
}

#[test]
fn the_catalogue_is_a_layer_a_deployment_amends_key_by_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("override.toml");
    std::fs::write(
        &path,
        over_example("[kpis.\"4/1\"]\nbaseline = \"agreed 11 Feb 2020\"\n\n[kpis.\"1/4\"]\nbaseline = { text = \"50% (Jan-20)\", value = 50.0, date = \"2020-01\", establish_by = 2020-01-31 }\n"),
    )
    .expect("write");
    let s = Settings::load_unchecked(&Sources {
        file: Some(path),
        env: false,
    })
    .expect("loads");
    assert_eq!(s.kpis.len(), 26, "the whole catalogue is there");
    let k = &s.kpis["4/1"];
    assert_eq!(
        k.baseline.text, "agreed 11 Feb 2020",
        "a string replaces the table"
    );
    assert_eq!(k.baseline.value, None);
    assert_eq!(
        k.owner, "coproduction",
        "untouched keys keep the catalogue's value"
    );
    // A table is merged key by key: the catalogue's establish_by stays beside the value,
    // and check-config says so.
    let err = s.validate().unwrap_err().to_string();
    assert!(err.contains("kpis.\"1/4\".baseline: give a value"), "{err}");
}

#[test]
fn a_job_may_not_list_a_manual_kpi() {
    let mut s = example();
    if let Some(j) = s.jobs.get_mut("monthly-exceptions") {
        j.kpis = Some(vec!["1/2a".into(), "4/1".into()]);
    }
    let err = s.validate().unwrap_err().to_string();
    assert!(err.contains("jobs.monthly-exceptions.kpis"), "{err}");
    assert!(err.contains("KPI `4/1` has no measure"), "{err}");
    assert!(!err.contains("`1/2a`"), "{err}");
}

#[test]
fn secrets_do_not_show_in_debug() {
    let mut s = example();
    s.delivery.smtp.password = Some(SecretString::from("hunter2-very-secret"));
    s.store.url = SecretString::from("postgres://u:pg-pass-123@localhost/db");
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("hunter2-very-secret"));
    assert!(!dbg.contains("pg-pass-123"));
}

#[test]
fn loopback_hosts() {
    assert!(is_loopback_host("localhost"));
    assert!(is_loopback_host("127.0.0.1"));
    assert!(is_loopback_host("[::1]"));
    assert!(!is_loopback_host("mail.example.org"));
    assert!(!is_loopback_host("10.0.0.1"));
}

/// Write `files` (name, text) into a fresh folder.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// The least a configuration must say of itself, with no plan and nothing of the example.
const BARE: &str = r#"
[general]
area = "Wigan"
time_zone = "Europe/London"

[store]
url = "sqlite://data/w.db"

[delivery]
mode = "folder"
folder = "data/outbox"
from = "sendwatch@wigan.example"

[delivery.smtp]
host = "127.0.0.1"
port = 25

[rag]
amber_tolerance = 5.0
"#;

fn load_file(path: std::path::PathBuf) -> Result<Settings, ConfigError> {
    Settings::load_unchecked(&Sources {
        file: Some(path),
        env: false,
    })
}

#[test]
fn a_configuration_naming_no_plan_has_no_kpis_risks_or_actions_and_is_valid() {
    let dir = folder(&[("w.toml", BARE)]);
    let s = load_file(dir.path().join("w.toml")).expect("loads");
    s.validate().expect("a plan-less configuration is valid");
    assert!(s.plan.dir.is_none());
    assert!(s.kpis.is_empty() && s.risks.is_empty() && s.actions.is_empty());
    assert!(s.sources.is_empty() && s.sub_groups.is_empty() && s.jobs.is_empty());
    assert_eq!(
        s.kinds.len(),
        5,
        "the extract kinds are the one built-in layer"
    );
}

#[test]
fn the_plan_folder_is_read_beside_the_file_that_names_it() {
    let text = format!("[plan]\ndir = \"plans/w\"\n\n{BARE}");
    let dir = folder(&[
        ("etc/w.toml", &text),
        (
            "etc/plans/w/risks.toml",
            "[risk_log]\nholder = \"\"\nbands = [{ name = \"low\", from = 1 }]\n",
        ),
    ]);
    let s = load_file(dir.path().join("etc/w.toml")).expect("loads");
    assert_eq!(s.plan.dir, Some(dir.path().join("etc/plans/w")));
    assert_eq!(s.risk_log.bands.len(), 1);
}

#[test]
fn a_plans_groups_file_sets_its_sub_groups_and_meetings_which_the_file_amends_key_by_key() {
    let text = format!(
        "[plan]\ndir = \"p\"\n\n{BARE}\n[sub_groups.board]\nowners = [\"chair@wigan.example\"]\n"
    );
    let dir = folder(&[
        ("w.toml", &text),
        ("p/actions.toml", "[action_log]\nupdate_days = 20\n"),
        (
            "p/groups.toml",
            "[sub_groups.board]\nname = \"SEND board\"\nowners = [\"x@example.net\"]\n\n\
             [sub_groups.health]\nname = \"Health\"\nowners = [\"h@example.net\"]\n\n\
             [action_log]\nmeetings = [2027-01-14, 2027-02-11]\n",
        ),
    ]);
    let s = Settings::load(&Sources {
        file: Some(dir.path().join("w.toml")),
        env: false,
    })
    .expect("loads");
    assert_eq!(s.sub_groups.len(), 2, "{:?}", s.sub_groups);
    assert_eq!(s.sub_groups["board"].name, "SEND board", "the plan's name");
    assert_eq!(
        s.sub_groups["board"].owners,
        ["chair@wigan.example"],
        "the deployment's owners"
    );
    assert_eq!(s.sub_groups["health"].owners, ["h@example.net"]);
    // Two plan files set [action_log]: each its own keys.
    assert_eq!(s.action_log.meetings.len(), 2);
    assert_eq!(s.action_log.update_days, 20);
}

#[test]
fn the_shipped_plan_holds_seftons_sub_groups_and_board_meetings_not_the_example_file() {
    let groups = plan::shipped("groups.toml").expect("groups.toml");
    let groups: std::collections::BTreeMap<String, config::Value> =
        groups.try_deserialize().expect("a table");
    assert_eq!(
        groups.keys().collect::<Vec<_>>(),
        ["action_log", "sub_groups"]
    );
    let file = std::fs::read_to_string(plan::example_file()).expect("example");
    assert!(
        !file.contains("\n[sub_groups.") && !file.contains("\nmeetings ="),
        "the example names them only through its plan"
    );
    let s = example();
    assert_eq!(s.sub_groups.len(), 7);
    assert_eq!(s.action_log.meetings.len(), 7);
}

#[test]
fn a_plan_file_that_sets_anything_but_the_plan_is_refused_naming_plan_dir() {
    let text = format!("[plan]\ndir = \"p\"\n\n{BARE}");
    let dir = folder(&[
        ("w.toml", &text),
        (
            "p/kpis.toml",
            "[sources.x]\nkind = \"tracker\"\nurl = \"x.csv\"\n",
        ),
    ]);
    let err = load_file(dir.path().join("w.toml"))
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("plan.dir") && err.contains("`sources` is not part of a plan"),
        "{err}"
    );
}

#[test]
fn a_plan_folder_that_is_missing_or_empty_is_refused_naming_plan_dir() {
    let text = format!("[plan]\ndir = \"p\"\n\n{BARE}");
    let dir = folder(&[("w.toml", &text)]);
    let err = load_file(dir.path().join("w.toml"))
        .expect_err("no folder")
        .to_string();
    assert!(
        err.contains("plan.dir") && err.contains("is not a folder"),
        "{err}"
    );
    std::fs::create_dir(dir.path().join("p")).expect("mkdir");
    let err = load_file(dir.path().join("w.toml"))
        .expect_err("empty folder")
        .to_string();
    assert!(
        err.contains("plan.dir") && err.contains("holds none of kpis.toml"),
        "{err}"
    );
}

#[test]
fn files_laid_over_one_another_in_a_loop_are_refused_naming_base() {
    let dir = folder(&[
        ("a.toml", "base = \"b.toml\"\n"),
        ("b.toml", "base = \"a.toml\"\n"),
    ]);
    let err = load_file(dir.path().join("a.toml"))
        .expect_err("a loop")
        .to_string();
    assert!(err.contains("base: more than"), "{err}");
}

/// Every problem of one reading, as `check-config` lists them.
fn issues_of(text: &str) -> Vec<Issue> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deployment.toml");
    std::fs::write(&path, text).expect("write");
    match Settings::load(&Sources {
        file: Some(path),
        env: false,
    }) {
        Err(ConfigError::Invalid(issues)) => issues,
        other => panic!("expected issues, got {other:?}"),
    }
}

#[test]
fn every_missing_section_is_named_not_only_the_first() {
    // `delivery` has a required choice (`mode`) no plain stand-in satisfies: the reading
    // still goes on to `rag`, and to the misspelt section.
    let issues = issues_of("[store]\nurl = \"sqlite://x.db\"\n\n[generl]\narea = \"x\"\n");
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        ["delivery", "general", "generl", "rag"],
        "{issues:#?}"
    );
    assert!(issues[0].message.contains("missing"), "{issues:#?}");
    assert!(issues[2].message.starts_with("unknown key"), "{issues:#?}");
    assert!(
        issues.iter().all(|i| i
            .file
            .as_deref()
            .is_some_and(|f| f.ends_with("deployment.toml"))),
        "{issues:#?}"
    );
}

#[test]
fn a_value_of_the_wrong_form_is_named_once_and_its_neighbours_still_read() {
    let issues = issues_of(&over_example(
        "[kpis.\"1/5\"]\nowner = { a = 1 }\nmilestones = [\"x\", { from = \"2020-01\", target = \"fifty\" }]\n\n[sources.tracker]\ncadence = \"sometimes\"\n\n[http]\nnonsense = 1\n",
    ));
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "http.nonsense",
            "kpis.\"1/5\".milestones[0]",
            "kpis.\"1/5\".milestones[1].target",
            "kpis.\"1/5\".owner",
            "sources.tracker.cadence",
        ],
        "nothing said twice, no check's issue about a stand-in: {issues:#?}"
    );
}

#[test]
fn a_checks_issue_names_the_file_that_set_the_key() {
    let issues = issues_of(&over_example("[daemon]\nstop_grace_secs = 999999\n"));
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let said = issues[0].to_string();
    assert!(
        said.starts_with("daemon.stop_grace_secs: must be between 0 and 3600")
            && said.ends_with("deployment.toml)"),
        "{said}"
    );
}
