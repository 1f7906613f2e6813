//! The chase of a manual KPI's missing value in the digests (issue 22, "chasing that ends"):
//! which of its items a recipient hears of in a run, so that they hear of it on the chase's
//! schedule only. Pure.
//!
//! Owns: the chase's item line ([`line`]), what counts as a missing value's card
//! ([`value_missing`]) and [`Chase::untold`]. A chase item is told once per stage
//! ([`crate::news::decide`] never repeats one), and it is carried in a digest only while its
//! stage is untold to that recipient: a digest sent for other news (a red KPI repeated on the
//! interval, an action slipping) does not carry a reminder already given. A manual KPI's
//! BASELINE OVERDUE or NO DATA card for a value not entered goes with its chase (keyed by the
//! chase's line, not repeated on the interval), and is not told once the chase has ended.

use std::collections::{BTreeMap, BTreeSet};

use crate::kpi::manual::Overdue;
use crate::kpi::{Evaluation, Rag};

/// A chase item's line in a digest's news key ("section|overdue|id|period|stage"): the stage
/// is its state, so each stage is news once.
pub fn line(section: &str, o: &Overdue) -> String {
    format!(
        "{section}|overdue|{}|{}|{}",
        o.kpi_id,
        o.due.label(),
        o.stage.word()
    )
}

/// A manual KPI (no extract carries it) in exception because its value is not there: a
/// BASELINE OVERDUE or NO DATA card with no current figure. Its chase tells of it, not the
/// exceptions' repeat interval.
pub fn value_missing(e: &Evaluation) -> bool {
    e.measure.is_none()
        && e.current.is_none()
        && matches!(e.rag, Rag::NoData | Rag::BaselineOverdue)
}

/// The chase as a run sees it: the values it chases now, each at its stage, and the chase
/// lines each recipient was told already.
#[derive(Debug, Clone, Copy)]
pub struct Chase<'a> {
    pub overdue: &'a [Overdue],
    /// Each recipient's (lower-cased) chase lines in the mail they were told (not
    /// superseded), as [`line`] writes them.
    pub told: &'a BTreeMap<String, BTreeSet<String>>,
}

impl<'a> Chase<'a> {
    /// The chase of `kpi_id`'s value, when it is chased now.
    pub fn of(&self, kpi_id: &str) -> Option<&'a Overdue> {
        self.overdue.iter().find(|o| o.kpi_id == kpi_id)
    }

    /// Whether `o` at its stage is still to be told to `recipient` in `section`: the only
    /// runs whose digests carry it.
    pub fn untold(&self, recipient: &str, section: &str, o: &Overdue) -> bool {
        self.told
            .get(&recipient.to_ascii_lowercase())
            .is_none_or(|lines| !lines.contains(&line(section, o)))
    }
}
