//! An action of the plan's log as shown, the one model every output builds from:
//! [`ActionRow`], with the part each output needs. [`InLog`] is the action as the log stands
//! (`sendwatch action list`, the pack's action log; built by [`rows`]); [`Slipped`] says why a
//! digest tells of it. `action history` (one action's updates) is in [`list`].
//!
//! The seeds' colours for the five ratings did not survive (DOMAIN 3.1); the shading here is
//! ours: completed and business as usual blue, on track green, not on track red, not yet
//! started grey. Progress notes stay out of the rows (`action history` prints them): they
//! are free text. No figures: nothing here goes through disclosure control.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::action::assess::update_wanted;
use crate::action::{ActionLogSettings, State, Status};

pub mod list;

pub use list::{Filter, history, list};

/// One action as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRow {
    /// The plan's reference, e.g. "1.2.1".
    pub reference: String,
    pub title: String,
    /// The named contact, as the plan gives it.
    pub contact: String,
    pub due: String,
    /// The rating now, in the seeds' words ("Not on track").
    pub status: String,
    #[serde(flatten)]
    pub standing: Option<InLog>,
    #[serde(flatten)]
    pub slipped: Option<Slipped>,
}

/// An action as the log stands: its owner, rating, latest update and whether it is overdue.
#[derive(Debug, Clone, Serialize)]
pub struct InLog {
    /// The owning sub-group's name (its key when it has none).
    pub owner: String,
    pub owner_key: String,
    /// The rating as `action update` takes it ("not_on_track").
    pub code: &'static str,
    pub class: &'static str,
    pub overdue: bool,
    /// "2026-11-20 by J Smith", when an update was recorded.
    pub last_update: Option<String>,
    pub last_at: Option<DateTime<Utc>>,
    pub last_author: Option<String>,
    /// The meeting an update is wanted for now, when the log's meetings were given.
    pub update_wanted_for: Option<NaiveDate>,
}

/// Why a digest tells of an action: "overdue", "not on track" or "update due".
#[derive(Debug, Clone, Serialize)]
pub struct Slipped {
    pub why: String,
    /// The board meeting an update is wanted for, when `why` is "update due".
    pub meeting: Option<String>,
    /// What is wanted and from whom, in words: "a progress update from the contact, for the
    /// board meeting on 2026-12-10".
    pub wanted: String,
    /// The link that answers it ([`crate::view::ask::link`]), when there is one.
    pub link: Option<String>,
}

/// How many actions are at a rating (the "RAG counts" a board paper gives).
#[derive(Debug, Serialize)]
pub struct RatingCount {
    pub rating: &'static str,
    pub class: &'static str,
    pub count: usize,
}

fn class(s: Status) -> &'static str {
    match s {
        Status::Completed | Status::Bau => "done",
        Status::OnTrack => "green",
        Status::NotOnTrack => "red",
        Status::NotStarted => "nodata",
    }
}

/// The rows of `states` in the plan's order. `owners` maps a sub-group key to its name; with
/// `log`, each open action says which meeting an update is wanted for.
pub fn rows(
    states: &[State<'_>],
    owners: &BTreeMap<String, String>,
    log: Option<&ActionLogSettings>,
    today: NaiveDate,
) -> Vec<ActionRow> {
    states.iter().map(|s| row(s, owners, log, today)).collect()
}

fn row(
    s: &State<'_>,
    owners: &BTreeMap<String, String>,
    log: Option<&ActionLogSettings>,
    today: NaiveDate,
) -> ActionRow {
    let a = s.action;
    let wanted = log
        .filter(|_| !s.status.is_closed())
        .and_then(|log| update_wanted(log, s.last.map(|u| u.entered_at), today));
    ActionRow {
        reference: s.reference.to_string(),
        title: a.title.clone(),
        contact: a.contact.clone(),
        due: a.due.to_string(),
        status: s.status.label().to_string(),
        standing: Some(InLog {
            owner: owners
                .get(&a.owner)
                .cloned()
                .unwrap_or_else(|| a.owner.clone()),
            owner_key: a.owner.clone(),
            code: s.status.as_str(),
            class: class(s.status),
            overdue: s.is_overdue(today),
            last_update: s
                .last
                .map(|u| format!("{} by {}", u.entered_at.format("%Y-%m-%d"), u.update.author)),
            last_at: s.last.map(|u| u.entered_at),
            last_author: s.last.map(|u| u.update.author.clone()),
            update_wanted_for: wanted,
        }),
        slipped: None,
    }
}

/// The count at each rating, all five, zeros too.
pub fn rating_counts(states: &[State<'_>]) -> Vec<RatingCount> {
    Status::ALL
        .iter()
        .map(|st| RatingCount {
            rating: st.label(),
            class: class(*st),
            count: states.iter().filter(|s| s.status == *st).count(),
        })
        .collect()
}

impl ActionRow {
    /// A digest's row for an action that slipped or wants an update, with its link when
    /// `linker` makes one.
    #[allow(clippy::too_many_arguments)]
    pub fn slipped(
        reference: &str,
        title: &str,
        contact: &str,
        due: NaiveDate,
        status: &str,
        why: &str,
        meeting: Option<NaiveDate>,
        linker: Option<&crate::view::ask::Linker<'_>>,
    ) -> ActionRow {
        ActionRow {
            reference: reference.to_string(),
            title: title.to_string(),
            contact: contact.to_string(),
            due: due.to_string(),
            status: status.to_string(),
            standing: None,
            slipped: Some(Slipped {
                why: why.to_string(),
                meeting: meeting.map(|m| m.to_string()),
                wanted: match meeting {
                    Some(m) => {
                        format!("a progress update from the contact, for the board meeting on {m}")
                    }
                    None => "a progress update from the contact".into(),
                },
                link: crate::view::ask::link(
                    linker,
                    crate::view::ask::Request::Progress { action: reference },
                ),
            }),
        }
    }
}
