//! KPI settings: what each KPI of the plan is (title, action, owner, frequency, unit,
//! polarity), its baseline and milestone schedule as printed, any later target versions, and
//! for computed KPIs what measures it from which source. `[kpis."ID"]` and `[rag]`.
//!
//! Owns: the settings types and the reading of a milestone's target kind. The shipped
//! catalogue is in `config/plans/sefton/`; checked by [`super::catalogue`], resolved per period
//! by [`super::target`]. Must not: read files or know a particular KPI.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::PeriodKind;

mod defaults;
mod spc;

pub use defaults::{KpiDefaults, OVERDUE_DAYS, RagSettings, amber_bound};
pub use spc::{SpcChart, SpcSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// % of new EHCPs issued within 20 weeks (140 days) of the request (KPI 1/2, 1/2a).
    #[serde(rename = "ehcp_within_20_weeks")]
    EhcpWithin20Weeks,
    /// % of health advice returned within 6 weeks (42 days) of the LA's request (KPI 1/5).
    #[serde(rename = "health_advice_within_6_weeks")]
    HealthAdviceWithin6Weeks,
    /// % of requests for assessment decided within 6 weeks (42 days) of the request, over
    /// those decided (a tracker's decision to assess, a SEN2 return's RequestOutcomeDate).
    #[serde(rename = "decision_within_6_weeks")]
    DecisionWithin6Weeks,
    /// Average weeks from referral to first appointment for one `service` of the provider
    /// extract (KPI 5/1-5/4). Its numerator is the total of the weeks waited, its denominator
    /// the referrals counted; the value is their quotient.
    #[serde(rename = "average_wait_weeks")]
    AverageWaitWeeks,
    /// % of the transition cohorts' reviews (KPI 1/3: Yr 6, Yr 9, Yr 11; the KPI's `cohorts`)
    /// due in the academic year that were completed by the month's end and by their cohort's
    /// deadline; cumulative over the academic year (see [`super::reviews`]).
    #[serde(rename = "transition_reviews_by_deadline")]
    TransitionReviewsByDeadline,
    /// % of all other reviews (no transition cohort) due in the academic year that were
    /// completed by the month's end (KPI 1/3a); cumulative over the academic year.
    #[serde(rename = "other_reviews_completed")]
    OtherReviewsCompleted,
}

impl Measure {
    /// As written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::EhcpWithin20Weeks => "ehcp_within_20_weeks",
            Measure::HealthAdviceWithin6Weeks => "health_advice_within_6_weeks",
            Measure::DecisionWithin6Weeks => "decision_within_6_weeks",
            Measure::AverageWaitWeeks => "average_wait_weeks",
            Measure::TransitionReviewsByDeadline => "transition_reviews_by_deadline",
            Measure::OtherReviewsCompleted => "other_reviews_completed",
        }
    }

    /// The unit of the value the measure computes (the KPI's `unit` must agree).
    pub fn unit(self) -> Unit {
        match self {
            Measure::EhcpWithin20Weeks
            | Measure::HealthAdviceWithin6Weeks
            | Measure::DecisionWithin6Weeks
            | Measure::TransitionReviewsByDeadline
            | Measure::OtherReviewsCompleted => Unit::Percent,
            Measure::AverageWaitWeeks => Unit::Weeks,
        }
    }

    /// The value of a month's numerator and denominator: a percentage (on time of counted) or
    /// an average (total weeks over referrals). `None` when nothing was counted ("no data",
    /// never 0).
    pub fn value(self, numerator: u64, denominator: u64) -> Option<f64> {
        if denominator == 0 {
            return None;
        }
        Some(match self.unit() {
            // Multiply first so that whole-number results are exact (1500/100, not 0.15*100).
            Unit::Percent => numerator as f64 * 100.0 / denominator as f64,
            _ => numerator as f64 / denominator as f64,
        })
    }

    /// A value as reports print it, one decimal place: "53.1%", "12.3 weeks".
    pub fn format(self, v: f64) -> String {
        self.unit().format_one_place(v)
    }

    /// How a period longer than a month gets its figure from the monthly counts.
    pub fn aggregation(self) -> Aggregation {
        match self {
            Measure::EhcpWithin20Weeks
            | Measure::HealthAdviceWithin6Weeks
            | Measure::DecisionWithin6Weeks
            | Measure::AverageWaitWeeks => Aggregation::Sum,
            // Each month holds the academic year's figure at its end ([`super::reviews`]).
            Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => {
                Aggregation::Last
            }
        }
    }
}

