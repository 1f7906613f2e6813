//! Areas (issue 19), on SQLite and PostgreSQL: one area's handle on the store reads and
//! changes none of another's rows; every row a run writes carries its area; a database from
//! before areas keeps its history as the configured area's; two areas with different plans in
//! one deployment each mail only their own KPIs to their own recipients, and `kpi show` and
//! the pack are per area.

use chrono::{TimeZone, Utc};
use sendwatch::job::App;
use sendwatch::kpi::Period;
use sendwatch::store::{Pool, Store};

use crate::harness::{
    Mail, binary, binary_status, folder_config, folder_config_with, folder_mail, outbox, repo,
    run_example, settings,
};
use crate::support::backends;
use crate::support::trials::{Spec, trial};

/// Put one of everything a person enters into `store`'s area.
async fn enter_everything(store: &Store) -> i64 {
    let now = Utc::now();
    let silence = store
        .add_silence(
            &["kpi=1/2".to_string()],
            now,
            now + chrono::TimeDelta::days(7),
            "test",
            "tester",
            now,
        )
        .await
        .expect("silence");
    let update = sendwatch::action::Update {
        reference: "1.2".into(),
        status: "on-track".parse().expect("status"),
        note: "going well".into(),
        evidence: None,
        next_steps: None,
        author: "tester".into(),
    };
    store
        .save_action_updates(&[update], now)
        .await
        .expect("update");
    silence
}

async fn one_area_cannot_read_or_change_another_areas_rows() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &tracker);
        let app = crate::harness::app(&cfg).await;
        assert_eq!(
            app.store.area(),
            "sefton",
            "{name}: the area's name made an id"
        );
        let report = run_example(&app).await;
        let silence = enter_everything(&app.store).await;
        let a = &app.store;
        let b = a.for_area("wigan");
        let load = a
            .current_load("tracker")
            .await
            .expect("load")
            .expect("a current load");
        let mail = a.run_mail(report.run_id).await.expect("mail");
        assert!(!mail.is_empty(), "{name}: the example run queues mail");

        // Nothing of A's is B's to read.
        assert!(
            b.list_runs(None, 100).await.expect("runs").is_empty(),
            "{name}"
        );
        assert!(b.run(report.run_id).await.is_err(), "{name}: a run by id");
        assert!(b.stored_results().await.expect("kpis").is_empty(), "{name}");
        assert!(
            b.run_results(report.run_id).await.expect("r").is_empty(),
            "{name}"
        );
        assert!(
            b.current_load("tracker").await.expect("l").is_none(),
            "{name}"
        );
        assert!(
            b.load(load.id).await.expect("l").is_none(),
            "{name}: a load by id"
        );
        assert!(
            b.run_loads(report.run_id).await.expect("l").is_empty(),
            "{name}"
        );
        assert!(
            b.run_mail(report.run_id).await.expect("m").is_empty(),
            "{name}"
        );
        assert!(b.pending_mail().await.expect("m").is_empty(), "{name}");
        assert!(b.last_digest_items().await.expect("m").is_empty(), "{name}");
        let body = b.outbox_body(mail[0].id).await.expect("body");
        assert!(
            body.html.is_none() && body.parts.is_empty(),
            "{name}: a message's body by id"
        );
        assert_eq!(
            b.outbox_counts().await.expect("c"),
            Default::default(),
            "{name}"
        );
        assert!(
            b.silences(Utc::now(), true).await.expect("s").is_empty(),
            "{name}"
        );
        assert!(
            b.action_updates(None).await.expect("a").is_empty(),
            "{name}"
        );
        assert!(
            b.commentary_history(None).await.expect("c").is_empty(),
            "{name}"
        );
        assert!(
            b.manual_history(None).await.expect("m").is_empty(),
            "{name}"
        );
        assert!(b.retargets().await.expect("r").is_empty(), "{name}");
        assert!(b.risk_events().await.expect("r").is_empty(), "{name}");
        let kind = app.settings.kinds["tracker"].clone();
        assert!(
            b.scan(&load, &kind, &["case_id"], |_| {}).await.is_err(),
            "{name}: A's rows through a load record B did not read"
        );

        // Nor to change.
        let now = Utc::now();
        assert!(!b.expire_silence(silence, now).await.expect("x"), "{name}");
        assert!(
            !b.renew_lease(report.run_id, now).await.expect("x"),
            "{name}"
        );
        assert!(
            !b.abandon_run(report.run_id, "no", now, false)
                .await
                .expect("x"),
            "{name}"
        );
        b.finish_run(
            report.run_id,
            sendwatch::store::RunStatus::Failed,
            "no",
            now,
        )
        .await
        .expect("finish");
        b.mark_sent(mail[0].id, "someone", now).await.expect("mark");
        assert!(b.approve_load(load.id, now).await.is_err(), "{name}");
        let run = a.run(report.run_id).await.expect("A's run");
        assert_eq!(
            run.status, report.status,
            "{name}: B's finish changed nothing"
        );
        assert_eq!(run.area, "sefton", "{name}");
        assert_eq!(
            a.run_mail(report.run_id).await.expect("m")[0].status,
            mail[0].status,
            "{name}: B's mark changed nothing"
        );
        assert_eq!(a.silences(now, false).await.expect("s").len(), 1, "{name}");

        // Every row the run and the entries wrote carries the area.
        for (table, n) in a.rows_without_area().await.expect("count") {
            assert_eq!(n, 0, "{name}: {table} has rows without an area");
        }
        app.store.close().await;
    }
}

