//! Ingest at full depth: every generator fault on every shipped kind under both policies, on
//! both backends; hostile files whose errors must stay small and hold no cell; the shrink guard
//! and `load approve`.
//!
//! Expected lines come from the generator's own `.meta.json` record of each fault.

use std::path::{Path, PathBuf};

use sendwatch::job::{App, RunOptions, SourceOutcome};

use crate::harness::{app, kind, repo, run_example};
use crate::support::{HttpServer, Response, backends};

const KINDS: [&str; 3] = ["tracker", "reviews", "provider"];

const FAULTS: [&str; 11] = [
    "bad-dates",
    "missing-column",
    "extra-column",
    "duplicate-ids",
    "truncated",
    "bom",
    "crlf",
    "empty",
    "huge-field",
    "wrong-encoding",
    "none",
];

fn extract(kind: &str, fault: &str) -> PathBuf {
    let name = if fault == "none" {
        format!("{kind}.csv")
    } else {
        format!("{kind}__{fault}.csv")
    };
    repo("tests/fixtures/extracts").join(name)
}

fn meta(kind: &str, fault: &str) -> serde_json::Value {
    let mut p = extract(kind, fault).into_os_string();
    p.push(".meta.json");
    serde_json::from_slice(&std::fs::read(p).expect("meta")).expect("json")
}

/// The source [`kind_config`] sets up (one per kind and policy, so that they can share a
/// database).
fn source(kind: &str, policy: &str) -> String {
    format!("{kind}_{policy}")
}

