//! A risk as shown, the one model every output builds from: [`RiskRow`], with the part each
//! output needs. [`InRegister`] is the risk as the register stands after the recorded changes
//! (`sendwatch risks`, the pack's risk log; built in [`register`]); [`Change`] is a change of
//! its score as a digest tells it (built in [`change`]); [`Recorded`] is a recorded change as
//! the history lists it (`sendwatch risks --history`, the pack's recent changes; built by
//! [`recorded`]).
//!
//! Disclosure: the reasons were written through [`crate::disclose`] when the triggers fired
//! and are stored so; the rest (titles, owners, mitigations) is configuration.

use serde::{Serialize, Serializer};

use crate::risk::Level;

pub mod change;
pub mod register;

pub use change::{Change, intro};
pub use register::{Recorded, ShowError, recorded, show, views};

/// One risk as shown. `sendwatch risks` and the pack fill its standing in the register, a
/// digest the change it tells of, the history a recorded change. A row fills one part.
///
/// Written as its parts flattened into the id and title, except a recorded change: that
/// keeps the history's own keys, `id` the change's number and `risk` the risk's id (as
/// `risks --history --format json` has always printed it), without the title.
#[derive(Debug, Clone)]
pub struct RiskRow {
    pub id: String,
    pub title: String,
    pub standing: Option<InRegister>,
    pub change: Option<Change>,
    pub recorded: Option<Recorded>,
}

impl RiskRow {
    /// A row with its id and title and no part yet.
    pub fn new(id: &str, title: &str) -> RiskRow {
        RiskRow {
            id: id.to_string(),
            title: title.to_string(),
            standing: None,
            change: None,
            recorded: None,
        }
    }
}

/// The row's parts flattened under its id and title.
#[derive(Serialize)]
struct Flat<'a> {
    id: &'a str,
    title: &'a str,
    #[serde(flatten)]
    standing: &'a Option<InRegister>,
    #[serde(flatten)]
    change: &'a Option<Change>,
}

/// A recorded change in the history's keys.
#[derive(Serialize)]
struct AsRecorded<'a> {
    id: i64,
    run_id: i64,
    at: &'a str,
    risk: &'a str,
    change: &'static str,
    owner: &'a str,
    from: &'a LevelView,
    to: &'a LevelView,
    triggers: &'a [String],
    reasons: &'a [String],
}

impl Serialize for RiskRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.recorded {
            Some(r) => AsRecorded {
                id: r.event,
                run_id: r.run_id,
                at: &r.at,
                risk: &self.id,
                change: r.change,
                owner: &r.owner,
                from: &r.from,
                to: &r.to,
                triggers: &r.triggers,
                reasons: &r.reasons,
            }
            .serialize(s),
            None => Flat {
                id: &self.id,
                title: &self.title,
                standing: &self.standing,
                change: &self.change,
            }
            .serialize(s),
        }
    }
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
