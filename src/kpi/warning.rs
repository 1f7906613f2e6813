//! The early warning of one KPI as every output shows it: its stored series projected to its
//! next milestone ([`super::forecast`]) and read the Making Data Count way ([`super::spc`]),
//! built on the figures disclosure lets through only.
//!
//! Owns: which milestone is "next", which stored values the projection and the limits may be
//! built on, and the board's words for both ("Early warning: at risk for Jun-21 (chance
//! 40%)", "SPC: common cause; inconsistent"). Pure: the settings, the stored results and the
//! as-of month come in; no I/O, no clock.
//!
//! Disclosure: a period whose figure is not shown exactly (a count of 1-4, or one that would
//! give such a count back: [`super::publish`]) is a gap in the series, so no projection, limit
//! or icon is built on it; when the gaps leave fewer than [`forecast::MIN_POINTS`] values the
//! state is "too little data", and with fewer than two values there are no limits at all.

use super::forecast::{self, Band, Forecast, Options, Question};
use super::spc::{self, Assurance, Variation};
use super::{KpiSettings, Month, Period, StoredResult, publish, target_in_force, version_in_force};
use crate::disclose::Disclosure;

mod reading;

pub use reading::{Shown, SpcReading, rebase_indices, rebase_months};

/// One KPI's early warning at its next milestone.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub kpi_id: String,
    /// Key of the owning sub-group.
    pub owner: String,
    /// The milestone's first month and the figure it asks for.
    pub milestone: Month,
    pub target: f64,
    pub forecast: Forecast,
    /// Values shown and projected from, and periods left out as not shown.
    pub shown: usize,
    pub hidden: usize,
    pub spc: Option<SpcReading>,
    /// The period of each shown value, oldest first: where the chart
    /// ([`crate::view::chart`]) draws the limits built on them.
    pub periods: Vec<Period>,
    /// The analysis `spc` reads (limits per segment, each point's type), for the chart; `None`
    /// exactly when `spc` is.
    pub analysis: Option<spc::Analysis>,
}

impl Warning {
    pub fn band(&self) -> Band {
        self.forecast.band
    }

    /// An item of its own ([`crate::notify`]'s `at_risk`): at risk or off course, before the
    /// milestone is missed.
    pub fn needs_telling(&self) -> bool {
        matches!(self.band(), Band::AtRisk | Band::OffCourse)
    }

    /// "at risk for Jun-21 (chance 40%)", "too little data for Jun-21 (9 values shown, 12
    /// needed)".
    pub fn words(&self) -> String {
        let when = forecast::short(self.milestone);
        let Some(p) = self.forecast.projection else {
            return format!(
                "too little data for {when} ({} values shown, {} needed)",
                self.shown,
                forecast::MIN_POINTS
            );
        };
        let what = match self.band() {
            Band::OnCourse => "on course",
            Band::AtRisk => "at risk",
            Band::OffCourse => "off course",
            Band::TooLittleData => "too little data",
        };
        format!(
            "{what} for {when} (chance {}%)",
            forecast::percent(p.chance)
        )
    }

    /// "Early warning: at risk for Jun-21 (chance 40%)".
    pub fn sentence(&self) -> String {
        format!("Early warning: {}", self.words())
    }

    /// The projection in the KPI's unit: "projected 62.0% (80% interval 55.1% to 68.9%)
    /// against a target of 80.0%"; `None` with too little data.
    pub fn detail(&self, unit: super::Unit) -> Option<String> {
        let p = self.forecast.projection?;
        Some(format!(
            "projected {} ({:.0}% interval {} to {}) against a target of {}, from {} values",
            unit.format(p.value),
            forecast::LEVEL * 100.0,
            unit.format(p.low),
            unit.format(p.high),
            unit.format(self.target),
            p.points
        ))
    }

    /// "SPC: common cause; inconsistent"; `None` with fewer than two values shown.
    pub fn spc_sentence(&self) -> Option<String> {
        let s = self.spc?;
        let mut out = format!("SPC: {}", variation_words(s.variation));
        if let Some(a) = s.assurance {
            out.push_str("; ");
            out.push_str(assurance_words(a));
        }
        let mut notes = Vec::new();
        if s.chart == super::SpcChart::PPrime {
            notes.push("p' chart".to_string());
        }
        if let Some(p) = s.since {
            notes.push(format!("limits from {}", forecast::short(p.first_month())));
        }
        if s.points < spc::TRIAL_POINTS {
            notes.push(format!("trial limits, {} values", s.points));
        }
        if !notes.is_empty() {
            out.push_str(&format!(" ({})", notes.join("; ")));
        }
        Some(out)
    }
}

