//! Answering from the digest (issue 22): the signed links a digest carries so that a person
//! who is asked for something (an exception's commentary, a manual KPI's value, an action's
//! progress) can answer in a small form the daemon serves, without an account, and the
//! approval that makes such an answer count.
//!
//! Owns: `[answer]` ([`AnswerSettings`]), what a link grants ([`Grant`], [`Ask`]) and its
//! signature ([`link`]); the drafts' life ([`Decision`]). Pure: takes `now`, reads no clock
//! and no file. The form is served by `serve::answer`; drafts are stored by `store::answers`.

pub mod entry;
pub mod link;
mod settings;

pub use link::{Grant, LinkError, LinkKey};
pub use settings::AnswerSettings;

/// What a link asks its recipient for. The kind's word is part of the signed grant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Ask {
    /// Commentary on a KPI's exception in a period: reason, recovery actions, dates.
    Commentary { kpi: String, period: String },
    /// A manual KPI's value for a period.
    Value { kpi: String, period: String },
    /// An action's progress: its status and a note.
    Action { reference: String },
    /// Approve or reject one draft (the sub-group lead's or performance officer's link).
    Approve { draft: i64 },
}

impl Ask {
    /// The kind's word, as stored with a draft and shown to the approver.
    pub fn kind(&self) -> &'static str {
        match self {
            Ask::Commentary { .. } => "commentary",
            Ask::Value { .. } => "value",
            Ask::Action { .. } => "action",
            Ask::Approve { .. } => "approve",
        }
    }
}

/// What an approver decides of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    /// The draft's state after it.
    pub fn state(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }

    pub fn parse(word: &str) -> Option<Decision> {
        match word {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }
}

/// The grant of a link made at `now` for `to` in `area`, open for `days`.
pub fn grant(
    area: &str,
    to: &str,
    ask: Ask,
    now: chrono::DateTime<chrono::Utc>,
    days: u32,
) -> Grant {
    Grant {
        area: area.to_string(),
        to: to.to_string(),
        ask,
        made: now.timestamp(),
        expires: now.timestamp() + i64::from(days) * 86_400,
    }
}
