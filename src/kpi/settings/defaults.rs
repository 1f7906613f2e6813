//! `[rag]` and `[kpi_defaults]`: what a KPI gets when it does not say otherwise, and the
//! ranges of the tolerances and the days a KPI may also set for itself.
//!
//! Owns: the two settings types, the ranges and their checks (a KPI's own values are checked
//! against the same ranges by [`crate::kpi::catalogue`]), and which AMBER band a KPI is rated
//! with: its own `amber_tolerance`, else `[rag]`'s for its unit, always in that unit (points
//! for a percentage, weeks for a wait).

use serde::Deserialize;

use super::{KpiSettings, Unit};
use crate::bounds::Bound;
use crate::kpi::rate::AmberBand;

/// `rag.amber_tolerance` (and a percentage KPI's own): percentage points.
pub const AMBER_TOLERANCE: Bound<f64> = Bound::new(0.0, 100.0, "percentage points");
/// `rag.amber_tolerance_weeks` (and a wait's own): weeks; a year late is long missed.
pub const AMBER_WEEKS: Bound<f64> = Bound::new(0.0, 52.0, "weeks: a year");
/// `rag.amber_tolerance_count` and `_deliverable` (and such a KPI's own): in the KPI's own
/// number; a plan counts children, reports and sessions in the thousands at most.
pub const AMBER_COUNT: Bound<f64> = Bound::new(0.0, 100_000.0, "in the KPI's own number");
/// `overdue_days` (`[kpi_defaults]` and a KPI's own): a value a year late is long missed.
pub const OVERDUE_DAYS: Bound<u32> = Bound::new(0, 366, "a year");

/// `[rag]`: how far off its target a KPI may be and still be AMBER, one band per unit, each
/// in that unit. A KPI may set its own (`amber_tolerance`, in its unit).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RagSettings {
    /// Percentage points, for KPIs in percent. 0 to 100 ([`AMBER_TOLERANCE`]).
    pub amber_tolerance: f64,
    /// Weeks, for KPIs in weeks (the waits). 0 to 52 ([`AMBER_WEEKS`]); 1 unless set.
    #[serde(default = "one_week")]
    pub amber_tolerance_weeks: f64,
    /// For counts, in the count. 0 (no AMBER band: RED once short) unless set.
    #[serde(default)]
    pub amber_tolerance_count: f64,
    /// For deliverables (reports delivered), in deliverables. 0 unless set.
    #[serde(default)]
    pub amber_tolerance_deliverable: f64,
}

/// The band the waits were rated with when it was a per-KPI setting of the shipped plan.
fn one_week() -> f64 {
    1.0
}

/// The shipped configuration's values (`config/sendwatch.toml`): tests and small tools. A
/// configuration file must still give `amber_tolerance`.
impl Default for RagSettings {
    fn default() -> RagSettings {
        RagSettings::with_points(5.0)
    }
}

impl RagSettings {
    /// `points` for percentages, the other units at their defaults.
    pub fn with_points(points: f64) -> RagSettings {
        RagSettings {
            amber_tolerance: points,
            amber_tolerance_weeks: one_week(),
            amber_tolerance_count: 0.0,
            amber_tolerance_deliverable: 0.0,
        }
    }

    /// The key of `unit`'s band, as written in the configuration.
    pub fn key(unit: Unit) -> &'static str {
        match unit {
            Unit::Percent => "rag.amber_tolerance",
            Unit::Weeks => "rag.amber_tolerance_weeks",
            Unit::Count => "rag.amber_tolerance_count",
            Unit::Deliverable => "rag.amber_tolerance_deliverable",
        }
    }

    /// `unit`'s band.
    pub fn for_unit(&self, unit: Unit) -> f64 {
        match unit {
            Unit::Percent => self.amber_tolerance,
            Unit::Weeks => self.amber_tolerance_weeks,
            Unit::Count => self.amber_tolerance_count,
            Unit::Deliverable => self.amber_tolerance_deliverable,
        }
    }

    /// The band `kpi` is rated with, and where it is set.
    pub fn band(&self, kpi: &KpiSettings) -> AmberBand {
        match kpi.amber_tolerance {
            Some(own) => AmberBand {
                tolerance: own,
                unit: kpi.unit,
                set_by: "the KPI's own amber_tolerance",
            },
            None => AmberBand {
                tolerance: self.for_unit(kpi.unit),
                unit: kpi.unit,
                set_by: Self::key(kpi.unit),
            },
        }
    }

    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        for unit in [Unit::Percent, Unit::Weeks, Unit::Count, Unit::Deliverable] {
            amber_bound(unit).check(bad, Self::key(unit), self.for_unit(unit));
        }
    }
}

