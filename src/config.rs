//! Settings: what sendwatch is told to do, where it is told from, and whether it makes sense.
//!
//! Layers, later wins: the shipped extract kinds (`config/kinds.toml`) and the published
//! statistics' mapping (`config/stats/ees-ehcp-2025.toml`), the two compiled-in layers → the
//! plan's files named by `[plan] dir` ([`plan`]: its KPI catalogue, risk register, action
//! log, sub-groups) → the configuration file's `base` chain, if any → the file given with
//! `--config` (or `$SENDWATCH_CONFIG`; else `config/sendwatch.toml` in the working directory,
//! else `/etc/sendwatch/sendwatch.toml`) → `SENDWATCH__SECTION__KEY` environment variables.
//! [`Settings::validate`] is pure: it calls each stage's check, which names every key at
//! fault (every duration and count has a range, [`crate::bounds`]);
//! [`Settings::resolve_secrets`] then reads `*_file` secrets and systemd credentials.
//! [`Settings::load`] reports every problem in one pass ([`gather`]: unknown keys, wrong
//! types and missing keys, then the checks and the secrets), each with its key and file.
//!
//! Owns: the top-level settings type, layering, and gathering what one section may name of
//! another for the checks (each stage's own settings type and check live with the stage).
//! Must not: open connections or fetch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::action::{ActionLogSettings, Actions};
use crate::daemon::settings::DaemonSettings;
use crate::kpi::{Catalogue, Computed, KpiDefaults, RagSettings};
use crate::ledger::{AdminSettings, LedgerSettings};
use crate::load::KindDef;
pub use crate::notify::is_loopback_host;
use crate::notify::{DeliverySettings, SubGroup};
use crate::risk::{Register, RiskLogSettings};
use crate::schedule::JobSettings;
use crate::secret::SecretSpec;
pub use crate::secret::redact_url;
use crate::serve::settings::HttpSettings;
/// Re-exported: the settings of one source now live with the code that fetches it.
pub use crate::source::SourceSettings;
use crate::store::StoreSettings;
use crate::telemetry::LogSettings;

/// Environment variable naming the configuration file when `--config` is not given.
pub const CONFIG_ENV: &str = "SENDWATCH_CONFIG";

/// The configuration file when neither `--config` nor `$SENDWATCH_CONFIG` names one, if it
/// exists in the working directory: the example, for the README's commands from a checkout.
pub const LOCAL_CONFIG: &str = "config/sendwatch.toml";

/// The configuration file of an installed deployment (deploy/), when no other is found.
pub const SYSTEM_CONFIG: &str = "/etc/sendwatch/sendwatch.toml";

pub mod areas;
pub use areas::{AreaId, AreasSettings, Deployment};
mod gather;
pub mod plan;
pub use plan::PlanSettings;
mod validate;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration is invalid:\n{}", .0.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Issue>),
}

/// One problem with one key, and the file that set it where one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub key: String,
    pub message: String,
    /// The file (or `the environment`) the key's value came from; None for a default, a
    /// built-in layer, or a table several files set.
    pub file: Option<String>,
}

