//! `sendwatch silence add|list|expire`: hold back items matching some labels until a date
//! (amtool's `silence add/query/expire`). A silenced item is listed at the foot of the
//! digest, never dropped silently.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Subcommand;

use super::Failure;
use crate::config::Settings;
use crate::notify::silence::{Silence, check_new, parse_until};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Hold back the items matching every --match until --until.
    Add {
        /// LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX, on kind, sub_group, kpi,
        /// risk, source, action, severity, period, state; repeat for more (all must hold).
        #[arg(long = "match", value_name = "MATCHER", required = true)]
        matchers: Vec<String>,
        /// The end: a date (YYYY-MM-DD, through that day, local time) or a duration from now
        /// (30m, 12h, 7d, 2w). In the future.
        #[arg(long)]
        until: String,
        /// Why (shown at the foot of each report it holds items back from).
        #[arg(long)]
        comment: String,
        /// Who.
        #[arg(long)]
        author: String,
    },
    /// The silences in force or to come (with --all, expired ones too).
    List {
        /// Expired silences too.
        #[arg(long)]
        all: bool,
    },
    /// End a silence now.
    Expire {
        /// The silence's number, as `silence list` shows it.
        id: i64,
    },
}

pub(super) async fn run(settings: &Settings, command: SilenceCommand) -> Result<ExitCode, Failure> {
    let store = crate::job::open_store(settings)
        .await
        .context("opening the database")?;
    let result = act(settings, &store, command).await;
    store.close().await;
    result
}

async fn act(
    settings: &Settings,
    store: &Store,
    command: SilenceCommand,
) -> Result<ExitCode, Failure> {
    let now = Utc::now();
    match command {
        SilenceCommand::Add {
            matchers,
            until,
            comment,
            author,
        } => {
            check_new(&matchers, &comment, &author).map_err(super::usage)?;
            let ends = parse_until(&until, now, settings.time_zone()).map_err(super::usage)?;
            let id = store
                .add_silence(&matchers, now, ends, comment.trim(), author.trim(), now)
                .await
                .context("recording the silence")?;
            println!(
                "silence {id}: {} until {}",
                matchers.join(", "),
                ends.with_timezone(&settings.time_zone())
                    .format("%Y-%m-%d %H:%M %Z")
            );
            Ok(ExitCode::SUCCESS)
        }
        SilenceCommand::List { all } => {
            let list = store.silences(now, all).await.context("reading silences")?;
            if list.is_empty() {
                println!("no silences{}", if all { "" } else { " in force" });
            }
            for s in &list {
                println!("{}", line(s, settings, now));
            }
            Ok(ExitCode::SUCCESS)
        }
        SilenceCommand::Expire { id } => {
            if store
                .expire_silence(id, now)
                .await
                .context("expiring the silence")?
            {
                println!("silence {id} expired");
                Ok(ExitCode::SUCCESS)
            } else {
                Err(super::usage(anyhow::anyhow!("no silence {id} in force")))
            }
        }
    }
}

/// "3  active  until 2027-06-30 00:00 BST  kpi=3/3  by pm: recovery plan agreed".
fn line(s: &Silence, settings: &Settings, now: chrono::DateTime<Utc>) -> String {
    let tz = settings.time_zone();
    format!(
        "{}  {}  until {}  {}  by {}: {}",
        s.id,
        s.state(now),
        s.ends_at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
        s.matchers.join(", "),
        s.author,
        s.comment
    )
}
