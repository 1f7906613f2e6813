//! A risk as shown, the one model every output builds from: [`RiskRow`], with the part each
//! output needs. [`InRegister`] is the risk as the register stands after the recorded changes
//! (`sendwatch risks`, the pack's risk log; built in [`register`]); [`Change`] is a change of
//! its score as a digest tells it (built in [`change`]).
//!
//! Disclosure: the reasons were written through [`crate::disclose`] when the triggers fired
//! and are stored so; the rest (titles, owners, mitigations) is configuration.

use serde::Serialize;

use crate::risk::Level;

pub mod change;
pub mod register;

pub use change::{Change, intro};
pub use register::{EventView, ShowError, event_views, show, views};

/// One risk as shown. `sendwatch risks` and the pack fill its standing in the register, a
/// digest the change it tells of.
#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub standing: Option<InRegister>,
    #[serde(flatten)]
    pub change: Option<Change>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LevelView {
    pub likelihood: u8,
    pub impact: u8,
    pub score: u8,
    pub band: String,
}

impl LevelView {
    pub(crate) fn new(level: Level, band: &str) -> LevelView {
        LevelView {
            likelihood: level.likelihood,
            impact: level.impact,
            score: level.score(),
            band: band.to_string(),
        }
    }

    pub(crate) fn text(&self) -> String {
        format!(
            "likelihood {}, impact {}, score {} ({})",
            self.likelihood, self.impact, self.score, self.band
        )
    }
}

/// A risk as the register shows it after the recorded changes: `sendwatch risks`, the
/// pack's risk log.
#[derive(Debug, Clone, Serialize)]
pub struct InRegister {
    pub owner: String,
    pub owner_name: Option<String>,
    pub contact: Option<String>,
    pub register: LevelView,
    pub current: LevelView,
    pub raised: bool,
    /// The triggers that raised it (empty when not raised).
    pub raised_by: Vec<String>,
    pub reasons: Vec<String>,
    /// When it was raised, or last cleared (UTC).
    pub since: Option<String>,
    pub mitigation: String,
    pub cites: Vec<String>,
    /// Its triggers in words.
    pub triggers: Vec<String>,
}