/// A config with one source of `kind`, read under `policy`, and a job `ingest` that only
/// loads it.
fn kind_config(dir: &Path, store_url: &str, kind: &str, url: &str, policy: &str) -> PathBuf {
    let x = source(kind, policy);
    let text = crate::harness::over_example(&format!(
        "[general]\ndata_dir = {data:?}\n\n[store]\nurl = {store_url:?}\n\n\
         [sources.{x}]\nkind = {kind:?}\nurl = {url:?}\ntimeout_secs = 5\n\n\
         [sources.{x}.load]\npolicy = {policy:?}\nmax_bad_share = 0.5\n\n\
         [delivery]\nmode = \"folder\"\nfolder = {out:?}\n\n\
         [jobs.ingest]\ncron = \"0 7 2 * *\"\nsources = [{x:?}]\n",
        data = dir.join("data").display().to_string(),
        out = dir.join("outbox").display().to_string(),
    ));
    let path = dir.join(format!("{kind}-{policy}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

/// (current load id, rows it holds) of the source of `kind_name` under `policy`.
async fn current_x(app: &App, kind_name: &str, policy: &str) -> (i64, usize) {
    crate::harness::current_of(app, &source(kind_name, policy), kind_name).await
}

async fn run(app: &App) -> SourceOutcome {
    let r = app
        .run_job("ingest", RunOptions::manual())
        .await
        .expect("run");
    r.sources[0].1.clone()
}

/// 1-based position of `column` in the fixture's header.
fn position(kind: &str, fault: &str, column: &str) -> usize {
    let m = meta(kind, fault);
    m["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .position(|c| c.as_str() == Some(column))
        .expect("column in header")
        + 1
}

/// The data lines (header = line 1) the generator spoiled in a row-level fault, and where the
/// error for the first one must point.
fn spoiled_lines(kind: &str, fault: &str) -> Vec<u64> {
    let d = &meta(kind, fault)["fault_detail"];
    let line = |v: &serde_json::Value| v.as_u64().expect("row") + 1;
    let mut lines: Vec<u64> = match fault {
        "bad-dates" => d["rows"]
            .as_array()
            .expect("rows")
            .iter()
            // A padded ISO date is trimmed and so is valid now.
            .filter(|r| {
                let v = r[2].as_str().expect("value");
                v.trim() == v || v.trim().len() != 10
            })
            .map(|r| line(&r[0]))
            .collect(),
        "duplicate-ids" => ["exact_duplicate_rows", "id_clash_rows"]
            .iter()
            .flat_map(|k| d[*k].as_array().expect("rows").iter().map(|r| line(&r[0])))
            .collect(),
        "wrong-encoding" => d["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(line)
            .collect(),
        "huge-field" => vec![line(&d["row"])],
        other => panic!("{other} is not a row-level fault"),
    };
    lines.sort_unstable();
    lines
}

/// What a strict load's error must contain for a fault.
fn expected_error(kind: &str, fault: &str) -> String {
    let d = &meta(kind, fault)["fault_detail"];
    match fault {
        "missing-column" => format!(
            "line 1: missing column `{}`",
            d["dropped_column"].as_str().expect("name")
        ),
        "extra-column" => format!(
            "line 1, column {} (free_text_notes): unexpected column",
            d["position"].as_u64().expect("pos") + 1
        ),
        "truncated" => format!(
            "line {}: the file ends in the middle of this row",
            d["complete_data_rows"].as_u64().expect("rows") + 2
        ),
        "empty" => "the file is empty".to_string(),
        "duplicate-ids" => {
            let col = position(kind, fault, d["id_column"].as_str().expect("id"));
            format!("line {}, column {col} (", spoiled_lines(kind, fault)[0])
        }
        "bad-dates" => {
            let first = spoiled_lines(kind, fault)[0];
            let row = d["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r[0].as_u64() == Some(first - 1))
                .expect("row");
            let name = row[1].as_str().expect("column");
            format!(
                "line {first}, column {} ({name})",
                position(kind, fault, name)
            )
        }
        "wrong-encoding" | "huge-field" => {
            let name = d["column"].as_str().expect("column");
            format!(
                "line {}, column {} ({name})",
                spoiled_lines(kind, fault)[0],
                position(kind, fault, name)
            )
        }
        other => panic!("no expectation for {other}"),
    }
}

async fn every_generator_fault_on_every_kind_under_both_policies() {
    let http = HttpServer::start().await;
    for backend in backends().await {
        for kind_name in KINDS {
            for policy in ["strict", "quarantine"] {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = format!("/{}/{kind_name}/{policy}.csv", backend.name);
                let cfg = kind_config(
                    dir.path(),
                    &backend.url,
                    kind_name,
                    &http.url(&path),
                    policy,
                );
                let app = app(&cfg).await;
                let clean = std::fs::read(extract(kind_name, "none")).expect("clean");
                http.set(&path, Response::ok(clean));
                let first = run(&app).await;
                assert!(
                    matches!(first, SourceOutcome::Loaded { rows: 60, .. }),
                    "{first:?}"
                );
                let mut good = current_x(&app, kind_name, policy).await;

                for fault in FAULTS {
                    let at = format!("{} {kind_name} {policy} {fault}", backend.name);
                    let bytes = std::fs::read(extract(kind_name, fault)).expect("fixture");
                    http.set(&path, Response::ok(bytes));
                    let outcome = run(&app).await;
                    let row_level = ["bad-dates", "duplicate-ids", "wrong-encoding", "huge-field"]
                        .contains(&fault);
                    match (fault, policy, &outcome) {
                        ("none", _, SourceOutcome::Loaded { rows: 60, .. })
                        | ("bom" | "crlf", _, SourceOutcome::Loaded { rows: 60, .. }) => {
                            good = current_x(&app, kind_name, policy).await;
                            assert_eq!(good.1, 60, "{at}");
                        }
                        (
                            _,
                            "quarantine",
                            SourceOutcome::Loaded {
                                load_id,
                                rows,
                                set_aside,
                                ..
                            },
                        ) if row_level => {
                            let spoiled = spoiled_lines(kind_name, fault);
                            assert_eq!(*set_aside as usize, spoiled.len(), "{at}");
                            assert_eq!(*rows as usize, 60 - spoiled.len(), "{at}");
                            let problems =
                                app.store.load_problems(*load_id).await.expect("problems");
                            let mut lines: Vec<u64> = problems.iter().map(|p| p.0 as u64).collect();
                            lines.dedup();
                            assert_eq!(lines, spoiled, "{at}: the rows set aside");
                            good = current_x(&app, kind_name, policy).await;
                            assert_eq!(good, (*load_id, 60 - spoiled.len()), "{at}");
                        }
                        (_, _, SourceOutcome::Rejected { error }) if fault != "none" => {
                            let want = expected_error(kind_name, fault);
                            assert!(error.contains(&want), "{at}: want `{want}` in: {error}");
                            assert!(error.len() < 4096, "{at}: {} bytes of error", error.len());
                            assert_eq!(
                                current_x(&app, kind_name, policy).await,
                                good,
                                "{at}: previous load intact"
                            );
                        }
                        _ => panic!("{at}: unexpected outcome {outcome:?}"),
                    }
                    if policy == "strict" && row_level {
                        assert!(matches!(outcome, SourceOutcome::Rejected { .. }), "{at}");
                    }
                }
                app.store.close().await;
            }
        }
    }
}

/// Errors about hostile files: small, and holding no cell.
async fn a_headerless_file_a_huge_header_and_nul_bytes_give_small_errors_without_cells() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clean = std::fs::read_to_string(extract("tracker", "none")).expect("clean");
    let headerless: String = clean.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let mut long_header = "x".repeat(1_000_000);
    long_header.push_str(&clean[clean.find(',').expect("comma")..]);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "headerless",
            headerless.into_bytes(),
            "the first line is not a header",
        ),
        ("long-header", long_header.into_bytes(), "unexpected column"),
        (
            "longer-header",
            "y".repeat(3_000_000).into_bytes(),
            "record is longer than",
        ),
        (
            "nul",
            vec![0u8; 1_000_000],
            "the first line is not a header",
        ),
    ];
    let db = dir.path().join("h.db");
    let cfg = kind_config(
        dir.path(),
        &format!("sqlite://{}", db.display()),
        "tracker",
        "unused.csv",
        "strict",
    );
    let app = app(&cfg).await;
    for (name, bytes, want) in cases {
        let file = dir.path().join(format!("{name}.csv"));
        std::fs::write(&file, &bytes).expect("write");
        let (_, outcome) = app
            .load_by_hand(&source("tracker", "strict"), &file, false, None)
            .await
            .expect("load");
        let sendwatch::store::SourceOutcome::Rejected { error } = outcome else {
            panic!("{name}: not rejected: {outcome:?}");
        };
        assert!(error.contains(want), "{name}: {error}");
        assert!(error.len() < 4096, "{name}: {} bytes", error.len());
        assert!(
            !error.contains("C0000"),
            "{name}: a case id leaked: {error}"
        );
        assert!(!error.contains("2019-"), "{name}: a date leaked: {error}");
        assert!(
            !error.contains("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
            "{name}: header not cut"
        );
        assert!(!error.contains('\0'), "{name}: raw control bytes");
        let stored = app
            .store
            .run_loads(run_id_of(&app).await)
            .await
            .expect("loads");
        let stored_error = stored[0].error.clone().unwrap_or_default();
        assert_eq!(
            stored_error, error,
            "{name}: the loads table holds the same bounded text"
        );
    }
    app.store.close().await;
}

async fn run_id_of(app: &App) -> i64 {
    app.store.last_run_id().await.expect("runs").expect("a run")
}

/// The example tracker with only the rows `keep` accepts (header kept).
pub(crate) fn tracker_with(keep: impl Fn(usize, &str) -> bool) -> String {
    let text = std::fs::read_to_string(repo("examples/tracker.csv")).expect("example");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("header"));
    for (i, l) in lines.enumerate() {
        if keep(i, l) {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// The latest date in a tracker row (its dates are ISO, so text order is date order).
pub(crate) fn latest(row: &str) -> String {
    row.split(',')
        .skip(1)
        .take(6)
        .filter(|c| !c.is_empty())
        .max()
        .unwrap_or_default()
        .to_string()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

async fn a_halved_or_older_tracker_is_held_and_load_approve_swaps_it_in() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tracker.csv");
        let cfg =
            crate::harness::folder_config(dir.path(), &backend.url, &file.display().to_string());
        let app = app(&cfg).await;
        let run = || app.run_job("monthly-exceptions", RunOptions::manual());
        std::fs::write(&file, tracker_with(|_, _| true)).expect("write");
        let good = crate::harness::GoodLoad::run(&app).await;
        assert_eq!(good.rows, 540);

        // Cut cleanly at a row boundary: a valid file, but half the data.
        std::fs::write(&file, tracker_with(|i, _| i < 270)).expect("write");
        let r = run().await.expect("run");
        let SourceOutcome::Held {
            load_id: first_held,
            ..
        } = r.sources[0].1
        else {
            panic!(
                "{}: half a tracker was not held: {:?}",
                backend.name, r.sources
            );
        };
        // A second halved extract (other bytes) is held too, and supersedes the first: at most
        // one held table per source.
        std::fs::write(&file, tracker_with(|i, _| i < 271)).expect("write");
        let r = run().await.expect("run");
        let SourceOutcome::Held {
            load_id, reason, ..
        } = &r.sources[0].1
        else {
            panic!("{}: not held again: {:?}", backend.name, r.sources);
        };
        assert!(
            reason.contains("540") && reason.contains("down 49.8%"),
            "{reason}"
        );
        let first = app
            .store
            .load(first_held)
            .await
            .expect("query")
            .expect("load");
        assert_eq!(
            (first.outcome.as_str(), first.row_table),
            ("superseded", None)
        );
        assert_eq!(
            row_tables(&app).await,
            vec![
                sendwatch::store::row_table(good.load_id),
                sendwatch::store::row_table(*load_id)
            ],
            "{}: the current load and the newest held one",
            backend.name
        );
        good.assert_still_current(&app, &r).await;
        let held = app
            .store
            .load(*load_id)
            .await
            .expect("query")
            .expect("load");
        assert_eq!(
            (held.outcome.as_str(), held.rows_loaded),
            ("held", Some(271))
        );
        let kept = PathBuf::from(held.kept_file.expect("kept for inspection"));
        assert_eq!(
            mode(&kept),
            0o600,
            "kept extract readable by the service only"
        );
        assert_eq!(mode(kept.parent().expect("folder")), 0o700);

        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendwatch"))
            .current_dir(dir.path())
            .env_clear()
            .args([
                "--config",
                &cfg.display().to_string(),
                "load",
                "approve",
                &load_id.to_string(),
            ])
            .output()
            .expect("run sendwatch");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("load {load_id} approved")),
            "{stdout}"
        );
        let now = app
            .store
            .current_load("tracker")
            .await
            .expect("query")
            .expect("current");
        assert_eq!((now.id, now.outcome.as_str()), (*load_id, "approved"));
        let mut rows = 0;
        app.store
            .scan(&now, &kind("tracker"), &["case_id"], |b| rows += b.len())
            .await
            .expect("scan");
        assert_eq!(rows, 271, "the approved load's rows are what the KPIs read");

        // Whole again, then a file whose data stop a week earlier: the as-of went backwards.
        std::fs::write(&file, tracker_with(|_, _| true)).expect("write");
        let r = run().await.expect("run");
        assert!(
            matches!(r.sources[0].1, SourceOutcome::Loaded { rows: 540, .. }),
            "{:?}",
            r.sources
        );
        std::fs::write(
            &file,
            tracker_with(|_, l| latest(l).as_str() <= "2021-07-25"),
        )
        .expect("write");
        let r = run().await.expect("run");
        let SourceOutcome::Held { reason, .. } = &r.sources[0].1 else {
            panic!(
                "{}: an older tracker was not held: {:?}",
                backend.name, r.sources
            );
        };
        assert!(reason.contains("went backwards"), "{reason}");
        app.store.close().await;
    }
}

/// Pretend the current load of `source` arrived `days` ago.
pub(crate) async fn age_current_load(app: &App, source: &str, days: i64) {
    let at = chrono::Utc::now() - chrono::Duration::days(days);
    const SQL: &str = "UPDATE loads SET fetched_at = $1 \
        WHERE id = (SELECT load_id FROM extract_current WHERE source = $2)";
    match app.store.pool() {
        sendwatch::store::Pool::Sqlite(p) => {
            sqlx::query(SQL)
                .bind(at)
                .bind(source)
                .execute(p)
                .await
                .expect("age");
        }
        sendwatch::store::Pool::Postgres(p) => {
            sqlx::query(SQL)
                .bind(at)
                .bind(source)
                .execute(p)
                .await
                .expect("age");
        }
    }
}

/// A stale source's owner hears once (not at every run while it stays stale), and not at
/// all under a silence; no KPI rating moves.
async fn a_stale_source_tells_its_owner_and_no_kpi_rating_moves() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = repo("examples/tracker.csv").display().to_string();
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, &file);
        let app = app(&cfg).await;
        let outbox = crate::harness::outbox(dir.path());
        let owner = "send-data@example.org"; // sources.tracker.owner in the example
        let to_owner = |mails: &[crate::harness::Mail]| {
            mails
                .iter()
                .filter(|m| m.headers.contains(&format!("To: {owner}")))
                .map(|m| (m.headers.clone(), m.body.clone()))
                .collect::<Vec<_>>()
        };

        let fresh = run_example(&app).await;
        assert!(
            to_owner(&crate::harness::folder_mail(&outbox)).is_empty(),
            "fresh data: no notice"
        );

        // The same bytes again (not reloaded), and the current data is 45 days old: past a
        // month plus 10 days.
        age_current_load(&app, "tracker", 45).await;
        let later = run_example(&app).await;
        assert!(
            matches!(later.sources[0].1, SourceOutcome::Unchanged { .. }),
            "{:?}",
            later.sources
        );
        let notices = to_owner(&crate::harness::folder_mail(&outbox));
        assert_eq!(notices.len(), 1, "{}: {notices:#?}", backend.name);
        let (headers, body) = &notices[0];
        assert!(
            headers.contains("stale data for source `tracker`"),
            "{headers}"
        );
        assert!(
            body.contains("To SEND performance and data team, data owner of the source `tracker`"),
            "{body}"
        );
        assert!(
            body.contains("STALE DATA") && body.contains("monthly (plus 10 days' grace)"),
            "{body}"
        );
        assert!(!body.contains("C000"), "no case id");
        assert_eq!(
            crate::harness::figures(&later),
            crate::harness::figures(&fresh),
            "staleness alone changes no KPI's value or rating"
        );
        // Still stale at the next run, the same deadline missed: the same news, not sent again
        // within the repeat interval.
        let again = run_example(&app).await;
        assert_eq!(again.queued, 0, "{}: {again:?}", backend.name);
        let notices = to_owner(&crate::harness::folder_mail(&outbox));
        assert_eq!(
            notices.len(),
            1,
            "{}: sent twice: {notices:#?}",
            backend.name
        );
        // Newly stale against another deadline is news; a silence on the source holds it back.
        let now = chrono::Utc::now();
        app.store
            .add_silence(
                &["source=tracker".to_string()],
                now,
                now + chrono::Duration::days(7),
                "the tracker's export is known to be down",
                "a test",
                now,
            )
            .await
            .expect("silence");
        age_current_load(&app, "tracker", 80).await;
        let silenced = run_example(&app).await;
        assert_eq!(silenced.queued, 0, "{}: {silenced:?}", backend.name);
        assert_eq!(to_owner(&crate::harness::folder_mail(&outbox)).len(), 1);
        app.store.close().await;
    }
}

