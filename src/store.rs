//! Store: the database under everything, SQLite (embedded default) or PostgreSQL.
//!
//! One enum, two pools, the same SQL text on both (`$1` placeholders, `RETURNING` and
//! `ON CONFLICT` work on each driver). Migrations live in `migrations/{sqlite,postgres}` and are
//! embedded at build time. Each table family has its own file: runs, loads (every fetch and
//! the rows of current loads), the bulk load and swap, kpi results, the outbox, what people
//! enter by hand (manual KPI values, target versions), the risk log's history, and the
//! published statistics (deployment-wide, `stats.rs`).
//! `runs` is the run ledger: claims, leases, skipped instants.

use std::os::unix::fs::DirBuilderExt;
use std::str::FromStr;

use secrecy::ExposeSecret;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::secret::redact_url;

/// Run the same body against whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

mod actions;
mod answers;
mod areas;
mod bulk;
mod bulk_pg;
mod bulk_sqlite;
mod dead_man;
mod delivery;
mod disk_full;
mod feed;
mod kpis;
mod loads;
mod manual;
mod named;
mod open_lock;
mod outbox;
mod outbox_parts;
mod outbox_queue;
mod retargets;
mod risk_news;
mod risks;
mod runs;
mod runs_read;
mod scan;
mod settings;
mod silences;
mod source_outcome;
mod sqlite_file;
mod stats;
mod tx;

pub use answers::{Decided, StoredAnswer};
pub use bulk::{BulkOutcome, Feed, LoadMeta, Verdict, Written, row_table};
pub use bulk_sqlite::{date_number, number_date};
pub use delivery::{FailedMail, OutboxCounts};
pub use kpis::ToSave;
pub use loads::LoadRecord;
pub use named::UnknownValue;
pub use outbox::{CHASE_MEMORY, OutboxRow, OutboxStatus};
pub use outbox_parts::StoredBody;
pub use outbox_queue::Queued;
pub use runs::{Claim, NewClaim, RunRecord, RunStatus, Start, Trigger, claim_key};
pub use settings::StoreSettings;
pub use source_outcome::{SourceOutcome, SourceState, Sources};
pub use stats::StatsImported;

/// What went wrong opening the database, in one plain sentence: no repeated causes, no
/// driver internals ("connection refused", "password authentication failed for user x").
fn plain(e: &sqlx::Error, timeout: Duration) -> String {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::PoolTimedOut => format!("no connection within {} s", timeout.as_secs()),
        sqlx::Error::Tls(t) => format!("TLS: {t}"),
        other => other.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cannot create {path} for the service alone (folder 0700, file 0600): {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(sqlx::Error),
    /// Said once, plainly: the disk (the database's, or the data folder's) is full.
    #[error("no space left on device: {0}")]
    DiskFull(String),
    #[error("database holds a value sendwatch does not know: {0}")]
    Corrupt(String),
    #[error("bulk load failed: {0}")]
    Bulk(String),
    #[error("{0}")]
    NotFound(String),
    #[error("cannot lock {path}: {reason}")]
    Lock { path: String, reason: String },
}

/// The database's pool, either backend.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database scoped to one area: every query it makes reads and writes that
/// area's rows only (each table's `area` column, migration 0018), so no caller can reach
/// another area's data by forgetting a filter. [`Store::for_area`] gives the same pool
/// scoped to another area; the few deployment-wide reads (the ledger and health of every
/// area, for the operator) are named so, in [`deployment`].
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    area: std::sync::Arc<str>,
}

/// The area of rows written before areas (migration 0018's default), and of a handle not
/// yet scoped: [`Store::adopt_unscoped`] gives such rows to the one configured area.
pub const UNSCOPED: &str = "";

/// How long a process waits for another that is migrating the same SQLite file.
const MIGRATE_WAIT: Duration = Duration::from_secs(600);

