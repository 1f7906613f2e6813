//! Telemetry: one tracing subscriber for the process, to stderr (journald reads it there).
//!
//! The level comes from `SENDWATCH_LOG` (e.g. `info`, `sendwatch=debug`), default `info`.
//! Nothing logged carries a secret or a child-level value: events name sources, loads, runs,
//! counts and KPI ids only.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_env("SENDWATCH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal; journald and pipes get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