/// How a period's counts come from its months'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// Flows: each case is counted in one month, so a quarter is the sum of its months.
    Sum,
    /// Running totals (a cohort counted cumulatively over its year): a period's figure is its
    /// last month's.
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Cases counted in the month their clock stopped (plan issued, advice returned, first
    /// appointment): the published reading ("plans finalised in the month").
    #[default]
    Completed,
    /// Cases counted in the month their clock started (request received, advice requested,
    /// referral made). For waits this reads recent months short: long waits from them are
    /// not over yet, so only the short ones are counted (censoring).
    Started,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    #[default]
    Higher,
    Lower,
}

impl Better {
    pub fn as_str(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }
}

/// How often the plan says a KPI is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Termly,
    Biannually,
    Annually,
}

impl Frequency {
    /// The period a KPI of this frequency is reported over, unless it says (`period`).
    /// A twice-yearly KPI is read per half-year (January-June, July-December). Terms do not
    /// line up with the periods the board's data uses; a termly KPI is read per quarter, the
    /// nearest finer period, named and entered as one ("Jan-Mar 2026"). A yearly KPI is read per academic
    /// year: the yearly KPIs are school results, surveys of the school year and audits.
    pub fn period_kind(self) -> PeriodKind {
        match self {
            Frequency::Monthly => PeriodKind::Month,
            Frequency::Quarterly | Frequency::Termly => PeriodKind::Quarter,
            Frequency::Biannually => PeriodKind::HalfYear,
            Frequency::Annually => PeriodKind::AcademicYear,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Termly => "termly",
            Frequency::Biannually => "biannually",
            Frequency::Annually => "annually",
        }
    }
}

/// What a KPI's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Percent,
    Count,
    Weeks,
    /// A report or product delivered (counted: 1st, 2nd, ...).
    Deliverable,
}

impl Unit {
    /// A value as reports print it, one decimal place: "53.1%", "12.3 weeks", "4.0".
    pub fn format_one_place(self, v: f64) -> String {
        match self {
            Unit::Percent => format!("{v:.1}%"),
            Unit::Weeks => format!("{v:.1} weeks"),
            Unit::Count | Unit::Deliverable => format!("{v:.1}"),
        }
    }

