//! A source's settings: where its extract is, the bounds on fetching it, its credentials,
//! how it is read (the load stage's [`LoadSettings`]), and who owns its data. `[sources.NAME]`.
//!
//! Owns: the settings type and its pure check.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{Location, freshness, http};
use crate::load::LoadSettings;
use crate::secret::check_pair;

/// Upper bound on `retries`, so a typo cannot turn one fetch into a flood.
pub const MAX_RETRIES: u32 = 10;

/// One `[sources.<name>]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    /// The kind of extract, a key of `[kinds]` (tracker, reviews, provider, or your own).
    pub kind: String,
    /// `http://`, `https://`, `file://` URL or a local path (relative to the working directory).
    pub url: String,
    /// Bound on the whole fetch: every attempt, the waits between them and reading the body
    /// or the file.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Bound on opening one TCP (and TLS) connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Most bytes accepted, counted on the bytes actually read.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Extra HTTP attempts after a 5xx, a 429, a refused or dropped connection.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First backoff step; each retry waits a random time up to base × 2^n (capped at 30 s).
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
    /// How often new data is expected; with `deadline_days` of grace, a source that brought
    /// none for longer is stale.
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
    /// Check this source's keys; pure (no I/O). `key` is `sources.<name>`; each problem is
    /// passed to `bad` as (full key, message).
    pub fn validate(&self, key: &str, bad: &mut impl FnMut(String, String)) {
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
        if self.timeout_secs == 0 {
            bad(format!("{key}.timeout_secs"), "must be at least 1".into());
        }
        if self.connect_timeout_secs == 0 {
            bad(
                format!("{key}.connect_timeout_secs"),
                "must be at least 1".into(),
            );
        }
        if self.max_bytes == 0 {
            bad(format!("{key}.max_bytes"), "must be at least 1".into());
        }
        if self.retries > MAX_RETRIES {
            bad(
                format!("{key}.retries"),
                format!("must be at most {MAX_RETRIES}"),
            );
        }
        if self.retry_base_ms > http::MAX_BACKOFF.as_millis() as u64 {
            bad(
                format!("{key}.retry_base_ms"),
                format!("must be at most {}", http::MAX_BACKOFF.as_millis()),
            );
        }
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
