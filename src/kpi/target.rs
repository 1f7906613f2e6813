//! Targets in force: which milestone of which target version applies to a period, and the
//! figure it asks for.
//!
//! A KPI's schedule as first printed is version one; each retarget (a recovery plan) is a new
//! version from its effective month, with its own milestones and, if it gives one, its own
//! baseline (otherwise the baseline before it carries on). A period reads the latest version
//! whose effective month has come, and in it the latest milestone whose month has come
//! ("15% by Apr-20" means at least 15% from April 2020 on). Before that there is no target.
//!
//! A national average is the latest published figure in force (England's, laid in from an
//! imported release by [`crate::stats::national`]), else the latest typed into the catalogue.
//!
//! Owns: [`target_in_force`] and the resolution of each target kind to a figure. Pure: takes
//! the KPI's settings and the period, reads no clock. Must not: rate values (that is
//! [`super::rate`]) or check settings (that is [`super::catalogue`]).

use chrono::NaiveDate;

use super::{Baseline, KpiSettings, MilestoneSettings, Month, NationalValue, TargetKind};

/// What the milestone in force asks of a period.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A figure to be at or better than (baseline plus N and "N or the national average"
    /// already worked out).
    Value(f64),
    /// The baseline is still to be established (by this date, where the plan gives one); a
    /// baseline-plus milestone whose baseline has no figure yet reads this way too.
    EstablishBaseline { by: Option<NaiveDate> },
    /// The plan prints "NA" for the period.
    NotApplicable,
    /// The milestone needs a figure no one has entered (a national average); the note says which.
    Unknown,
}

/// The milestone in force for a period, under its version, and its resolved target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInForce {
    /// The version: `None` for the schedule as first printed, else the retarget's effective month.
    pub effective: Option<Month>,
    /// Why the retarget was made.
    pub reason: Option<String>,
    /// The milestone's first month and its words as printed.
    pub from: Month,
    pub label: Option<String>,
    pub kind: TargetKind,
    pub target: Target,
    /// How the figure was arrived at where it is not the printed number alone.
    pub note: Option<String>,
}

impl TargetInForce {
    /// The figure to rate against, if the milestone gives one.
    pub fn value(&self) -> Option<f64> {
        match self.target {
            Target::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// One version of a KPI's targets.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    /// `None` for the schedule as first printed.
    pub effective: Option<Month>,
    pub reason: Option<&'a str>,
    /// The baseline in force under this version (carried on from the one before if the
    /// retarget gives none).
    pub baseline: &'a Baseline,
    pub milestones: &'a [MilestoneSettings],
}

/// Every version of a KPI's targets, the schedule as first printed first. A retarget whose
/// effective month does not parse is left out (check-config names it).
pub fn versions(kpi: &KpiSettings) -> Vec<Version<'_>> {
    let mut out = vec![Version {
        effective: None,
        reason: None,
        baseline: &kpi.baseline,
        milestones: &kpi.milestones,
    }];
    for r in &kpi.retargets {
        let Ok(effective) = r.effective.parse::<Month>() else {
            continue;
        };
        let baseline = r
            .baseline
            .as_ref()
            .unwrap_or_else(|| out.last().map_or(&kpi.baseline, |v| v.baseline));
        out.push(Version {
            effective: Some(effective),
            reason: Some(&r.reason),
            baseline,
            milestones: &r.milestones,
        });
    }
    out
}

/// The version of a KPI's targets in force for `period`.
pub fn version_in_force(kpi: &KpiSettings, period: Month) -> Version<'_> {
    let all = versions(kpi);
    all.iter()
        .rev()
        .find(|v| v.effective.is_none_or(|e| e <= period))
        .or(all.first())
        .copied()
        .unwrap_or(Version {
            effective: None,
            reason: None,
            baseline: &kpi.baseline,
            milestones: &kpi.milestones,
        })
}

/// The baseline in force for `period`: the latest one given by a version in force.
pub fn baseline_in_force(kpi: &KpiSettings, period: Month) -> &Baseline {
    version_in_force(kpi, period).baseline
}

