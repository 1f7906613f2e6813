//! Settings: what sendwatch is told to do, where it is told from, and whether it makes sense.
//!
//! Layers, later wins, the first five compiled in: the shipped extract kinds
//! (`config/kinds.toml`) → the KPI catalogue (`config/kpis.toml`) → the risk register
//! (`config/risks.toml`) → the action log (`config/actions.toml`) → the example
//! (`config/sendwatch.toml`) → the file given with `--config` (or `$SENDWATCH_CONFIG`) →
//! `SENDWATCH__SECTION__KEY` environment variables. [`Settings::validate`] is pure: it calls
//! each stage's check, which names every key at fault (every duration and count has a
//! range, [`crate::bounds`]); [`Settings::resolve_secrets`] then reads `*_file` secrets and
//! systemd credentials.
//!
//! Owns: the top-level settings type, layering, and gathering what one section may name of
//! another for the checks (each stage's own settings type and check live with the stage).
//! Must not: open connections or fetch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::action::{ActionLogSettings, Actions};
use crate::daemon::settings::DaemonSettings;
use crate::kpi::catalogue::Known;
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

/// The complete, commented example for the Sefton plan; laid over the shipped extract kinds
/// ([`crate::load::kind::BUILTIN`]), KPI catalogue ([`crate::kpi::catalogue::BUILTIN`]), risk
/// register ([`crate::risk::catalogue::BUILTIN`]) and action log, and under everything else.
pub const EXAMPLE: &str = include_str!("../config/sendwatch.toml");

/// The compiled-in layers, in order.
const BUILTIN_LAYERS: [&str; 5] = [
    crate::load::kind::BUILTIN,
    crate::kpi::catalogue::BUILTIN,
    crate::risk::catalogue::BUILTIN,
    crate::action::catalogue::BUILTIN,
    EXAMPLE,
];

/// Environment variable naming the override file when `--config` is not given.
pub const CONFIG_ENV: &str = "SENDWATCH_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration is invalid:\n{}", .0.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Issue>),
}

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
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
    #[serde(default)]
    pub sub_groups: BTreeMap<String, SubGroup>,
    /// The KPI catalogue: the shipped one from `config/kpis.toml`, as the deployment amends it.
    #[serde(default)]
    pub kpis: Catalogue,
    /// The risk log's holder and score bands (`config/risks.toml`).
    pub risk_log: RiskLogSettings,
    /// The risk register: the shipped one from `config/risks.toml`, as the deployment amends it.
    #[serde(default)]
    pub risks: Register,
    /// The board's meetings and the update rule (`[action_log]`, `config/actions.toml`).
    #[serde(default)]
    pub action_log: ActionLogSettings,
    /// The action log: the shipped one from `config/actions.toml`, as the deployment amends it.
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct General {
    /// IANA zone the cron expressions are read in.
    pub time_zone: String,
    /// Name of the area in subjects and report headers.
    pub area: String,
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
    /// The override file (`--config`).
    pub file: Option<PathBuf>,
    /// Read `SENDWATCH__*` variables (off in tests that must not see the caller's environment).
    pub env: bool,
}