async fn a_304_and_a_fifo_source_leave_the_current_load_and_are_recorded() {
    let http = HttpServer::start().await;
    let example = std::fs::read(repo("examples/tracker.csv")).expect("example");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = format!("/{}/etag.csv", backend.name);
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, &http.url(&path));
        let app = app(&cfg).await;
        http.set(
            &path,
            Response::ok(example.clone()).with_header("ETag", "\"v1\""),
        );
        let good = crate::harness::GoodLoad::run(&app).await;

        let again = run_example(&app).await;
        assert_eq!(
            http.last_request_header(&path, "if-none-match").as_deref(),
            Some("\"v1\""),
            "the run asked conditionally, with the current load's ETag"
        );
        let SourceOutcome::Unchanged { why } = &again.sources[0].1 else {
            panic!("{}: a 304 reloaded: {:?}", backend.name, again.sources);
        };
        assert!(why.contains("304"), "{why}");
        good.assert_still_current(&app, &again).await;
        let loads = app.store.run_loads(again.run_id).await.expect("loads");
        assert_eq!(
            (loads[0].outcome.as_str(), loads[0].http_status),
            ("unchanged", Some(304))
        );
        app.store.close().await;

        // A FIFO in place of the file: refused at once, never read, and the run goes on.
        let fifo = dir.path().join("fifo.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let cfg =
            crate::harness::folder_config(dir.path(), &backend.url, &fifo.display().to_string());
        let app = crate::harness::app(&cfg).await;
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            app.run_job("monthly-exceptions", RunOptions::manual()),
        )
        .await
        .expect("a FIFO must not hang the run")
        .expect("run");
        let SourceOutcome::FetchFailed { error } = &r.sources[0].1 else {
            panic!("{}: {:?}", backend.name, r.sources);
        };
        assert!(error.contains("not a regular file"), "{error}");
        good.assert_still_current(&app, &r).await;
        app.store.close().await;
    }
}

