//! Notify settings: how mail leaves (`[delivery]`) and who hears of what (`[sub_groups]`,
//! `[[notify.routes]]`, `[notify.recipients]`).
//!
//! Owns: the settings types, the ranges of their durations and counts, and the checks of
//! `[delivery]`, `[notify]` and of an address (run by [`crate::config`]'s validation).

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use crate::bounds::Bound;

/// `[delivery.smtp] port`.
pub const SMTP_PORT: Bound<u16> = Bound::new(1, 65_535, "a TCP port");
/// `[delivery.smtp] timeout_secs`: each step of a session.
pub const SMTP_TIMEOUT_SECS: Bound<u64> = Bound::new(1, 600, "ten minutes");
/// `[delivery.retry] first_secs`.
pub const RETRY_FIRST_SECS: Bound<u64> = Bound::new(1, 86_400, "one day");
/// `[delivery.retry] max_secs` (and at least `first_secs`).
pub const RETRY_MAX_SECS: Bound<u64> = Bound::new(1, 604_800, "a week");
/// `[delivery.retry] attempts`: an ambiguous attempt has one retry.
pub const RETRY_ATTEMPTS: Bound<u32> = Bound::new(2, 100, "an ambiguous attempt has one retry");
/// `[notify] repeat_interval_hours`.
pub const REPEAT_INTERVAL_HOURS: Bound<u64> = Bound::new(1, 8_784, "366 days");

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
    /// jitter: between half and all of it). 1 to 86400 ([`RETRY_FIRST_SECS`]).
    pub first_secs: u64,
    /// The longest wait: `first_secs` to 604800 ([`RETRY_MAX_SECS`]).
    pub max_secs: u64,
    /// Attempts in all before the row is given up as failed and the administrator told. 2
    /// to 100 ([`RETRY_ATTEMPTS`]).
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
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        RETRY_FIRST_SECS.check(bad, "delivery.retry.first_secs", self.first_secs);
        if self.max_secs < self.first_secs {
            bad(
                "delivery.retry.max_secs".into(),
                "must be at least first_secs".into(),
            );
        } else {
            RETRY_MAX_SECS.check(bad, "delivery.retry.max_secs", self.max_secs);
        }
        RETRY_ATTEMPTS.check(bad, "delivery.retry.attempts", self.attempts);
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
    /// Each step of a session: 1 to 600 ([`SMTP_TIMEOUT_SECS`]).
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
    /// PEM certificates trusted besides the system's, for a server whose certificate an
    /// internal CA signed. Read once at start (at most 1 MiB).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl SmtpSettings {
    /// The bound on each step, within its range whatever was configured.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(SMTP_TIMEOUT_SECS.clamp(self.timeout_secs))
    }
}

impl DeliverySettings {
    /// `[delivery]` and `[delivery.smtp]`: the sender parses, a folder or a server is named
    /// as the mode needs, plain text only to a loopback host, the ranges hold.
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            bad(
                "delivery.from".into(),
                format!("`{}` is not an email address", self.from),
            );
        }
        if self.mode == DeliveryMode::Folder && self.folder.as_os_str().is_empty() {
            bad("delivery.folder".into(), "must name a folder".into());
        }
        let smtp = &self.smtp;
        if self.mode == DeliveryMode::Smtp {
            if smtp.host.trim().is_empty() {
                bad("delivery.smtp.host".into(), "must not be empty".into());
            }
            SMTP_PORT.check(bad, "delivery.smtp.port", smtp.port);
            if smtp.tls == SmtpTls::None && !is_loopback_host(&smtp.host) {
                bad(
                    "delivery.smtp.tls".into(),
                    format!(
                        "\"none\" (plain text) is allowed only for a loopback host, not `{}`",
                        smtp.host
                    ),
                );
            }
            let has_password = smtp.password.is_some() || smtp.password_file.is_some();
            if has_password && smtp.username.is_none() {
                bad(
                    "delivery.smtp.username".into(),
                    "a password is set but no username".into(),
                );
            }
        }
        SMTP_TIMEOUT_SECS.check(bad, "delivery.smtp.timeout_secs", smtp.timeout_secs);
        self.retry.check(bad);
        crate::secret::check_pair(
            bad,
            "delivery.smtp.password",
            &smtp.password,
            &smtp.password_file,
        );
    }
}