impl Store {
    /// A pool not yet scoped: the area is [`UNSCOPED`] until [`Store::for_area`].
    fn new(pool: Pool) -> Store {
        Store {
            pool,
            area: UNSCOPED.into(),
        }
    }

    /// The same pool, scoped to `area` (an area's id, [`crate::config::AreaId`]).
    pub fn for_area(&self, area: &str) -> Store {
        Store {
            pool: self.pool.clone(),
            area: area.into(),
        }
    }

    /// The area this handle reads and writes.
    pub fn area(&self) -> &str {
        &self.area
    }

    /// The pool under the scope, for tests that inspect the tables directly.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Open the pool (creating the SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(settings: &StoreSettings) -> Result<Store, StoreError> {
        let url = settings.url.expose_secret();
        let shown = redact_url(url);
        let timeout = settings.connect_timeout();
        let connect_err = |e: sqlx::Error| StoreError::Connect {
            url: shown.clone(),
            reason: plain(&e, timeout),
        };
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(connect_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true);
            let db = opts.get_filename();
            if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.exists()
            {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|source| StoreError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
            }
            // The first connection switches a new file to WAL: one process at a time.
            let lock = open_lock::OpenLock::take(db, timeout).await?;
            sqlite_file::make_private(db).map_err(|source| StoreError::DataDir {
                path: db.display().to_string(),
                source,
            })?;
            let db = db.to_path_buf();
            let pool_options = SqlitePoolOptions::new().max_connections(settings.connections());
            let mut opened = pool_options.clone().connect_with(opts.clone()).await;
            // SQLite says only "disk I/O error" when it cannot grow its files.
            let full = |e: &sqlx::Error| disk_full::is_full(e) || disk_full::no_room_at(&db);
            if let Err(e) = &opened
                && full(e)
                && disk_full::release_reserve(&db)
            {
                // Opened in the reserve's room, so that the run is in the ledger and fails
                // there saying why.
                opened = pool_options.connect_with(opts).await;
            }
            let pool = opened.map_err(|e| {
                if full(&e) {
                    StoreError::DiskFull(format!("cannot open the database {shown}"))
                } else {
                    connect_err(e)
                }
            })?;
            drop(lock);
            disk_full::keep_reserve(&db);
            Ok(Store::new(Pool::Sqlite(pool)))
        } else {
            let statement_ms = settings.statement_timeout().as_millis().to_string();
            let mut opts = PgConnectOptions::from_str(url)
                .map_err(connect_err)?
                .options([("statement_timeout", statement_ms.as_str())]);
            if let Some(pw) = &settings.password {
                opts = opts.password(pw.expose_secret());
            }
            // One direct first connection, so that a server that is down or a wrong password
            // is said at once, plainly, rather than as a pool timing out after 30 s.
            let first = tokio::time::timeout(timeout, PgConnection::connect_with(&opts))
                .await
                .map_err(|_| connect_err(sqlx::Error::PoolTimedOut))?
                .map_err(connect_err)?;
            let _ = first.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(settings.connections())
                .acquire_timeout(timeout)
                .connect_lazy_with(opts);
            Ok(Store::new(Pool::Postgres(pool)))
        }
    }

    /// Apply any migrations not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                // sqlx takes no lock on SQLite: two processes would both apply a migration.
                let db = p.connect_options().get_filename().to_path_buf();
                let _lock = open_lock::OpenLock::take(&db, MIGRATE_WAIT).await?;
                sqlx::migrate!("migrations/sqlite").run(p).await?
            }
            Pool::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// This installation's random id (made with its database, migration 0015): what makes
    /// its Message-IDs unlike those of any other installation or an earlier one.
    pub async fn installation_id(&self) -> Result<String, StoreError> {
        const SQL: &str = "SELECT id FROM installation WHERE only_row = 1";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).fetch_one(p).await?))
    }

    /// One round trip (`SELECT 1`): the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: i32 = on_pool!(self, p => sqlx::query_scalar("SELECT 1").fetch_one(p).await?);
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match &self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}