    /// A value as the board's tables print it: "53.1%", "8 weeks", "2".
    pub fn format(self, v: f64) -> String {
        let plain = || {
            let s = format!("{v:.1}");
            s.strip_suffix(".0").map_or(s.clone(), str::to_string)
        };
        match self {
            Unit::Percent => format!("{v:.1}%"),
            Unit::Weeks => format!("{} weeks", plain()),
            Unit::Count | Unit::Deliverable => plain(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::Count => "count",
            Unit::Weeks => "weeks",
            Unit::Deliverable => "deliverable",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSettings {
    pub title: String,
    /// The plan action the KPI sits under, as printed (e.g. "1.2", "5.1 (table) / 5.3").
    pub action: String,
    /// Key of the owning sub-group in `[sub_groups]`.
    pub owner: String,
    pub frequency: Frequency,
    pub unit: Unit,
    #[serde(default)]
    pub better: Better,
    /// What computes the KPI from an extract; none: a manual KPI (values entered by hand).
    pub measure: Option<Measure>,
    /// The source whose current load a computed KPI reads.
    pub source: Option<String>,
    #[serde(default)]
    pub basis: Basis,
    /// Only cases whose clock started on or after this date (e.g. 2020-01-01 for KPI 1/2a).
    pub started_from: Option<NaiveDate>,
    /// For `average_wait_weeks`: the provider extract's `service` it averages, as written there
    /// (e.g. "Paediatric Dietetics").
    pub service: Option<String>,
    /// For `transition_reviews_by_deadline`: the reviews extract's `transition_cohort`s it
    /// counts, each with its deadline in the academic year.
    #[serde(default)]
    pub cohorts: Vec<Cohort>,
    /// For `ehcp_within_20_weeks` from a SEN2 return: count the requests whose assessment has
    /// the 20-week exceptions (`include`) or leave them out (`exclude`).
    #[serde(default)]
    pub week20_exceptions: super::measure::Week20,
    pub baseline: Baseline,
    /// How far off target is still AMBER, in the KPI's unit (points, weeks, ...); else
    /// `[rag]`'s band for the unit ([`RagSettings::band`]).
    pub amber_tolerance: Option<f64>,
    /// The period the KPI is evaluated and reported over; by default from its `frequency`
    /// ([`Frequency::period_kind`]).
    pub period: Option<PeriodKind>,
    /// The year its year-to-date figure runs over (default: the financial year, April to
    /// March, as the council's performance reports run).
    pub year: Option<PeriodKind>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The schedule as first printed, in date order.
    #[serde(default)]
    pub milestones: Vec<MilestoneSettings>,
    /// National averages as dated reference values, for "N or national average" targets.
    #[serde(default)]
    pub national: Vec<NationalValue>,
    /// The published statistics' measure ([stats.measures]) whose England figure is the
    /// national average once a release is imported (`sendwatch stats import`); `national` is
    /// then the fallback where no published figure is in force ([`crate::stats::national`]).
    pub national_measure: Option<String>,
    /// Later target versions (recovery plans), in effective order.
    #[serde(default)]
    pub retargets: Vec<Retarget>,
    /// Manual KPIs: days after a period ends by which its value is due (default
    /// `[kpi_defaults] overdue_days`); 0 to 366 ([`OVERDUE_DAYS`]).
    pub overdue_days: Option<u32>,
    /// Where its SPC limits start afresh besides its retargets, and its chart.
    #[serde(default)]
    pub spc: SpcSettings,
}

fn yes() -> bool {
    true
}

impl KpiSettings {
    pub fn period_kind(&self) -> PeriodKind {
        self.period.unwrap_or(self.frequency.period_kind())
    }

    pub fn ytd_year(&self) -> PeriodKind {
        self.year.unwrap_or(PeriodKind::FinancialYear)
    }
}

/// A transition cohort and the day of the academic year by which its reviews are due done:
/// `{ cohort = "Yr 6", deadline = "02-15" }` (15 February).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    /// As the reviews extract writes its `transition_cohort` ("Yr 6").
    pub cohort: String,
    /// `MM-DD`: in the academic year's autumn for September to December, else in the spring
    /// or summer after (so "08-31" is the academic year's last day).
    pub deadline: String,
}

impl Cohort {
    /// (month, day) of the deadline, if it is `MM-DD` and a day every year has (not 02-29).
    pub fn month_day(&self) -> Option<(u32, u32)> {
        let (m, d) = self.deadline.split_once('-')?;
        let ok = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !ok(m) || !ok(d) {
            return None;
        }
        let (m, d) = (m.parse().ok()?, d.parse().ok()?);
        NaiveDate::from_ymd_opt(2001, m, d).map(|_| (m, d))
    }

    /// The deadline in the academic year that starts in September of `start_year`.
    pub fn deadline_in(&self, start_year: i32) -> Option<NaiveDate> {
        let (m, d) = self.month_day()?;
        NaiveDate::from_ymd_opt(if m >= 9 { start_year } else { start_year + 1 }, m, d)
    }
}

/// A baseline as the plan states it, with the figure and its month where there is one, or the
/// date by which it is to be established. Written `{ text = "...", value = N, date =
/// "YYYY-MM" }`, `{ text = "...", establish_by = YYYY-MM-DD }`, `{ text = "..." }`, or as a
/// bare string (the text alone, as baselines were written before they were structured).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// As printed.
    pub text: String,
    pub value: Option<f64>,
    /// `YYYY-MM` the value describes.
    pub date: Option<String>,
    /// "To be established by": the baseline is not known yet.
    pub establish_by: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineTable {
    text: String,
    value: Option<f64>,
    date: Option<String>,
    establish_by: Option<NaiveDate>,
}

/// Written as the table form, so a stored retarget reads back through [`Deserialize`].
impl Serialize for Baseline {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("text", &self.text)?;
        if let Some(v) = self.value {
            m.serialize_entry("value", &v)?;
        }
        if let Some(d) = &self.date {
            m.serialize_entry("date", d)?;
        }
        if let Some(d) = self.establish_by {
            m.serialize_entry("establish_by", &d)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Baseline {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Baseline, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Baseline;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a baseline: { text, value, date }, { text, establish_by } or a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Baseline, E> {
                Ok(Baseline {
                    text: s.to_string(),
                    ..Baseline::default()
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Baseline, A::Error> {
                let t =
                    BaselineTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Baseline {
                    text: t.text,
                    value: t.value,
                    date: t.date,
                    establish_by: t.establish_by,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// One milestone as printed: the month it comes into force, the seeds' words, and one target
/// kind: `target` (fixed; with `or_national`, "N or the national average whichever is
/// higher"), `national_average`, `baseline_plus` (with `relative`), `establish_baseline` or
/// `not_applicable`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneSettings {
    /// First month (`YYYY-MM`) this target is in force; it stays in force until the next.
    pub from: String,
    /// The milestone as printed in the plan, e.g. "Oct-20: 50% or national average ...".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(default, skip_serializing_if = "no")]
    pub or_national: bool,
    #[serde(default, skip_serializing_if = "no")]
    pub national_average: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_plus: Option<f64>,
    /// With `baseline_plus`: a relative increase (baseline x (1 + N/100)) or points (false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<bool>,
    #[serde(default, skip_serializing_if = "no")]
    pub establish_baseline: bool,
    #[serde(default, skip_serializing_if = "no")]
    pub not_applicable: bool,
}

fn no(b: &bool) -> bool {
    !*b
}

/// What a milestone asks for, read from its fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetKind {
    Fixed(f64),
    /// The higher of N and the national average in force.
    OrNational(f64),
    /// The national average in force.
    NationalAverage,
    /// The baseline plus N, in points or relative.
    BaselinePlus {
        n: f64,
        relative: bool,
    },
    EstablishBaseline,
    NotApplicable,
}

impl MilestoneSettings {
    /// The target kind, or why the fields given make no sense together.
    pub fn kind(&self) -> Result<TargetKind, String> {
        let given: Vec<&str> = [
            ("target", self.target.is_some()),
            ("national_average", self.national_average),
            ("baseline_plus", self.baseline_plus.is_some()),
            ("establish_baseline", self.establish_baseline),
            ("not_applicable", self.not_applicable),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if given.len() > 1 {
            return Err(format!("give one target kind, not {}", given.join(" and ")));
        }
        if self.or_national && self.target.is_none() {
            return Err("or_national needs a target (\"N or the national average\")".into());
        }
        if self.relative.is_some() && self.baseline_plus.is_none() {
            return Err("relative goes with baseline_plus only".into());
        }
        match (self.target, self.baseline_plus) {
            (Some(n), _) if self.or_national => Ok(TargetKind::OrNational(n)),
            (Some(n), _) => Ok(TargetKind::Fixed(n)),
            (None, Some(n)) => match self.relative {
                Some(relative) => Ok(TargetKind::BaselinePlus { n, relative }),
                None => Err(
                    "baseline_plus needs relative = true (a relative increase) or false (points)"
                        .into(),
                ),
            },
            (None, None) if self.national_average => Ok(TargetKind::NationalAverage),
            (None, None) if self.establish_baseline => Ok(TargetKind::EstablishBaseline),
            (None, None) if self.not_applicable => Ok(TargetKind::NotApplicable),
            (None, None) => Err("no target: give target, national_average, baseline_plus, \
                 establish_baseline or not_applicable"
                .into()),
        }
    }
}

/// A national average, in force from its month until the next one's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalValue {
    /// First month (`YYYY-MM`) this is the latest national figure.
    pub from: String,
    pub value: f64,
    /// What it is and where it comes from.
    pub note: Option<String>,
    /// Laid in from an imported release ([`crate::stats::national`]), not typed into the
    /// catalogue: preferred wherever one is in force.
    #[serde(skip)]
    pub published: bool,
}

/// A target version: from `effective` on, `milestones` (and `baseline`, if given) replace the
/// schedule before it, which stays in force for earlier periods.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retarget {
    /// First month (`YYYY-MM`) of the new version.
    pub effective: String,
    pub reason: String,
    pub baseline: Option<Baseline>,
    #[serde(default)]
    pub milestones: Vec<MilestoneSettings>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(fields: &str) -> MilestoneSettings {
        let text = format!("m = {{ from = \"2020-01\", {fields} }}");
        #[derive(Deserialize)]
        struct W {
            m: MilestoneSettings,
        }
        let w: W = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("parses");
        w.m
    }

    #[test]
    fn each_target_kind_is_read_from_its_fields() {
        assert_eq!(m("target = 15.0").kind(), Ok(TargetKind::Fixed(15.0)));
        assert_eq!(
            m("target = 50.0, or_national = true").kind(),
            Ok(TargetKind::OrNational(50.0))
        );
        assert_eq!(
            m("national_average = true").kind(),
            Ok(TargetKind::NationalAverage)
        );
        assert_eq!(
            m("baseline_plus = 10.0, relative = false").kind(),
            Ok(TargetKind::BaselinePlus {
                n: 10.0,
                relative: false
            })
        );
        assert_eq!(
            m("establish_baseline = true").kind(),
            Ok(TargetKind::EstablishBaseline)
        );
        assert_eq!(
            m("not_applicable = true").kind(),
            Ok(TargetKind::NotApplicable)
        );
    }

    #[test]
    fn combinations_that_make_no_sense_are_refused() {
        let err = |f: &str| m(f).kind().expect_err(f);
        assert!(err("target = 1.0, not_applicable = true").contains("target and not_applicable"));
        assert!(err("or_national = true, not_applicable = true").contains("or_national"));
        assert!(err("baseline_plus = 10.0").contains("relative"));
        assert!(err("target = 5.0, relative = true").contains("relative"));
        assert!(err("label = \"x\"").contains("no target"));
    }
}
