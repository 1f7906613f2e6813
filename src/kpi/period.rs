//! Reporting periods: a month, a calendar quarter, a half-year (January-June, July-December),
//! an academic year (September to August), a financial year (April to March) or a calendar
//! year, each a run of whole months.
//!
//! Owns: how a period is written ("2020-03", "2020-Q1", "2020-H1", "AY2019/20", "FY2019/20",
//! "2020"), read back (also as a board paper names a quarter or half-year: "Jan-Mar 2020",
//! "Jan-Jun 2020"), labelled for a board paper, and stepped; and year-to-date spans. KPI values are
//! folded per month, so any period's figure is the sum of its months' counts.

use std::fmt;
use std::str::FromStr;

use chrono::Datelike;
use serde::{Deserialize, Deserializer};

use super::Month;

/// Which kind of period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    /// January-June or July-December: a twice-yearly KPI's period.
    HalfYear,
    AcademicYear,
    FinancialYear,
    CalendarYear,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::HalfYear => "half_year",
            PeriodKind::AcademicYear => "academic_year",
            PeriodKind::FinancialYear => "financial_year",
            PeriodKind::CalendarYear => "calendar_year",
        }
    }

    pub fn is_year(self) -> bool {
        matches!(
            self,
            PeriodKind::AcademicYear | PeriodKind::FinancialYear | PeriodKind::CalendarYear
        )
    }

    /// The month a year of this kind starts in (1 for months and quarters: the calendar
    /// year).
    pub fn year_start_month(self) -> u32 {
        match self {
            PeriodKind::AcademicYear => 9,
            PeriodKind::FinancialYear => 4,
            _ => 1,
        }
    }
}

/// A reporting period: `kind` and its first month. Ordered by first month, then kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    first: Month,
    kind: PeriodKind,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a period: expected YYYY-MM (month), YYYY-Qn or \"Jan-Mar YYYY\" (calendar \
     quarter), YYYY-Hn or \"Jan-Jun YYYY\" (half-year), AYyyyy/yy (academic year, Sep-Aug), \
     FYyyyy/yy (financial year, Apr-Mar) or YYYY (calendar year)"
)]
pub struct PeriodError(String);

impl Period {
    pub fn month(m: Month) -> Period {
        Period {
            first: m,
            kind: PeriodKind::Month,
        }
    }

    /// The period of `kind` that holds month `m`.
    pub fn containing(kind: PeriodKind, m: Month) -> Period {
        let (y, mo) = (m.first_day().year(), m.first_day().month());
        let first = match kind {
            PeriodKind::Month => m,
            PeriodKind::Quarter => month(y, (mo - 1) / 3 * 3 + 1),
            PeriodKind::HalfYear => month(y, (mo - 1) / 6 * 6 + 1),
            PeriodKind::CalendarYear => month(y, 1),
            PeriodKind::AcademicYear | PeriodKind::FinancialYear => {
                let start = kind.year_start_month();
                month(if mo >= start { y } else { y - 1 }, start)
            }
        };
        Period { first, kind }
    }

    pub fn kind(self) -> PeriodKind {
        self.kind
    }

    pub fn first_month(self) -> Month {
        self.first
    }

    pub fn len_months(self) -> u32 {
        match self.kind {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::HalfYear => 6,
            _ => 12,
        }
    }

    pub fn last_month(self) -> Month {
        (1..self.len_months()).fold(self.first, |m, _| m.next())
    }

    /// Its months, first to last.
    pub fn months(self) -> impl Iterator<Item = Month> {
        std::iter::successors(Some(self.first), |m| Some(m.next())).take(self.len_months() as _)
    }

    pub fn contains(self, m: Month) -> bool {
        self.first <= m && m <= self.last_month()
    }

    pub fn next(self) -> Period {
        Period {
            first: self.last_month().next(),
            kind: self.kind,
        }
    }

    pub fn prev(self) -> Period {
        Period::containing(self.kind, self.first.prev())
    }