/// The rows a database from before areas holds: a run, a KPI result, a silence, a message.
async fn write_rows_before_areas(store: &Store) {
    const RUN: &str = "INSERT INTO runs (job, trigger, started_at, finished_at, status) \
                       VALUES ('monthly-exceptions', 'manual', $1, $1, 'ok') RETURNING id";
    const KPI: &str = "INSERT INTO kpi_results (run_id, kpi_id, period, numerator, denominator, \
                       value, rag) VALUES ($1, '1/2', '2021-05', 30, 40, 75.0, 'GREEN')";
    const SILENCE: &str = "INSERT INTO silences (matchers, starts_at, ends_at, comment, author, \
                           created_at) VALUES ('kpi=1/2', $1, $2, 'old', 'someone', $1)";
    const MAIL: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, \
                        status, created_at) VALUES ($1, 'performance', 'a@example.org', 's', 'b', \
                        'sent', $2)";
    let at = Utc
        .with_ymd_and_hms(2021, 6, 2, 7, 0, 0)
        .single()
        .expect("t");
    let later = at + chrono::TimeDelta::days(3650);
    macro_rules! on {
        ($p:ident => $body:expr) => {
            match store.pool() {
                Pool::Sqlite($p) => $body,
                Pool::Postgres($p) => $body,
            }
        };
    }
    let run: i64 = on!(p => sqlx::query_scalar(RUN).bind(at).fetch_one(p).await).expect("run");
    on!(p => sqlx::query(KPI).bind(run).execute(p).await.map(|_| ())).expect("kpi");
    on!(p => sqlx::query(SILENCE).bind(at).bind(later).execute(p).await.map(|_| ()))
        .expect("silence");
    on!(p => sqlx::query(MAIL).bind(run).bind(at).execute(p).await.map(|_| ())).expect("mail");
}

async fn a_database_from_before_areas_keeps_its_history_as_the_configured_areas() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &tracker);
        let s = settings(&cfg);
        // Today's schema before areas: every migration up to 0017.
        let old = Store::connect(&s.store).await.expect("connect");
        let migrations = repo(&format!("migrations/{name}"));
        let before = sqlx::migrate::Migrator::new(migrations.as_path())
            .await
            .expect("migrations");
        match old.pool() {
            Pool::Sqlite(p) => before.run_to(17, p).await,
            Pool::Postgres(p) => before.run_to(17, p).await,
        }
        .expect("migrated to 0017");
        write_rows_before_areas(&old).await;
        old.close().await;

        // The single-area configuration's first start migrates and adopts.
        let app = App::build(s.clone()).await.expect("app");
        let runs = app.store.list_runs(None, 10).await.expect("runs");
        assert_eq!(runs.len(), 1, "{name}: the old run is the area's");
        assert_eq!(runs[0].area, "sefton", "{name}");
        let results = app.store.stored_results().await.expect("kpis");
        assert_eq!(results.len(), 1, "{name}");
        assert_eq!(results[0].period, "2021-05".parse::<Period>().expect("p"));
        assert_eq!(results[0].value, Some(75.0), "{name}");
        assert_eq!(
            app.store.silences(Utc::now(), true).await.expect("s").len(),
            1
        );
        assert_eq!(app.store.run_mail(runs[0].id).await.expect("m").len(), 1);
        for (table, n) in app.store.rows_without_area().await.expect("count") {
            assert_eq!(n, 0, "{name}: {table} still has rows without an area");
        }
        app.store.close().await;
        // The CLI reads the same history.
        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["runs", "--format", "json"]);
        assert!(ok, "{name}: {err}");
        assert!(
            out.contains("\"area\":\"sefton\"") || out.contains("monthly-exceptions"),
            "{name}: {out}"
        );
    }
}

/// A plan of one KPI, for the second area.
pub const WIGAN_KPIS: &str = r#"
[kpis."W1"]
title = "Wigan: new EHCPs completed within 20 weeks"
action = "1"
owner = "performance"
frequency = "monthly"
unit = "percent"
better = "higher"
measure = "ehcp_within_20_weeks"
period = "month"
source = "tracker"
basis = "completed"
baseline = { text = "40% (2018)", value = 40.0, date = "2018-12" }
milestones = [{ from = "2019-01", target = 99.0, label = "99% from Jan-19" }]
"#;

