//! The KPI catalogue: every KPI of the plan as data, `[kpis."ID"]`.
//!
//! Owns: the [`Catalogue`] type, the shipped Sefton catalogue's reading for tests
//! ([`builtin`], from `config/plans/sefton/kpis.toml`; a deployment's plan is laid by
//! [`crate::config`]), and the pure check that the catalogue
//! makes sense, naming the key at fault (`kpis."1/4".milestones[2]`). Must not: read files
//! (the layering is `config`'s) or know a particular KPI.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, DerefMut};

use serde::Deserialize;

use super::{
    Baseline, KpiSettings, Measure, MilestoneSettings, Month, PeriodKind, TargetKind, Unit,
};
use crate::load::KindDef;

/// Every KPI by id ("1/2a"), in id order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Catalogue(pub BTreeMap<String, KpiSettings>);

impl Deref for Catalogue {
    type Target = BTreeMap<String, KpiSettings>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Catalogue {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// A KPI computed from an extract: one with a measure and a source.
#[derive(Debug, Clone, Copy)]
pub struct Computed<'a> {
    pub id: &'a str,
    pub kpi: &'a KpiSettings,
    pub measure: Measure,
    pub source: &'a str,
}

/// What the rest of the configuration offers a KPI to refer to.
#[derive(Debug, Default)]
pub struct Known<'a> {
    /// `[sub_groups]` keys.
    pub sub_groups: BTreeSet<&'a str>,
    /// `[sources]` keys, each with its kind's definition (`None` if the kind is unknown, which
    /// the source's own check reports).
    pub sources: BTreeMap<&'a str, Option<&'a KindDef>>,
}

impl Catalogue {
    /// The KPIs a run can compute (a measure and a source), enabled or not, in id order.
    pub fn computed(&self) -> impl Iterator<Item = Computed<'_>> {
        self.iter().filter_map(|(id, kpi)| {
            Some(Computed {
                id,
                kpi,
                measure: kpi.measure?,
                source: kpi.source.as_deref()?,
            })
        })
    }

    /// Check every KPI; pure. `bad(key, message)` for each problem, keys in full.
    pub fn check(&self, known: &Known<'_>, bad: &mut dyn FnMut(String, String)) {
        for (id, k) in self.iter() {
            check_kpi(&format!("kpis.\"{id}\""), k, known, bad);
        }
    }
}

/// Check one KPI: its title and owner, what computes it, its settings, its baseline, its national
/// values, its milestones and its retargets.
fn check_kpi(key: &str, k: &KpiSettings, known: &Known<'_>, bad: &mut dyn FnMut(String, String)) {
    if k.title.trim().is_empty() {
        bad(format!("{key}.title"), "must not be empty".into());
    }
    if !known.sub_groups.contains(k.owner.as_str()) {
        bad(
            format!("{key}.owner"),
            format!("no sub-group named `{}`", k.owner),
        );
    }
    check_source(key, k, known, bad);
    check_service(key, k, bad);
    super::reviews::check(key, k, bad);
    check_settings(key, k, bad);
    check_baseline(&format!("{key}.baseline"), &k.baseline, bad);
    check_national(key, k, bad);
    let first = check_schedule(&format!("{key}.milestones"), &k.milestones, k, bad);
    check_retargets(key, k, first, bad);
}

