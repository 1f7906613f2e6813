//! Disclosure control: how a count, a share, an average or a date may appear in any output
//! (mail, `run-now`, `kpi show`, `sendwatch risks`, risk reasons). DOMAIN 8.
//!
//! Owns: the threshold (`[disclosure] threshold`, default 5) and the rules, as a
//! [`Disclosure`] built from the settings and passed to each output. Sits below `kpi`, `risk`
//! and `notify` (it imports none of them) so each can use it with no cycle.
//!
//! The rules:
//! - a count under the threshold (0 included) shows as "<5";
//! - a share "n of d" (and its percentage) is shown in full only when n, d and d - n are all
//!   at least the threshold: with any of the three hidden, the other two would give it back
//!   (so "0.0% (<5 of 26)" is not written; the percentage says "not shown");
//! - an average over fewer than the threshold is not shown (it would be a child's own figure);
//! - a KPI's figures over all its periods are decided together ([`series`]): one that would
//!   give a count under the threshold back beside the others shown (a running total's month,
//!   a year to date against its months, the rest of a share) is not shown either;
//! - under the rounding policy ([`Policy::Round`]) every count is written to the nearest 5
//!   and a percentage from the rounded counts;
//! - the RAG rating, direction of travel and change of a figure not shown are not shown
//!   either ([`NOT_RATED`]): they tell which side of its target the hidden value is;
//! - a date shown is the extract's fetch date or the period's end, never a row's event date
//!   (callers pass those; nothing here formats a row's date).

use serde::Deserialize;

pub mod series;

pub use series::{Offer, Series, Shape, Span, Verdict, Why};

/// The threshold unless configured otherwise.
pub const DEFAULT_THRESHOLD: u64 = 5;

/// `threshold`: never under the default; a threshold of a thousand would hide every figure
/// a local area has.
pub const THRESHOLD_RANGE: crate::bounds::Bound<u64> = crate::bounds::Bound::new(
    DEFAULT_THRESHOLD,
    1_000,
    "counts under 5 could single out a child",
);

/// `[disclosure]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureSettings {
    /// 5 to 1000 ([`THRESHOLD_RANGE`]).
    #[serde(default = "default_threshold")]
    pub threshold: u64,
    /// How small counts are kept out of every output: `suppress` (the default) or `round`.
    #[serde(default)]
    pub policy: Policy,
}

/// How small counts are kept out of every output; one for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// A count under the threshold, and any figure built on it or that would give it back
    /// beside the others shown, is not shown.
    #[default]
    Suppress,
    /// Every count is rounded to the nearest 5 and every percentage worked from the rounded
    /// counts (the DfE's convention for small areas); an average over too few cases is still
    /// not shown, and a figure is rated only where it could have been shown exactly.
    Round,
}

impl Policy {
    /// As the configuration writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Suppress => "suppress",
            Policy::Round => "round",
        }
    }
}

/// What a rounded count is rounded to.
pub const ROUND_TO: u64 = 5;

impl DisclosureSettings {
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        THRESHOLD_RANGE.check(bad, "disclosure.threshold", self.threshold);
    }
}

impl Default for DisclosureSettings {
    fn default() -> Self {
        DisclosureSettings {
            threshold: DEFAULT_THRESHOLD,
            policy: Policy::Suppress,
        }
    }
}

fn default_threshold() -> u64 {
    DEFAULT_THRESHOLD
}

/// The rules one deployment's outputs follow: its threshold. Passed to every output (in its
/// context or inputs) rather than kept process-wide, so two deployments in one process each
/// write by their own settings. `Default` is the default threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    threshold: u64,
    policy: Policy,
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            threshold: DEFAULT_THRESHOLD,
            policy: Policy::Suppress,
        }
    }
}

impl Disclosure {
    /// The rules `s` configures. A threshold under the default is refused by the settings'
    /// check; here it is raised to the default all the same.
    pub fn new(s: &DisclosureSettings) -> Self {
        Disclosure {
            threshold: s.threshold.max(DEFAULT_THRESHOLD),
            policy: s.policy,
        }
    }

    /// The same threshold under `policy`.
    pub fn with_policy(self, policy: Policy) -> Self {
        Disclosure { policy, ..self }
    }

