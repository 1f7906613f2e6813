//! Store: the database under everything, SQLite (embedded default) or PostgreSQL.
//!
//! One enum, two pools, the same SQL text on both (`$1` placeholders, `RETURNING` and
//! `ON CONFLICT` work on each driver). Migrations live in `migrations/{sqlite,postgres}` and are
//! embedded at build time. Each table family has its own file: runs, loads (every fetch and
//! the rows of current loads), the bulk load and swap, kpi results, and the outbox.

use std::str::FromStr;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use serde::Deserialize;

use crate::secret::redact_url;

/// Run the same body against whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

mod bulk;
mod bulk_pg;
mod bulk_sqlite;
mod feed;
mod kpis;
mod loads;
mod outbox;
mod runs;

pub use bulk::{BulkOutcome, Feed, LoadMeta, Verdict, Written, row_table};
pub use bulk_sqlite::{date_number, number_date};
pub use loads::LoadRecord;
pub use outbox::{OutboxRow, OutboxStatus};
pub use runs::{RunRecord, RunStatus, Trigger};

/// `[store]`: which database, and how many connections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`. Treated as a secret
    /// because a PostgreSQL URL may carry a password.
    pub url: secrecy::SecretString,
    pub password: Option<secrecy::SecretString>,
    pub password_file: Option<std::path::PathBuf>,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    5
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("database holds a value sendwatch does not know: {0}")]
    Corrupt(String),
    #[error("bulk load failed: {0}")]
    Bulk(String),
    #[error("{0}")]
    NotFound(String),
}

#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// Open the pool (creating the SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(settings: &StoreSettings) -> Result<Store, StoreError> {
        let url = settings.url.expose_secret();
        let shown = redact_url(url);
        let connect_err = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(connect_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true);
            if let Some(dir) = opts
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Ok(Store::Sqlite(pool))
        } else {
            let mut opts = PgConnectOptions::from_str(url).map_err(connect_err)?;
            if let Some(pw) = &settings.password {
                opts = opts.password(pw.expose_secret());
            }
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Ok(Store::Postgres(pool))
        }
    }

    /// Apply any migrations not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Store::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}
