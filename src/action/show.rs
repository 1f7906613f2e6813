//! `sendwatch action list` and `action history`: the action log as the board reads it, each
//! action with its owner, contact, due date, current rating and latest update, an overdue
//! marker; and one action's updates, newest first.
//!
//! Owns: the views and their table, CSV and JSON forms. Pure: takes the states and `today`.
//! The progress notes are the board's own free text about the service: printed here (to the
//! officer at the terminal), never mailed or logged.

use std::fmt::Write as _;

use crate::disclose::stamp;
use chrono::{NaiveDate, SecondsFormat};

use super::assess::update_wanted;
use super::{ActionLogSettings, State, Status};
use crate::kpi::show::{Format, line};

/// Which actions `action list` prints.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One owning sub-group's.
    pub owner: Option<String>,
    /// Those currently at one rating.
    pub status: Option<Status>,
}

/// Past its due date and neither completed nor business as usual.
pub fn is_overdue(s: &State<'_>, today: NaiveDate) -> bool {
    s.action.due < today && !s.status.is_closed()
}

/// "2020-02-11 09:00 UTC by ann", or "none (the log's rating)".
fn last_update(s: &State<'_>) -> String {
    s.last.map_or("none (the log's rating)".into(), |u| {
        format!("{} by {}", stamp(u.entered_at), u.update.author)
    })
}

const HEADER: [&str; 10] = [
    "reference",
    "title",
    "owner",
    "contact",
    "due",
    "status",
    "last_update",
    "last_author",
    "overdue",
    "update_wanted_for",
];

/// The meeting an update of `s` is wanted for now, if one is (never for a closed action).
fn wanted(s: &State<'_>, log: &ActionLogSettings, today: NaiveDate) -> Option<NaiveDate> {
    if s.status.is_closed() {
        return None;
    }
    update_wanted(log, s.last.map(|u| u.entered_at), today)
}

/// The log, filtered, in the form asked for.
pub fn list(
    states: &[State<'_>],
    log: &ActionLogSettings,
    filter: &Filter,
    today: NaiveDate,
    format: Format,
) -> String {
    let shown: Vec<&State<'_>> = states
        .iter()
        .filter(|s| filter.owner.as_ref().is_none_or(|o| s.action.owner == *o))
        .filter(|s| filter.status.is_none_or(|st| s.status == st))
        .collect();
    match format {
        Format::Table => table(&shown, log, today),
        Format::Csv => {
            let mut b = String::new();
            line(&mut b, HEADER.iter().map(|s| s.to_string()));
            for s in shown {
                line(
                    &mut b,
                    [
                        s.reference.to_string(),
                        s.action.title.clone(),
                        s.action.owner.clone(),
                        s.action.contact.clone(),
                        s.action.due.to_string(),
                        s.status.as_str().to_string(),
                        s.last
                            .map(|u| u.entered_at.to_rfc3339_opts(SecondsFormat::Secs, true))
                            .unwrap_or_default(),
                        s.last.map(|u| u.update.author.clone()).unwrap_or_default(),
                        is_overdue(s, today).to_string(),
                        wanted(s, log, today)
                            .map(|m| m.to_string())
                            .unwrap_or_default(),
                    ]
                    .into_iter(),
                );
            }
            b
        }
        Format::Json => {
            let list: Vec<serde_json::Value> = shown
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "reference": s.reference,
                        "title": s.action.title,
                        "owner": s.action.owner,
                        "contact": s.action.contact,
                        "due": s.action.due.to_string(),
                        "status": s.status.as_str(),
                        "status_words": s.status.label(),
                        "last_update": s.last.map(|u| u.entered_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
                        "last_author": s.last.map(|u| u.update.author.as_str()),
                        "overdue": is_overdue(s, today),
                        "update_wanted_for": wanted(s, log, today).map(|m| m.to_string()),
                    })
                })
                .collect();
            format!("{}\n", serde_json::Value::Array(list))
        }
    }
}

fn table(shown: &[&State<'_>], log: &ActionLogSettings, today: NaiveDate) -> String {
    let mut b = String::new();
    if shown.is_empty() {
        b.push_str("no actions\n");
    }
    for s in shown {
        let overdue = if is_overdue(s, today) {
            "  OVERDUE"
        } else {
            ""
        };
        let _ = writeln!(b, "{}  {}", s.reference, s.action.title);
        let _ = writeln!(
            b,
            "    owner {}; contact {}; due {}{overdue}",
            s.action.owner, s.action.contact, s.action.due
        );
        let _ = writeln!(b, "    status {}: {}", s.status.as_str(), s.status.label());
        let _ = writeln!(b, "    last update: {}", last_update(s));
        if let Some(m) = wanted(s, log, today) {
            let _ = writeln!(b, "    update wanted for the meeting of {m}");
        }
    }
    let mut counts = String::new();
    for st in Status::ALL {
        let n = shown.iter().filter(|s| s.status == st).count();
        if n > 0 {
            let _ = write!(
                counts,
                "{}{n} {}",
                if counts.is_empty() { "" } else { ", " },
                st
            );
        }
    }
    let late = shown.iter().filter(|s| is_overdue(s, today)).count();
    if !shown.is_empty() {
        let _ = writeln!(b, "\n{} actions: {counts}; {late} overdue", shown.len());
    }
    b
}

/// One action's updates, newest first, the one in force marked, then the log's own rating.
pub fn history(state: &State<'_>, updates: &[super::Recorded]) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "{}  {}", state.reference, state.action.title);
    let _ = writeln!(
        b,
        "  owner {}; contact {}; due {}; status now {}",
        state.action.owner,
        state.action.contact,
        state.action.due,
        state.status.as_str()
    );
    let latest = updates.iter().map(|u| u.id).max();
    for u in updates.iter().rev() {
        let _ = writeln!(
            b,
            "  update {}: {} by {} at {}{}",
            u.id,
            u.update.status.as_str(),
            u.update.author,
            stamp(u.entered_at),
            if Some(u.id) == latest {
                ", in force"
            } else {
                ", superseded"
            }
        );
        let _ = writeln!(b, "    progress: {}", u.update.note);
        if let Some(e) = &u.update.evidence {
            let _ = writeln!(b, "    evidence: {e}");
        }
        if let Some(n) = &u.update.next_steps {
            let _ = writeln!(b, "    next steps: {n}");
        }
    }
    let _ = writeln!(
        b,
        "  the log's rating{}: {}",
        if updates.is_empty() { ", in force" } else { "" },
        state.action.status.as_str()
    );
    b
}
