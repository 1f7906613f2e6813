//! `[rag]` and `[kpi_defaults]`: what a KPI gets when it does not say otherwise, and the
//! ranges of the tolerance and the days a KPI may also set for itself.
//!
//! Owns: the two settings types, the ranges and their checks (a KPI's own values are checked
//! against the same ranges by [`crate::kpi::catalogue`]).

use serde::Deserialize;

/// `amber_tolerance` (`[rag]` and a KPI's own): percentage points.
pub const AMBER_TOLERANCE: crate::bounds::Bound<f64> =
    crate::bounds::Bound::new(0.0, 100.0, "percentage points");
/// `overdue_days` (`[kpi_defaults]` and a KPI's own): a value a year late is long missed.
pub const OVERDUE_DAYS: crate::bounds::Bound<u32> = crate::bounds::Bound::new(0, 366, "a year");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RagSettings {
    /// Percentage points below (or above, for lower-is-better) target still rated Amber. 0
    /// to 100 ([`AMBER_TOLERANCE`]).
    pub amber_tolerance: f64,
}

impl RagSettings {
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        AMBER_TOLERANCE.check(bad, "rag.amber_tolerance", self.amber_tolerance);
    }
}

/// `[kpi_defaults]`: what a KPI that does not say otherwise gets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiDefaults {
    /// Days after a period ends by which a manual KPI's value is to be entered; after that
    /// the missing value is an exception to the owner (per KPI: `overdue_days`). 0 to 366
    /// ([`OVERDUE_DAYS`]).
    #[serde(default = "default_overdue_days")]
    pub overdue_days: u32,
}

impl KpiDefaults {
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        OVERDUE_DAYS.check(bad, "kpi_defaults.overdue_days", self.overdue_days);
    }
}

impl Default for KpiDefaults {
    fn default() -> KpiDefaults {
        KpiDefaults {
            overdue_days: default_overdue_days(),
        }
    }
}

/// A month: the board meets monthly, and a value a month late has missed one meeting.
fn default_overdue_days() -> u32 {
    30
}
