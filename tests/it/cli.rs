//! The binary: the README's first command, `check-config`, and secrets kept out of logs.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Mail, assert_lines, folder_mail, repo};
use crate::support::{HttpServer, Response, SmtpOptions, SmtpSink};

fn sendwatch(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    // Only what the test sets: no SENDWATCH__* or CREDENTIALS_DIRECTORY from the caller.
    c.current_dir(cwd).env_clear();
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn the_readme_run_command_writes_exception_reports_for_the_example_tracker() {
    // The README runs `cargo run -- run-now` in the repo root: the built-in config reads
    // examples/tracker.csv and writes data/. Here the same binary runs in a copy of that layout.
    let dir = crate::harness::example_dir();
    let out = sendwatch(dir.path())
        .arg("run-now")
        .output()
        .expect("run binary");
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("KPI 1/2a") && printed.contains("RED"),
        "{printed}"
    );
    // The backlog beside 1/2a, advice outstanding beside 1/5, and the reviews KPIs.
    let line = |id: &str| {
        printed
            .lines()
            .find(|l| l.starts_with(&format!("  KPI {id:<5} ")))
            .unwrap_or_else(|| panic!("no line for KPI {id} in {printed}"))
    };
    assert!(line("1/2a").contains("  backlog "), "{printed}");
    assert!(line("1/5").contains("  advice outstanding "), "{printed}");
    for id in ["1/3", "1/3a"] {
        assert!(line(id).contains("July 2021"), "{printed}");
        assert!(line(id).contains("  reviews overdue "), "{printed}");
    }
    assert!(printed.contains("via folder data/outbox"), "{printed}");
    let mails = folder_mail(&dir.path().join("data/outbox"));
    assert_eq!(
        mails.len(),
        7,
        "one digest per recipient: performance's, joint performance's and health's first \
         owner (a slipped KPI), co-production's (a value entered by hand overdue), the DCO's \
         (health's slipped KPI and the task and finish group's overdue values in one), the \
         risk log's holder (governance), and joint commissioning's (its actions overdue)"
    );
    // The plan's actions were due 2019-2021: each owner hears of theirs, joint commissioning
    // of nothing else.
    let joint: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.header("To").as_deref() == Some("joint-commissioning@example.org"))
        .collect();
    assert_eq!(joint.len(), 1);
    assert!(
        joint[0].body.contains("Action 5.1: ") && joint[0].body.contains("Action 5.2: "),
        "{}",
        joint[0].body
    );
    // No survey value has been entered: the co-production sub-group hears that they are due.
    let surveys: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.body.contains("KPI 4/1: "))
        .collect();
    assert_eq!(surveys.len(), 1);
    assert!(
        surveys[0]
            .body
            .contains("Overdue:          no value entered for academic year"),
        "{}",
        surveys[0].body
    );
    // SALT's 31.3 weeks is over the 18-week standard (and 1/5 RED two months running): R10 is
    // raised, to its owner (health, beside its KPI 1/5) and to the log's holder, whose report
    // has no KPI in it.
    let r10 = "Risk R10: Slipping health actions";
    let gov: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.header("To").as_deref() == Some("governance@example.org"))
        .collect();
    assert_eq!(gov.len(), 1);
    assert!(gov[0].body.contains(r10), "{}", gov[0].body);
    assert!(!gov[0].body.contains("KPI 1/5: "), "{}", gov[0].body);
    assert!(
        mails
            .iter()
            .any(|m| m.body.contains("KPI 1/5") && m.body.contains(r10))
    );
    let waits: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.body.contains("KPI 5/4: "))
        .collect();
    assert_eq!(waits.len(), 1);
    let want = [
        "KPI 5/1: Average waiting time for Paediatric Dietetics (weeks)",
        "Value:            NO DATA: no referrals seen in July 2021",
        "Value:            31.3 weeks (average over 7 referrals seen in July 2021)",
        "Target in force:  18.0 weeks (milestone from June 2021",
    ];
    assert_lines(&waits[0].body, &want, "joint performance");
    let perf: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.body.contains("KPI 1/2a: "))
        .collect();
    assert_eq!(perf.len(), 1);
    let want = [
        "RAG:              RED",
        "Backlog in the extract: ",
        "KPI 1/3: % of EHCP reviews completed for Yr 6, Yr 9 and Yr 11",
        "Period:           July 2021 (cumulative over academic year 2020/21",
    ];
    assert_lines(&perf[0].body, &want, "performance");
    assert!(dir.path().join("data/sendwatch.db").is_file());
}

