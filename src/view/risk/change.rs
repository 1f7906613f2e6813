//! A change of a risk's score as an exception report tells it ([`Change`], the digest's part
//! of a [`super::RiskRow`]): the old and new score and band, why (or what cleared it), and the
//! mitigation. Pure.
//!
//! The reasons come from [`crate::risk`], written with counts under 5 as "<5" and no average
//! over fewer than 5 referrals; the rest (titles, mitigations, owners) is configuration.

use serde::Serialize;

use super::RiskRow;
use crate::risk::{ChangeKind, RiskChange, RiskSettings};

/// What a digest says of one change of a risk's score (its id and title are the row's).
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// "raised", "changed" or "cleared".
    pub kind: &'static str,
    /// "RAISED from 16 (very high) to 20 (very high)".
    pub change: String,
    /// "likelihood 4 -> 5, impact 4 -> 4".
    pub levels: String,
    pub owner: String,
    /// Why it was raised or changed.
    pub why: Vec<String>,
    /// For a cleared risk: what had raised it, and what cleared it.
    pub raised_by: Vec<String>,
    pub cleared_because: Vec<String>,
    pub mitigation: Option<String>,
}

/// "Risk log: 2 changes of a risk's score (as holder of the log, ...):".
pub fn intro(n: usize, holder: bool) -> String {
    let whose = if holder {
        "as holder of the log, this sub-group hears of all risks"
    } else {
        "of risks this sub-group owns"
    };
    format!(
        "Risk log: {n} change{} of a risk's score ({whose}):",
        if n == 1 { "" } else { "s" }
    )
}

impl RiskRow {
    /// The digest's row for `c`: `risk` is its register entry (if still there), `owner` the
    /// owning sub-group's name.
    pub fn change(c: &RiskChange, risk: Option<&RiskSettings>, owner: &str) -> RiskRow {
        let (from, to) = (c.from.text(), c.to.text());
        let (kind, change) = match c.kind {
            ChangeKind::Raised => ("raised", format!("RAISED from {from} to {to}")),
            ChangeKind::Changed => (
                "changed",
                format!("CHANGED while raised, from {from} to {to}"),
            ),
            ChangeKind::Cleared => (
                "cleared",
                format!("CLEARED: back to the register's {to}, from {from}"),
            ),
        };
        let contact = risk
            .and_then(|r| r.contact.as_ref())
            .map(|c| format!("; contact: {}", c.name))
            .unwrap_or_default();
        let cleared = c.kind == ChangeKind::Cleared;
        let change = Change {
            kind,
            change,
            levels: format!(
                "likelihood {} -> {}, impact {} -> {}",
                c.from.level.likelihood,
                c.to.level.likelihood,
                c.from.level.impact,
                c.to.level.impact
            ),
            owner: format!("{owner}{contact}"),
            why: if cleared {
                Vec::new()
            } else {
                c.reasons.clone()
            },
            raised_by: if cleared {
                c.triggers.clone()
            } else {
                Vec::new()
            },
            cleared_because: if cleared {
                c.reasons.clone()
            } else {
                Vec::new()
            },
            mitigation: risk.map(|r| r.mitigation.clone()),
        };
        let title = risk.map_or("(no longer in the register)", |r| r.title.as_str());
        RiskRow {
            change: Some(change),
            ..RiskRow::new(&c.risk_id, title)
        }
    }
}
