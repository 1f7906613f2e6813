//! Ratings: Red/Amber/Green against a target figure, the states that are not a colour, and
//! the direction of travel in the board's own sentences.
//!
//! Owns: [`rate`], [`Rag`], the AMBER band's words ([`AmberBand`]) and the board's wording.
//! Which target is in force for a period is [`super::target`]'s question; which state a
//! period is in is [`super::evaluate`]'s; which band a KPI has is `[rag]`'s
//! ([`super::RagSettings::band`]).

use std::cmp::Ordering::{self, Equal, Greater, Less};

use super::Month;
use super::{Better, Unit};

#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub from: Month,
    pub target: f64,
    pub label: Option<String>,
}

/// The rating of one KPI for one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rag {
    Green,
    Amber,
    Red,
    /// A figure to meet, and nothing to compute from in the period. Never 0, never green.
    NoData,
    /// The milestone in force gives no figure to meet ("NA", a baseline still to be
    /// established and not yet due, a national average not entered).
    NoTarget,
    /// The milestone asks for a baseline to be established, and its date has passed.
    BaselineOverdue,
    /// Before the KPI's first milestone or before its cohort starts: nothing is expected yet.
    NotYetDue,
}

const RATINGS: [Rag; 7] = [
    Rag::Green,
    Rag::Amber,
    Rag::Red,
    Rag::NoData,
    Rag::NoTarget,
    Rag::BaselineOverdue,
    Rag::NotYetDue,
];

impl Rag {
    /// Every rating, in the order above.
    pub fn all() -> [Rag; 7] {
        RATINGS
    }

    /// Slipped: what an exception report is about (DOMAIN 7: worse than the milestone, not
    /// reportable, or a baseline past its due date).
    pub fn is_exception(self) -> bool {
        matches!(self, Rag::Red | Rag::NoData | Rag::BaselineOverdue)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Green => "GREEN",
            Rag::Amber => "AMBER",
            Rag::Red => "RED",
            Rag::NoData => "NO DATA",
            Rag::NoTarget => "NO TARGET",
            Rag::BaselineOverdue => "BASELINE OVERDUE",
            Rag::NotYetDue => "NOT YET DUE",
        }
    }
}

impl std::str::FromStr for Rag {
    type Err = String;
    fn from_str(s: &str) -> Result<Rag, String> {
        RATINGS
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a rating"))
    }
}

impl std::fmt::Display for Rag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Small slack so that a value equal to its target on paper is equal in floating point too.
const EPS: f64 = 1e-9;

/// Rate a value against a target: Green at or better than target, Amber within `tolerance`
/// of it (in the value's unit: points for a percentage, weeks for a wait), Red beyond.
pub fn rate(value: Option<f64>, target: Option<f64>, better: Better, tolerance: f64) -> Rag {
    let Some(value) = value else {
        return Rag::NoData;
    };
    let Some(target) = target else {
        return Rag::NoTarget;
    };
    // Shortfall in the direction that matters, in the value's unit.
    let shortfall = match better {
        Better::Higher => target - value,
        Better::Lower => value - target,
    };
    if shortfall <= EPS {
        Rag::Green
    } else if shortfall <= tolerance + EPS {
        Rag::Amber
    } else {
        Rag::Red
    }
}

/// The AMBER band a KPI is rated with: how far worse than its target, in its unit, and
/// which setting says so.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmberBand {
    pub tolerance: f64,
    pub unit: Unit,
    /// `rag.amber_tolerance_weeks`, ..., or "the KPI's own amber_tolerance".
    pub set_by: &'static str,
}

impl AmberBand {
    /// The band in the unit: "5 points", "1 week", "1.5 weeks", "2 deliverables", "3".
    pub fn amount(&self) -> String {
        let n = format!("{:.1}", self.tolerance);
        let n = n.strip_suffix(".0").unwrap_or(&n).to_string();
        let one = n == "1";
        let noun = match self.unit {
            Unit::Percent if one => " point",
            Unit::Percent => " points",
            Unit::Weeks if one => " week",
            Unit::Weeks => " weeks",
            Unit::Deliverable if one => " deliverable",
            Unit::Deliverable => " deliverables",
            Unit::Count => "",
        };
        format!("{n}{noun}")
    }

    /// "AMBER within 1 week of target", or "no AMBER band: RED once worse than target".
    pub fn words(&self) -> String {
        if self.tolerance <= 0.0 {
            "no AMBER band: RED once worse than target".into()
        } else {
            format!("AMBER within {} of target", self.amount())
        }
    }
}

