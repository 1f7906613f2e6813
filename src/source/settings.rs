//! A source's settings: where its extract is, the bounds on fetching it, its credentials,
//! how it is read (the load stage's [`LoadSettings`]), and who owns its data. `[sources.NAME]`.
//!
//! Owns: the settings type, the ranges of its durations and counts, and its pure check.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{Location, freshness, http};
use crate::bounds::Bound;
use crate::load::LoadSettings;
use crate::secret::check_pair;

/// Upper bound on `retries`, so a typo cannot turn one fetch into a flood.
pub const MAX_RETRIES: u32 = 10;

/// `timeout_secs`: the whole fetch, every attempt and the waits between them.
pub const TIMEOUT_SECS: Bound<u64> = Bound::new(1, 86_400, "one day");
/// `connect_timeout_secs`: opening one connection.
pub const CONNECT_TIMEOUT_SECS: Bound<u64> = Bound::new(1, 600, "ten minutes");
/// `max_bytes`: 64 GiB, far past any extract (the default is 256 MiB).
pub const MAX_BYTES: Bound<u64> = Bound::new(1, 64 << 30, "64 GiB");
/// `retries`.
pub const RETRIES: Bound<u32> = Bound::new(0, MAX_RETRIES, "a typo must not flood a server");
/// `retry_base_ms`: the longest backoff step.
pub const RETRY_BASE_MS: Bound<u64> = Bound::new(
    0,
    http::MAX_BACKOFF.as_millis() as u64,
    "30 s, the longest wait",
);
/// `deadline_days`: a year of grace past the cadence.
pub const DEADLINE_DAYS: Bound<u32> = Bound::new(0, 366, "a year");

/// One `[sources.<name>]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    /// The kind of extract, a key of `[kinds]` (tracker, reviews, provider, or your own).
    pub kind: String,
    /// `http://`, `https://`, `file://` URL or a local path (relative to the working directory).
    pub url: String,
    /// Bound on the whole fetch: every attempt, the waits between them and reading the body
    /// or the file. 1 to 86400 ([`TIMEOUT_SECS`]).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Bound on opening one TCP (and TLS) connection. 1 to 600 ([`CONNECT_TIMEOUT_SECS`]).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Most bytes accepted, counted on the bytes actually read. 1 to 64 GiB ([`MAX_BYTES`]).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Extra HTTP attempts after a 5xx, a 429, a refused or dropped connection. 0 to 10.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First backoff step; each retry waits a random time up to base × 2^n (capped at 30 s).
    /// 0 to 30000.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// An extra PEM root CA (or bundle) trusted besides the platform's roots.
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub password_file: Option<PathBuf>,
    pub bearer_token: Option<SecretString>,
    pub bearer_token_file: Option<PathBuf>,
    /// How the file is read: format, header mapping, date and flag spellings, policy, guards.
    #[serde(default)]
    pub load: LoadSettings,
    /// Who supplies the extract: named in, and sent, its stale-data and data-quality notices.
    pub owner: Option<DataOwner>,
    /// How often new data is expected; with `deadline_days` of grace (0 to 366,
    /// [`DEADLINE_DAYS`]), a source that brought none for longer is stale.
    pub cadence: Option<freshness::Cadence>,
    #[serde(default = "default_deadline_days")]
    pub deadline_days: u32,
}

/// A source's data owner: a contact outside the improvement board's sub-groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataOwner {
    pub name: String,
    pub email: String,
}

fn default_deadline_days() -> u32 {
    7
}

fn default_timeout() -> u64 {
    60
}
fn default_connect_timeout() -> u64 {
    10
}
fn default_max_bytes() -> u64 {
    256 * 1024 * 1024
}
fn default_retries() -> u32 {
    3
}
fn default_retry_base_ms() -> u64 {
    500
}

impl SourceSettings {
    /// The whole fetch's bound, within its range whatever was configured (it is added to
    /// now).
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(TIMEOUT_SECS.clamp(self.timeout_secs))
    }

    /// One connection's bound, within its range.
    pub fn connect_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(CONNECT_TIMEOUT_SECS.clamp(self.connect_timeout_secs))
    }

    /// Check this source's keys; pure (no I/O). `key` is `sources.<name>`; each problem is
    /// passed to `bad` as (full key, message).
    pub fn validate(&self, key: &str, bad: &mut dyn FnMut(String, String)) {
        if let Err(e) = Location::parse(&self.url) {
            bad(format!("{key}.url"), e.to_string());
        }
        if let Some(o) = &self.owner
            && o.email.parse::<lettre::message::Mailbox>().is_err()
        {
            bad(
                format!("{key}.owner.email"),
                format!("`{}` is not an email address", o.email),
            );
        }
        if self.cadence.is_some() && self.owner.is_none() {
            bad(
                format!("{key}.owner"),
                "a source with a cadence needs an owner to tell when it is late".into(),
            );
        }
        TIMEOUT_SECS.check(bad, format!("{key}.timeout_secs"), self.timeout_secs);
        CONNECT_TIMEOUT_SECS.check(
            bad,
            format!("{key}.connect_timeout_secs"),
            self.connect_timeout_secs,
        );
        MAX_BYTES.check(bad, format!("{key}.max_bytes"), self.max_bytes);
        RETRIES.check(bad, format!("{key}.retries"), self.retries);
        RETRY_BASE_MS.check(bad, format!("{key}.retry_base_ms"), self.retry_base_ms);
        DEADLINE_DAYS.check(bad, format!("{key}.deadline_days"), self.deadline_days);
        if self
            .ca_file
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            bad(format!("{key}.ca_file"), "must name a file".into());
        }
        check_pair(
            bad,
            &format!("{key}.password"),
            &self.password,
            &self.password_file,
        );
        check_pair(
            bad,
            &format!("{key}.bearer_token"),
            &self.bearer_token,
            &self.bearer_token_file,
        );
        let has_password = self.password.is_some() || self.password_file.is_some();
        if has_password && self.username.is_none() {
            bad(
                format!("{key}.username"),
                "a password is set but no username".into(),
            );
        }
    }
}