/// Check that a measure and a source come together, and that the source's kind has the
/// columns the measure reads.
fn check_source(
    key: &str,
    k: &KpiSettings,
    known: &Known<'_>,
    bad: &mut dyn FnMut(String, String),
) {
    match (k.measure, &k.source) {
        (Some(m), None) => bad(
            format!("{key}.source"),
            format!("measure {} needs a source to compute it from", m.as_str()),
        ),
        (None, Some(_)) => bad(
            format!("{key}.measure"),
            "a source is given but no measure: say what computes the KPI, or drop the source"
                .into(),
        ),
        (Some(m), Some(source)) => match known.sources.get(source.as_str()) {
            None => bad(
                format!("{key}.source"),
                format!("no source named `{source}`"),
            ),
            Some(Some(kind)) => {
                if let Some(col) = super::Fold::missing_column(m, kind) {
                    let what = match m {
                        Measure::AverageWaitWeeks => "a provider extract",
                        Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => {
                            "a reviews extract"
                        }
                        Measure::EhcpWithin20Weeks
                        | Measure::HealthAdviceWithin6Weeks
                        | Measure::DecisionWithin6Weeks => "a tracker extract",
                    };
                    bad(
                        format!("{key}.source"),
                        format!(
                            "measure {} needs {what}; the kind of `{source}` has no column `{col}`",
                            m.as_str()
                        ),
                    );
                }
            }
            Some(None) => {}
        },
        (None, None) => {}
    }
    let sen2 = match (
        k.measure,
        k.source.as_deref().and_then(|s| known.sources.get(s)),
    ) {
        (Some(Measure::EhcpWithin20Weeks), Some(Some(kind))) => super::TrackerCase::is_sen2(kind),
        _ => false,
    };
    if k.week20_exceptions == super::Week20::Exclude && !sen2 {
        bad(
            format!("{key}.week20_exceptions"),
            "only ehcp_within_20_weeks from a SEN2 return's requests can leave out the 20-week \
             exceptions (its kind has week20_exceptions)"
                .into(),
        );
    }
}

/// Check that `service` is given with measure average_wait_weeks, and only with it.
fn check_service(key: &str, k: &KpiSettings, bad: &mut dyn FnMut(String, String)) {
    match (k.measure, &k.service) {
        (Some(Measure::AverageWaitWeeks), None) => bad(
            format!("{key}.service"),
            "measure average_wait_weeks needs the service it averages (as the extract writes it)"
                .into(),
        ),
        (Some(Measure::AverageWaitWeeks), Some(s)) if s.trim().is_empty() => {
            bad(format!("{key}.service"), "must not be empty".into())
        }
        (Some(Measure::AverageWaitWeeks), Some(_)) => {}
        (_, Some(_)) => bad(
            format!("{key}.service"),
            "service goes with measure average_wait_weeks only".into(),
        ),
        (_, None) => {}
    }
}

/// Check the KPI's own settings: its unit is the measure's, its tolerance and overdue days are
/// in range, its year is a kind of year.
fn check_settings(key: &str, k: &KpiSettings, bad: &mut dyn FnMut(String, String)) {
    if let Some(m) = k.measure
        && m.unit() != k.unit
    {
        bad(
            format!("{key}.unit"),
            format!(
                "measure {} computes {}, not {}",
                m.as_str(),
                m.unit().as_str(),
                k.unit.as_str()
            ),
        );
    }
    super::settings::amber_bound(k.unit).check_opt(
        bad,
        format!("{key}.amber_tolerance"),
        k.amber_tolerance,
    );
    super::settings::OVERDUE_DAYS.check_opt(bad, format!("{key}.overdue_days"), k.overdue_days);
    k.spc.check(&format!("{key}.spc"), k.unit, bad);
    if let Some(y) = k.year
        && !matches!(
            y,
            PeriodKind::AcademicYear | PeriodKind::FinancialYear | PeriodKind::CalendarYear
        )
    {
        bad(
            format!("{key}.year"),
            "must be academic_year, financial_year or calendar_year".into(),
        );
    }
}

/// Check the national values: each month parses, in date order, each value 0 or more.
fn check_national(key: &str, k: &KpiSettings, bad: &mut dyn FnMut(String, String)) {
    let mut last: Option<Month> = None;
    for (i, n) in k.national.iter().enumerate() {
        let nkey = format!("{key}.national[{i}]");
        match n.from.parse::<Month>() {
            Err(e) => bad(format!("{nkey}.from"), e.to_string()),
            Ok(month) => {
                if last.is_some_and(|l| month <= l) {
                    bad(
                        format!("{nkey}.from"),
                        "national values must be in date order".into(),
                    );
                }
                last = Some(month);
            }
        }
        if !n.value.is_finite() || n.value < 0.0 {
            bad(
                format!("{nkey}.value"),
                "must be a number of 0 or more".into(),
            );
        }
    }
}