/// True for `localhost` and loopback IP literals, the only hosts plain SMTP may go to.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
    /// The sub-group's lead: approves what its owners answer from their digests, and is told
    /// once when a manual value it owes is escalated ([`crate::kpi::manual::chase`]); with
    /// none, the owners alone hear of it and `[answer] approvers` approve.
    #[serde(default)]
    pub lead: Option<String>,
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

/// `[notify]`: repetition and routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// The same news (item, period, state) is not sent to the same person again within this
    /// many hours; a change is sent at once. Default a week; 1 to 8784
    /// ([`REPEAT_INTERVAL_HOURS`]).
    #[serde(default = "default_repeat_interval_hours")]
    pub repeat_interval_hours: u64,
    /// Who hears of what, tried in order (see [`super::route`]); an item none matches goes to
    /// the administrator.
    #[serde(default)]
    pub routes: Vec<RouteSettings>,
    /// Named lists of addresses for people outside the sub-groups (council, CCG, providers,
    /// parent forum), used by a route's `lists`.
    #[serde(default)]
    pub recipients: BTreeMap<String, Vec<String>>,
    /// A folder of the council's own digest templates (`digest.txt.j2`, `digest.html.j2`,
    /// `subject.txt.j2`); each file there replaces the built-in one of its name.
    #[serde(default)]
    pub templates_dir: Option<std::path::PathBuf>,
}

impl NotifySettings {
    /// `repeat_interval_hours` as a span, within its range whatever was configured (it is
    /// taken from now).
    pub fn repeat_interval(&self) -> chrono::TimeDelta {
        let hours = REPEAT_INTERVAL_HOURS.clamp(self.repeat_interval_hours);
        chrono::TimeDelta::hours(i64::try_from(hours).unwrap_or(168))
    }
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            repeat_interval_hours: default_repeat_interval_hours(),
            routes: Vec::new(),
            recipients: BTreeMap::new(),
            templates_dir: None,
        }
    }
}

fn default_repeat_interval_hours() -> u64 {
    24 * 7
}

/// One `[[notify.routes]]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    /// Matchers, all of which must hold: `kpi=3/3`, `sub_group!=health`, `kind=~breach|no_data`.
    #[serde(default, rename = "match")]
    pub matchers: Vec<String>,
    /// The owners of the item's sub-group.
    #[serde(default)]
    pub owners: bool,
    /// The owners of these sub-groups, the item filed under each one's section.
    #[serde(default)]
    pub sub_groups: Vec<String>,
    /// Addresses.
    #[serde(default)]
    pub to: Vec<String>,
    /// Names of `[notify.recipients]` lists.
    #[serde(default)]
    pub lists: Vec<String>,
    /// The data owner of the item's source.
    #[serde(default)]
    pub source_owner: bool,
    /// The administrator (`[admin] email`).
    #[serde(default)]
    pub admin: bool,
    /// Go on to the next routes after this one matched (default false: the first match wins).
    #[serde(default, rename = "continue")]
    pub continue_: bool,
    /// Tell these recipients when a KPI they heard of is out of exception (default true).
    pub send_resolved: Option<bool>,
}

impl RouteSettings {
    /// True when it names nobody.
    pub fn names_nobody(&self) -> bool {
        !self.owners
            && self.sub_groups.is_empty()
            && self.to.is_empty()
            && self.lists.is_empty()
            && !self.source_owner
            && !self.admin
    }
}

/// An address as delivery reads it (lettre's `Mailbox`, as notify/deliver.rs `message()`), so
/// `"Smith, John" <john@example.org>` passes here and is delivered.
pub fn check_address(bad: &mut dyn FnMut(String, String), key: String, address: &str) {
    if address.parse::<lettre::message::Mailbox>().is_err() {
        bad(key, format!("`{address}` is not an email address"));
    }
}

