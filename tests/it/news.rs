//! Why mail was queued: the reason the news decision gave is stored with each row and shown
//! by `sendwatch runs`, and `sendwatch preview` says what the decision would be now ("no
//! news" for news already told). And the one parts table: a row queued before migration 0017
//! keeps its inline images and attached files, in the order its message carried them.

use chrono::Utc;
use sendwatch::job::RunOptions;
use sendwatch::news::Part;
use sendwatch::store::{Pool, Store};

use crate::harness::{app, binary, folder_config, repo};
use crate::support::backends;

const JOB: &str = "monthly-exceptions";

/// Run the same body against whichever pool `store` holds.
macro_rules! on {
    ($store:expr, $p:ident => $body:expr) => {
        match $store.pool() {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

async fn runs_shows_why_mail_was_queued_and_preview_says_no_news_for_news_told() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &tracker);
        let app = app(&cfg).await;
        let report = app.run_job(JOB, RunOptions::manual()).await.expect("run");
        let mail = app.store.run_mail(report.run_id).await.expect("outbox");
        assert!(!mail.is_empty(), "{name}: the first run mails");
        assert!(
            mail.iter().all(|m| m.reason.as_deref() == Some("first")),
            "{name}: nothing was told before, so each digest is the first: {mail:?}"
        );

        let (ok, json, err) = binary(dir.path(), &cfg, &[], &["runs", "--format", "json"]);
        assert!(ok, "{name}: {err}");
        let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let run = rows
            .as_array()
            .expect("an array")
            .iter()
            .find(|r| r["id"] == report.run_id)
            .expect("the run");
        let listed = run["mail"].as_array().expect("its mail");
        assert_eq!(listed.len(), mail.len(), "{name}: {run}");
        assert!(
            listed.iter().all(|m| m["reason"] == "first"),
            "{name}: {run}"
        );
        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["runs"]);
        assert!(ok, "{name}: {err}");
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{} ", report.run_id)))
            .expect("the run's line");
        assert!(
            line.ends_with(&format!("mail: {n} queued ({n} first)", n = mail.len())),
            "{name}: {table}"
        );

        // The same data, the same news: a preview now says it is no news, and records nothing.
        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["preview", JOB]);
        assert!(ok, "{name}: {err}");
        let news: Vec<&str> = out.lines().filter(|l| l.contains("news:")).collect();
        assert!(!news.is_empty(), "{name}: {out}");
        assert!(
            news.iter().all(|l| l.trim() == "news:       no news"),
            "{name}: {out}"
        );
        let again = app.store.run_mail(report.run_id).await.expect("outbox");
        assert_eq!(again.len(), mail.len(), "{name}");
        app.store.close().await;
    }
}

async fn a_row_queued_before_the_one_parts_table_keeps_its_images_and_files() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &tracker);
        let settings = crate::harness::settings(&cfg);
        let store = Store::connect(&settings.store).await.expect("connect");
        let migrations = repo(&format!("migrations/{name}"));
        let before = sqlx::migrate::Migrator::new(migrations.as_path())
            .await
            .expect("migrations");
        on!(&store, p => before.run_to(16, p).await).expect("migrated to 0016");
        let now = Utc::now();
        // The run as written before areas (migration 0018 adds the column).
        const RUN: &str = "INSERT INTO runs (job, trigger, started_at, status) \
                           VALUES ($1, 'manual', $2, 'running') RETURNING id";
        let run: i64 =
            on!(&store, p => sqlx::query_scalar(RUN).bind(JOB).bind(now).fetch_one(p).await)
                .expect("run");
        const ROW: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, \
                           status, created_at, body_html) VALUES ($1, $2, 'bob@example.org', 's', \
                           'b', 'pending', $3, $4) RETURNING id";
        const IMAGE: &str = "INSERT INTO outbox_images (outbox_id, cid, png) VALUES ($1, $2, $3)";
        const FILE: &str = "INSERT INTO outbox_attachments (outbox_id, filename, content_type, \
                            bytes) VALUES ($1, $2, $3, $4)";
        let row = |group: &'static str, html: Option<&'static str>| {
            let store = store.clone();
            async move {
                let id: i64 = on!(&store, p => sqlx::query_scalar(ROW)
                    .bind(run)
                    .bind(group)
                    .bind(now)
                    .bind(html)
                    .fetch_one(p)
                    .await)
                .expect("row");
                id
            }
        };
        let digest = row("health", Some("<p>charts</p>")).await;
        for (cid, png) in [("chart2@sendwatch", b"two"), ("chart10@sendwatch", b"ten")] {
            on!(&store, p => sqlx::query(IMAGE).bind(digest).bind(cid).bind(&png[..]).execute(p).await.map(|_| ()))
                .expect("image");
        }
        let pack = row("pack:board", None).await;
        for (file, ct, bytes) in [
            ("pack.pdf", "application/pdf", b"%PDF"),
            ("pack.html", "text/html", b"<htm"),
        ] {
            on!(&store, p => sqlx::query(FILE).bind(pack).bind(file).bind(ct).bind(&bytes[..]).execute(p).await.map(|_| ()))
                .expect("file");
        }
        let notice = row("source:tracker", None).await;

        store.migrate().await.expect("migrated");
        let body = store.outbox_body(digest).await.expect("body");
        assert_eq!(body.html.as_deref(), Some("<p>charts</p>"), "{name}");
        assert_eq!(
            body.parts,
            [
                Part::inline_png("chart10@sendwatch", b"ten".to_vec()),
                Part::inline_png("chart2@sendwatch", b"two".to_vec()),
            ],
            "{name}: by Content-ID, as they were read before"
        );
        let body = store.outbox_body(pack).await.expect("body");
        assert_eq!(body.html, None, "{name}");
        assert_eq!(
            body.parts,
            [
                Part::attachment("pack.html", "text/html", b"<htm".to_vec()),
                Part::attachment("pack.pdf", "application/pdf", b"%PDF".to_vec()),
            ],
            "{name}: by file name, as they were read before"
        );
        assert!(
            store
                .outbox_body(notice)
                .await
                .expect("body")
                .parts
                .is_empty()
        );
        let kinds: Vec<String> =
            on!(&store, p => sqlx::query_scalar("SELECT kind FROM outbox ORDER BY id")
            .fetch_all(p)
            .await)
            .expect("kinds");
        assert_eq!(kinds, ["digest", "pack", "data"], "{name}");
        let gone = on!(&store, p => sqlx::query("SELECT 1 FROM outbox_images").execute(p).await.map(|_| ()));
        assert!(gone.is_err(), "{name}: the old tables are dropped");
        store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(runs_shows_why_mail_was_queued_and_preview_says_no_news_for_news_told)
            .each_backend(),
        trial!(a_row_queued_before_the_one_parts_table_keeps_its_images_and_files).each_backend(),
    ]
}
