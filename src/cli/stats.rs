//! `sendwatch stats import PATH [--mapping NAME]` and `stats show [--format ...] [--measure
//! ...]`: the DfE's published statistics, imported as published and shown for the configured
//! area beside its region and England.
//!
//! The reading and storing are [`crate::stats`]'s, the printing [`crate::view::stats`]'s;
//! here the store is opened, the area found and the exit code chosen: a refused release exits
//! 1 (nothing stored), an unknown mapping or measure 2, an area the release does not name 78.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Subcommand;

use super::Failure;
use crate::config::{ConfigError, Issue, Settings};
use crate::stats::StatsError;
use crate::stats::import::Imported;
use crate::store::Store;
use crate::view::stats::StatsView;

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Import a release of published statistics: its zip as downloaded, its folder, or one of
    /// its CSV files. All of it is stored, or none (a refused file names its line, column and
    /// rule); figures of a later release are never replaced by an earlier one's.
    Import {
        /// The release's zip, its folder, or one of its CSV files.
        path: PathBuf,
        /// The mapping to read it with ([stats.mappings.NAME]; default [stats] mapping).
        #[arg(long)]
        mapping: Option<String>,
    },
    /// Print the configured area's published series beside its region's, England's and its
    /// statistical neighbours' ([stats] neighbours).
    Show {
        /// table, csv (one row per figure, with its release, file and line) or json.
        #[arg(long, default_value = "table")]
        format: crate::view::Format,
        /// A measure to print (repeat for more); default [stats] show.
        #[arg(long = "measure", value_name = "MEASURE")]
        measures: Vec<String>,
    },
}

pub(super) async fn run(settings: &Settings, command: StatsCommand) -> Result<ExitCode, Failure> {
    let store = super::kpi::open(settings).await?;
    let result = match command {
        StatsCommand::Import { path, mapping } => {
            import(settings, &store, &path, mapping.as_deref()).await
        }
        StatsCommand::Show { format, measures } => show(settings, &store, format, &measures).await,
    };
    store.close().await;
    result
}

async fn import(
    settings: &Settings,
    store: &Store,
    path: &std::path::Path,
    mapping: Option<&str>,
) -> Result<ExitCode, Failure> {
    match crate::stats::import::import(store, &settings.stats, mapping, path, Utc::now()).await {
        Ok(done) => {
            print!("{}", said(&done));
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (StatsError::UnknownMapping(_) | StatsError::NoMapping)) => Err(super::usage(e)),
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
}

/// What an import did, in lines.
fn said(done: &Imported) -> String {
    use std::fmt::Write as _;
    let mut b = String::new();
    let r = &done.release;
    let _ = writeln!(
        b,
        "imported {} ({}) from {}: {} figures of {} areas",
        r.name, r.title, r.imported_from, done.stored.stored, done.areas
    );
    for f in &done.files {
        let _ = write!(
            b,
            "  {}: {} lines, {} rows read, {} figures, {} cells with no figure",
            f.file, f.lines, f.rows, f.figures, f.absent
        );
        if f.other_levels > 0 {
            let _ = write!(b, ", {} rows at other levels left out", f.other_levels);
        }
        b.push('\n');
    }
    for (measure, period, by) in &done.stored.kept {
        let _ = writeln!(
            b,
            "  kept {measure} {period} as {by} gives it (a later reporting year)"
        );
    }
    let _ = writeln!(
        b,
        "A daemon already running takes the new national figures at its next reload or restart."
    );
    b
}

async fn show(
    settings: &Settings,
    store: &Store,
    format: crate::view::Format,
    asked: &[String],
) -> Result<ExitCode, Failure> {
    let stats = &settings.stats;
    let names: Vec<&String> = if asked.is_empty() {
        stats.show.iter().collect()
    } else {
        asked.iter().collect()
    };
    let mut measures = Vec::new();
    for name in names {
        let def = stats.measures.get_key_value(name.as_str()).ok_or_else(|| {
            let known: Vec<&str> = stats.measures.keys().map(String::as_str).collect();
            super::usage(anyhow::anyhow!(
                "no measure named `{name}`; the measures are {}",
                known.join(", ")
            ))
        })?;
        measures.push((def.0.as_str(), def.1));
    }
    let compared = crate::stats::compare::read(store, stats, &settings.general.area)
        .await
        .context("reading the published figures")?;
    if compared.releases.is_empty() {
        return Err(anyhow::anyhow!(
            "no published statistics imported yet: `sendwatch stats import PATH` first"
        )
        .into());
    }
    if compared.columns.is_empty() {
        let wanted = stats.area.as_deref().unwrap_or(&settings.general.area);
        return Err(Failure::Config(ConfigError::Invalid(vec![Issue::new(
            if stats.area.is_some() {
                "stats.area"
            } else {
                "general.area"
            },
            format!(
                "`{wanted}` is no local authority of the imported statistics: give its name \
                 or code as the release does (e.g. Sefton, E08000014 or 343) in [stats] area"
            ),
        )])));
    }
    // A neighbour the release does not name is left out, and said.
    for missing in &compared.missing {
        eprintln!("note: {missing}");
    }
    let view = StatsView {
        releases: &compared.releases,
        columns: compared
            .columns
            .iter()
            .map(|(role, a, s)| (*role, a, s.as_slice()))
            .collect(),
        measures,
        absent: compared.absent.clone(),
    };
    print!("{}", crate::view::stats::show(&view, format));
    Ok(ExitCode::SUCCESS)
}