impl NotifySettings {
    /// `[[notify.routes]]` and `[notify.recipients]`: matchers parse, named sub-groups and
    /// lists exist, each route names somebody, every address parses as delivery parses it.
    pub fn check(
        &self,
        sub_groups: &BTreeMap<String, SubGroup>,
        has_admin: bool,
        bad: &mut dyn FnMut(String, String),
    ) {
        REPEAT_INTERVAL_HOURS.check(
            bad,
            "notify.repeat_interval_hours",
            self.repeat_interval_hours,
        );
        for (name, list) in &self.recipients {
            let key = format!("notify.recipients.{name}");
            if list.is_empty() {
                bad(key.clone(), "needs at least one address".into());
            }
            for (i, a) in list.iter().enumerate() {
                check_address(bad, format!("{key}[{i}]"), a);
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            let key = format!("notify.routes[{i}]");
            if let Err((j, e)) = super::matcher::parse_matchers(&r.matchers) {
                bad(format!("{key}.match[{j}]"), e.to_string());
            }
            if r.names_nobody() {
                bad(
                    key.clone(),
                    "names no recipient (owners, sub_groups, to, lists, source_owner or admin)"
                        .into(),
                );
            }
            for g in &r.sub_groups {
                if !sub_groups.contains_key(g) {
                    bad(
                        format!("{key}.sub_groups"),
                        format!("no sub-group named `{g}`"),
                    );
                }
            }
            for l in &r.lists {
                if !self.recipients.contains_key(l) {
                    bad(
                        format!("{key}.lists"),
                        format!("no list named `{l}` in [notify.recipients]"),
                    );
                }
            }
            for (j, a) in r.to.iter().enumerate() {
                check_address(bad, format!("{key}.to[{j}]"), a);
            }
            if r.admin && !has_admin {
                bad(
                    format!("{key}.admin"),
                    "no administrator: set admin.email".into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repeat_interval_is_a_week_by_default_and_never_past_its_range() {
        let mut n = NotifySettings::default();
        assert_eq!(n.repeat_interval(), chrono::TimeDelta::hours(168));
        n.repeat_interval_hours = u64::MAX;
        assert_eq!(n.repeat_interval(), chrono::TimeDelta::hours(8_784));
        let mut keys = Vec::new();
        n.check(&BTreeMap::new(), false, &mut |k, m| {
            keys.push(format!("{k}: {m}"))
        });
        assert_eq!(
            keys,
            [format!(
                "notify.repeat_interval_hours: must be between 1 and 8784 (366 days); got {}",
                u64::MAX
            )]
        );
    }

    #[test]
    fn addresses_are_read_as_delivery_reads_them_and_routes_are_checked_by_key() {
        let mut issues = Vec::new();
        let mut bad = |k: String, m: String| issues.push(format!("{k}: {m}"));
        check_address(&mut bad, "x".into(), "\"Smith, John\" <john@example.org>");
        let groups = BTreeMap::new();
        let mut n = NotifySettings::default();
        n.recipients
            .insert("ccg".into(), vec!["Smith, John <john@example.org>".into()]);
        n.routes.push(RouteSettings {
            matchers: vec!["kpi=1/5".into(), "kpi=~(".into()],
            lists: vec!["ccg".into(), "council".into()],
            sub_groups: vec!["nobody".into()],
            admin: true,
            ..RouteSettings::default()
        });
        n.routes.push(RouteSettings::default());
        n.check(&groups, false, &mut bad);
        let want = [
            "notify.recipients.ccg[0]: `Smith, John <john@example.org>` is not an email address",
            "notify.routes[0].match[1]: `(` is not a usable regular expression",
            "notify.routes[0].sub_groups: no sub-group named `nobody`",
            "notify.routes[0].lists: no list named `council`",
            "notify.routes[0].admin: no administrator",
            "notify.routes[1]: names no recipient",
        ];
        assert_eq!(issues.len(), want.len(), "{issues:#?}");
        for (got, want) in issues.iter().zip(want) {
            assert!(got.starts_with(want), "{got} / {want}");
        }
    }

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
            [
                "delivery.retry.first_secs",
                "delivery.retry.max_secs",
                "delivery.retry.attempts"
            ]
        );
        let huge = RetrySettings {
            first_secs: u64::MAX / 2,
            max_secs: u64::MAX,
            attempts: u32::MAX,
        };
        assert_eq!(
            problems(&huge),
            [
                "delivery.retry.first_secs",
                "delivery.retry.max_secs",
                "delivery.retry.attempts"
            ]
        );
        let upside_down = RetrySettings {
            first_secs: 600,
            max_secs: 60,
            attempts: 3,
        };
        assert_eq!(problems(&upside_down), ["delivery.retry.max_secs"]);
    }
}
