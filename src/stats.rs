//! Published statistics: the DfE's "Education, health and care plans" release (and any release
//! of the same explore-education-statistics layout), read as published and kept as national,
//! regional and local-authority series, each figure with its release, file and line.
//!
//! They are public and deployment-wide, not one area's data: they live in tables of their own
//! with no area column ([`crate::store`]'s `stats.rs`), and disclosure control, which guards
//! what sendwatch computes from case-level extracts, does not apply to them (the DfE publishes
//! them unsuppressed). A code the release writes for "no figure" (`x`, `z`, `c`, `low`, `u`, a
//! blank) is absent: no figure is stored, never a 0.
//!
//! Owns: the model ([`Level`], [`Area`], [`Figure`], [`Published`]), the mapping that says how
//! a release is read ([`settings`]: data, laid from `config/stats/*.toml` under the
//! configuration), reading one CSV file ([`read`]), opening a release given as its zip, its
//! folder or one file ([`open`]), the import ([`import`]) and laying England's figures into the
//! KPI catalogue as national averages ([`national`]) and reading what an area is compared with
//! (its region, England, its statistical neighbours: [`compare`]). Must not: print (that is
//! [`crate::view::stats`]) or parse the command line ([`crate::cli`]).

pub mod compare;
pub mod import;
pub mod national;
pub mod open;
pub mod read;
pub mod settings;

use serde::Serialize;

use crate::kpi::Period;
use crate::store::StoreError;
pub use settings::{FileMap, Mapping, MeasureDef, StatUnit, StatsSettings};

/// Which kind of area a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    National,
    Regional,
    LocalAuthority,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::National, Level::Regional, Level::LocalAuthority];

    /// As stored and printed: `national`, `regional`, `local_authority`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::National => "national",
            Level::Regional => "regional",
            Level::LocalAuthority => "local_authority",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// An area the release has rows for: England, a region or a local authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub level: Level,
    /// The ONS code (E92000001, E12000002, E08000014).
    pub code: String,
    pub name: String,
    /// A local authority's old three-digit code (343), where the release gives one.
    pub old_code: Option<String>,
    /// A local authority's region's code, as the release gives it.
    pub region_code: Option<String>,
}

/// One published figure: a measure of an area for a period, from one line of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub measure: String,
    pub period: Period,
    pub level: Level,
    pub area_code: String,
    pub value: f64,
    /// Decimal places as published ("23" has none, "58.7" one), so it prints as published.
    pub decimals: u8,
    pub file: String,
    /// The file's line the figure is on (the header is line 1).
    pub line: u64,
}

/// A figure as stored, with the release it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub figure: Figure,
    /// The mapping's name the release was imported with (`ees-ehcp-2025`).
    pub release: String,
    pub reporting_year: i32,
}

/// A release as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The mapping's name (`ees-ehcp-2025`).
    pub name: String,
    pub title: String,
    pub reporting_year: i32,
    /// The zip, folder or file imported, its name alone (no folder).
    pub imported_from: String,
}

/// A release in the store, and when it was last imported.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRelease {
    pub release: Release,
    pub imported_at: chrono::DateTime<chrono::Utc>,
}

/// The figure as published: `decimals` places, at least one for a percentage ("23.0", the
/// way the DfE's tables print 23).
pub fn written(value: f64, decimals: u8, unit: StatUnit) -> String {
    let places = match unit {
        StatUnit::Percent => decimals.max(1),
        StatUnit::Count => decimals,
    };
    format!("{value:.*}", usize::from(places))
}

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A file of the release breaks a rule: where and which. Nothing of the import is stored.
    #[error("{file}, line {line}{}: {rule}; the file is refused and nothing of the release is stored (the statistics imported before are kept)", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Refused {
        file: String,
        line: u64,
        column: Option<String>,
        rule: String,
    },
    /// The path given cannot be read as a release.
    #[error("{path}: {message}; nothing is stored (the statistics imported before are kept)")]
    Open { path: String, message: String },
    #[error("no mapping named `{0}` in [stats.mappings] (the shipped one is ees-ehcp-2025)")]
    UnknownMapping(String),
    #[error("no mapping to read the release with: name one with --mapping or [stats] mapping")]
    NoMapping,
    #[error(transparent)]
    Store(#[from] StoreError),
}