fn check_config_names_the_key_at_fault() {
    let cases = [
        ("bad_port.toml", vec!["delivery.smtp.port"]),
        (
            "plain_smtp_remote.toml",
            vec!["delivery.smtp.tls", "mail.example.org"],
        ),
        ("unknown_key.toml", vec!["mdoe"]),
        (
            "bad_references.toml",
            vec!["jobs.monthly-exceptions.cron", "kpis.\"1/5\".owner"],
        ),
        (
            "bad_catalogue.toml",
            vec![
                "kpis.\"1/4\".milestones[1].from: milestones must be in date order",
                "kpis.\"1/4\".milestones[2]: give one target kind, not target and not_applicable",
                "kpis.\"1/6\".retargets[0].effective: 2019-01 is before the first milestone",
                "kpis.\"3/3\".source",
            ],
        ),
        (
            "bad_risks.toml",
            vec![
                "risks.R2.owner: no sub-group named `nobody`",
                "risks.R2.likelihood: must be 1 to 5",
                "risks.R2.triggers[0].kpi: no KPI named `9/9`",
                "risk_log.bands[2].from: bands must be in score order",
            ],
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (file, keys) in cases {
        let path = repo("tests/fixtures/config").join(file);
        let out = sendwatch(dir.path())
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .output()
            .expect("run");
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(78), "{file}: {printed}");
        for key in keys {
            assert!(
                printed.contains(key),
                "{file}: `{key}` not named in: {printed}"
            );
        }
    }
}

/// Issue 23: every problem of a file in one pass (unknown keys in two tables, a value of the
/// wrong type, a value out of range), each with its key and file; the daemon refuses the
/// same file with the same list.
fn check_config_lists_every_problem_of_a_file_in_one_pass() {
    let dir = crate::harness::example_dir();
    let path = dir.path().join("three.toml");
    std::fs::write(
        &path,
        crate::harness::over_example(
            "[general]\ncolour = \"blue\"\n\n[delivery]\nmdoe = \"smtp\"\n\n\
             [store]\nmax_connections = \"many\"\n\n[daemon]\nstop_grace_secs = 999999\n",
        ),
    )
    .expect("write");
    let run = |verb: &str| {
        let out = sendwatch(dir.path())
            .arg("--config")
            .arg(&path)
            .arg(verb)
            .output()
            .expect("run");
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(78), "{verb}: {printed}");
        let problems: Vec<String> = printed
            .lines()
            .filter(|l| l.starts_with("  - "))
            .map(str::to_string)
            .collect();
        (problems, printed)
    };
    let (problems, printed) = run("check-config");
    let want = [
        "general.colour: unknown key",
        "delivery.mdoe: unknown key",
        "store.max_connections: invalid type",
        "daemon.stop_grace_secs: must be between 0 and 3600",
    ];
    assert_eq!(problems.len(), want.len(), "{printed}");
    for said in want {
        let line = problems
            .iter()
            .find(|l| l.contains(said))
            .unwrap_or_else(|| panic!("`{said}` not in: {printed}"));
        assert!(line.ends_with("(in three.toml)"), "{line}");
    }
    assert!(!printed.contains("configuration OK"), "{printed}");
    let (daemon, printed) = run("daemon");
    assert_eq!(daemon, problems, "{printed}");
}

fn check_config_prints_next_fire_times_in_local_time_and_utc() {
    let dir = crate::harness::example_dir();
    let out = sendwatch(dir.path())
        .arg("check-config")
        .output()
        .expect("run");
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    let line = printed
        .lines()
        .find(|l| l.contains("job monthly-exceptions"))
        .expect("job line");
    // 07:00 London on the 2nd: 07:00 GMT is 07:00 UTC in winter, 07:00 BST is 06:00 UTC.
    assert!(
        line.contains("07:00 GMT") || line.contains("07:00 BST"),
        "{line}"
    );
    assert!(
        line.contains("07:00 UTC") || line.contains("06:00 UTC"),
        "{line}"
    );
    assert!(line.contains("Europe/London"), "{line}");
}