impl Issue {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue {
            key: key.into(),
            message: message.into(),
            file: None,
        }
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.key, self.message)?;
        }
        match &self.file {
            Some(file) => write!(f, " (in {file})"),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The file this one is laid over, relative to its folder (read by [`plan::layers`]).
    #[serde(default)]
    pub base: Option<PathBuf>,
    /// `[plan]`: the plan's folder (resolved by [`plan::layers`]).
    #[serde(default)]
    pub plan: PlanSettings,
    /// `[areas]`: the folder of area files, when one deployment serves several areas
    /// ([`areas`]); resolved by [`plan::layers`].
    #[serde(default)]
    pub areas: AreasSettings,
    pub general: General,
    pub store: StoreSettings,
    pub delivery: DeliverySettings,
    pub rag: RagSettings,
    /// What a KPI gets when it does not say otherwise (`[kpi_defaults]`).
    #[serde(default)]
    pub kpi_defaults: KpiDefaults,
    /// Extract kinds: the shipped ones from `config/kinds.toml`, plus any the deployment adds.
    #[serde(default)]
    pub kinds: BTreeMap<String, KindDef>,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSettings>,
    /// The sub-groups: the plan's `groups.toml`, as the configuration amends it.
    #[serde(default)]
    pub sub_groups: BTreeMap<String, SubGroup>,
    /// The KPI catalogue: the plan's `kpis.toml`, as the configuration amends it.
    #[serde(default)]
    pub kpis: Catalogue,
    /// The risk log's holder and score bands (the plan's `risks.toml`); a plan without a
    /// register needs none.
    #[serde(default)]
    pub risk_log: RiskLogSettings,
    /// The risk register: the plan's `risks.toml`, as the configuration amends it.
    #[serde(default)]
    pub risks: Register,
    /// The board's meetings and the update rule (`[action_log]`: the plan's `groups.toml` and
    /// `actions.toml`).
    #[serde(default)]
    pub action_log: ActionLogSettings,
    /// The action log: the plan's `actions.toml`, as the configuration amends it.
    #[serde(default)]
    pub actions: Actions,
    #[serde(default)]
    pub jobs: BTreeMap<String, JobSettings>,
    #[serde(default)]
    pub ledger: LedgerSettings,
    #[serde(default)]
    pub admin: AdminSettings,
    /// `[http]`: the daemon's `/healthz` and `/metrics`.
    #[serde(default)]
    pub http: HttpSettings,
    /// `[answer]`: answering from the digest (links' lifetime, approvers).
    #[serde(default)]
    pub answer: crate::answer::AnswerSettings,
    /// `[daemon]`: how the daemon stops.
    #[serde(default)]
    pub daemon: DaemonSettings,
    /// `[log]`: the log format.
    #[serde(default)]
    pub log: LogSettings,
    /// Small-cell suppression for every output (`[disclosure]`).
    #[serde(default)]
    pub disclosure: crate::disclose::DisclosureSettings,
    /// Who hears of what again, and when (`[notify]`).
    #[serde(default)]
    pub notify: crate::notify::NotifySettings,
    /// Published statistics: their measures and each release's mapping (`[stats]`, laid over
    /// the shipped `config/stats/ees-ehcp-2025.toml`).
    #[serde(default)]
    pub stats: crate::stats::StatsSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct General {
    /// IANA zone the cron expressions are read in.
    pub time_zone: String,
    /// Name of the area in subjects and report headers.
    pub area: String,
    /// The area's id: what its rows carry in the store, `--area` names and the live view's
    /// paths hold (lower-case letters, digits and `-`). Default: an area file's name without
    /// `.toml`; for a single-area configuration, the area's name made so ([`areas::slug`]).
    #[serde(default)]
    pub id: Option<String>,
    /// Folder for sendwatch's own files (spooled downloads, extracts kept for inspection);
    /// created with mode 0700.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// Where the layers come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The configuration file (`--config`); None: the extract kinds alone, which do not make
    /// a configuration.
    pub file: Option<PathBuf>,
    /// Read `SENDWATCH__*` variables (off in tests that must not see the caller's environment).
    pub env: bool,
}

impl Settings {
    /// Layer, deserialize, validate and resolve secrets. Every problem is collected, each
    /// naming its key and file: unknown keys, values of the wrong type, missing keys, then
    /// the checks on what could be read and the secrets' files.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        Self::load_under(sources, None)
    }

    /// [`Settings::load`] with `under` laid beneath the file when its chain names no `base`
    /// (an area file over the deployment's file).
    pub(crate) fn load_under(
        sources: &Sources,
        under: Option<&Path>,
    ) -> Result<Settings, ConfigError> {
        let mut read = Self::read(sources, under)?;
        let mut issues = std::mem::take(&mut read.issues);
        let Some(mut settings) = read.settings.take() else {
            return Err(ConfigError::Invalid(issues));
        };
        for found in [settings.validate(), settings.resolve_secrets()] {
            match found {
                Ok(()) => {}
                Err(ConfigError::Invalid(found)) => issues.extend(read.checked(found)),
                Err(e) => return Err(e),
            }
        }
        if issues.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError::Invalid(issues))
        }
    }

    /// The disclosure rules every output of this deployment follows (`[disclosure]`).
    pub fn disclosure(&self) -> crate::disclose::Disclosure {
        crate::disclose::Disclosure::new(&self.disclosure)
    }

    /// Layer and deserialize only: every key that is unknown, of the wrong type or missing.
    pub fn load_unchecked(sources: &Sources) -> Result<Settings, ConfigError> {
        let read = Self::read(sources, None)?;
        match read.settings {
            Some(settings) if read.issues.is_empty() => Ok(settings),
            _ => Err(ConfigError::Invalid(read.issues)),
        }
    }

    /// Lay the layers and deserialize, stepping past each fault ([`gather`]).
    fn read(sources: &Sources, under: Option<&Path>) -> Result<gather::Gathered, ConfigError> {
        use config::{Config, Environment, File, FileFormat, Source as _};
        let plan_env = sources
            .env
            .then(|| std::env::var_os("SENDWATCH__PLAN__DIR").map(PathBuf::from))
            .flatten();
        let layers = plan::layers(sources.file.as_deref(), plan_env, under)?;
        let mut builder = Config::builder()
            .add_source(File::from_str(crate::load::kind::BUILTIN, FileFormat::Toml))
            .add_source(File::from_str(
                crate::stats::settings::BUILTIN,
                FileFormat::Toml,
            ));
        for path in layers.plan.iter().chain(&layers.config) {
            builder = builder.add_source(File::from(path.as_path()).format(FileFormat::Toml));
        }
        if sources.env {
            builder = builder.add_source(
                Environment::with_prefix("SENDWATCH")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            );
        }
        let mut read = gather::read(gather::tree(builder.build()?.collect()?));
        if let Some(settings) = read.settings.as_mut() {
            settings.plan.dir = layers.plan_dir;
            settings.areas.dir = layers.areas_dir;
        }
        Ok(read)
    }

    /// Fill secrets from `*_file` paths or `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`).
    pub fn resolve_secrets(&mut self) -> Result<(), ConfigError> {
        let creds = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let creds = creds.as_deref();
        let mut issues = Vec::new();
        let mut resolve = |spec: SecretSpec<'_>| {
            if let Err((key, message)) = spec.resolve(creds) {
                issues.push(Issue::new(key, message));
            }
        };
        resolve(SecretSpec {
            key: "store.password",
            credential: "store_password".into(),
            value: &mut self.store.password,
            file: &self.store.password_file,
        });
        resolve(SecretSpec {
            key: "delivery.smtp.password",
            credential: "smtp_password".into(),
            value: &mut self.delivery.smtp.password,
            file: &self.delivery.smtp.password_file,
        });
        resolve(SecretSpec {
            key: "http.token",
            credential: "http_token".into(),
            value: &mut self.http.token,
            file: &self.http.token_file,
        });
        resolve(SecretSpec {
            key: "http.link_key",
            credential: "http_link_key".into(),
            value: &mut self.http.link_key,
            file: &self.http.link_key_file,
        });
        resolve(SecretSpec {
            key: "http.operator_token",
            credential: "http_operator_token".into(),
            value: &mut self.http.operator_token,
            file: &self.http.operator_token_file,
        });
        for (name, s) in self.sources.iter_mut() {
            resolve(SecretSpec {
                key: "sources.*.password",
                credential: format!("source_{name}_password"),
                value: &mut s.password,
                file: &s.password_file,
            });
            resolve(SecretSpec {
                key: "sources.*.bearer_token",
                credential: format!("source_{name}_token"),
                value: &mut s.bearer_token,
                file: &s.bearer_token_file,
            });
        }
        if let Some((key, message)) = self.http.check_resolved() {
            issues.push(Issue::new(key, message));
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(issues))
        }
    }

    /// The area's id ([`General::id`], else the area's name made an id).
    pub fn area_id(&self) -> AreaId {
        match &self.general.id {
            Some(id) => AreaId(id.clone()),
            None => AreaId(areas::slug(&self.general.area)),
        }
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.general
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Europe::London)
    }

    /// The computed KPIs a job evaluates, in id order: those it lists, else every enabled one
    /// fed by its sources. Manual KPIs (no measure) are never evaluated by a run.
    pub fn job_kpis(&self, job: &JobSettings) -> Vec<Computed<'_>> {
        self.kpis
            .computed()
            .filter(|c| match &job.kpis {
                Some(list) => list.iter().any(|x| x == c.id),
                None => c.kpi.enabled && job.sources.iter().any(|s| s == c.source),
            })
            .collect()
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The configuration file: the one named by `--config`, else `$SENDWATCH_CONFIG`, else
/// [`LOCAL_CONFIG`] if the working directory has it (a checkout: the README's commands run
/// the example), else [`SYSTEM_CONFIG`] (an installed deployment).
pub fn override_file(cli: Option<&Path>) -> Option<PathBuf> {
    cli.map(Path::to_path_buf)
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
        .or_else(|| {
            let local = PathBuf::from(LOCAL_CONFIG);
            Some(if local.is_file() {
                local
            } else {
                PathBuf::from(SYSTEM_CONFIG)
            })
        })
}

#[cfg(test)]
mod tests;
