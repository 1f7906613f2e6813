//! Ratings: Red/Amber/Green against a target figure, and the direction of travel.
//!
//! Owns: [`rate`] and the board's wording. Which target is in force for a period is
//! [`super::target`]'s question; a period with no figure to meet is reported unrated.

use super::Better;
use super::Month;

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
    /// Nothing to compute from in the period. Its own state: never 0, never green.
    NoData,
    /// A value, but no milestone in force yet.
    NoTarget,
}

impl Rag {
    /// Slipped: what an exception report is about.
    pub fn is_exception(self) -> bool {
        matches!(self, Rag::Red | Rag::NoData)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Green => "GREEN",
            Rag::Amber => "AMBER",
            Rag::Red => "RED",
            Rag::NoData => "NO DATA",
            Rag::NoTarget => "NO TARGET",
        }
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
/// points of it, Red beyond.
pub fn rate(value: Option<f64>, target: Option<f64>, better: Better, tolerance: f64) -> Rag {
    let Some(value) = value else {
        return Rag::NoData;
    };
    let Some(target) = target else {
        return Rag::NoTarget;
    };
    // Shortfall in the direction that matters, in percentage points.
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

/// The board's direction-of-travel sentence (DOMAIN 3.2), from the value, the previous
/// period's value and the target in force, the previous value written with `fmt`. Compared
/// at the one decimal place shown.
pub fn direction_of_travel(
    value: Option<f64>,
    previous: Option<f64>,
    target: Option<f64>,
    better: Better,
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let Some(v) = value else {
        return "Performance cannot be reported for this period: no data.".into();
    };
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let sign = |d: f64| match better {
        Better::Higher => d,
        Better::Lower => -d,
    };
    let travel = match previous {
        None => "Performance has no previous period to compare with".to_string(),
        Some(p) => {
            let d = sign(round(v) - round(p));
            if d > 0.0 {
                format!(
                    "Performance has improved on the previous period (@ {})",
                    fmt(p)
                )
            } else if d < 0.0 {
                format!(
                    "Performance has deteriorated on the previous period (@ {})",
                    fmt(p)
                )
            } else {
                "Performance has been maintained, consistent with the previous period".to_string()
            }
        }
    };
    let against = match target {
        None => "no milestone target is in force yet".to_string(),
        Some(t) => {
            let d = sign(round(v) - round(t));
            // For a wait (lower is better) "above target" would read as worse: say better.
            let (better_word, worse_word) = match better {
                Better::Higher => ("is above target", "remains below target"),
                Better::Lower => ("is better than target", "remains worse than target"),
            };
            if d > 0.0 {
                better_word.to_string()
            } else if d < 0.0 {
                worse_word.to_string()
            } else {
                "is in line with target".to_string()
            }
        }
    };
    format!("{travel}, and {against}.")
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
    fn no_data_is_never_green_even_against_a_zero_target() {
        assert_eq!(rate(None, Some(0.0), Better::Higher, 5.0), Rag::NoData);
        assert!(Rag::NoData.is_exception());
    }

    #[test]
    fn direction_wording() {
        assert_eq!(
            direction_of_travel(Some(43.6), Some(40.0), Some(15.0), Better::Higher, &fmt_pct),
            "Performance has improved on the previous period (@ 40.0%), and is above target."
        );
        assert_eq!(
            direction_of_travel(Some(20.0), Some(30.0), Some(50.0), Better::Higher, &fmt_pct),
            "Performance has deteriorated on the previous period (@ 30.0%), and remains below target."
        );
        let weeks = |v: f64| format!("{v:.1} weeks");
        assert_eq!(
            direction_of_travel(Some(9.5), Some(8.0), Some(8.0), Better::Lower, &weeks),
            "Performance has deteriorated on the previous period (@ 8.0 weeks), and remains worse than target."
        );
        assert_eq!(
            direction_of_travel(Some(7.0), Some(8.0), Some(8.0), Better::Lower, &weeks),
            "Performance has improved on the previous period (@ 8.0 weeks), and is better than target."
        );
    }
}
