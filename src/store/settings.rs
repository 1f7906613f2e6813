//! `[store]`: which database, and how many connections. Read by config, used by
//! [`super::Store::connect`].
//!
//! Owns: the settings type, the ranges of its counts and timeouts, and its check.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::bounds::Bound;

/// `max_connections`: sendwatch runs a handful of statements at once.
pub const MAX_CONNECTIONS: Bound<u32> = Bound::new(1, 100, "");
/// `connect_timeout_secs`: opening a connection, or waiting for a free one.
pub const CONNECT_TIMEOUT_SECS: Bound<u64> = Bound::new(1, 600, "ten minutes");
/// `statement_timeout_secs`: one statement, a million-row COPY included.
pub const STATEMENT_TIMEOUT_SECS: Bound<u64> = Bound::new(1, 86_400, "one day");

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`. Treated as a secret
    /// because a PostgreSQL URL may carry a password.
    pub url: secrecy::SecretString,
    pub password: Option<secrecy::SecretString>,
    pub password_file: Option<std::path::PathBuf>,
    /// 1 to 100 ([`MAX_CONNECTIONS`]).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Bound on opening a connection (and on waiting for a free one in the pool). 1 to 600
    /// ([`CONNECT_TIMEOUT_SECS`]).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// PostgreSQL: bound on any one statement (`statement_timeout`), a million-row COPY
    /// included. SQLite runs in-process and waits at most its busy timeout for a lock. 1 to
    /// 86400 ([`STATEMENT_TIMEOUT_SECS`]).
    #[serde(default = "default_statement_timeout")]
    pub statement_timeout_secs: u64,
}

fn default_max_connections() -> u32 {
    5
}
fn default_connect_timeout() -> u64 {
    5
}
fn default_statement_timeout() -> u64 {
    600
}

impl StoreSettings {
    /// The URL names a backend, the counts and timeouts are in range, a password is given
    /// at most one way.
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        let url = self.url.expose_secret();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            bad(
                "store.url".into(),
                "must start with sqlite: or postgres://".into(),
            );
        }
        MAX_CONNECTIONS.check(bad, "store.max_connections", self.max_connections);
        CONNECT_TIMEOUT_SECS.check(bad, "store.connect_timeout_secs", self.connect_timeout_secs);
        STATEMENT_TIMEOUT_SECS.check(
            bad,
            "store.statement_timeout_secs",
            self.statement_timeout_secs,
        );
        crate::secret::check_pair(bad, "store.password", &self.password, &self.password_file);
    }

    /// The pool's size, within its range whatever was configured.
    pub fn connections(&self) -> u32 {
        MAX_CONNECTIONS.clamp(self.max_connections)
    }

    /// The connect bound, within its range (it is added to now).
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(CONNECT_TIMEOUT_SECS.clamp(self.connect_timeout_secs))
    }

    /// The statement bound, within its range.
    pub fn statement_timeout(&self) -> Duration {
        Duration::from_secs(STATEMENT_TIMEOUT_SECS.clamp(self.statement_timeout_secs))
    }
}