    pub fn policy(self) -> Policy {
        self.policy
    }

    /// What every output says of how its small numbers were kept out.
    pub fn note(self) -> String {
        match self.policy {
            Policy::Suppress => format!(
                "Counts under {t} are shown as \"<{t}\", and a figure that would give one back, \
                 alone or beside figures shown before, is not shown (small numbers suppressed).",
                t = self.threshold
            ),
            Policy::Round => format!(
                "Counts are rounded to the nearest {ROUND_TO} and percentages worked from the \
                 rounded counts; a figure that could give a count under {} back is not rated \
                 (small numbers rounded).",
                self.threshold
            ),
        }
    }

    /// `n` rounded to the nearest [`ROUND_TO`] (halves up).
    pub fn round(self, n: u64) -> u64 {
        (n + ROUND_TO / 2) / ROUND_TO * ROUND_TO
    }

    /// A share's value as written: the percentage itself, or under the rounding policy the
    /// one worked from the rounded counts (`None`: the rounded denominator is 0).
    pub fn share_value(self, value: f64, numerator: u64, denominator: u64) -> Option<f64> {
        match self.policy {
            Policy::Suppress => Some(value),
            Policy::Round => {
                let d = self.round(denominator);
                (d > 0).then(|| 100.0 * self.round(numerator) as f64 / d as f64)
            }
        }
    }

    /// Counts below this are hidden.
    pub fn threshold(self) -> u64 {
        self.threshold
    }

    /// How a hidden count is written: "<5".
    pub fn hidden(self) -> String {
        format!("<{}", self.threshold)
    }

    /// Whether a count may be shown as it is.
    pub fn count_shown(self, n: u64) -> bool {
        n >= self.threshold
    }

    /// A count as it may appear in an output: as it is, hidden, or rounded.
    pub fn suppress(self, n: u64) -> String {
        if self.policy == Policy::Round {
            self.round(n).to_string()
        } else if self.count_shown(n) {
            n.to_string()
        } else {
            self.hidden()
        }
    }

    /// The same for a signed count from the database (a negative one is an error: hidden too).
    pub fn suppress_i64(self, n: i64) -> String {
        u64::try_from(n).map_or_else(|_| self.hidden(), |n| self.suppress(n))
    }

    /// Whether the share `numerator` of `denominator` (and its percentage) may be shown in
    /// full.
    pub fn share_shown(self, numerator: u64, denominator: u64) -> bool {
        numerator <= denominator
            && self.count_shown(numerator)
            && self.count_shown(denominator)
            && self.count_shown(denominator - numerator)
    }

    /// The share's counts as they may be written: both, or the numerator hidden ("<5", or
    /// "all but <5" when it is the rest that is small) beside the denominator as
    /// [`Self::suppress`] writes it.
    pub fn share_counts(self, numerator: u64, denominator: u64) -> (String, String) {
        if self.policy == Policy::Round {
            return (self.suppress(numerator), self.suppress(denominator));
        }
        if self.share_shown(numerator, denominator) {
            return (numerator.to_string(), denominator.to_string());
        }
        let n = if !self.count_shown(numerator) || numerator > denominator {
            self.hidden()
        } else {
            format!("all but {}", self.hidden())
        };
        (n, self.suppress(denominator))
    }

    /// A share's counts as they may be written, given what was decided of it over its
    /// series ([`Verdict`]): both, rounded, or each hidden in words that are true ("<5" for a
    /// small count, "not shown" for one hidden as it would give another back).
    pub fn share_counts_as(self, v: Verdict, numerator: u64, denominator: u64) -> (String, String) {
        if self.policy == Policy::Round || (v.value && v.why == Why::Shown) {
            return self.share_counts(numerator, denominator);
        }
        let n = match v.why {
            Why::Recoverable => NOT_SHOWN.to_string(),
            _ => self.share_counts(numerator, denominator).0,
        };
        let d = if v.denominator {
            denominator.to_string()
        } else if self.count_shown(denominator) {
            NOT_SHOWN.to_string()
        } else {
            self.hidden()
        };
        (n, d)
    }