/// Run the binary in `dir` with `--config cfg` and `args`: (success, stdout).
fn sendwatch(dir: &Path, cfg: &Path, args: &[&str]) -> (bool, String) {
    let (ok, out, _) = crate::harness::binary(dir, cfg, &[], args);
    (ok, out)
}

async fn load_file_by_hand_dry_run_stores_nothing_and_a_real_load_swaps_in() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, "unused.csv");
        let file = extract("tracker", "none").display().to_string();
        let (ok, out) = sendwatch(
            dir.path(),
            &cfg,
            &["load", &file, "--source", "tracker", "--dry-run"],
        );
        assert!(ok, "{out}");
        assert!(out.contains("dry run, valid (60 rows"), "{out}");
        let app = app(&cfg).await;
        assert!(
            app.store
                .current_load("tracker")
                .await
                .expect("query")
                .is_none(),
            "a dry run stores nothing"
        );

        let dupes = extract("tracker", "duplicate-ids").display().to_string();
        let (ok, out) = sendwatch(
            dir.path(),
            &cfg,
            &["load", &dupes, "--source", "tracker", "--dry-run"],
        );
        assert!(
            !ok && out.contains("key repeats the one on line"),
            "a dry run checks keys too: {out}"
        );

        let (ok, out) = sendwatch(dir.path(), &cfg, &["load", &file, "--source", "tracker"]);
        assert!(ok && out.contains("loaded (load"), "{out}");
        assert_eq!(crate::harness::current(&app).await.1, 60);
        app.store.close().await;
    }
}

