//! Notify settings: how mail leaves (`[delivery]`) and who hears of which KPI
//! (`[sub_groups]`, the routes).
//!
//! Owns: the settings types. Checked by [`crate::config`].

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// Write each email as an `.eml` file into `delivery.folder`.
    Folder,
    /// Send over SMTP with `delivery.smtp`.
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub mode: DeliveryMode,
    pub folder: PathBuf,
    pub from: String,
    #[serde(default = "default_subject_prefix")]
    pub subject_prefix: String,
    pub smtp: SmtpSettings,
    #[serde(default)]
    pub retry: RetrySettings,
}

/// `[delivery.retry]`: how a row that failed for a reason that may pass (a 4xx, no
/// connection, no answer) is tried again by later delivery passes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    /// The wait after the first failed attempt; doubled after each further one (with
    /// jitter: between half and all of it).
    pub first_secs: u64,
    /// The longest wait.
    pub max_secs: u64,
    /// Attempts in all before the row is given up as failed and the administrator told.
    pub attempts: u32,
}

impl Default for RetrySettings {
    fn default() -> RetrySettings {
        RetrySettings {
            first_secs: 60,
            max_secs: 6 * 3600,
            attempts: 8,
        }
    }
}

impl RetrySettings {
    pub fn check(&self, bad: &mut impl FnMut(String, String)) {
        if self.first_secs == 0 {
            bad(
                "delivery.retry.first_secs".into(),
                "must be at least 1 (a delivery pass never retries a row at once)".into(),
            );
        }
        if self.max_secs < self.first_secs {
            bad(
                "delivery.retry.max_secs".into(),
                "must be at least first_secs".into(),
            );
        }
        if self.attempts < 2 {
            bad(
                "delivery.retry.attempts".into(),
                "must be at least 2 (an ambiguous attempt has one retry)".into(),
            );
        }
    }
}

fn default_subject_prefix() -> String {
    "[sendwatch]".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS required (port 587). The default.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain text; allowed only when the host is a loopback address.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    #[serde(default = "default_tls")]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub password_file: Option<PathBuf>,
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

fn default_tls() -> SmtpTls {
    SmtpTls::Starttls
}
fn default_smtp_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubGroup {
    /// The sub-group's name as the board uses it.
    pub name: String,
    /// Email addresses of the owners who receive its exception reports.
    pub owners: Vec<String>,
}

/// Each sub-group's key and the name the board uses, for the tables that name owners.
pub fn sub_group_names(
    groups: &std::collections::BTreeMap<String, SubGroup>,
) -> std::collections::BTreeMap<String, String> {
    groups
        .iter()
        .map(|(key, g)| (key.clone(), g.name.clone()))
        .collect()
}

/// `[notify]`: repetition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// The same news (item, period, state) is not sent to the same person again within this
    /// many hours; a change is sent at once. Default a week.
    #[serde(default = "default_repeat_interval_hours")]
    pub repeat_interval_hours: u64,
    /// A folder of the council's own digest templates (`digest.txt.j2`, `digest.html.j2`,
    /// `subject.txt.j2`); each file there replaces the built-in one of its name.
    #[serde(default)]
    pub templates_dir: Option<std::path::PathBuf>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            repeat_interval_hours: default_repeat_interval_hours(),
            templates_dir: None,
        }
    }
}

fn default_repeat_interval_hours() -> u64 {
    24 * 7
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(r: &RetrySettings) -> Vec<String> {
        let mut out = Vec::new();
        r.check(&mut |k, _| out.push(k));
        out
    }

    #[test]
    fn retry_settings_need_a_wait_a_cap_above_it_and_room_for_the_one_retry() {
        assert!(problems(&RetrySettings::default()).is_empty());
        let bad = RetrySettings {
            first_secs: 0,
            max_secs: 0,
            attempts: 1,
        };
        assert_eq!(
            problems(&bad),
            ["delivery.retry.first_secs", "delivery.retry.attempts"]
        );
        let upside_down = RetrySettings {
            first_secs: 600,
            max_secs: 60,
            attempts: 3,
        };
        assert_eq!(problems(&upside_down), ["delivery.retry.max_secs"]);
    }
}