/// What a direction-of-travel sentence is made from.
#[derive(Debug, Clone)]
pub struct Travel<'a> {
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// The previous value as the output may show it ("40.0%", "not shown: <5 referrals").
    pub previous_text: &'a str,
    /// The figure in force and its milestone's first month.
    pub target: Option<(f64, Month)>,
    /// The baseline's figure, when it has one.
    pub baseline: Option<f64>,
    /// The milestone in force asks for the baseline to be established.
    pub baseline_pending: bool,
    pub better: Better,
    /// "month", "quarter", "year": for "First month performance ...".
    pub period_noun: &'a str,
    /// The previous value is there but may not be shown: no change on it is said, as
    /// "improved on" a hidden average tells which side of the current value it was.
    pub previous_hidden: bool,
}

/// The board's direction-of-travel sentence (DOMAIN 3.2, in the seeds' own sentences): the
/// change on the previous period (improved / maintained / deteriorated, with the previous
/// value written out) and the position against target, and against the baseline too when it
/// has a figure on the same side. Compared at the one decimal place shown.
pub fn direction_of_travel(t: &Travel<'_>) -> String {
    if t.baseline_pending {
        return "Performance is not measured as the baseline is still to be established.".into();
    }
    let Some(v) = t.value else {
        return "Unable to report for this period: no data.".into();
    };
    let round = |x: f64| (x * 10.0).round() / 10.0;
    // Greater: better, in the KPI's own direction.
    let side = |a: f64, b: f64| -> Ordering {
        let d = round(a) - round(b);
        let d = match t.better {
            Better::Higher => d,
            Better::Lower => -d,
        };
        d.partial_cmp(&0.0).unwrap_or(Equal)
    };
    let Some((target, from)) = t.target else {
        return match t.previous {
            None => format!(
                "First {} reported; no milestone target is in force for the period.",
                t.period_noun
            ),
            Some(_) if t.previous_hidden => format!(
                "Not compared with the previous {} ({}); no milestone target is in force for \
                 the period.",
                t.period_noun,
                crate::disclose::NOT_RATED
            ),
            Some(p) => format!(
                "{}; no milestone target is in force for the period.",
                travel(side(v, p), t.previous_text)
            ),
        };
    };
    let position = side(v, target);
    let object = match t.baseline {
        Some(b) if side(v, b) == position => "baseline & target",
        _ => "target",
    };
    let (above, below) = match t.better {
        Better::Higher => ("above", "below"),
        Better::Lower => ("better than", "worse than"),
    };
    let how = match position {
        Greater => "ahead of",
        Equal => "in line with",
        Less => "behind",
    };
    let Some(p) = t.previous else {
        return format!(
            "First {} performance is {how} the {} {object}.",
            t.period_noun,
            from.label()
        );
    };
    if t.previous_hidden {
        return format!(
            "Performance is {how} the {} {object}; the change on the previous {} is {}.",
            from.label(),
            t.period_noun,
            crate::disclose::NOT_RATED
        );
    }
    let change = side(v, p);
    let against = match (change, position) {
        (Greater, Greater) => format!("and is {above} {object}"),
        (Greater | Less, Equal) => format!("and is now in line with {object}"),
        (Greater, Less) => format!("but remains {below} {object}"),
        (Equal, Greater) => format!("and remains {above} {object}"),
        (Equal, Equal) => format!("and remains at {object}"),
        (Equal, Less) => format!("and remains {below} {object}"),
        (Less, Greater) => format!("but remains {above} {object}"),
        (Less, Less) => format!("and is {below} {object}"),
    };
    format!("{}, {against}.", travel(change, t.previous_text))
}

fn travel(change: Ordering, previous: &str) -> String {
    match change {
        Greater => format!("Performance has improved on the previous period (@ {previous})"),
        Equal => format!(
            "Performance has been maintained, consistent with the previous period (@ {previous})"
        ),
        Less => format!("Performance has deteriorated on the previous period (@ {previous})"),
    }
}

