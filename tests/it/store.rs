//! Opening the database: a server that is down, or a wrong password, is said once and plainly,
//! by the binary, without waiting for a pool to time out.

use crate::support::{pg_database, refused_url};

/// `sendwatch db migrate` against `store_url`: (exit code, stderr).
fn migrate(store_url: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        crate::harness::over_example(&format!("[store]\nurl = {store_url:?}\n")),
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendwatch"))
        .current_dir(dir.path())
        .env_clear()
        .args(["--config", &cfg.display().to_string(), "db", "migrate"])
        .output()
        .expect("run sendwatch");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn a_refused_connection_and_a_wrong_password_are_said_once_and_plainly() {
    // A port where nothing listens, from the HTTP helper's refused URL.
    let port = refused_url()
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next().map(str::to_string))
        .expect("port");
    let (code, err) = migrate(&format!("postgres://sendwatch:pw@127.0.0.1:{port}/x"));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.matches("connection refused").count(), 1, "{err}");
    assert!(
        !err.contains("pool timed out") && !err.contains(":pw@"),
        "{err}"
    );

    let url = pg_database().await;
    let mut wrong = reqwest::Url::parse(&url).expect("url");
    wrong
        .set_password(Some("not-the-password"))
        .expect("password");
    let (code, err) = migrate(wrong.as_str());
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err.matches("password authentication failed").count(),
        1,
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");
}

async fn a_postgresql_statement_past_its_timeout_is_cancelled() {
    let url = pg_database().await;
    let settings = sendwatch::store::StoreSettings {
        url: secrecy::SecretString::from(url),
        password: None,
        password_file: None,
        max_connections: 1,
        connect_timeout_secs: 5,
        statement_timeout_secs: 1,
    };
    let store = sendwatch::store::Store::connect(&settings)
        .await
        .expect("connect");
    let sendwatch::store::Pool::Postgres(pool) = store.pool() else {
        panic!("a postgres URL gives a PostgreSQL store");
    };
    let err = sqlx::query("SELECT pg_sleep(30)")
        .execute(pool)
        .await
        .expect_err("cancelled");
    assert!(err.to_string().contains("statement timeout"), "{err}");
    store.close().await;
}

/// A run whose stored status or trigger sendwatch does not know (a hand edit, a newer
/// version) is read as a clear error naming the column and the value, not passed on as text.
async fn an_unknown_run_status_or_trigger_is_a_clear_store_error() {
    use sendwatch::store::{Pool, StoreError};
    for backend in crate::support::backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, "unused.csv");
        let app = crate::harness::app(&cfg).await;
        for (status, trigger, said) in [
            ("paused", "manual", "runs.status holds `paused`"),
            ("ok", "webhook", "runs.trigger holds `webhook`"),
        ] {
            // The app's own area's row, as the store would write it.
            const SQL: &str = "INSERT INTO runs (job, trigger, started_at, status, area) \
                               VALUES ('x', $1, $2, $3, 'sefton') RETURNING id";
            let now = chrono::Utc::now();
            let id: i64 = match app.store.pool() {
                Pool::Sqlite(p) => sqlx::query_scalar(SQL)
                    .bind(trigger)
                    .bind(now)
                    .bind(status)
                    .fetch_one(p)
                    .await
                    .expect("insert"),
                Pool::Postgres(p) => sqlx::query_scalar(SQL)
                    .bind(trigger)
                    .bind(now)
                    .bind(status)
                    .fetch_one(p)
                    .await
                    .expect("insert"),
            };
            let err = app.store.run(id).await.expect_err("an unknown value");
            assert!(
                matches!(&err, StoreError::Corrupt(m) if m.contains(said)),
                "{}: {err}",
                backend.name
            );
        }
        app.store.close().await;
    }
}

/// An outbox row whose status sendwatch does not know is a clear error when read, not a
/// string every caller compares.
async fn an_unknown_outbox_status_is_a_clear_store_error() {
    use sendwatch::store::{Pool, StoreError};
    for backend in crate::support::backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, "unused.csv");
        let app = crate::harness::app(&cfg).await;
        // Written as the app's own area's rows, as the store would.
        const RUN: &str = "INSERT INTO runs (job, trigger, started_at, status, area) \
                           VALUES ('x', 'manual', $1, 'ok', 'sefton') RETURNING id";
        const SQL: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, \
                           status, created_at, area) VALUES ($1, 'admin', 'a@example.org', 's', 'b', \
                           'bounced', $2, 'sefton')";
        let now = chrono::Utc::now();
        let run: i64 = match app.store.pool() {
            Pool::Sqlite(p) => {
                let id = sqlx::query_scalar(RUN).bind(now).fetch_one(p).await;
                let id = id.expect("run");
                sqlx::query(SQL)
                    .bind(id)
                    .bind(now)
                    .execute(p)
                    .await
                    .map(|_| id)
            }
            Pool::Postgres(p) => {
                let id = sqlx::query_scalar(RUN).bind(now).fetch_one(p).await;
                let id = id.expect("run");
                sqlx::query(SQL)
                    .bind(id)
                    .bind(now)
                    .execute(p)
                    .await
                    .map(|_| id)
            }
        }
        .expect("insert");
        let err = app.store.run_mail(run).await.expect_err("an unknown value");
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("outbox.status holds `bounced`")),
            "{}: {err}",
            backend.name
        );
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_refused_connection_and_a_wrong_password_are_said_once_and_plainly).postgres(),
        trial!(a_postgresql_statement_past_its_timeout_is_cancelled).postgres(),
        trial!(an_unknown_run_status_or_trigger_is_a_clear_store_error).each_backend(),
        trial!(an_unknown_outbox_status_is_a_clear_store_error).each_backend(),
    ]
}
