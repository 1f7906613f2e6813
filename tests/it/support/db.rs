//! Database backends for tests: a fresh SQLite file per test, and a fresh
//! PostgreSQL database per test on the server named by TEST_DATABASE_URL.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::tools::PROBE_TIMEOUT;
use super::trials::{self, BackendKind, Need, Spec, trial};

const DEFAULT_ADMIN_URL: &str = "postgres://sendwatch:sendwatch@127.0.0.1:5432/postgres";
const DB_PREFIX: &str = "sendwatch_test_";

/// One database the app under test can be pointed at.
#[derive(Debug)]
pub struct Backend {
    /// "sqlite" or "postgres".
    pub name: &'static str,
    pub url: String,
    /// Keeps the SQLite file's directory alive for the test.
    _dir: Option<tempfile::TempDir>,
}

/// The running trial's backend, as a list of one so that a test's body reads
/// `for backend in backends().await { ... }`: a test registered with `.each_backend()` runs
/// as two trials, `::sqlite` and `::postgres` (see tests/it/main.rs).
pub async fn backends() -> Vec<Backend> {
    match trials::backend() {
        Some(BackendKind::Sqlite) => vec![sqlite_backend()],
        Some(BackendKind::Postgres) => vec![Backend {
            name: "postgres",
            url: pg_database().await,
            _dir: None,
        }],
        None => panic!(
            "backends() gives a per-backend trial its backend: register this test with \
             .each_backend() in its module's tests()"
        ),
    }
}

/// `sqlite://<tempdir>/sendwatch.db`; the file does not exist yet (the app creates it).
pub fn sqlite_backend() -> Backend {
    let dir = tempfile::tempdir().expect("tempdir for SQLite");
    let url = format!("sqlite://{}", dir.path().join("sendwatch.db").display());
    Backend {
        name: "sqlite",
        url,
        _dir: Some(dir),
    }
}

/// The server the tests use: TEST_DATABASE_URL, else the role .ci/run creates on 5432.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into())
}

/// The admin URL if the server answered the harness's probe: for a test that uses
/// PostgreSQL where there is one and says so where there is not (the benchmark).
pub fn reachable_admin_url() -> Option<String> {
    Need::Postgres.probe().ok().map(|()| admin_url())
}

/// Creates an empty database and returns its URL (same credentials and host as the admin
/// URL), for a trial registered with `.postgres()` or `.each_backend()`. The harness
/// probed the server first, so a failure here is the test's.
pub async fn pg_database() -> String {
    trials::require(Need::Postgres);
    let admin = admin_url();
    create_database(&admin).await.unwrap_or_else(|e| {
        panic!(
            "creating a PostgreSQL test database via {}: {e}",
            redact(&admin)
        )
    })
}

/// The harness's probe: one connection to the admin URL, bounded. `Err` says where and why.
pub fn probe() -> Result<(), String> {
    let admin = admin_url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime for the PostgreSQL probe: {e}"))?;
    runtime.block_on(async {
        match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect(&admin)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                Ok(())
            }
            Ok(Err(e)) => Err(format!("PostgreSQL unreachable at {}: {e}", where_(&admin))),
            Err(_) => Err(format!(
                "PostgreSQL unreachable at {}: no answer within {PROBE_TIMEOUT:?}",
                where_(&admin)
            )),
        }
    })
}

/// `host:port` of a URL (what an unreachable server is called in messages).
fn where_(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{host} (TEST_DATABASE_URL={})", redact(url))
}

async fn create_database(admin: &str) -> Result<String, sqlx::Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // A single connection rather than a pool: a pool retries a refused
    // connection until its acquire timeout, so a missing server would cost
    // every test 10 s. The timeout still bounds a server that never answers.
    let mut conn = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(admin))
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer within 10 s",
            ))
        })??;

    drop_stale_databases(&mut conn).await;

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let name = format!(
        "{DB_PREFIX}{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    // The name is built from digits only, so formatting it into SQL is safe.
    let created = sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    created?;
    Ok(with_database(admin, &name))
}

/// Drops test databases left by earlier test processes that are gone, so
/// repeated local/CI runs do not pile them up. Once per process; best effort.
async fn drop_stale_databases(conn: &mut PgConnection) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'sendwatch\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(n) => n,
        Err(_) => return,
    };
    for name in names {
        let Some(pid) = name
            .strip_prefix(DB_PREFIX)
            .and_then(|r| r.split('_').next())
        else {
            continue;
        };
        let all_digits = name[DB_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'_');
        // A live pid may be another test process using its databases right now.
        if !all_digits || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut *conn)
        .await;
    }
}

/// Replaces the database name (the URL path) of `url`, keeping any query.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    match (url[scheme_end..].find('@'), url[scheme_end..].find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!(
                "{}:***{}",
                &url[..scheme_end + colon],
                &url[scheme_end + at..]
            )
        }
        _ => url.to_string(),
    }
}

// Registered in tests() below; `deny` overrides support's allow, so a fn left out fails the build.
#[deny(dead_code)]
pub fn tests() -> Vec<Spec> {
    vec![trial!(with_database_replaces_only_the_path)]
}

#[deny(dead_code)]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"),
        "postgres://u:p@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1/postgres?sslmode=disable", "x"),
        "postgres://u:p@127.0.0.1/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://127.0.0.1:5432", "x"),
        "postgres://127.0.0.1:5432/x"
    );
    assert_eq!(
        redact("postgres://u:p@127.0.0.1:5432/postgres"),
        "postgres://u:***@127.0.0.1:5432/postgres"
    );
}
