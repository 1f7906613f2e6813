//! SEN2 settings and code lists: which records a source yields (`[sources.NAME.load.sen2]`),
//! the outcome code lists whose letters the DfE guide leaves unconfirmed (configuration, with
//! the generator's letters as defaults, so a council can correct them without a release), the
//! confirmed review outcomes, and the national curriculum year derived from a birth date.
//!
//! Owns: the settings type and its pure check, code-to-meaning lookups, the NCY arithmetic.
//! Must not: read files. A code that is in no list is named by its element and list in the
//! reader's error, never by its value.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::load::KindDef;

/// Which SEN2 records a source yields, one row each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Records {
    /// Every `Requests` record: a request for an EHC needs assessment, with its decision, its
    /// assessment's outcome and Week20 flag, and the start of the plan it led to.
    Requests,
    /// Every `ActivePlans` record: a plan active in the return, with its latest annual review.
    ActivePlans,
}

impl Records {
    pub fn as_str(self) -> &'static str {
        match self {
            Records::Requests => "requests",
            Records::ActivePlans => "active_plans",
        }
    }

    /// The fields the reader gives for these records: the header of every record stream.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Records::Requests => &REQUEST_FIELDS,
            Records::ActivePlans => &ACTIVE_PLAN_FIELDS,
        }
    }
}

/// One row per `Requests` record. `request_no` numbers them in the return's order (a key for
/// this load only: never the UPN, nor anything made from it).
pub const REQUEST_FIELDS: [&str; 8] = [
    "request_no",
    "received_date",
    "request_outcome",
    "request_outcome_date",
    "assessment_outcome",
    "assessment_outcome_date",
    "week20_exceptions",
    "plan_start_date",
];

/// One row per `ActivePlans` record. `ncy` is derived from the birth date at the return's
/// reference date, and the birth date dropped.
pub const ACTIVE_PLAN_FIELDS: [&str; 7] = [
    "plan_no",
    "ncy",
    "plan_start_date",
    "plan_cease_date",
    "review_meeting_date",
    "review_outcome",
    "review_decision_date",
];

/// `load.sen2`: what a SEN2 source yields and how its outcome codes read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Sen2Settings {
    /// Required for a SEN2 source: `requests` or `active_plans`.
    pub records: Option<Records>,
    #[serde(default)]
    pub request_outcomes: RequestOutcomes,
    #[serde(default)]
    pub assessment_outcomes: AssessmentOutcomes,
}

/// `RequestOutcome` codes by meaning (SEN2.md section 5: the letters are UNCONFIRMED).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestOutcomes {
    #[serde(default = "codes_a")]
    pub assess: Vec<String>,
    #[serde(default = "codes_n")]
    pub not_assess: Vec<String>,
    #[serde(default = "codes_w")]
    pub withdrawn: Vec<String>,
    #[serde(default = "codes_p")]
    pub pending: Vec<String>,
}

/// `AssessmentOutcome` codes by meaning (UNCONFIRMED letters, as above).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentOutcomes {
    #[serde(default = "codes_y")]
    pub issue: Vec<String>,
    #[serde(default = "codes_n")]
    pub not_issue: Vec<String>,
    #[serde(default = "codes_w")]
    pub withdrawn: Vec<String>,
    #[serde(default = "codes_p")]
    pub pending: Vec<String>,
}

fn codes(c: &str) -> Vec<String> {
    vec![c.to_string()]
}
fn codes_a() -> Vec<String> {
    codes("A")
}
fn codes_n() -> Vec<String> {
    codes("N")
}
fn codes_w() -> Vec<String> {
    codes("W")
}
fn codes_p() -> Vec<String> {
    codes("P")
}
fn codes_y() -> Vec<String> {
    codes("Y")
}

impl Default for RequestOutcomes {
    fn default() -> Self {
        RequestOutcomes {
            assess: codes_a(),
            not_assess: codes_n(),
            withdrawn: codes_w(),
            pending: codes_p(),
        }
    }
}

