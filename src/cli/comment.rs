//! `sendwatch comment KPI --period P ...`: an owner's commentary and recovery plan for a KPI's
//! exception (reason, actions, revised date, next update); `comment import` for a meeting's
//! worth, `comment list` for the record.
//!
//! The checks are [`crate::kpi::commentary`]'s; here the clock is read, the login name found
//! and the store written. A refused entry stores nothing and exits 1.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use chrono::Utc;
use clap::{Args, Subcommand};

use super::Failure;
use super::kpi::{login_name, open, read_bounded, stamp};
use crate::config::Settings;
use crate::kpi::commentary::{self, Commentary, Draft, import};
use crate::load::form;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CommentArgs {
    #[command(subcommand)]
    command: Option<CommentCommand>,
    /// The KPI id, e.g. 3/3.
    #[arg(required = true)]
    kpi: Option<String>,
    /// The period of the exception, as the KPI is reported (2020-03, 2020-Q1, AY2019/20, ...).
    #[arg(long, required = true)]
    period: Option<String>,
    /// Why it slipped.
    #[arg(long, required = true)]
    reason: Option<String>,
    /// What is being done to recover it.
    #[arg(long, required = true)]
    actions: Option<String>,
    /// When the KPI is expected back on target (YYYY-MM-DD).
    #[arg(long)]
    revised_date: Option<String>,
    /// When the owner will next report on it (YYYY-MM-DD).
    #[arg(long)]
    next_update: Option<String>,
    /// Who is entering it (default: the login name).
    #[arg(long)]
    author: Option<String>,
}

#[derive(Debug, Subcommand)]
enum CommentCommand {
    /// Enter a meeting's commentary from a CSV with the columns
    /// kpi,period,reason,actions,revised_date,next_update,author. All are stored, or none.
    Import {
        /// The CSV file (UTF-8, a header row, at most 1 MiB).
        file: PathBuf,
        /// Who entered the rows whose `author` is blank (default: the login name).
        #[arg(long)]
        author: Option<String>,
    },
    /// Every commentary entry, superseded ones too.
    List {
        /// One KPI id; all of them if not given.
        kpi: Option<String>,
    },
}

pub(super) async fn run(settings: &Settings, args: CommentArgs) -> Result<ExitCode, Failure> {
    let now = Utc::now();
    let today = now.with_timezone(&settings.time_zone()).date_naive();
    let entries = match args.command {
        Some(CommentCommand::List { kpi }) => {
            if let Some(id) = &kpi
                && !settings.kpis.contains_key(id)
            {
                return Err(super::usage(anyhow!(
                    "no KPI named `{id}` in the catalogue"
                )));
            }
            let store = open(settings).await?;
            let all = store.commentary_history(kpi.as_deref()).await;
            store.close().await;
            print!("{}", list(&all.context("reading the commentary")?));
            return Ok(ExitCode::SUCCESS);
        }
        Some(CommentCommand::Import { file, author }) => {
            let shown = file.display().to_string();
            let bytes = read_bounded(&file).with_context(|| format!("reading {shown}"))?;
            let default = author.or_else(login_name);
            import::read(
                &bytes,
                &shown,
                &settings.kpis,
                default.as_deref(),
                today,
                now,
            )
            .map_err(anyhow::Error::from)?
        }
        None => {
            let kpi = args.kpi.unwrap_or_default();
            let draft = Draft {
                kpi: kpi.clone(),
                period: args.period.unwrap_or_default(),
                reason: args.reason.unwrap_or_default(),
                actions: args.actions.unwrap_or_default(),
                revised_date: args.revised_date,
                next_update: args.next_update,
                author: args.author.or_else(login_name).unwrap_or_default(),
            };
            let c = commentary::check(&settings.kpis, &draft, today, now)
                .map_err(|r| super::usage(anyhow!(form::refused(&format!("comment {kpi}"), &r))))?;
            vec![c]
        }
    };
    let store = open(settings).await?;
    let saved = store.save_commentary(&entries).await;
    store.close().await;
    saved.context("storing the commentary")?;
    for c in &entries {
        println!(
            "KPI {} {}: commentary entered by {} at {}",
            c.kpi_id,
            c.period.label(),
            c.author,
            stamp(c.entered_at)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Every entry, grouped by KPI and period, newest first, the one in force marked.
fn list(all: &[Commentary]) -> String {
    use std::fmt::Write as _;
    let mut b = String::new();
    if all.is_empty() {
        b.push_str("no commentary entered\n");
    }
    let latest = commentary::latest(all);
    let mut groups: std::collections::BTreeMap<(&str, String), Vec<&Commentary>> =
        Default::default();
    for c in all {
        groups
            .entry((c.kpi_id.as_str(), c.period.to_string()))
            .or_default()
            .push(c);
    }
    let newest_first = groups
        .values()
        .flat_map(|g| g.iter().rev().enumerate().map(|(i, c)| (i == 0, *c)));
    for (first, c) in newest_first {
        if first {
            let _ = writeln!(b, "KPI {}  {} ({})", c.kpi_id, c.period.label(), c.period);
        }
        let in_force = latest.iter().any(|l| std::ptr::eq(*l, c));
        let _ = writeln!(
            b,
            "  by {} at {}{}",
            c.author,
            stamp(c.entered_at),
            if in_force {
                ", in force"
            } else {
                ", superseded"
            }
        );
        let _ = writeln!(b, "    reason: {}", c.reason);
        let _ = writeln!(b, "    actions: {}", c.actions);
        if let Some(d) = c.revised_date {
            let _ = writeln!(b, "    revised date: {d}");
        }
        if let Some(d) = c.next_update {
            let _ = writeln!(b, "    next update: {d}");
        }
    }
    b
}