async fn the_owner_hears_of_a_refused_a_held_and_an_over_quarantined_extract() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tracker.csv");
        let cfg = crate::harness::write_config(
            dir.path(),
            &backend.url,
            &file.display().to_string(),
            crate::harness::Delivery::Folder(&crate::harness::outbox(dir.path())),
            "[sources.tracker.load]\npolicy = \"quarantine\"\n",
        );
        let app = app(&cfg).await;
        let outbox = crate::harness::outbox(dir.path());
        let owner_mail = || {
            crate::harness::folder_mail(&outbox)
                .into_iter()
                .filter(|m| m.headers.contains("To: send-data@example.org"))
                .collect::<Vec<_>>()
        };
        let put = |fault: &str| std::fs::copy(extract("tracker", fault), &file).expect("copy");
        let run = || app.run_job("monthly-exceptions", RunOptions::manual());

        put("none");
        run().await.expect("run");
        assert!(owner_mail().is_empty());

        put("bad-dates"); // 2 of 60 rows spoiled: 3.3%, over the default 2%
        let r = run().await.expect("run");
        assert!(
            matches!(
                r.sources[0].1,
                SourceOutcome::Loaded {
                    rows: 58,
                    set_aside: 2,
                    ..
                }
            ),
            "{:?}",
            r.sources
        );
        let m = owner_mail();
        assert_eq!(m.len(), 1, "{}", backend.name);
        assert!(
            m[0].headers.contains("rows set aside for source `tracker`"),
            "{}",
            m[0].headers
        );
        assert!(m[0].body.contains("set aside <5 bad rows"), "{}", m[0].body);

        put("missing-column");
        run().await.expect("run");
        let m = owner_mail();
        assert_eq!(m.len(), 2);
        assert!(m.iter().any(|x| x.body.contains("EXTRACT REFUSED")
            && x.body.contains("missing column `final_plan_issued_date`")));

        // A third of the rows: valid, but held by the shrink guard.
        let text = std::fs::read_to_string(extract("tracker", "none")).expect("clean");
        std::fs::write(
            &file,
            text.lines()
                .take(21)
                .map(|l| format!("{l}\n"))
                .collect::<String>(),
        )
        .expect("write");
        let r = run().await.expect("run");
        let SourceOutcome::Held { load_id, .. } = r.sources[0].1 else {
            panic!("{:?}", r.sources);
        };
        let m = owner_mail();
        assert_eq!(m.len(), 3);
        assert!(m.iter().any(|x| {
            x.body.contains(&format!(
                "EXTRACT HELD: the latest extract (load {load_id})"
            )) && x
                .body
                .contains(&format!("sendwatch load approve {load_id}"))
        }));
        for x in &m {
            assert!(!x.body.contains("C000"), "no case id in a notice");
        }
        app.store.close().await;
    }
}