/// The milestone in force for `period` under the version in force, resolved; `None` before
/// the version's first milestone (or when the milestone in force is malformed, which
/// check-config reports).
pub fn target_in_force(kpi: &KpiSettings, period: Month) -> Option<TargetInForce> {
    let version = version_in_force(kpi, period);
    let milestone = version
        .milestones
        .iter()
        .rev()
        .find(|m| m.from.parse::<Month>().is_ok_and(|from| from <= period))?;
    resolve(kpi, &version, milestone, period)
}

/// Work out what `m` (a milestone of `version`) asks of `period`: the baseline of the version,
/// the national average in force for the period.
pub fn resolve(
    kpi: &KpiSettings,
    version: &Version<'_>,
    m: &MilestoneSettings,
    period: Month,
) -> Option<TargetInForce> {
    let from = m.from.parse::<Month>().ok()?;
    let kind = m.kind().ok()?;
    let fmt = |v: f64| kpi.unit.format(v);
    let national = national_in_force(&kpi.national, period);
    let national_words = |n: &NationalValue| national_words(n, kpi.unit);
    let (target, note) = match kind {
        TargetKind::Fixed(n) => (Target::Value(n), None),
        TargetKind::OrNational(n) => match national {
            // "whichever is the higher", as printed, whatever the KPI's polarity.
            Some(nat) if nat.value > n => (
                Target::Value(nat.value),
                Some(format!("{} is higher than {}", national_words(nat), fmt(n))),
            ),
            Some(nat) => (
                Target::Value(n),
                Some(format!(
                    "{} is not higher than {}",
                    national_words(nat),
                    fmt(n)
                )),
            ),
            None => (
                Target::Value(n),
                Some(format!(
                    "no national average entered for {}: {} alone",
                    period.label(),
                    fmt(n)
                )),
            ),
        },
        TargetKind::NationalAverage => match national {
            Some(nat) => (Target::Value(nat.value), Some(national_words(nat))),
            None => (
                Target::Unknown,
                Some(format!(
                    "no national average entered for {}",
                    period.label()
                )),
            ),
        },
        TargetKind::BaselinePlus { n, relative } => match version.baseline.value {
            Some(b) => {
                let (value, how) = if relative {
                    (b * (1.0 + n / 100.0), format!("plus {n}% of it"))
                } else {
                    (b + n, format!("plus {n} points"))
                };
                (
                    Target::Value(value),
                    Some(format!("baseline {} {how}", fmt(b))),
                )
            }
            None => (
                Target::EstablishBaseline {
                    by: version.baseline.establish_by,
                },
                Some("baseline plus N, but the baseline has no figure yet".into()),
            ),
        },
        TargetKind::EstablishBaseline => (
            Target::EstablishBaseline {
                by: version.baseline.establish_by,
            },
            None,
        ),
        TargetKind::NotApplicable => (Target::NotApplicable, None),
    };
    Some(TargetInForce {
        effective: version.effective,
        reason: version.reason.map(str::to_string),
        from,
        label: m.label.clone(),
        kind,
        target,
        note,
    })
}

/// A national figure in words: which it is, published or typed, from when and where from
/// (`kpi show` prints it under the milestone).
fn national_words(n: &NationalValue, unit: super::Unit) -> String {
    let from = n
        .from
        .parse::<Month>()
        .map_or_else(|_| n.from.clone(), Month::label);
    let whose = if n.published {
        "published"
    } else {
        "typed in the catalogue"
    };
    let value = unit.format(n.value);
    match &n.note {
        Some(note) => format!("national average {value} ({whose}, from {from}: {note})"),
        None => format!("national average {value} ({whose}, from {from})"),
    }
}

