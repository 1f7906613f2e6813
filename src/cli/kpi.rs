//! `sendwatch kpi ...`: the board's KPI table from the stored results.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use super::Failure;
use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum KpiCommand {
    /// Print the board's KPI table: baseline, each milestone with its target and the stored
    /// value and RAG for its month, owner.
    Show {
        /// One KPI id (e.g. 1/2a); all of them if not given.
        kpi: Option<String>,
        /// Show each KPI's value for this period (YYYY-MM, YYYY-Qn, AYyyyy/yy, FYyyyy/yy,
        /// YYYY; a KPI reported over longer periods shows the one holding its last month)
        /// instead of the latest.
        #[arg(long)]
        period: Option<crate::kpi::Period>,
        /// table, csv (one row per milestone) or json.
        #[arg(long, default_value = "table")]
        format: crate::kpi::show::Format,
    },
}

pub(super) async fn run(settings: &Settings, command: KpiCommand) -> Result<ExitCode, Failure> {
    match command {
        KpiCommand::Show {
            kpi,
            period,
            format,
        } => {
            let store = Store::connect(&settings.store)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("migrating")?;
            let results = store.latest_results().await;
            store.close().await;
            let results = results.context("reading stored KPI results")?;
            let owners = settings
                .sub_groups
                .iter()
                .map(|(key, g)| (key.clone(), g.name.clone()))
                .collect();
            let text = crate::kpi::show::show(
                &settings.kpis,
                &owners,
                &results,
                kpi.as_deref(),
                period,
                format,
            )
            .map_err(anyhow::Error::from)?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