    /// What a hidden figure says in its place: why, in words that give nothing away.
    /// `small` says what is small ("<5 in a count", "an average over <5 referrals").
    pub fn hidden_words(self, v: Verdict, small: &str) -> String {
        match (v.why, self.policy) {
            (Why::Recoverable, _) => format!("{NOT_SHOWN}: {RECOVERABLE}"),
            // Rounded, the counts are written beside it: "<5" would not be true of them.
            (_, Policy::Round) => format!("{NOT_SHOWN}: too few cases"),
            _ => format!("{NOT_SHOWN}: {small}"),
        }
    }

    /// Whether an average over `n` may be shown.
    pub fn average_shown(self, n: u64) -> bool {
        self.count_shown(n)
    }
}

/// How far an extract's data runs, as output may say it: the month of its latest event date
/// ("July 2021"), never the day, which can be one child's event.
pub fn data_month(latest_event: Option<chrono::NaiveDate>) -> String {
    latest_event.map_or_else(|| "-".to_string(), |d| d.format("%B %Y").to_string())
}

/// A time sendwatch itself recorded (a fetch, an entry, a run, a change), as output writes
/// it: "2021-08-02 07:00 UTC". Never a row's event date: callers pass their own records' times.
pub fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// What a hidden figure says in its place.
pub const NOT_SHOWN: &str = "not shown";

/// Why a figure hidden by secondary suppression is: it is not small itself.
pub const RECOVERABLE: &str = "beside figures already shown it would give a small count back";

/// What stands for the RAG rating, direction of travel and change of a hidden figure: a
/// rating against a target tells which side of it the hidden value is (one child's wait over
/// 9 weeks). Written through [`crate::view::not_rated`].
pub const NOT_RATED: &str = "not rated: too few cases";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extracts_reach_is_said_by_its_month_never_its_day() {
        let d = chrono::NaiveDate::from_ymd_opt(2021, 7, 13);
        assert_eq!(data_month(d), "July 2021");
        assert_eq!(data_month(None), "-");
    }

    #[test]
    fn counts_under_the_threshold_are_hidden() {
        let d = Disclosure::default();
        assert_eq!(d.suppress(0), "<5");
        assert_eq!(d.suppress(4), "<5");
        assert_eq!(d.suppress(5), "5");
        assert_eq!(d.suppress(123), "123");
        assert_eq!(d.suppress_i64(-1), "<5");
    }

    #[test]
    fn a_share_is_shown_only_when_no_part_of_it_is_small() {
        let d = Disclosure::default();
        assert!(d.share_shown(26, 49));
        assert!(!d.share_shown(0, 26), "0.0% of 26 gives the hidden 0 away");
        assert!(!d.share_shown(24, 26), "24 of 26 gives the hidden 2 away");
        assert!(!d.share_shown(26, 26), "100% says that none were late");
        assert_eq!(d.share_counts(0, 26), ("<5".into(), "26".into()));
        assert_eq!(d.share_counts(24, 26), ("all but <5".into(), "26".into()));
        assert_eq!(d.share_counts(2, 3), ("<5".into(), "<5".into()));
    }

    #[test]
    fn two_settings_in_one_process_write_the_same_figure_each_their_own_way() {
        let five = Disclosure::new(&DisclosureSettings {
            threshold: 5,
            policy: Policy::Suppress,
        });
        let ten = Disclosure::new(&DisclosureSettings {
            threshold: 10,
            policy: Policy::Suppress,
        });
        assert_eq!(five.suppress(7), "7");
        assert_eq!(ten.suppress(7), "<10");
        // Each keeps its own after the other was made and used.
        assert_eq!(five.suppress(7), "7");
        assert_eq!(five.share_counts(7, 20), ("7".into(), "20".into()));
        assert_eq!(ten.share_counts(7, 20), ("<10".into(), "20".into()));
        assert!(five.average_shown(7));
        assert!(!ten.average_shown(7));
    }

    #[test]
    fn a_threshold_under_the_default_is_raised_to_it() {
        let low = Disclosure::new(&DisclosureSettings {
            threshold: 2,
            policy: Policy::Suppress,
        });
        assert_eq!(low, Disclosure::default());
        assert_eq!(low.suppress(4), "<5");
    }
}