/// Check the retargets: each effective month parses, none before the first milestone
/// (`first`), in order, each with a reason, a baseline and a schedule that check.
fn check_retargets(
    key: &str,
    k: &KpiSettings,
    first: Option<Month>,
    bad: &mut dyn FnMut(String, String),
) {
    let mut last: Option<Month> = None;
    for (i, r) in k.retargets.iter().enumerate() {
        let rkey = format!("{key}.retargets[{i}]");
        match r.effective.parse::<Month>() {
            Err(e) => bad(format!("{rkey}.effective"), e.to_string()),
            Ok(month) => {
                if let Some(first) = first
                    && month < first
                {
                    bad(
                        format!("{rkey}.effective"),
                        format!(
                            "{month} is before the first milestone ({first}): a retarget changes a schedule that has begun"
                        ),
                    );
                }
                if last.is_some_and(|l| month <= l) {
                    bad(
                        format!("{rkey}.effective"),
                        "retargets must be in effective order".into(),
                    );
                }
                last = Some(month);
            }
        }
        if r.reason.trim().is_empty() {
            bad(
                format!("{rkey}.reason"),
                "say why the targets changed".into(),
            );
        }
        if let Some(b) = &r.baseline {
            check_baseline(&format!("{rkey}.baseline"), b, bad);
        }
        check_schedule(&format!("{rkey}.milestones"), &r.milestones, k, bad);
    }
}

fn check_baseline(key: &str, b: &Baseline, bad: &mut dyn FnMut(String, String)) {
    if b.text.trim().is_empty() {
        bad(format!("{key}.text"), "give the baseline as printed".into());
    }
    if let Some(v) = b.value {
        if !v.is_finite() {
            bad(format!("{key}.value"), "must be a number".into());
        }
        if b.establish_by.is_some() {
            bad(
                key.to_string(),
                "give a value (the baseline is known) or establish_by (it is not yet), not both"
                    .into(),
            );
        }
        if b.date.is_none() {
            bad(
                format!("{key}.date"),
                "a baseline value needs the month it describes (YYYY-MM)".into(),
            );
        }
    } else if b.date.is_some() {
        bad(
            format!("{key}.date"),
            "a date without a value: give the value too".into(),
        );
    }
    if let Some(d) = &b.date
        && let Err(e) = d.parse::<Month>()
    {
        bad(format!("{key}.date"), e.to_string());
    }
}

/// Check one schedule; return its first month.
fn check_schedule(
    key: &str,
    milestones: &[MilestoneSettings],
    k: &KpiSettings,
    bad: &mut dyn FnMut(String, String),
) -> Option<Month> {
    let mut first = None;
    let mut last: Option<Month> = None;
    for (i, m) in milestones.iter().enumerate() {
        let mkey = format!("{key}[{i}]");
        match m.from.parse::<Month>() {
            Err(e) => bad(format!("{mkey}.from"), e.to_string()),
            Ok(month) => {
                if last.is_some_and(|l| month <= l) {
                    bad(
                        format!("{mkey}.from"),
                        "milestones must be in date order".into(),
                    );
                }
                first = first.or(Some(month));
                last = Some(month);
            }
        }
        match m.kind() {
            Err(e) => bad(mkey.clone(), e),
            Ok(TargetKind::Fixed(n) | TargetKind::OrNational(n)) => {
                if !n.is_finite() || n < 0.0 {
                    bad(
                        format!("{mkey}.target"),
                        "must be a number of 0 or more".into(),
                    );
                } else if k.unit == Unit::Percent && n > 100.0 {
                    bad(
                        format!("{mkey}.target"),
                        "a percentage cannot be over 100".into(),
                    );
                }
            }
            Ok(TargetKind::BaselinePlus { n, .. }) => {
                if !n.is_finite() {
                    bad(format!("{mkey}.baseline_plus"), "must be a number".into());
                }
            }
            Ok(TargetKind::NationalAverage)
                if k.national.is_empty() && k.national_measure.is_none() =>
            {
                bad(
                    mkey.clone(),
                    "national_average needs a national value in `national` (or a \
                     `national_measure` of the published statistics)"
                        .into(),
                )
            }
            Ok(_) => {}
        }
    }
    first
}

/// The shipped (Sefton) catalogue, read from the source tree ([`crate::config::plan::shipped`]:
/// for tests and the benchmark, which run from a checkout; nothing of it is compiled in).
pub fn builtin() -> Result<Catalogue, config::ConfigError> {
    #[derive(Deserialize)]
    struct File {
        kpis: Catalogue,
    }
    let file: File = crate::config::plan::shipped("kpis.toml")?.try_deserialize()?;
    Ok(file.kpis)
}

#[cfg(test)]
mod tests;