    /// The months from the start of the `year`-kind year holding this period's last month up
    /// to that month: the year-to-date span of the period.
    pub fn year_to_date(self, year: PeriodKind) -> impl Iterator<Item = Month> {
        let last = self.last_month();
        let start = Period::containing(year, last).first;
        std::iter::successors(Some(start), |m| Some(m.next())).take_while(move |m| *m <= last)
    }

    /// As a board paper writes it: "May 2021", "Jan-Mar 2021", "Jan-Jun 2021", "academic
    /// year 2020/21", "financial year 2020/21", "2021". A quarter's and a half-year's label
    /// reads back as the period ([`FromStr`]).
    pub fn label(self) -> String {
        let y = self.first.first_day().year();
        match self.kind {
            PeriodKind::Month => self.first.label(),
            PeriodKind::Quarter | PeriodKind::HalfYear => {
                let short = |m: Month| m.label()[..3].to_string();
                format!("{}-{} {y}", short(self.first), short(self.last_month()))
            }
            PeriodKind::AcademicYear => format!("academic year {}", split_year(y)),
            PeriodKind::FinancialYear => format!("financial year {}", split_year(y)),
            PeriodKind::CalendarYear => y.to_string(),
        }
    }
}

fn month(y: i32, m: u32) -> Month {
    Month::new(y, m).unwrap_or_else(|| unreachable!("month numbers here are 1-12"))
}

/// "2020/21".
fn split_year(y: i32) -> String {
    format!("{y}/{:02}", (y + 1).rem_euclid(100))
}

impl From<Month> for Period {
    fn from(m: Month) -> Period {
        Period::month(m)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let y = self.first.first_day().year();
        match self.kind {
            PeriodKind::Month => write!(f, "{}", self.first),
            PeriodKind::Quarter => {
                write!(
                    f,
                    "{y:04}-Q{}",
                    (self.first.first_day().month() - 1) / 3 + 1
                )
            }
            PeriodKind::HalfYear => {
                write!(
                    f,
                    "{y:04}-H{}",
                    (self.first.first_day().month() - 1) / 6 + 1
                )
            }
            PeriodKind::AcademicYear => write!(f, "AY{}", split_year(y)),
            PeriodKind::FinancialYear => write!(f, "FY{}", split_year(y)),
            PeriodKind::CalendarYear => write!(f, "{y:04}"),
        }
    }
}

