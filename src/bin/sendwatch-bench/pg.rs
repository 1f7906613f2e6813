//! The bench's PostgreSQL housekeeping: quiet connections, a fresh database per round
//! (created and dropped outside the timed part), and a sweep of the databases that a stopped
//! bench left behind.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, PgConnection};

pub async fn admin_connection(admin: &str) -> anyhow::Result<PgConnection> {
    pg_connection(admin).await
}

/// A quiet connection: a slow `DROP DATABASE` is no news worth a warning in the bench.
pub async fn pg_connection(url: &str) -> anyhow::Result<PgConnection> {
    let shown = sendwatch::config::redact_url(url);
    let opts = PgConnectOptions::from_str(url)
        .with_context(|| format!("PostgreSQL URL {shown}"))?
        .disable_statement_logging();
    tokio::time::timeout(Duration::from_secs(10), opts.connect())
        .await
        .map_err(|_| anyhow::anyhow!("{shown}: no answer within 10 s"))?
        .with_context(|| format!("connecting to {shown}"))
}

/// Creates database `name` (a name we built: letters, digits, `_`) and returns its URL.
pub async fn create_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut conn = admin_connection(admin).await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .with_context(|| format!("creating database {name}"))?;
    conn.close().await?;
    Ok(with_database(admin, name))
}

/// Best effort: one left behind is swept by a later bench (see [`drop_stale_databases`]).
/// A plain `DROP DATABASE` first: it stops an autovacuum worker busy on the fresh rows, which
/// `WITH (FORCE)` may not do for a role that is not superuser. FORCE then for a stray session.
pub async fn drop_database(admin: &str, name: &str) {
    let Ok(mut conn) = admin_connection(admin).await else {
        eprintln!("bench: could not connect to drop database {name}");
        return;
    };
    let mut last = None;
    for force in [false, true, false, true] {
        let with = if force { " WITH (FORCE)" } else { "" };
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\"{with}");
        match sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await {
            Ok(_) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if let Some(e) = last {
        eprintln!("bench: could not drop database {name}: {e}");
    }
    let _ = conn.close().await;
}

/// Drops the databases of earlier benches that were stopped mid-round (their process is
/// gone). Best effort.
pub async fn drop_stale_databases(conn: &mut PgConnection) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'sendwatch\\_bench\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    for name in names {
        let Some(pid) = name
            .strip_prefix("sendwatch_bench_")
            .and_then(|r| r.split('_').next())
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\"");
        let _ = sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await;
    }
}

/// `url` with its database (the path) replaced by `db`, keeping any query.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_the_round_database() {
        assert_eq!(
            with_database(
                "postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable",
                "b_1"
            ),
            "postgres://u:p@127.0.0.1:5432/b_1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "b"), "postgres://h/b");
    }
}