/// The latest published national figure whose month has come by `period`; where none has,
/// the latest typed into the catalogue (the fallback).
fn national_in_force(national: &[NationalValue], period: Month) -> Option<&NationalValue> {
    let latest = |published: bool| {
        national
            .iter()
            .filter(|n| n.published == published)
            .filter(|n| n.from.parse::<Month>().is_ok_and(|from| from <= period))
            .max_by_key(|n| n.from.parse::<Month>().ok())
    };
    latest(true).or_else(|| latest(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{Better, Rag, rate};

    /// A KPI from the TOML a catalogue entry is written in.
    fn kpi(body: &str) -> KpiSettings {
        let unit = if body.contains("unit =") {
            ""
        } else {
            "unit = \"percent\"\n"
        };
        let text = format!(
            "[k]\ntitle = \"t\"\naction = \"1.1\"\nowner = \"performance\"\nfrequency = \"quarterly\"\n{unit}{body}\n"
        );
        #[derive(serde::Deserialize)]
        struct W {
            k: KpiSettings,
        }
        let w: W = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("test KPI parses");
        w.k
    }

    fn m(s: &str) -> Month {
        s.parse().expect("month")
    }

    fn value_at(k: &KpiSettings, period: &str) -> Option<f64> {
        target_in_force(k, m(period)).and_then(|t| t.value())
    }

    #[test]
    fn fixed_milestones_hold_from_their_month_until_the_next() {
        let k = kpi(r#"baseline = "b"
milestones = [
  { from = "2020-04", target = 15.0, label = "Apr-20: 15%" },
  { from = "2020-07", target = 25.0, label = "Jul-20: 25%" },
]"#);
        assert_eq!(target_in_force(&k, m("2020-03")), None, "before the first");
        let t = target_in_force(&k, m("2020-04")).expect("in force");
        assert_eq!(t.target, Target::Value(15.0));
        assert_eq!(t.from, m("2020-04"));
        assert_eq!(t.label.as_deref(), Some("Apr-20: 15%"));
        assert_eq!(t.effective, None);
        assert_eq!(value_at(&k, "2020-06"), Some(15.0));
        assert_eq!(value_at(&k, "2020-07"), Some(25.0));
        assert_eq!(value_at(&k, "2023-01"), Some(25.0), "the last stays");
    }

    #[test]
    fn baseline_plus_in_points_or_relative_and_before_the_baseline_is_known() {
        let points = kpi(
            r#"baseline = { text = "38.5% 61.5%", value = 38.5, date = "2019-12" }
milestones = [{ from = "2020-12", baseline_plus = 10.0, relative = false }]"#,
        );
        let t = target_in_force(&points, m("2020-12")).expect("in force");
        assert_eq!(t.value(), Some(48.5));
        assert!(
            t.note.as_deref().is_some_and(|n| n.contains("38.5%")),
            "{t:?}"
        );
        let relative = kpi(
            r#"baseline = { text = "40%", value = 40.0, date = "2019-12" }
milestones = [{ from = "2020-12", baseline_plus = 10.0, relative = true }]"#,
        );
        assert!((value_at(&relative, "2021-01").expect("value") - 44.0).abs() < 1e-9);
        let unknown = kpi(r#"baseline = { text = "N/A", establish_by = 2020-01-31 }
milestones = [{ from = "2020-04", baseline_plus = 10.0, relative = false }]"#);
        assert_eq!(
            target_in_force(&unknown, m("2020-04")).map(|t| t.target),
            Some(Target::EstablishBaseline {
                by: NaiveDate::from_ymd_opt(2020, 1, 31)
            })
        );
    }

    #[test]
    fn or_national_takes_the_higher_and_falls_back_to_n_with_a_note() {
        let k = kpi(r#"baseline = "TBC"
national = [{ from = "2021-01", value = 60.1, note = "England 2018" }]
milestones = [
  { from = "2020-10", target = 50.0, or_national = true },
  { from = "2021-06", target = 75.0, or_national = true },
]"#);
        let before = target_in_force(&k, m("2020-11")).expect("in force");
        assert_eq!(before.value(), Some(50.0), "no national figure yet");
        assert!(
            before
                .note
                .as_deref()
                .is_some_and(|n| n.contains("no national average entered for November 2020")),
            "{before:?}"
        );
        let higher = target_in_force(&k, m("2021-02")).expect("in force");
        assert_eq!(higher.value(), Some(60.1));
        assert!(
            higher
                .note
                .as_deref()
                .is_some_and(|n| n.contains("60.1%") && n.contains("England 2018")),
            "{higher:?}"
        );
        assert_eq!(value_at(&k, "2021-07"), Some(75.0), "N is higher");
    }

    #[test]
    fn national_average_alone_is_unknown_until_entered() {
        let k = kpi(r#"baseline = "national average 9%"
national = [{ from = "2019-07", value = 9.0 }]
milestones = [{ from = "2019-06", national_average = true }, { from = "2019-10", national_average = true }]"#);
        assert_eq!(
            target_in_force(&k, m("2019-06")).map(|t| t.target),
            Some(Target::Unknown)
        );
        assert_eq!(value_at(&k, "2019-10"), Some(9.0));
    }

    #[test]
    fn establish_baseline_and_not_applicable_give_no_figure() {
        let k = kpi(r#"baseline = { text = "N/A", establish_by = 2019-10-31 }
milestones = [
  { from = "2019-10", establish_baseline = true, label = "Establish baseline by 31st October 2019" },
  { from = "2020-01", not_applicable = true, label = "NA" },
  { from = "2020-04", target = 90.0 },
]"#);
        let t = target_in_force(&k, m("2019-11")).expect("in force");
        assert_eq!(
            t.target,
            Target::EstablishBaseline {
                by: NaiveDate::from_ymd_opt(2019, 10, 31)
            }
        );
        assert_eq!(t.value(), None);
        assert_eq!(
            target_in_force(&k, m("2020-02")).map(|t| t.target),
            Some(Target::NotApplicable)
        );
        assert_eq!(value_at(&k, "2020-04"), Some(90.0));
    }

    #[test]
    fn a_retarget_applies_from_its_month_and_the_old_schedule_stays_before_it() {
        let k = kpi(r#"baseline = { text = "N/A", establish_by = 2019-10-31 }
milestones = [
  { from = "2019-10", establish_baseline = true },
  { from = "2020-04", target = 90.0 },
  { from = "2020-07", target = 95.0 },
]
retargets = [
  { effective = "2020-06", reason = "recovery plan", baseline = { text = "40% (May-20)", value = 40.0, date = "2020-05" }, milestones = [
      { from = "2020-07", baseline_plus = 10.0, relative = false },
      { from = "2021-01", target = 80.0 },
  ] },
  { effective = "2021-06", reason = "second recovery plan", milestones = [
      { from = "2021-06", baseline_plus = 20.0, relative = false },
  ] },
]"#);
        assert_eq!(value_at(&k, "2020-05"), Some(90.0), "old schedule before");
        let gap = target_in_force(&k, m("2020-06"));
        assert_eq!(gap, None, "the new version has no milestone in force yet");
        let t = target_in_force(&k, m("2020-07")).expect("in force");
        assert_eq!(t.value(), Some(50.0), "new baseline 40 plus 10 points");
        assert_eq!(t.effective, Some(m("2020-06")));
        assert_eq!(t.reason.as_deref(), Some("recovery plan"));
        assert_eq!(value_at(&k, "2021-05"), Some(80.0));
        assert_eq!(
            value_at(&k, "2021-06"),
            Some(60.0),
            "no baseline in the second retarget: the first's carries on"
        );
        // History: the schedule as first printed is still there.
        let all = versions(&k);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].milestones.len(), 3);
        assert_eq!(all[0].baseline.value, None);
    }

    #[test]
    fn lower_is_better_targets_are_ceilings() {
        let k = kpi(r#"unit = "weeks"
better = "lower"
baseline = { text = "30", value = 30.0, date = "2019-06" }
milestones = [{ from = "2019-10", target = 25.0 }, { from = "2019-12", target = 20.0 }]"#);
        let t = value_at(&k, "2020-01");
        assert_eq!(t, Some(20.0));
        assert_eq!(rate(Some(20.0), t, k.better, 1.0), Rag::Green);
        assert_eq!(rate(Some(18.0), t, k.better, 1.0), Rag::Green);
        assert_eq!(rate(Some(21.0), t, k.better, 1.0), Rag::Amber);
        assert_eq!(rate(Some(25.0), t, Better::Lower, 1.0), Rag::Red);
    }
}
