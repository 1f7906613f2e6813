//! `sendwatch-bench`: the benchmarks, a binary of their own so that the daemon links none of
//! them (`sendwatch bench ...` runs this binary from beside itself). It uses the library's
//! public API only: it times the real `sendwatch load` as a child process and the real KPI
//! step of a run beside their peers (`sqlite3`, `psql`), measured in the same run.
//!
//! - `load`: [`load`], the validated load beside the plain bulk loaders.
//! - `kpi`: [`kpi`], the KPI step beside one SQL query per KPI count.
//! - `forecast`: [`forecast`], the early warning's stated chances against what happened.
//! - `stats`: [`stats`], the import of a published-statistics release against its target.
//! - `national`: [`national`], one cycle of England's 152 areas on one PostgreSQL.
//! - `sen2`: [`sen2`], the load of a SEN2 XML return, its time and peak RSS.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

mod child;
mod forecast;
mod forecast_score;
mod kpi;
mod kpi_table;
mod load;
mod national;
mod pg;
mod report;
mod sen2;
mod stats;

/// Benchmarks of sendwatch beside its peers (they need no configuration file).
#[derive(Debug, Parser)]
#[command(name = "sendwatch-bench", bin_name = "sendwatch bench", version)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Time `load` into SQLite and PostgreSQL beside `sqlite3 .import` and `psql \copy`.
    Load(load::LoadArgs),
    /// Time the KPI step of a run beside KPI 1/2a counted by one query in `sqlite3` and `psql`.
    Kpi(kpi::KpiArgs),
    /// Replay KPI series and score the early warning's chances: reliability and Brier.
    Forecast(forecast::ForecastArgs),
    /// Time `stats import PATH` of a published-statistics release into SQLite and PostgreSQL.
    Stats(stats::StatsArgs),
    /// Time one evaluation cycle of every local authority's area on one PostgreSQL, with one
    /// replica and more.
    National(national::NationalArgs),
    /// One replica of `national` (the bench starts it).
    #[command(hide = true)]
    NationalWorker(national::worker::WorkerArgs),
    /// Time `load` of a SEN2 XML return (its requests, its active plans) into SQLite, with
    /// peak RSS.
    Sen2(sen2::Sen2Args),
}

/// The `sendwatch` binary the load bench times: the one beside this binary.
pub(crate) fn sendwatch_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("finding the sendwatch-bench binary")?;
    let exe = me.with_file_name("sendwatch");
    anyhow::ensure!(
        exe.is_file(),
        "no sendwatch binary beside {} (build both: cargo build --release)",
        me.display()
    );
    Ok(exe)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sendwatch bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    sendwatch::telemetry::init(sendwatch::telemetry::LogFormat::Auto);
    let outcome = runtime.block_on(async {
        match cli.command {
            BenchCommand::Load(args) => load::load(args).await,
            BenchCommand::Kpi(args) => kpi::kpi(args).await,
            BenchCommand::Forecast(args) => forecast::forecast(args).await,
            BenchCommand::Stats(args) => stats::stats(args).await,
            BenchCommand::National(args) => national::national(args).await,
            BenchCommand::NationalWorker(args) => national::worker::worker(args).await,
            BenchCommand::Sen2(args) => sen2::sen2(args).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sendwatch bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
