//! Telemetry: one tracing subscriber for the process, to stderr (or the journal), and the
//! names of the metrics [`metrics`] exposes.
//!
//! The level comes from `SENDWATCH_LOG` (e.g. `info`, `sendwatch=debug`), default `info`.
//! The format from `[log] format`: `auto` (the default) writes text for a person at a
//! terminal and one JSON object a line otherwise (a pipe, a file, or systemd, which sets
//! `JOURNAL_STREAM`); `text` and `json` force one; `journald` sends each event to the journal
//! with its fields as journal fields (`SOURCE=tracker`). Nothing logged carries a secret or a
//! child-level value: events name sources, loads, runs, counts and KPI ids only.

use std::io::IsTerminal;

use serde::Deserialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub mod metrics;

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    #[serde(default)]
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal; JSON when stderr is not one, or under systemd.
    #[default]
    Auto,
    Text,
    Json,
    /// The journal's native protocol, fields as journal fields.
    Journald,
}

impl LogFormat {
    /// What `auto` comes to here: text only for a terminal outside systemd.
    pub fn resolve(self) -> LogFormat {
        match self {
            LogFormat::Auto => {
                let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
                if std::io::stderr().is_terminal() && !under_systemd {
                    LogFormat::Text
                } else {
                    LogFormat::Json
                }
            }
            other => other,
        }
    }
}

/// Install the process's subscriber, once (later calls do nothing).
pub fn init(format: LogFormat) {
    let filter =
        || EnvFilter::try_from_env("SENDWATCH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let text = || {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colour only for a person at a terminal; pipes get plain text.
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
    };
    let registry = tracing_subscriber::registry().with(filter());
    let _ = match format.resolve() {
        LogFormat::Text | LogFormat::Auto => registry.with(text()).try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_target(false)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Journald => match tracing_journald::layer() {
            // No `F_` prefix: our field names (job, source, run_id, error) clash with no
            // journal field, and `SOURCE=tracker` is what an operator would type.
            Ok(j) => registry
                .with(
                    j.with_syslog_identifier("sendwatch".into())
                        .with_field_prefix(None),
                )
                .try_init(),
            Err(e) => {
                // No journal socket (not under systemd): say so once, and log as text.
                let r = registry.with(text()).try_init();
                tracing::warn!(error = %e, "log.format is \"journald\" but the journal cannot be reached; logging to stderr.");
                r
            }
        },
    };
}
