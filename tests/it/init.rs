//! `sendwatch init`: the starter it writes passes `check-config` and runs; its empty plan has
//! no KPIs and `check-config` says so; `--from-plan sefton` runs the shipped plan as the
//! README's example does; files already there are not overwritten without `--force`.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Mail, folder_mail, repo};

/// The binary in `cwd`, with only the environment given (no `--config`: init needs none).
fn sendwatch(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sendwatch"))
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .expect("run the binary")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The lines a run prints of its KPIs and risks, in order.
fn rated(printed: &str) -> Vec<&str> {
    printed
        .lines()
        .filter(|l| l.starts_with("  KPI ") || l.starts_with("  risk "))
        .collect()
}

fn init_writes_a_starter_that_passes_check_config_and_whose_empty_plan_has_no_kpis() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No --dir: ./sendwatch-SLUG.
    let out = sendwatch(dir.path(), &[], &["init", "St Helens"]);
    assert!(out.status.success(), "{}", text(&out));
    let home = dir.path().join("sendwatch-st-helens");
    for f in sendwatch::config::plan::PLAN_FILES {
        assert!(home.join("plans/st-helens").join(f).is_file(), "{f}");
    }
    let config = std::fs::read_to_string(home.join("sendwatch.toml")).expect("config");
    assert!(
        config.contains("area = \"St Helens\"") && config.contains("dir = \"plans/st-helens\""),
        "{config}"
    );

    // The source is a placeholder: check-config says it is not there, naming its key.
    let check = ["--config", "sendwatch.toml", "check-config"];
    let out = sendwatch(&home, &[], &check);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("sources.tracker.url: ") && text(&out).contains("is not there"),
        "{}",
        text(&out)
    );

    // Pointed at an extract, it passes, and says the plan has no KPIs.
    let tracker = repo("examples/tracker.csv").display().to_string();
    let env = [("SENDWATCH__SOURCES__TRACKER__URL", tracker)];
    let out = sendwatch(&home, &env, &check);
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("configuration OK"), "{printed}");
    assert!(
        printed.contains("  plan:     plans/st-helens: no KPIs (its kpis.toml lists none yet)"),
        "{printed}"
    );
    assert!(rated(&printed).is_empty(), "{printed}");

    // And it runs: the tracker loads, nothing is rated, nothing mailed.
    let out = sendwatch(&home, &env, &["--config", "sendwatch.toml", "run-now"]);
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("  source tracker: loaded"), "{printed}");
    assert!(rated(&printed).is_empty(), "{printed}");
    assert!(folder_mail(&home.join("data/outbox")).is_empty());
}

/// (To, Subject, text part) of each mail, in order; the text without the lines of where and
/// when the extracts were fetched (their paths, load numbers and times differ by run).
fn digests(mails: &[Mail]) -> Vec<(String, String, String)> {
    let kept = |l: &&str| {
        let l = l.trim_start();
        // "Answer here:": the README's example sets a loopback public_url and key, a
        // deployment's starter neither (it makes its own key).
        ["Source:", "fetched ", "sha256 ", "Data:", "Answer here:"]
            .iter()
            .all(|p| !l.starts_with(p))
    };
    let mut out: Vec<_> = mails
        .iter()
        .map(|m| {
            (
                m.header("To").unwrap_or_default(),
                m.header("Subject").unwrap_or_default(),
                m.body.lines().filter(kept).collect::<Vec<_>>().join("\n"),
            )
        })
        .collect();
    out.sort();
    out
}

fn init_from_plan_sefton_runs_the_shipped_plan_and_mails_the_readmes_digests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let examples = repo("examples").display().to_string();
    let args = [
        "init",
        "Sefton",
        "--from-plan",
        "sefton",
        "--dir",
        "sefton",
        "--extracts",
        &examples,
    ];
    let out = sendwatch(dir.path(), &[], &args);
    assert!(out.status.success(), "{}", text(&out));
    let home = dir.path().join("sefton");
    for f in sendwatch::config::plan::PLAN_FILES {
        let copied = std::fs::read(home.join("plans/sefton").join(f)).expect("copied");
        let shipped = std::fs::read(sendwatch::config::plan::shipped_dir().join(f)).expect("file");
        assert!(copied == shipped, "{f} is the shipped plan's");
    }
    let out = sendwatch(&home, &[], &["--config", "sendwatch.toml", "check-config"]);
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert_eq!(
        printed.lines().filter(|l| l.starts_with("  KPI ")).count(),
        26,
        "{printed}"
    );

    let out = sendwatch(&home, &[], &["--config", "sendwatch.toml", "run-now"]);
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    let mails = folder_mail(&home.join("data/outbox"));
    assert!(!mails.is_empty(), "{printed}");

    // The README's run of the example configuration rates and mails the same.
    let readme = crate::harness::example_dir();
    let out = sendwatch(readme.path(), &[], &["run-now"]);
    let readme_printed = text(&out);
    assert!(out.status.success(), "{readme_printed}");
    assert_eq!(rated(&printed), rated(&readme_printed));
    let (ours, theirs) = (
        digests(&mails),
        digests(&folder_mail(&readme.path().join("data/outbox"))),
    );
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert!(a == b, "init's digest\n{a:#?}\nthe README's\n{b:#?}");
    }
}

fn init_does_not_overwrite_a_file_that_is_there_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = ["init", "Wigan", "--dir", "w"];
    assert!(sendwatch(dir.path(), &[], &first).status.success());
    let config = dir.path().join("w/sendwatch.toml");
    let kpis = dir.path().join("w/plans/wigan/kpis.toml");
    std::fs::write(&config, "# edited by hand\n").expect("edit");
    let skeleton = std::fs::read_to_string(&kpis).expect("kpis");

    // Again, and with another plan: refused, naming the files, and nothing written.
    let again = ["init", "Wigan", "--dir", "w", "--from-plan", "sefton"];
    let out = sendwatch(dir.path(), &[], &again);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("nothing written: w/sendwatch.toml, w/plans/wigan/kpis.toml")
            && printed.contains("--force"),
        "{printed}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        "# edited by hand\n"
    );
    assert_eq!(std::fs::read_to_string(&kpis).expect("kpis"), skeleton);

    // One file of the set there is enough to refuse: none of the others is written either.
    let other = dir.path().join("x/plans/wigan");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("groups.toml"), "# mine\n").expect("write");
    let out = sendwatch(dir.path(), &[], &["init", "Wigan", "--dir", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!dir.path().join("x/sendwatch.toml").exists());
    assert!(!other.join("kpis.toml").exists());

    // --force overwrites.
    let forced = [
        "init",
        "Wigan",
        "--dir",
        "w",
        "--from-plan",
        "sefton",
        "--force",
    ];
    let out = sendwatch(dir.path(), &[], &forced);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        std::fs::read_to_string(&config)
            .expect("config")
            .contains("area = \"Wigan\"")
    );
    let shipped = std::fs::read_to_string(sendwatch::config::plan::shipped_dir().join("kpis.toml"))
        .expect("shipped");
    assert_eq!(std::fs::read_to_string(&kpis).expect("kpis"), shipped);
}

fn init_refuses_an_area_name_that_names_no_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sendwatch(dir.path(), &[], &["init", "../.."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no letter or digit"), "{}", text(&out));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(init_writes_a_starter_that_passes_check_config_and_whose_empty_plan_has_no_kpis),
        trial!(init_from_plan_sefton_runs_the_shipped_plan_and_mails_the_readmes_digests),
        trial!(init_does_not_overwrite_a_file_that_is_there_without_force),
        trial!(init_refuses_an_area_name_that_names_no_folder),
    ]
}
