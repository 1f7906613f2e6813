//! `sendwatch answers list|approve|reject|link`: the answers people sent from their digests'
//! links (drafts until approved), deciding them from the server, and making a link by hand (to
//! send to someone the digest did not reach, or to try the form).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Subcommand;
use secrecy::ExposeSecret;

use super::Failure;
use crate::answer::entry;
use crate::answer::link::LinkKey;
use crate::answer::{Ask, Decision};
use crate::config::Settings;
use crate::store::{Decided, Store, StoredAnswer};

#[derive(Debug, Subcommand)]
pub enum AnswersCommand {
    /// The answers awaiting approval (with --state, those approved, rejected, or all).
    List {
        /// draft (the default), approved, rejected or all.
        #[arg(long, default_value = "draft")]
        state: String,
    },
    /// Approve a draft: it is written into its table (commentary, the KPI's value, the
    /// action's progress) and counts from the next digest and pack.
    Approve {
        /// The answer's number, as `answers list` shows it.
        id: i64,
        /// Who approves (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Reject a draft: it is kept, marked rejected, and never counts.
    Reject {
        /// The answer's number, as `answers list` shows it.
        id: i64,
        /// Who rejects (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Print a link that opens a form for --to: commentary on --kpi for --period, a value of
    /// --kpi for --period (--value), an action's progress (--action REF), or a draft's
    /// approval (--approve ID).
    Link {
        /// The address the link is for: what the answer is recorded as from.
        #[arg(long)]
        to: String,
        /// The KPI the link asks about (commentary on its exception, or with --value its value).
        #[arg(long, conflicts_with_all = ["action", "approve"])]
        kpi: Option<String>,
        /// The KPI's period, as the digest names it (2021-06, 2026-Q3, 2026-H1, ...).
        #[arg(long, requires = "kpi")]
        period: Option<String>,
        /// With --kpi: the KPI's value, not commentary.
        #[arg(long, requires = "kpi")]
        value: bool,
        /// The action whose progress the link asks for (its reference, e.g. 1.1).
        #[arg(long, conflicts_with = "approve")]
        action: Option<String>,
        /// The draft the link lets its holder approve or reject (an approver's link).
        #[arg(long)]
        approve: Option<i64>,
    },
}

pub(super) async fn run(settings: &Settings, command: AnswersCommand) -> Result<ExitCode, Failure> {
    if let AnswersCommand::Link { .. } = command {
        return link(settings, command);
    }
    let store = crate::job::open_store(settings)
        .await
        .context("opening the database")?;
    let result = act(settings, &store, command).await;
    store.close().await;
    result
}

fn link(settings: &Settings, command: AnswersCommand) -> Result<ExitCode, Failure> {
    let AnswersCommand::Link {
        to,
        kpi,
        period,
        value,
        action,
        approve,
    } = command
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut bad = None;
    crate::notify::check_address(&mut |_, m| bad = Some(m), String::new(), &to);
    if let Some(m) = bad {
        return Err(super::usage(anyhow::anyhow!("--to: {m}")));
    }
    let ask = match (kpi, period, action, approve) {
        (Some(kpi), Some(period), None, None) if value => Ask::Value { kpi, period },
        (Some(kpi), Some(period), None, None) => Ask::Commentary { kpi, period },
        (None, None, Some(reference), None) => Ask::Action { reference },
        (None, None, None, Some(draft)) => Ask::Approve { draft },
        _ => {
            return Err(super::usage(anyhow::anyhow!(
                "say what the link is for: --kpi ID --period P [--value], --action REF or --approve ID"
            )));
        }
    };
    let http = &settings.http;
    let key = http
        .link_key
        .as_ref()
        .and_then(|k| LinkKey::new(k.expose_secret().as_bytes()));
    let (Some(key), Some(_)) = (key, &http.public_url) else {
        return Err(super::usage(anyhow::anyhow!(
            "answering is not set up: set [http] public_url and link_key (see docs/answers.md)"
        )));
    };
    let area = settings.area_id();
    let grant = crate::answer::grant(
        area.as_str(),
        &to,
        ask,
        Utc::now(),
        settings.answer.link_days,
    );
    let token = key.sign(&grant);
    let url = http
        .public_link(&format!("answer/{token}"))
        .unwrap_or_default();
    println!("{url}");
    Ok(ExitCode::SUCCESS)
}

fn line(a: &StoredAnswer) -> String {
    let what = match &a.ask {
        Ask::Commentary { kpi, period } => format!("commentary on {kpi} for {period}"),
        Ask::Value { kpi, period } => format!("value of {kpi} for {period}"),
        Ask::Action { reference } => format!("progress on action {reference}"),
        Ask::Approve { .. } => String::new(),
    };
    let mut s = format!(
        "{:>5}  {:<9} {what}, from {} at {} ({})",
        a.id,
        a.state,
        a.entered_by,
        a.entered_at.format("%Y-%m-%d %H:%M UTC"),
        a.entered_from
    );
    if let (Some(by), Some(at)) = (&a.decided_by, a.decided_at) {
        let _ = write!(
            s,
            "; {} by {by} at {} ({})",
            a.state,
            at.format("%Y-%m-%d %H:%M UTC"),
            a.decided_via.as_deref().unwrap_or("")
        );
    }
    s
}

async fn act(
    settings: &Settings,
    store: &Store,
    command: AnswersCommand,
) -> Result<ExitCode, Failure> {
    let now = Utc::now();
    let (id, by, decision) = match command {
        AnswersCommand::List { state } => {
            let state = match state.as_str() {
                "all" => None,
                "draft" | "approved" | "rejected" => Some(state.as_str()),
                _ => {
                    return Err(super::usage(anyhow::anyhow!(
                        "--state is draft, approved, rejected or all"
                    )));
                }
            };
            let all = store.answers(state).await.context("reading the answers")?;
            if all.is_empty() {
                println!("no answers");
            }
            for a in &all {
                println!("{}", line(a));
            }
            return Ok(ExitCode::SUCCESS);
        }
        AnswersCommand::Approve { id, by } => (id, by, Decision::Approve),
        AnswersCommand::Reject { id, by } => (id, by, Decision::Reject),
        AnswersCommand::Link { .. } => return Ok(ExitCode::SUCCESS),
    };
    let by = by
        .or_else(super::kpi::login_name)
        .ok_or_else(|| super::usage(anyhow::anyhow!("say who decides: --by NAME")))?;
    crate::kpi::manual::check_name(&by).map_err(|m| super::usage(anyhow::anyhow!("--by: {m}")))?;
    let Some(a) = store.answer(id).await.context("reading the answer")? else {
        return Err(super::usage(anyhow::anyhow!("no answer {id} in this area")));
    };
    let entry = match decision {
        Decision::Approve => Some(
            entry::check(
                &a.ask,
                &a.fields,
                &a.entered_by,
                &settings.kpis,
                &settings.actions,
                now,
            )
            .map_err(|bad| {
                let words: Vec<String> = bad.iter().map(|(f, m)| format!("{f}: {m}")).collect();
                super::usage(anyhow::anyhow!(
                    "answer {id} no longer passes the checks ({}); it can only be rejected",
                    words.join("; ")
                ))
            })?,
        ),
        Decision::Reject => None,
    };
    match store
        .decide_answer(id, decision, entry.as_ref(), &by, None, now)
        .await
        .context("recording the decision")?
    {
        Decided::Done => {
            println!("answer {id} {}", decision.state());
            Ok(ExitCode::SUCCESS)
        }
        Decided::NotADraft | Decided::LinkUsed => Err(super::usage(anyhow::anyhow!(
            "answer {id} is {} already",
            a.state
        ))),
    }
}
