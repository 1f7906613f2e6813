//! Load: parse and validate an extract in full before anything is stored.
//!
//! An extract is accepted whole or rejected whole. Every problem names the file, the line and,
//! where it applies, the column; messages never repeat a cell's value, because cells are data
//! about a child. Storing the accepted rows (staged and swapped in one transaction) is
//! [`crate::store`]'s job.

mod problem;
mod tracker;

pub use problem::{LoadError, Problem};
pub use tracker::{CaseStatus, ParsedTracker, TRACKER_COLUMNS, TrackerCase, parse_tracker};
