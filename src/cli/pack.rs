//! `sendwatch report`: the board pack for a period and an audience, as one self-contained
//! HTML file and, when Chromium is installed, a PDF printed from it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Args;

use super::{EXIT_FAILED, Failure};
use crate::config::Settings;
use crate::job::pack::{PackRequest, PdfMode, write_pack};
use crate::pack::Audience;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The period (YYYY-MM, YYYY-Qn, AYyyyy/yy, FYyyyy/yy or YYYY); each KPI's period that
    /// holds its last month. Default: each KPI's latest stored period.
    #[arg(long)]
    pub period: Option<crate::kpi::Period>,
    /// board (SENDCIB, monthly), dfe (DfE and NHS England, two-monthly) or scrutiny
    /// (Overview and Scrutiny, quarterly).
    #[arg(long, default_value = "board")]
    pub audience: Audience,
    /// The folder to write into (created 0700; the files 0600).
    #[arg(long)]
    pub out: PathBuf,
    /// Print a PDF beside the HTML with headless Chromium.
    #[arg(long, value_enum, default_value_t = PdfMode::Auto)]
    pub pdf: PdfMode,
    /// A folder with a council's own pack.html.j2 (default: the shipped template).
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

pub(super) async fn run(settings: &Settings, args: ReportArgs) -> Result<ExitCode, Failure> {
    let store = crate::job::open_store(settings)
        .await
        .context("opening the database")?;
    let req = PackRequest {
        audience: args.audience,
        period: args.period,
        out: &args.out,
        pdf: args.pdf,
        templates_dir: args.templates.as_deref(),
    };
    let written = write_pack(&store, settings, &req, Utc::now()).await;
    store.close().await;
    let written = written.context("making the pack")?;
    println!(
        "pack written: {} ({} KPIs, {} in exception)",
        written.html.display(),
        written.kpis,
        written.exceptions
    );
    match &written.pdf {
        Ok(pdf) => println!("pdf written:  {}", pdf.display()),
        Err(why) => println!("no pdf: {why}"),
    }
    Ok(match (&written.pdf, args.pdf) {
        (Err(_), PdfMode::Always) => ExitCode::from(EXIT_FAILED),
        _ => ExitCode::SUCCESS,
    })
}