impl Default for AssessmentOutcomes {
    fn default() -> Self {
        AssessmentOutcomes {
            issue: codes_y(),
            not_issue: codes_n(),
            withdrawn: codes_w(),
            pending: codes_p(),
        }
    }
}

impl RequestOutcomes {
    fn lists(&self) -> [(&'static str, &[String]); 4] {
        [
            ("assess", &self.assess),
            ("not_assess", &self.not_assess),
            ("withdrawn", &self.withdrawn),
            ("pending", &self.pending),
        ]
    }
}

impl AssessmentOutcomes {
    fn lists(&self) -> [(&'static str, &[String]); 4] {
        [
            ("issue", &self.issue),
            ("not_issue", &self.not_issue),
            ("withdrawn", &self.withdrawn),
            ("pending", &self.pending),
        ]
    }
}

/// A code list as the reader uses it: code (upper case) to meaning.
#[derive(Debug, Clone)]
pub struct CodeList {
    /// The item, as messages name it ("RequestOutcome").
    pub item: &'static str,
    /// Where a council corrects it ("load.sen2.request_outcomes"), or "the DfE's list".
    pub list: &'static str,
    codes: Vec<(String, &'static str)>,
}

impl CodeList {
    fn new(item: &'static str, list: &'static str, lists: &[(&'static str, &[String])]) -> Self {
        let codes = lists
            .iter()
            .flat_map(|(meaning, cs)| cs.iter().map(|c| (c.trim().to_ascii_uppercase(), *meaning)))
            .collect();
        CodeList { item, list, codes }
    }

    /// The meaning of `code` (matched without regard to case or padding); `Ok(None)` for a
    /// blank; `Err` for a code in no list.
    pub fn meaning(&self, code: &str) -> Result<Option<&'static str>, UnknownCode> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(None);
        }
        self.codes
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, m)| Some(*m))
            .ok_or(UnknownCode)
    }