/// The range of an AMBER band in `unit`.
pub fn amber_bound(unit: Unit) -> Bound<f64> {
    match unit {
        Unit::Percent => AMBER_TOLERANCE,
        Unit::Weeks => AMBER_WEEKS,
        Unit::Count | Unit::Deliverable => AMBER_COUNT,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rag(keys: &str) -> RagSettings {
        #[derive(Deserialize)]
        struct File {
            rag: RagSettings,
        }
        let file: File = config::Config::builder()
            .add_source(config::File::from_str(
                &format!("[rag]\n{keys}"),
                config::FileFormat::Toml,
            ))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("parses");
        file.rag
    }

    #[test]
    fn rag_reads_a_band_per_unit_and_an_older_file_gets_the_others_defaults() {
        // A file written before the per-unit keys: percentage points as before, a week for
        // the waits (the band they had), none for counts and deliverables.
        let old = rag("amber_tolerance = 5.0");
        assert_eq!(old, RagSettings::default());
        assert_eq!(
            [Unit::Percent, Unit::Weeks, Unit::Count, Unit::Deliverable].map(|u| old.for_unit(u)),
            [5.0, 1.0, 0.0, 0.0]
        );
        let all = rag("amber_tolerance = 3.0\namber_tolerance_weeks = 2.5\n\
             amber_tolerance_count = 4.0\namber_tolerance_deliverable = 1.0");
        assert_eq!(
            [Unit::Percent, Unit::Weeks, Unit::Count, Unit::Deliverable].map(|u| all.for_unit(u)),
            [3.0, 2.5, 4.0, 1.0]
        );
    }

    #[test]
    fn a_kpis_band_is_its_own_else_its_units_and_says_where_it_is_set() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let r = RagSettings::default();
        let wait = r.band(&c["5/4"]);
        assert_eq!(
            (wait.tolerance, wait.set_by, wait.words().as_str()),
            (
                1.0,
                "rag.amber_tolerance_weeks",
                "AMBER within 1 week of target"
            )
        );
        let share = r.band(&c["1/2a"]);
        assert_eq!(
            (share.set_by, share.words().as_str()),
            ("rag.amber_tolerance", "AMBER within 5 points of target")
        );
        let mut own = c["1/5"].clone();
        own.amber_tolerance = Some(3.0);
        let own = r.band(&own);
        assert_eq!(
            (own.set_by, own.words().as_str()),
            (
                "the KPI's own amber_tolerance",
                "AMBER within 3 points of target"
            )
        );
        let report = r.band(&c["2/2"]);
        assert_eq!(
            (report.set_by, report.words().as_str()),
            (
                "rag.amber_tolerance_deliverable",
                "no AMBER band: RED once worse than target"
            )
        );
    }

    #[test]
    fn each_band_is_checked_against_its_units_range() {
        let mut said = Vec::new();
        RagSettings {
            amber_tolerance_weeks: 60.0,
            amber_tolerance_count: -1.0,
            ..RagSettings::default()
        }
        .check(&mut |k, m| said.push(format!("{k}: {m}")));
        assert_eq!(
            said,
            [
                "rag.amber_tolerance_weeks: must be between 0 and 52 (weeks: a year); got 60",
                "rag.amber_tolerance_count: must be between 0 and 100000 (in the KPI's own \
                 number); got -1",
            ]
        );
    }
}
