//! The action log in the pack: each action of the plan with its owner, contact, due date and
//! progress rating now (the latest update, else the log's), the overdue ones marked, and the
//! count at each rating (the "RAG counts" a board paper gives). Pure.
//!
//! The seeds' colours for the five ratings did not survive (DOMAIN 3.1); the shading here is
//! ours: completed and business as usual blue, on track green, not on track red, not yet
//! started grey. Progress notes stay out of the pack (`sendwatch action history` has them):
//! they are free text.

use chrono::NaiveDate;
use serde::Serialize;

use crate::action::{Actions, Recorded, Status, current};

#[derive(Debug, Serialize)]
pub struct ActionRow {
    pub reference: String,
    pub title: String,
    pub owner: String,
    pub contact: String,
    pub due: String,
    pub status: &'static str,
    pub rating: &'static str,
    pub class: &'static str,
    pub overdue: bool,
    /// "2026-11-20 by J Smith", when an update was recorded.
    pub last_update: Option<String>,
}

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

/// The log's rows in the plan's order, and the count at each rating (all five, zeros too).
pub fn action_rows(
    actions: &Actions,
    updates: &[Recorded],
    owners: &std::collections::BTreeMap<String, String>,
    today: NaiveDate,
) -> (Vec<ActionRow>, Vec<RatingCount>) {
    let states = current(actions, updates);
    let rows = states
        .iter()
        .map(|s| ActionRow {
            reference: s.reference.to_string(),
            title: s.action.title.clone(),
            owner: owners
                .get(&s.action.owner)
                .cloned()
                .unwrap_or_else(|| s.action.owner.clone()),
            contact: s.action.contact.clone(),
            due: s.action.due.to_string(),
            status: s.status.as_str(),
            rating: s.status.label(),
            class: class(s.status),
            overdue: crate::action::show::is_overdue(s, today),
            last_update: s
                .last
                .map(|u| format!("{} by {}", u.entered_at.format("%Y-%m-%d"), u.update.author)),
        })
        .collect();
    let counts = Status::ALL
        .iter()
        .map(|st| RatingCount {
            rating: st.label(),
            class: class(*st),
            count: states.iter().filter(|s| s.status == *st).count(),
        })
        .collect();
    (rows, counts)
}