    /// "holds a code in no RequestOutcome list (load.sen2.request_outcomes)", for an error
    /// that names the element or column first.
    pub fn unknown(&self) -> String {
        format!(
            "holds a code in no {} list ({}); the file is refused",
            self.item, self.list
        )
    }
}

/// A code in no list (its value is not kept: it may be anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCode;

/// The three code lists a reader looks codes up in.
#[derive(Debug, Clone)]
pub struct Codes {
    pub request: CodeList,
    pub assessment: CodeList,
    pub review: CodeList,
}

impl Sen2Settings {
    pub fn codes(&self) -> Codes {
        let review: [(&'static str, &[String]); 3] = [
            ("amend", &[String::from("A")]),
            ("cease", &[String::from("C")]),
            ("maintain", &[String::from("M")]),
        ];
        Codes {
            request: CodeList::new(
                "RequestOutcome",
                "load.sen2.request_outcomes",
                &self.request_outcomes.lists(),
            ),
            assessment: CodeList::new(
                "AssessmentOutcome",
                "load.sen2.assessment_outcomes",
                &self.assessment_outcomes.lists(),
            ),
            review: CodeList::new("ReviewOutcome", "the DfE's A/C/M", &review),
        }
    }

    /// Check a SEN2 source's settings against its kind; pure. `bad(key_suffix, message)`.
    pub fn check(
        &self,
        kind: &KindDef,
        header_for: &dyn Fn(&str) -> String,
        bad: &mut dyn FnMut(String, String),
    ) {
        let Some(records) = self.records else {
            bad(
                "sen2.records".into(),
                "a SEN2 source names the records it yields: \"requests\" or \"active_plans\""
                    .into(),
            );
            return;
        };
        for c in &kind.columns {
            let theirs = header_for(&c.name);
            if !records.fields().contains(&theirs.as_str()) {
                bad(
                    "sen2.records".into(),
                    format!(
                        "the kind's column `{}` is not one the SEN2 reader gives for {} (it \
                         gives {})",
                        c.name,
                        records.as_str(),
                        records.fields().join(", ")
                    ),
                );
            }
        }
        for (key, lists) in [
            ("sen2.request_outcomes", self.request_outcomes.lists()),
            ("sen2.assessment_outcomes", self.assessment_outcomes.lists()),
        ] {
            let mut seen: Vec<String> = Vec::new();
            for (meaning, cs) in lists {
                for c in cs {
                    let c = c.trim().to_ascii_uppercase();
                    if c.is_empty() || c.len() > 8 || !c.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        bad(
                            format!("{key}.{meaning}"),
                            "a code is 1 to 8 letters or digits".into(),
                        );
                    } else if seen.contains(&c) {
                        bad(
                            format!("{key}.{meaning}"),
                            format!("code `{c}` is listed under two meanings"),
                        );
                    } else {
                        seen.push(c);
                    }
                }
            }
        }
    }
}

/// The national curriculum year of a child born on `birth`, in the school year holding `day`:
/// age on the 31 August before that school year, less 4 (SEN2.md section 8, [W-ncy]).
pub fn ncy(birth: NaiveDate, day: NaiveDate) -> i32 {
    let year_start = day.year() - i32::from(day.month() < 9);
    let birthday_after_august = (birth.month(), birth.day()) > (8, 31);
    year_start - birth.year() - i32::from(birthday_after_august) - 4
}

/// An NCY as the tracker writes it: the number, or `post-16` from NCY 15 (age 19) up.
pub fn ncy_text(n: i32) -> String {
    if n >= 15 {
        "post-16".to_string()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn ncy_is_the_age_on_the_31_august_before_the_school_year_less_four() {
        // Born 1 Sept 2014: 4 on 31 Aug 2019 (5 the day after), so reception in 2019/20.
        assert_eq!(ncy(d(2014, 9, 1), d(2019, 10, 1)), 0, "reception");
        assert_eq!(
            ncy(d(2015, 8, 31), d(2019, 10, 1)),
            0,
            "youngest in reception"
        );
        assert_eq!(ncy(d(2014, 8, 31), d(2019, 10, 1)), 1, "oldest in year 1");
        assert_eq!(
            ncy(d(2014, 8, 31), d(2020, 7, 1)),
            1,
            "same school year in July"
        );
        assert_eq!(ncy(d(2014, 8, 31), d(2020, 9, 1)), 2, "a new school year");
        assert_eq!(ncy_text(15), "post-16");
        assert_eq!(ncy_text(-1), "-1");
    }

    #[test]
    fn codes_match_without_case_and_unknown_ones_are_not_repeated() {
        let codes = Sen2Settings::default().codes();
        assert_eq!(codes.request.meaning(" a "), Ok(Some("assess")));
        assert_eq!(codes.request.meaning(""), Ok(None));
        assert_eq!(codes.assessment.meaning("Y"), Ok(Some("issue")));
        assert_eq!(codes.review.meaning("M"), Ok(Some("maintain")));
        assert_eq!(codes.request.meaning("Q"), Err(UnknownCode));
        let msg = codes.request.unknown();
        assert_eq!(
            msg,
            "holds a code in no RequestOutcome list (load.sen2.request_outcomes); the file is \
             refused"
        );
    }

    #[test]
    fn a_source_names_its_records_and_each_code_once() {
        let kind = crate::load::builtin_kinds().expect("kinds")["sen2_requests"].clone();
        let problems = |s: &Sen2Settings| {
            let mut keys = Vec::new();
            s.check(&kind, &|c| c.to_string(), &mut |k, m| {
                keys.push(format!("{k}: {m}"))
            });
            keys
        };
        assert_eq!(
            problems(&Sen2Settings::default()).len(),
            1,
            "records is required"
        );
        let mut s = Sen2Settings {
            records: Some(Records::Requests),
            ..Sen2Settings::default()
        };
        assert!(problems(&s).is_empty(), "{:?}", problems(&s));
        s.assessment_outcomes.issue.push("n".into());
        s.request_outcomes.pending.push("P Q".into());
        let got = problems(&s);
        assert_eq!(got.len(), 2, "{got:?}");
        let wrong = Sen2Settings {
            records: Some(Records::ActivePlans),
            ..Sen2Settings::default()
        };
        assert!(
            problems(&wrong)
                .iter()
                .any(|p| p.contains("`received_date`"))
        );
    }
}
