//! KPIs: the plan's catalogue (its `kpis.toml`), monthly values computed from the loaded
//! tracker, reviews and provider extracts, the target in force under each KPI's target
//! versions, and a RAG rating with direction-of-travel wording. How a KPI is shown is `src/view/`'s.
//!
//! Owns: the arithmetic behind every figure an email quotes. Pure: takes cases and dates, does
//! no I/O, reads no clock, so every figure can be recomputed by hand from the extract.

pub mod catalogue;
pub mod commentary;
mod evaluate;
pub mod forecast;
pub mod manual;
mod measure;
mod month;
mod period;
pub mod publish;
mod rate;
mod reviews;
mod settings;
pub mod spc;
mod stored;
mod target;
mod wait;
pub mod warning;

pub use catalogue::{Catalogue, Computed};
pub use evaluate::{
    Evaluation, Figure, Figures, Rules, Shown, evaluate, evaluate_counted, evaluate_figures,
    figures, period_count, period_noun, report_period,
};
pub use measure::{
    Count, Counter, EHCP_LIMIT_DAYS, Fold, MonthlyCounts, OPEN_STATUSES, SEN2_REQUEST_COLUMNS,
    TRACKER_COLUMNS, TrackerCase, Week20, monthly_counts,
};
pub use month::{Month, MonthError};
pub use period::{Period, PeriodError, PeriodKind};
pub use rate::{AmberBand, Milestone, Rag, Travel, direction_of_travel, fmt_pct, rate};
pub use reviews::{REVIEW_COLUMNS, Review, ReviewCounter, monthly_reviews};
pub use settings::{
    Aggregation, Baseline, Basis, Better, Cohort, Frequency, KpiDefaults, KpiSettings, Measure,
    MilestoneSettings, NationalValue, RagSettings, Retarget, SpcChart, SpcSettings, TargetKind,
    Unit,
};
pub use stored::{StoredResult, own_kind, own_series};
pub use target::{
    Target, TargetInForce, Version, baseline_in_force, resolve, target_in_force, version_in_force,
    versions,
};
pub use wait::{PROVIDER_COLUMNS, Referral, WAIT_LIMIT_DAYS, WaitCounter, monthly_waits};
