//! `sendwatch action list` and `action history`: the action log as the board reads it, each
//! action with its owner, contact, due date, current rating and latest update, an overdue
//! marker (from the rows of [`super::rows`]); and one action's updates, newest first.
//!
//! Owns: the listing's table, CSV and JSON forms. Pure: takes the states and `today`.
//! The progress notes are the board's own free text about the service: printed here (to the
//! officer at the terminal), never mailed or logged.

use std::fmt::Write as _;

use crate::disclose::stamp;
use chrono::{NaiveDate, SecondsFormat};

use super::{ActionRow, InLog, rows};
use crate::action::{ActionLogSettings, State, Status};
use crate::view::{Format, csv_line as line};

/// Which actions `action list` prints.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One owning sub-group's.
    pub owner: Option<String>,
    /// Those currently at one rating.
    pub status: Option<Status>,
}

/// "2020-02-11 09:00 UTC by ann", or "none (the log's rating)".
fn last_update(l: &InLog) -> String {
    match (l.last_at, &l.last_author) {
        (Some(at), Some(by)) => format!("{} by {by}", stamp(at)),
        _ => "none (the log's rating)".into(),
    }
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
    let owned: Vec<State<'_>> = shown.iter().map(|s| (*s).clone()).collect();
    let rows = rows(&owned, &std::collections::BTreeMap::new(), Some(log), today);
    let listed: Vec<(&ActionRow, &InLog)> = rows
        .iter()
        .filter_map(|r| r.standing.as_ref().map(|l| (r, l)))
        .collect();
    match format {
        Format::Table => table(&listed, &shown),
        Format::Csv => csv(&listed),
        Format::Json => json(&listed),
    }
}

fn rfc3339(l: &InLog) -> Option<String> {
    l.last_at
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn csv(listed: &[(&ActionRow, &InLog)]) -> String {
    let mut b = String::new();
    line(&mut b, HEADER.iter().map(|s| s.to_string()));
    for (r, l) in listed {
        line(
            &mut b,
            [
                r.reference.clone(),
                r.title.clone(),
                l.owner_key.clone(),
                r.contact.clone(),
                r.due.clone(),
                l.code.to_string(),
                rfc3339(l).unwrap_or_default(),
                l.last_author.clone().unwrap_or_default(),
                l.overdue.to_string(),
                l.update_wanted_for
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ]
            .into_iter(),
        );
    }
    b
}

fn json(listed: &[(&ActionRow, &InLog)]) -> String {
    let list: Vec<serde_json::Value> = listed
        .iter()
        .map(|(r, l)| {
            serde_json::json!({
                "reference": r.reference,
                "title": r.title,
                "owner": l.owner_key,
                "contact": r.contact,
                "due": r.due,
                "status": l.code,
                "status_words": r.status,
                "last_update": rfc3339(l),
                "last_author": l.last_author,
                "overdue": l.overdue,
                "update_wanted_for": l.update_wanted_for.map(|m| m.to_string()),
            })
        })
        .collect();
    format!("{}\n", serde_json::Value::Array(list))
}

fn table(listed: &[(&ActionRow, &InLog)], shown: &[&State<'_>]) -> String {
    let mut b = String::new();
    if listed.is_empty() {
        b.push_str("no actions\n");
    }
    for (r, l) in listed {
        let overdue = if l.overdue { "  OVERDUE" } else { "" };
        let _ = writeln!(b, "{}  {}", r.reference, r.title);
        let _ = writeln!(
            b,
            "    owner {}; contact {}; due {}{overdue}",
            l.owner_key, r.contact, r.due
        );
        let _ = writeln!(b, "    status {}: {}", l.code, r.status);
        let _ = writeln!(b, "    last update: {}", last_update(l));
        if let Some(m) = l.update_wanted_for {
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
    let late = listed.iter().filter(|(_, l)| l.overdue).count();
    if !shown.is_empty() {
        let _ = writeln!(b, "\n{} actions: {counts}; {late} overdue", shown.len());
    }
    b
}

/// One action's updates, newest first, the one in force marked, then the log's own rating.
pub fn history(state: &State<'_>, updates: &[crate::action::Recorded]) -> String {
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