/// A percentage as the reports print it: one decimal place.
pub fn fmt_pct(v: f64) -> String {
    format!("{v:.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rag_bands() {
        let r = |v, t| rate(Some(v), Some(t), Better::Higher, 5.0);
        assert_eq!(r(15.0, 15.0), Rag::Green);
        assert_eq!(r(10.0, 15.0), Rag::Amber);
        assert_eq!(r(9.9, 15.0), Rag::Red);
        assert_eq!(rate(None, Some(15.0), Better::Higher, 5.0), Rag::NoData);
        assert_eq!(rate(Some(0.0), None, Better::Higher, 5.0), Rag::NoTarget);
        // Waiting times: lower is better.
        assert_eq!(rate(Some(8.0), Some(8.0), Better::Lower, 1.0), Rag::Green);
        assert_eq!(rate(Some(9.0), Some(8.0), Better::Lower, 1.0), Rag::Amber);
        assert_eq!(rate(Some(9.5), Some(8.0), Better::Lower, 1.0), Rag::Red);
    }

    #[test]
    fn the_amber_band_is_said_in_the_kpis_unit() {
        let band = |tolerance, unit| AmberBand {
            tolerance,
            unit,
            set_by: "rag.amber_tolerance",
        };
        assert_eq!(
            band(5.0, Unit::Percent).words(),
            "AMBER within 5 points of target"
        );
        assert_eq!(band(1.0, Unit::Percent).amount(), "1 point");
        assert_eq!(
            band(1.0, Unit::Weeks).words(),
            "AMBER within 1 week of target"
        );
        assert_eq!(band(1.5, Unit::Weeks).amount(), "1.5 weeks");
        assert_eq!(band(2.0, Unit::Deliverable).amount(), "2 deliverables");
        assert_eq!(band(3.0, Unit::Count).amount(), "3");
        assert_eq!(
            band(0.0, Unit::Count).words(),
            "no AMBER band: RED once worse than target"
        );
    }

    #[test]
    fn no_data_is_never_green_even_against_a_zero_target() {
        assert_eq!(rate(None, Some(0.0), Better::Higher, 5.0), Rag::NoData);
        assert!(Rag::NoData.is_exception());
    }

    fn dot(value: f64, previous: Option<f64>, target: f64, better: Better) -> String {
        let prev = previous.map(|p| format!("{p:.1}")).unwrap_or_default();
        direction_of_travel(&Travel {
            value: Some(value),
            previous,
            previous_text: &prev,
            target: Some((target, "2020-04".parse().expect("month"))),
            baseline: None,
            baseline_pending: false,
            better,
            period_noun: "month",
            previous_hidden: false,
        })
    }

    #[test]
    fn direction_wording_follows_the_seeds() {
        let h = Better::Higher;
        assert_eq!(
            dot(43.6, Some(40.0), 15.0, h),
            "Performance has improved on the previous period (@ 40.0), and is above target."
        );
        assert_eq!(
            dot(12.0, Some(10.0), 15.0, h),
            "Performance has improved on the previous period (@ 10.0), but remains below target."
        );
        assert_eq!(
            dot(15.0, Some(10.0), 15.0, h),
            "Performance has improved on the previous period (@ 10.0), and is now in line with target."
        );
        assert_eq!(
            dot(15.0, Some(15.0), 15.0, h),
            "Performance has been maintained, consistent with the previous period (@ 15.0), and remains at target."
        );
        assert_eq!(
            dot(20.0, Some(30.0), 50.0, h),
            "Performance has deteriorated on the previous period (@ 30.0), and is below target."
        );
        assert_eq!(
            dot(60.0, Some(70.0), 50.0, h),
            "Performance has deteriorated on the previous period (@ 70.0), but remains above target."
        );
        // "First month performance is ahead of April 2020 target" (004:1401).
        assert_eq!(
            dot(20.0, None, 15.0, h),
            "First month performance is ahead of the April 2020 target."
        );
        // Compared at the one place shown: 14.96 is 15.0.
        assert!(dot(14.96, Some(15.0), 15.0, h).contains("maintained"));
    }

    #[test]
    fn lower_is_better_reads_the_other_way() {
        let l = Better::Lower;
        assert_eq!(
            dot(9.5, Some(8.0), 8.0, l),
            "Performance has deteriorated on the previous period (@ 8.0), and is worse than target."
        );
        assert_eq!(
            dot(7.0, Some(8.0), 8.0, l),
            "Performance has improved on the previous period (@ 8.0), and is better than target."
        );
        assert_eq!(
            dot(9.0, None, 8.0, l),
            "First month performance is behind the April 2020 target."
        );
    }

    #[test]
    fn baseline_and_target_together_and_the_special_states() {
        let t = |baseline: Option<f64>, pending: bool, value: Option<f64>| {
            direction_of_travel(&Travel {
                value,
                previous: Some(10.0),
                previous_text: "10.0%",
                target: (!pending).then(|| (15.0, "2020-04".parse().expect("month"))),
                baseline,
                baseline_pending: pending,
                better: Better::Higher,
                period_noun: "quarter",
                previous_hidden: false,
            })
        };
        assert_eq!(
            t(Some(13.0), false, Some(12.0)),
            "Performance has improved on the previous period (@ 10.0%), but remains below baseline & target."
        );
        // Above the baseline, below target: only the target is named.
        assert!(t(Some(5.0), false, Some(12.0)).ends_with("but remains below target."));
        assert_eq!(
            t(None, true, Some(12.0)),
            "Performance is not measured as the baseline is still to be established."
        );
        assert_eq!(
            t(None, false, None),
            "Unable to report for this period: no data."
        );
    }

    #[test]
    fn every_rating_reads_back_from_its_name() {
        for r in RATINGS {
            assert_eq!(r.as_str().parse::<Rag>(), Ok(r));
        }
        assert!(Rag::BaselineOverdue.is_exception());
        assert!(!Rag::NotYetDue.is_exception());
        assert!(!Rag::NoTarget.is_exception());
    }
}