/// Run the binary to its end and return (success, stdout, its own peak RSS in bytes).
///
/// Measured by a small Python process that starts it and reads `RUSAGE_CHILDREN`: the kernel
/// seeds a spawned child's peak RSS with its spawner's, and this test process is large when
/// the whole suite runs in it.
pub fn run_measured(dir: &Path, cfg: &Path, args: &[&str]) -> (bool, String, u64) {
    const SCRIPT: &str = "import resource, subprocess, sys\n\
        out = open(sys.argv[1], 'wb')\n\
        code = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL).returncode\n\
        print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let out_path = dir.join("stdout.txt");
    let report = std::process::Command::new("/usr/bin/python3")
        .env_clear()
        .arg("-c")
        .arg(SCRIPT)
        .arg(&out_path)
        .arg(env!("CARGO_BIN_EXE_sendwatch"))
        .arg("--config")
        .arg(cfg)
        .args(args)
        .output()
        .expect("run /usr/bin/python3");
    let text = String::from_utf8_lossy(&report.stdout).into_owned();
    let mut parts = text.split_whitespace();
    let code: i32 = parts
        .next()
        .and_then(|c| c.parse().ok())
        .expect("exit code");
    let kb: u64 = parts.next().and_then(|m| m.parse().ok()).expect("maxrss");
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    (code == 0, stdout, kb * 1024)
}