impl Settings {
    /// Layer, deserialize, validate and resolve secrets.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let mut settings = Self::load_unchecked(sources)?;
        settings.validate()?;
        settings.resolve_secrets()?;
        crate::disclose::apply(&settings.disclosure);
        Ok(settings)
    }

    /// Layer and deserialize only.
    pub fn load_unchecked(sources: &Sources) -> Result<Settings, ConfigError> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder = Config::builder();
        for layer in BUILTIN_LAYERS {
            builder = builder.add_source(File::from_str(layer, FileFormat::Toml));
        }
        if let Some(path) = &sources.file {
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
        Ok(builder.build()?.try_deserialize()?)
    }

    /// Check every key; pure (no I/O). Collects all issues rather than stopping at the first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut issues = Vec::new();
        let mut issues_kind = Vec::new();
        let mut bad = |key: String, message: String| issues.push(Issue { key, message });

        if self.general.time_zone.parse::<chrono_tz::Tz>().is_err() {
            bad(
                "general.time_zone".into(),
                format!("`{}` is not an IANA time zone", self.general.time_zone),
            );
        }

        self.store.check(&mut bad);
        self.disclosure.check(&mut bad);
        self.delivery.check(&mut bad);
        self.rag.check(&mut bad);
        self.kpi_defaults.check(&mut bad);

        for (name, k) in &self.kinds {
            let key = format!("kinds.{name}");
            if !crate::load::kind::is_identifier(name) {
                bad(key.clone(), "kind names use a-z, 0-9 and '_' only".into());
            }
            k.check(&mut |suffix, message| {
                issues_kind.push(Issue {
                    key: format!("{key}.{suffix}"),
                    message,
                })
            });
        }

        for (name, s) in &self.sources {
            let key = format!("sources.{name}");
            match self.kinds.get(&s.kind) {
                None => bad(format!("{key}.kind"), format!("no kind named `{}`", s.kind)),
                Some(kind) => s.load.check(kind, &mut |suffix, message| {
                    issues_kind.push(Issue {
                        key: format!("{key}.load.{suffix}"),
                        message,
                    })
                }),
            }
            if !valid_name(name) {
                bad(
                    key.clone(),
                    "names use letters, digits, '-' and '_' only".into(),
                );
            }
            s.validate(&key, &mut bad);
        }

        for (name, g) in &self.sub_groups {
            let key = format!("sub_groups.{name}");
            if g.owners.is_empty() {
                bad(format!("{key}.owners"), "needs at least one address".into());
            }
            for (i, o) in g.owners.iter().enumerate() {
                crate::notify::check_address(&mut bad, format!("{key}.owners[{i}]"), o);
            }
        }

        self.notify
            .check(&self.sub_groups, self.admin.email.is_some(), &mut bad);

        let known = Known {
            sub_groups: self.sub_groups.keys().map(String::as_str).collect(),
            sources: self
                .sources
                .iter()
                .map(|(name, s)| (name.as_str(), self.kinds.get(&s.kind)))
                .collect(),
        };
        self.kpis.check(&known, &mut bad);

        let known_to_risks = crate::risk::catalogue::Known {
            sub_groups: self.sub_groups.keys().map(String::as_str).collect(),
            kpis: self
                .kpis
                .iter()
                .map(|(id, k)| (id.as_str(), k.measure.is_some()))
                .collect(),
            sources: self
                .sources
                .iter()
                .map(|(name, s)| (name.as_str(), s.cadence.is_some()))
                .collect(),
        };
        self.risks.check(&self.risk_log, &known_to_risks, &mut bad);
        let groups = self.sub_groups.keys().map(String::as_str).collect();
        self.actions.check(&self.action_log, &groups, &mut bad);

        let known_to_jobs = crate::schedule::settings::Known {
            sources: self.sources.keys().map(String::as_str).collect(),
            kpis: self
                .kpis
                .iter()
                .map(|(id, k)| (id.as_str(), k.measure.is_some()))
                .collect(),
            sub_groups: &self.sub_groups,
        };
        for (name, j) in &self.jobs {
            if !valid_name(name) {
                bad(
                    format!("jobs.{name}"),
                    "names use letters, digits, '-' and '_' only".into(),
                );
            }
            j.check(name, &known_to_jobs, &mut bad);
        }

        self.ledger.check(&mut bad);
        self.admin.check(&mut bad);
        self.http.check(&mut bad);
        self.daemon.check(&mut bad);

        issues.extend(issues_kind);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(issues))
        }
    }

    /// Fill secrets from `*_file` paths or `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`).
    pub fn resolve_secrets(&mut self) -> Result<(), ConfigError> {
        let creds = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let creds = creds.as_deref();
        let mut issues = Vec::new();
        let mut resolve = |spec: SecretSpec<'_>| {
            if let Err((key, message)) = spec.resolve(creds) {
                issues.push(Issue { key, message });
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
            issues.push(Issue { key, message });
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(issues))
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

/// The override file named by `--config`, else `$SENDWATCH_CONFIG`.
pub fn override_file(cli: Option<&Path>) -> Option<PathBuf> {
    cli.map(Path::to_path_buf)
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
}

#[cfg(test)]
mod tests;