async fn no_secret_appears_in_the_log() {
    const SMTP_PW: &str = "smtp-S3cret-canary-7731";
    const SOURCE_PW: &str = "feed-S3cret-canary-9902";
    let sink = SmtpSink::start(SmtpOptions {
        auth: Some(("mailer".into(), SMTP_PW.into())),
        ..Default::default()
    });
    let http = HttpServer::start().await;
    http.set(
        "/tracker.csv",
        Response::ok(std::fs::read(repo("examples/tracker.csv")).expect("example")),
    );
    http.require_basic_auth("feed", SOURCE_PW);

    let dir = tempfile::tempdir().expect("tempdir");
    let pw_file = dir.path().join("source_password");
    std::fs::write(&pw_file, format!("{SOURCE_PW}\n")).expect("write secret");
    let cfg = dir.path().join("sendwatch.toml");
    std::fs::write(
        &cfg,
        crate::harness::over_example(&format!(
            "[store]\nurl = \"sqlite://{db}\"\n\n[sources.tracker]\nkind = \"tracker\"\nurl = \"{url}\"\nusername = \"feed\"\npassword_file = \"{pw}\"\n\n[delivery]\nmode = \"smtp\"\n\n[delivery.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nusername = \"mailer\"\n\n[jobs.monthly-exceptions]\nsources = [\"tracker\"]\nmanual_kpis = false\n",
            db = dir.path().join("sw.db").display(),
            url = http.url("/tracker.csv"),
            pw = pw_file.display(),
            port = sink.port(),
        )),
    )
    .expect("write config");

    let run = |args: &'static [&'static str]| {
        let mut c = sendwatch(dir.path());
        c.arg("--config")
            .arg(&cfg)
            .args(args)
            .env("SENDWATCH__DELIVERY__SMTP__PASSWORD", SMTP_PW)
            .env("SENDWATCH_LOG", "trace");
        tokio::task::spawn_blocking(move || c.output().expect("run binary"))
    };
    let out = run(&["run-now"]).await.expect("join");
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("TRACE") || printed.contains("DEBUG"),
        "the log ran at its most verbose"
    );
    let check = run(&["check-config"]).await.expect("join");
    let printed = format!("{printed}{}", text(&check));
    for secret in [SMTP_PW, SOURCE_PW] {
        assert!(!printed.contains(secret), "a secret was logged");
    }
    // Both secrets were really used: the feed answered and the SMTP server authenticated us.
    assert!(http.hits("/tracker.csv") >= 1);
    // Performance, health's two owners, and the risk log's holder.
    let mails = sink.wait_for(4).await;
    assert_eq!(mails.len(), 4);
    assert!(
        mails
            .iter()
            .all(|m| m.auth_password.as_deref() == Some(SMTP_PW))
    );
}

async fn db_migrate_creates_the_schema_on_both_backends() {
    for backend in crate::support::backends().await {
        let dir = crate::harness::example_dir();
        let mut c = sendwatch(dir.path());
        c.arg("db")
            .arg("migrate")
            .env("SENDWATCH__STORE__URL", &backend.url);
        let out = tokio::task::spawn_blocking(move || c.output().expect("run"))
            .await
            .expect("join");
        let printed = text(&out);
        assert!(out.status.success(), "{}: {printed}", backend.name);
        assert!(
            printed.contains(&format!("({}) is up to date", backend.name)),
            "{printed}"
        );
        assert!(
            !printed.contains("sendwatch:sendwatch@"),
            "the database password was printed"
        );
        // The schema is there: a store opened on it can record a run.
        let settings = sendwatch::store::StoreSettings {
            url: secrecy::SecretString::from(backend.url.clone()),
            password: None,
            password_file: None,
            max_connections: 1,
            connect_timeout_secs: 5,
            statement_timeout_secs: 60,
        };
        let store = sendwatch::store::Store::connect(&settings)
            .await
            .expect("connect");
        let id = store
            .start_run(
                "probe",
                sendwatch::store::Trigger::Manual,
                None,
                chrono::Utc::now(),
            )
            .await
            .expect("runs table exists");
        assert!(id > 0);
        store.close().await;
    }
}

/// What was asked wrongly exits 2, as clap's own usage errors do, and says why; a run that
/// failed exits 1. Each case the CLI's manners named: an unknown KPI, a bad action status, a
/// past `--until`; and the other names of nothing there is.
async fn a_usage_error_exits_2_and_says_why() {
    for backend in crate::support::backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, "unused.csv");
        for (args, said) in [
            (&["kpi", "show", "9/9"][..], "no KPI named `9/9`"),
            (&["kpi", "values", "9/9"][..], "no KPI named `9/9`"),
            (
                &["kpi", "set", "1/6", "--period", "2021", "--value", "140"][..],
                "kpi set 1/6: refused, nothing stored",
            ),
            (
                &["action", "set", "1.2.1", "--status", "done", "--note", "x"][..],
                "action set 1.2.1: refused, nothing stored",
            ),
            (&["action", "history", "9.9.9"][..], "no action `9.9.9`"),
            (
                &[
                    "silence",
                    "add",
                    "--match",
                    "kpi=1/5",
                    "--until",
                    "2020-01-01",
                    "--comment",
                    "x",
                    "--author",
                    "pm",
                ][..],
                "not in the future",
            ),
            (&["silence", "expire", "999"][..], "no silence 999 in force"),
            (&["bogus-verb"][..], "unrecognized subcommand"),
        ] {
            let (code, _, err) = crate::harness::binary_status(dir.path(), &cfg, &[], args);
            assert_eq!(code, Some(2), "{}: {args:?}: {err}", backend.name);
            assert!(
                err.contains(said),
                "{}: {args:?}: `{said}` not in {err}",
                backend.name
            );
        }
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(the_readme_run_command_writes_exception_reports_for_the_example_tracker),
        trial!(check_config_names_the_key_at_fault),
        trial!(check_config_lists_every_problem_of_a_file_in_one_pass),
        trial!(check_config_prints_next_fire_times_in_local_time_and_utc),
        trial!(no_secret_appears_in_the_log).smtp(),
        trial!(db_migrate_creates_the_schema_on_both_backends).each_backend(),
        trial!(a_usage_error_exits_2_and_says_why).each_backend(),
    ]
}