/// The variation icon in words.
pub fn variation_words(v: Variation) -> &'static str {
    match v {
        Variation::CommonCause => "common cause",
        Variation::ImprovementHigh => "special cause improvement (high)",
        Variation::ImprovementLow => "special cause improvement (low)",
        Variation::ConcernHigh => "special cause concern (high)",
        Variation::ConcernLow => "special cause concern (low)",
        Variation::NeutralHigh => "special cause (high)",
        Variation::NeutralLow => "special cause (low)",
    }
}

/// The assurance icon in words.
pub fn assurance_words(a: Assurance) -> &'static str {
    match a {
        Assurance::ConsistentlyMeets => "consistently meets the target",
        Assurance::ConsistentlyFails => "consistently fails the target",
        Assurance::Inconsistent => "inconsistent",
    }
}

/// The first milestone of the targets in force at `as_of` that starts after it and asks for
/// a figure: its month and the figure.
pub fn next_milestone(k: &KpiSettings, as_of: Month) -> Option<(Month, f64)> {
    version_in_force(k, as_of)
        .milestones
        .iter()
        .filter_map(|m| m.from.parse::<Month>().ok())
        .filter(|from| *from > as_of)
        .find_map(|from| Some((from, target_in_force(k, from)?.value()?)))
}

/// KPI `id`'s early warning as of `as_of` (the report period's last month), from `mine`
/// (its stored results, any order; those after `as_of` are not read); `None` when no
/// milestone after `as_of` asks for a figure, or it is beyond the furthest projection.
pub fn warning(
    id: &str,
    k: &KpiSettings,
    mine: &[&StoredResult],
    d: Disclosure,
    as_of: Month,
) -> Option<Warning> {
    let (milestone, target) = next_milestone(k, as_of)?;
    let kind = k.period_kind();
    let mut series: Vec<&StoredResult> = mine
        .iter()
        .copied()
        .filter(|r| r.period.kind() == kind)
        .collect();
    series.sort_by_key(|r| r.period);
    series.dedup_by_key(|r| r.period);
    // Decided over the whole series, as every other reader decides it (a period's decision
    // never depends on the periods after it).
    let published = publish::publish_stored(k, &series, d);
    let average = publish::shape(k) == crate::disclose::Shape::Average;
    series.retain(|r| r.period.last_month() <= as_of);
    let last = series
        .last()
        .map_or_else(|| Period::containing(kind, as_of), |r| r.period);
    let first = series.first().map_or(last, |r| r.period);
    let mut values = Vec::new();
    let mut shown = Vec::new();
    let mut hidden = 0;
    let mut p = first;
    let mut rows = series.iter().peekable();
    while p <= last {
        let row = rows.next_if(|r| r.period == p);
        let value = row.and_then(|r| {
            let is_shown = published.stored(r).rated;
            if !is_shown && r.value.is_some() {
                hidden += 1;
            }
            let value = is_shown.then(|| r.written(average, d)).flatten()?;
            shown.push(Shown {
                period: p,
                value,
                denominator: r.denominator,
            });
            Some(value)
        });
        values.push(value);
        p = p.next();
    }
    let q = Question {
        values: &values,
        last,
        milestone,
        target,
        better: k.better,
        unit: k.unit,
    };
    let forecast = forecast::forecast(&q, &Options::default()).ok()?;
    let in_force = target_in_force(k, last.last_month()).and_then(|t| t.value());
    let (spc, analysis) = reading::read(k, &shown, in_force.unwrap_or(target)).unzip();
    let periods = shown.iter().map(|s| s.period).collect();
    Some(Warning {
        kpi_id: id.to_string(),
        owner: k.owner.clone(),
        milestone,
        target,
        forecast,
        shown: shown.len(),
        hidden,
        spc,
        periods,
        analysis,
    })
}

/// Every KPI of `kpis` among `ids` with a warning as of `as_of`, from `history` (every KPI's
/// stored results), in id order.
pub fn warnings<'a>(
    kpis: &std::collections::BTreeMap<String, KpiSettings>,
    ids: impl IntoIterator<Item = (&'a str, Month)>,
    history: &[StoredResult],
    d: Disclosure,
) -> Vec<Warning> {
    let mut out: Vec<Warning> = ids
        .into_iter()
        .filter_map(|(id, as_of)| {
            let k = kpis.get(id)?;
            warning(id, k, &super::own_series(id, k, history), d, as_of)
        })
        .collect();
    out.sort_by(|a, b| a.kpi_id.cmp(&b.kpi_id));
    out.dedup_by(|a, b| a.kpi_id == b.kpi_id);
    out
}

#[cfg(test)]
pub(crate) mod tests;
