//! `sendwatch risks`: the risk register with each risk's level now, from the recorded changes.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::Failure;
use crate::config::Settings;

#[derive(Debug, Args)]
pub struct RisksArgs {
    /// table, csv or json.
    #[arg(long, default_value = "table")]
    pub format: crate::view::Format,
    /// Also list every change of a risk's score, oldest first (CSV: the changes alone).
    #[arg(long)]
    pub history: bool,
}

pub(super) async fn run(settings: &Settings, args: RisksArgs) -> Result<ExitCode, Failure> {
    let store = crate::job::open_store(settings)
        .await
        .context("opening the database")?;
    let events = store.risk_events().await;
    store.close().await;
    let events = events.context("reading the risk log's history")?;
    let owners = crate::notify::sub_group_names(&settings.sub_groups);
    let text = crate::view::risk::show(
        &settings.risks,
        &settings.risk_log,
        &settings.kpis,
        &owners,
        &events,
        args.history,
        args.format,
    )
    .map_err(anyhow::Error::from)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