fn peak_memory_stays_bounded_on_huge_hostile_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("m.db");
    let cfg = crate::harness::folder_config(
        dir.path(),
        &format!("sqlite://{}", db.display()),
        "unused.csv",
    );
    // Written a MiB at a time, so that writing them costs little memory.
    let write = |name: &str, head: &[u8], fill: u8| {
        use std::io::Write;
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(head).expect("write");
        let chunk = vec![fill; 1024 * 1024];
        for _ in 0..64 {
            f.write_all(&chunk).expect("write");
        }
        path
    };
    let one_line = write("one-line.csv", b"", b'x');
    let nul = write("nul.csv", b"", 0);
    let quoted = write("quoted.csv", b"case_id,\"", b'y');
    for file in [&one_line, &nul, &quoted] {
        let f = file.display().to_string();
        let (ok, out, rss) = run_measured(dir.path(), &cfg, &["load", &f, "--source", "tracker"]);
        assert!(!ok, "{f}: refused");
        assert!(out.contains("REJECTED") && out.len() < 4096, "{f}: {out}");
        assert!(
            rss < 64 * 1024 * 1024,
            "{f}: peak RSS {} MiB for a 64 MiB file",
            rss >> 20
        );
        assert!(rss > 0, "{f}: wait4 reported the child's peak");
    }
}

