//! KPI settings: what each KPI measures, from which source, against which milestones, and
//! how close to a target still counts as Amber. `[kpis."ID"]` and `[rag]`.
//!
//! Owns: the settings types. Checked by [`crate::config`], used by the pure KPI code.

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RagSettings {
    /// Percentage points below (or above, for lower-is-better) target still rated Amber.
    pub amber_tolerance: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// % of new EHCPs issued within 20 weeks (140 days) of the request (KPI 1/2, 1/2a).
    #[serde(rename = "ehcp_within_20_weeks")]
    EhcpWithin20Weeks,
    /// % of health advice returned within 6 weeks (42 days) of the LA's request (KPI 1/5).
    #[serde(rename = "health_advice_within_6_weeks")]
    HealthAdviceWithin6Weeks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Cases counted in the month their clock stopped (plan issued, advice returned): the
    /// published reading ("plans finalised in the month").
    #[default]
    Completed,
    /// Cases counted in the month their clock started (request received, advice requested).
    Started,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    #[default]
    Higher,
    Lower,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSettings {
    pub title: String,
    pub measure: Measure,
    pub source: String,
    /// Key of the owning sub-group in `[sub_groups]`.
    pub owner: String,
    #[serde(default)]
    pub basis: Basis,
    #[serde(default)]
    pub better: Better,
    /// Only cases whose clock started on or after this date (e.g. 2020-01-01 for KPI 1/2a).
    pub started_from: Option<NaiveDate>,
    /// The baseline as the plan states it.
    pub baseline: String,
    pub baseline_value: Option<f64>,
    pub amber_tolerance: Option<f64>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub milestones: Vec<MilestoneSettings>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneSettings {
    /// First month (`YYYY-MM`) this target is in force; it stays in force until the next.
    pub from: String,
    pub target: f64,
    /// The milestone as printed in the plan, e.g. "Oct-20: 50% or national average".
    pub label: Option<String>,
}