/// Wigan's plan in `dir/plans/wigan`: its one KPI, and sub-groups of the same keys as the
/// shipped plan's (the example's routes name them), each heard at `wigan-KEY@example.org`.
pub fn wigan_plan(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("plans/wigan")).expect("plan dir");
    std::fs::write(dir.join("plans/wigan/kpis.toml"), WIGAN_KPIS).expect("plan");
    let shipped = std::fs::read_to_string(repo("config/plans/sefton/groups.toml")).expect("groups");
    let groups: String = shipped
        .lines()
        .filter_map(|l| l.strip_prefix("[sub_groups.")?.strip_suffix(']'))
        .map(|key| {
            format!(
                "[sub_groups.{key}]\nname = \"Wigan {key}\"\nowners = [\"wigan-{key}@example.org\"]\n\n"
            )
        })
        .collect();
    assert!(groups.contains("performance"), "the shipped plan's groups");
    std::fs::write(dir.join("plans/wigan/groups.toml"), groups).expect("groups");
}

/// A deployment of two areas over the example: Sefton with the shipped plan, Wigan with its
/// own plan of one KPI and its own performance sub-group.
fn two_areas(dir: &std::path::Path, store_url: &str) -> std::path::PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    wigan_plan(dir);
    std::fs::create_dir_all(dir.join("areas")).expect("areas");
    std::fs::write(
        dir.join("areas/sefton.toml"),
        "[general]\narea = \"Sefton\"\n",
    )
    .expect("a");
    std::fs::write(
        dir.join("areas/wigan.toml"),
        "[general]\narea = \"Wigan\"\n\n[plan]\ndir = \"../plans/wigan\"\n",
    )
    .expect("b");
    folder_config_with(dir, store_url, &tracker, "\n[areas]\ndir = \"areas\"\n")
}

fn area_mail(mails: &[Mail], to: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.headers.to_ascii_lowercase().contains(to))
        .map(|m| format!("{}\n{}", m.headers, m.body))
        .collect()
}

async fn two_areas_with_their_own_plans_mail_only_their_own_kpis_to_their_own_people() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = two_areas(dir.path(), &backend.url);

        // Several areas: a command must say which.
        let (code, _, err) = binary_status(dir.path(), &cfg, &[], &["run-now"]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(
            err.contains("--area") && err.contains("sefton, wigan"),
            "{name}: {err}"
        );
        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["check-config"]);
        assert!(ok, "{name}: {err}");
        assert!(
            out.contains("area sefton (Sefton)") && out.contains("area wigan (Wigan)"),
            "{name}: {out}"
        );

        for area in ["wigan", "sefton"] {
            let (ok, _, err) = binary(
                dir.path(),
                &cfg,
                &[],
                &["--area", area, "run-now", "--period", "2021-06"],
            );
            assert!(ok, "{name}: run-now --area {area}: {err}");
        }
        let mails = folder_mail(&outbox(dir.path()));
        let wigan = area_mail(&mails, "wigan-performance@example.org");
        assert!(
            !wigan.is_empty(),
            "{name}: Wigan's KPI is red and its group hears"
        );
        for m in &wigan {
            assert!(m.contains("W1") && m.contains("Wigan"), "{name}: {m}");
            assert!(
                !m.contains("1/2a") && !m.contains("Sefton"),
                "{name}: Sefton's in Wigan's: {m}"
            );
        }
        let others: Vec<&Mail> = mails
            .iter()
            .filter(|m| {
                !m.headers
                    .to_ascii_lowercase()
                    .contains("wigan-performance@")
            })
            .collect();
        assert!(!others.is_empty(), "{name}: Sefton's groups hear too");
        for m in others {
            assert!(
                !m.body.contains("W1") && !m.headers.contains("Wigan"),
                "{name}: {}",
                m.headers
            );
        }

        // kpi show and the pack are per area.
        let show = |area: &str| {
            let (ok, out, err) = binary(
                dir.path(),
                &cfg,
                &[],
                &["--area", area, "kpi", "show", "--format", "csv"],
            );
            assert!(ok, "{name}: {err}");
            out
        };
        let (w, s) = (show("wigan"), show("sefton"));
        assert!(w.contains("W1") && !w.contains("1/2a"), "{name}: {w}");
        assert!(s.contains("1/2a") && !s.contains("W1"), "{name}: {s}");
        let pack = dir.path().join("pack-wigan");
        let out_dir = pack.display().to_string();
        let (ok, _, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "--area", "wigan", "report", "--out", &out_dir, "--pdf", "never",
            ],
        );
        assert!(ok, "{name}: {err}");
        let html: String = std::fs::read_dir(&pack)
            .expect("pack")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
            .map(|e| std::fs::read_to_string(e.path()).expect("html"))
            .collect();
        assert!(
            html.contains("W1") && !html.contains("1/2a"),
            "{name}: Wigan's pack"
        );
        let (code, _, err) =
            binary_status(dir.path(), &cfg, &[], &["--area", "leeds", "kpi", "show"]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains("no area `leeds`"), "{name}: {err}");
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(one_area_cannot_read_or_change_another_areas_rows).each_backend(),
        trial!(a_database_from_before_areas_keeps_its_history_as_the_configured_areas)
            .each_backend(),
        trial!(two_areas_with_their_own_plans_mail_only_their_own_kpis_to_their_own_people)
            .each_backend(),
    ]
}