/// The `rows_<load id>` tables in the database (one per current or held load).
pub async fn row_tables(app: &App) -> Vec<String> {
    match app.store.pool() {
        sendwatch::store::Pool::Sqlite(p) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rows_%' ORDER BY name",
        )
        .fetch_all(p)
        .await
        .expect("tables"),
        sendwatch::store::Pool::Postgres(p) => sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename LIKE 'rows_%' ORDER BY tablename",
        )
        .fetch_all(p)
        .await
        .expect("tables"),
    }
}

async fn two_loads_at_once_both_finish_one_is_current_and_no_table_is_left_over() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = crate::harness::write_config(
            dir.path(),
            &backend.url,
            "unused.csv",
            crate::harness::Delivery::Folder(&crate::harness::outbox(dir.path())),
            "[sources.tracker.load]\nmax_shrink = 1.0\n",
        );
        let app = app(&cfg).await; // migrated before the two start
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(&a, crate::harness::big_tracker(150, "a")).expect("write");
        std::fs::write(&b, crate::harness::big_tracker(150, "b")).expect("write");
        let spawn = |file: &Path| {
            std::process::Command::new(env!("CARGO_BIN_EXE_sendwatch"))
                .current_dir(dir.path())
                .env_clear()
                .arg("--config")
                .arg(&cfg)
                .args(["load", &file.display().to_string(), "--source", "tracker"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (pa, pb) = (spawn(&a), spawn(&b));
        for p in [pa, pb] {
            let out = p.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}: {} {}",
                backend.name,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let (current, rows) = crate::harness::current(&app).await;
        assert_eq!(
            rows,
            150 * 540,
            "{}: the current load is whole",
            backend.name
        );
        assert_eq!(
            row_tables(&app).await,
            vec![sendwatch::store::row_table(current)],
            "{}: only the current load's rows are kept",
            backend.name
        );
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(every_generator_fault_on_every_kind_under_both_policies).each_backend(),
        trial!(a_headerless_file_a_huge_header_and_nul_bytes_give_small_errors_without_cells),
        trial!(a_halved_or_older_tracker_is_held_and_load_approve_swaps_it_in).each_backend(),
        trial!(a_stale_source_tells_its_owner_and_no_kpi_rating_moves).each_backend(),
        trial!(a_304_and_a_fifo_source_leave_the_current_load_and_are_recorded).each_backend(),
        trial!(load_file_by_hand_dry_run_stores_nothing_and_a_real_load_swaps_in).each_backend(),
        trial!(the_owner_hears_of_a_refused_a_held_and_an_over_quarantined_extract).each_backend(),
        trial!(peak_memory_stays_bounded_on_huge_hostile_files),
        trial!(two_loads_at_once_both_finish_one_is_current_and_no_table_is_left_over)
            .each_backend(),
    ]
}
