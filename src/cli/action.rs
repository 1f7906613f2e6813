//! `sendwatch action ...`: the action log (`list`), what the board records of it at a meeting
//! (`set`, `import`), and one action's record (`history`).
//!
//! The checks are [`crate::action`]'s; here the clock is read, the login name found and the
//! store written. A refused entry stores nothing and exits 1.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::Failure;
use super::kpi::{login_name, open, read_bounded, stamp};
use crate::action::{Draft, Status, current, import, update};
use crate::config::Settings;
use crate::load::form;
use crate::view::action::{self as show, Filter};

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// The action log: each action's owner, contact, due date, current rating and latest
    /// update, overdue ones marked.
    List {
        /// One owning sub-group's actions (a [sub_groups] key).
        #[arg(long)]
        owner: Option<String>,
        /// Those currently at one rating: completed, on-track, not-on-track, not-started, bau.
        #[arg(long)]
        status: Option<Status>,
        /// table, csv or json.
        #[arg(long, default_value = "table")]
        format: crate::view::Format,
    },
    /// Record an action's progress at a meeting. A later update supersedes this one; both are
    /// kept.
    Set {
        /// The plan's reference, e.g. 1.2.1.
        reference: String,
        /// completed, on-track, not-on-track, not-started or bau (or the rating key's words).
        #[arg(long)]
        status: String,
        /// Progress on key actions.
        #[arg(long)]
        note: String,
        /// Evidence of action and impact.
        #[arg(long)]
        evidence: Option<String>,
        /// Key next steps.
        #[arg(long)]
        next_steps: Option<String>,
        /// Who is recording it (default: the login name).
        #[arg(long)]
        author: Option<String>,
    },
    /// Every update of one action, newest first.
    History {
        /// The plan's reference, e.g. 1.2.1.
        reference: String,
    },
    /// Record a meeting's updates from a CSV with the columns
    /// reference,status,note,evidence,next_steps,author. All are stored, or none.
    Import {
        /// The CSV file (UTF-8, a header row, at most 1 MiB).
        file: PathBuf,
        /// Who recorded the rows whose `author` is blank (default: the login name).
        #[arg(long)]
        author: Option<String>,
    },
}

pub(super) async fn run(settings: &Settings, command: ActionCommand) -> Result<ExitCode, Failure> {
    let now = Utc::now();
    match command {
        ActionCommand::List {
            owner,
            status,
            format,
        } => list(settings, owner, status, format, now).await,
        ActionCommand::Set {
            reference,
            status,
            note,
            evidence,
            next_steps,
            author,
        } => {
            let draft = Draft {
                reference,
                status,
                note,
                evidence,
                next_steps,
                author: author.or_else(login_name).unwrap_or_default(),
            };
            set(settings, draft, now).await
        }
        ActionCommand::History { reference } => history(settings, reference).await,
        ActionCommand::Import { file, author } => import_file(settings, &file, author, now).await,
    }
}

/// `action list`: the log with each action's current rating, one owner's or one rating's.
async fn list(
    settings: &Settings,
    owner: Option<String>,
    status: Option<Status>,
    format: crate::view::Format,
    now: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let today = now.with_timezone(&settings.time_zone()).date_naive();
    let actions = &settings.actions;
    if let Some(o) = &owner
        && !settings.sub_groups.contains_key(o)
    {
        return Err(super::usage(anyhow!(
            "no sub-group named `{o}` in [sub_groups]"
        )));
    }
    let store = open(settings).await?;
    let updates = store.action_updates(None).await;
    store.close().await;
    let updates = updates.context("reading the action updates")?;
    let states = current(actions, &updates);
    print!(
        "{}",
        show::list(
            &states,
            &settings.action_log,
            &Filter { owner, status },
            today,
            format
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// `action set`: check one update and store it.
async fn set(settings: &Settings, draft: Draft, now: DateTime<Utc>) -> Result<ExitCode, Failure> {
    let (actions, reference) = (&settings.actions, &draft.reference);
    let u = update::check(actions, &draft).map_err(|r| {
        super::usage(anyhow!(form::refused(
            &format!("action set {reference}"),
            &r
        )))
    })?;
    let store = open(settings).await?;
    let saved = store
        .save_action_updates(std::slice::from_ref(&u), now)
        .await;
    store.close().await;
    let ids = saved.context("storing the update")?;
    println!(
        "action {}: {} recorded by {} at {} (update {})",
        u.reference,
        u.status.as_str(),
        u.author,
        stamp(now),
        ids.first().copied().unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// `action history`: every update of one action, newest first.
async fn history(settings: &Settings, reference: String) -> Result<ExitCode, Failure> {
    let actions = &settings.actions;
    if !actions.contains_key(&reference) {
        return Err(super::usage(anyhow!("no action `{reference}` in the log")));
    }
    let store = open(settings).await?;
    let updates = store.action_updates(Some(&reference)).await;
    store.close().await;
    let updates = updates.context("reading the action updates")?;
    let states = current(actions, &updates);
    let Some(state) = states.iter().find(|s| s.reference == reference) else {
        return Err(super::usage(anyhow!("no action `{reference}` in the log")));
    };
    print!("{}", show::history(state, &updates));
    Ok(ExitCode::SUCCESS)
}

/// `action import`: a meeting's CSV of updates, all stored or none.
async fn import_file(
    settings: &Settings,
    file: &std::path::Path,
    author: Option<String>,
    now: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let today = now.with_timezone(&settings.time_zone()).date_naive();
    let actions = &settings.actions;
    let shown = file.display().to_string();
    let bytes = read_bounded(file).with_context(|| format!("reading {shown}"))?;
    let default = author.or_else(login_name);
    let updates = import::read(&bytes, &shown, actions, default.as_deref(), today)
        .map_err(anyhow::Error::from)?;
    let store = open(settings).await?;
    let saved = store.save_action_updates(&updates, now).await;
    store.close().await;
    let ids = saved.context("storing the updates")?;
    println!(
        "{shown}: {} update{} recorded at {} (updates {}-{})",
        updates.len(),
        if updates.len() == 1 { "" } else { "s" },
        stamp(now),
        ids.first().copied().unwrap_or_default(),
        ids.last().copied().unwrap_or_default()
    );
    for u in &updates {
        println!("  action {}: {} by {}", u.reference, u.status, u.author);
    }
    Ok(ExitCode::SUCCESS)
}