/// A quarter or half-year as a board paper names it ("Jan-Mar 2020", "Jul-Dec 2020"), so
/// that a period is entered as the digests and the pack name it.
fn named(s: &str) -> Option<Period> {
    const SHORT: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (span, y) = s.trim().rsplit_once(' ')?;
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let (a, b) = span.trim().split_once('-')?;
    let at = |t: &str| {
        SHORT
            .iter()
            .position(|m| t.trim().eq_ignore_ascii_case(m))
            .map(|i| i as u32 + 1)
    };
    let (a, b) = (at(a)?, at(b)?);
    let kind = match b.checked_sub(a)? {
        2 if (a - 1) % 3 == 0 => PeriodKind::Quarter,
        5 if (a - 1) % 6 == 0 => PeriodKind::HalfYear,
        _ => return None,
    };
    Some(Period::containing(kind, Month::new(y, a)?))
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError(s.chars().take(40).collect());
        let year = |t: &str| -> Result<i32, PeriodError> {
            if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
                t.parse().map_err(|_| err())
            } else {
                Err(err())
            }
        };
        // "2019/20": the second year must follow the first.
        let split = |t: &str| -> Result<i32, PeriodError> {
            let (a, b) = t.split_once('/').ok_or_else(err)?;
            let a = year(a)?;
            if b.len() != 2 || b.parse::<i32>().ok() != Some((a + 1).rem_euclid(100)) {
                return Err(err());
            }
            Ok(a)
        };
        if let Some(rest) = s.strip_prefix("AY") {
            let y = split(rest)?;
            return Ok(Period::containing(PeriodKind::AcademicYear, month(y, 9)));
        }
        if let Some(rest) = s.strip_prefix("FY") {
            let y = split(rest)?;
            return Ok(Period::containing(PeriodKind::FinancialYear, month(y, 4)));
        }
        if let Some(p) = named(s) {
            return Ok(p);
        }
        if let Some((y, h)) = s.split_once("-H") {
            let y = year(y)?;
            let first = match h {
                "1" => 1,
                "2" => 7,
                _ => return Err(err()),
            };
            return Ok(Period::containing(PeriodKind::HalfYear, month(y, first)));
        }
        if let Some((y, q)) = s.split_once("-Q") {
            let y = year(y)?;
            let q: u32 = match q {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                _ => return Err(err()),
            };
            return Ok(Period::containing(
                PeriodKind::Quarter,
                month(y, (q - 1) * 3 + 1),
            ));
        }
        if s.len() == 4 {
            return Ok(Period::containing(
                PeriodKind::CalendarYear,
                month(year(s)?, 1),
            ));
        }
        s.parse::<Month>().map(Period::month).map_err(|_| err())
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().expect(s)
    }
    fn m(s: &str) -> Month {
        s.parse().expect(s)
    }

    #[test]
    fn every_kind_reads_back_what_it_writes() {
        for s in [
            "2021-05",
            "2021-Q1",
            "2020-Q4",
            "2021-H1",
            "2020-H2",
            "AY2019/20",
            "FY2019/20",
            "2021",
            "AY1999/00",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
        for bad in [
            "2021-Q5",
            "AY2019/21",
            "FY19/20",
            "21",
            "2021-13",
            "Q1",
            "AY2019-20",
            "2021-H3",
            "Feb-Apr 2021",
            "Jan-May 2021",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn spans_labels_and_steps() {
        let ay = p("AY2019/20");
        assert_eq!(
            (ay.first_month(), ay.last_month()),
            (m("2019-09"), m("2020-08"))
        );
        assert_eq!(ay.label(), "academic year 2019/20");
        let fy = p("FY2019/20");
        assert_eq!(
            (fy.first_month(), fy.last_month()),
            (m("2019-04"), m("2020-03"))
        );
        assert_eq!(p("2020-Q1").label(), "Jan-Mar 2020");
        assert_eq!(p("2020-Q1").prev(), p("2019-Q4"));
        assert_eq!(p("2019-Q4").next(), p("2020-Q1"));
        assert_eq!(p("FY2019/20").prev(), p("FY2018/19"));
        assert_eq!(
            Period::containing(PeriodKind::AcademicYear, m("2020-08")),
            ay
        );
        assert_eq!(
            Period::containing(PeriodKind::FinancialYear, m("2020-03")),
            fy
        );
        assert!(p("2020-Q2").contains(m("2020-06")));
        assert!(!p("2020-Q2").contains(m("2020-07")));
        assert_eq!(p("2020-Q2").months().count(), 3);
    }

    #[test]
    fn quarters_and_half_years_read_back_as_a_board_paper_names_them() {
        for (named, key) in [
            ("Jan-Jun 2026", "2026-H1"),
            ("Jul-Dec 2025", "2025-H2"),
            ("Jan-Mar 2026", "2026-Q1"),
            ("oct-dec 2026", "2026-Q4"),
        ] {
            assert_eq!(p(named), p(key), "{named}");
            assert_eq!(p(key).label().to_lowercase(), named.to_lowercase());
        }
        let h1 = p("2026-H1");
        assert_eq!(
            (h1.first_month(), h1.last_month()),
            (m("2026-01"), m("2026-06"))
        );
        assert_eq!(h1.prev(), p("2025-H2"));
        assert_eq!(h1.next(), p("2026-H2"));
        assert_eq!(
            Period::containing(PeriodKind::HalfYear, m("2026-09")),
            p("2026-H2")
        );
    }

    #[test]
    fn year_to_date_runs_from_the_start_of_the_chosen_year() {
        let ytd: Vec<_> = p("2020-05")
            .year_to_date(PeriodKind::FinancialYear)
            .map(|m| m.to_string())
            .collect();
        assert_eq!(ytd, ["2020-04", "2020-05"]);
        let ytd: Vec<_> = p("2020-Q1")
            .year_to_date(PeriodKind::AcademicYear)
            .map(|m| m.to_string())
            .collect();
        assert_eq!(ytd.first().map(String::as_str), Some("2019-09"));
        assert_eq!(ytd.len(), 7);
    }
}
