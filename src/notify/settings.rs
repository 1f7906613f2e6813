//! Notify settings: how mail leaves (`[delivery]`) and who hears of what (`[sub_groups]`,
//! `[[notify.routes]]`, `[notify.recipients]`).
//!
//! Owns: the settings types. Checked by [`crate::config`].

use std::collections::BTreeMap;
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

/// `[notify]`: repetition and routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// The same news (item, period, state) is not sent to the same person again within this
    /// many hours; a change is sent at once. Default a week.
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
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            repeat_interval_hours: default_repeat_interval_hours(),
            routes: Vec::new(),
            recipients: BTreeMap::new(),
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
