//! KPIs: monthly values computed from the loaded tracker, the milestone target in force, and a
//! RAG rating with direction-of-travel wording.
//!
//! Owns: the arithmetic behind every figure an email quotes. Pure: takes cases and dates, does
//! no I/O, reads no clock, so every figure can be recomputed by hand from the extract.

mod evaluate;
mod measure;
mod month;
mod rate;
mod settings;

pub use evaluate::{Evaluation, evaluate, report_period};
pub use measure::{
    Count, Counter, MonthlyCounts, OPEN_STATUSES, TRACKER_COLUMNS, TrackerCase, monthly_counts,
};
pub use month::{Month, MonthError};
pub use rate::{Milestone, Rag, direction_of_travel, fmt_pct, milestone_in_force, rate};
pub use settings::{Basis, Better, KpiSettings, Measure, MilestoneSettings, RagSettings};
