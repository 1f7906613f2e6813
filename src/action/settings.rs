//! Action settings: one action of the log (`[actions."1.2.1"]`), its progress status, and
//! the board's meetings with the update rule (`[action_log]`).
//!
//! Owns: the settings types and the seeds' five progress statuses with their words. The
//! shipped log is in `config/plans/sefton/`, checked by [`super::catalogue`]. Must not: read
//! files or know a particular action.

use chrono::NaiveDate;
use serde::Deserialize;

/// `[action_log]`: when the board meets and how fresh an action's update must be for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionLogSettings {
    /// The board's meeting dates (SENDCIB meets monthly and updates the log at each meeting,
    /// 001:40-42), in any order.
    #[serde(default)]
    pub meetings: Vec<NaiveDate>,
    /// An action whose latest update is older than this many days at the next meeting asks
    /// its owner for one. 1 to 366 ([`UPDATE_DAYS`]).
    #[serde(default = "default_update_days")]
    pub update_days: u32,
    /// How many days before that meeting the owner is asked. 0 to 366 ([`ASK_DAYS_BEFORE`]).
    #[serde(default = "default_ask_days")]
    pub ask_days_before: u32,
}

/// `update_days`: the board meets monthly; a year-old update is no update.
pub const UPDATE_DAYS: crate::bounds::Bound<u32> = crate::bounds::Bound::new(1, 366, "a year");
/// `ask_days_before`: a year before a meeting is no reminder.
pub const ASK_DAYS_BEFORE: crate::bounds::Bound<u32> =
    crate::bounds::Bound::new(0, 366, "a year before a meeting is no reminder");

impl Default for ActionLogSettings {
    fn default() -> Self {
        ActionLogSettings {
            meetings: Vec::new(),
            update_days: default_update_days(),
            ask_days_before: default_ask_days(),
        }
    }
}

fn default_update_days() -> u32 {
    30
}

fn default_ask_days() -> u32 {
    7
}

impl ActionLogSettings {
    /// The ranges of its days; the meetings are checked with the log.
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        UPDATE_DAYS.check(bad, "action_log.update_days", self.update_days);
        ASK_DAYS_BEFORE.check(bad, "action_log.ask_days_before", self.ask_days_before);
    }

    /// The first meeting on or after `today`.
    pub fn next_meeting(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.meetings.iter().copied().filter(|m| *m >= today).min()
    }
}

/// One action (or sub-action) of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSettings {
    /// "Actions we are taking", shortened as the board would say it.
    pub title: String,
    /// Key of the owning sub-group in `[sub_groups]`: whose digest hears of it.
    pub owner: String,
    /// The named contact as the plan gives it: a role or a body, never a private person.
    pub contact: String,
    /// "Action completion date": the day it is due by.
    pub due: NaiveDate,
    /// The progress rating before anyone records an update.
    pub status: Status,
    /// Seed lines the action comes from ("004:1503").
    #[serde(default)]
    pub cites: Vec<String>,
}

/// The seeds' five progress ratings (Annex A, 004:1490-1495).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Completed,
    OnTrack,
    NotOnTrack,
    NotStarted,
    Bau,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Completed,
        Status::OnTrack,
        Status::NotOnTrack,
        Status::NotStarted,
        Status::Bau,
    ];

    /// The short name the command line and the files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::OnTrack => "on-track",
            Status::NotOnTrack => "not-on-track",
            Status::NotStarted => "not-started",
            Status::Bau => "bau",
        }
    }

    /// The rating key's words, verbatim.
    pub fn label(self) -> &'static str {
        match self {
            Status::Completed => "Action completed",
            Status::OnTrack => {
                "Action not yet completed, but on track and scheduled for completion within \
                 projected timeframe"
            }
            Status::NotOnTrack => "Action not on track, risk to implementation",
            Status::NotStarted => {
                "Longer-term action not yet started. No risk to implementation currently \
                 anticipated"
            }
            Status::Bau => "Part of Business as usual",
        }
    }

    /// Finished with: completed, or folded into business as usual. Never news.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Completed | Status::Bau)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Status, String> {
        let s = s.trim();
        Status::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(s) || x.label().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "not a progress status; write one of {}",
                    Status::ALL.map(Status::as_str).join(", ")
                )
            })
    }
}
