//! Values entered by hand for the KPIs no extract carries (a KPI without a `measure`: surveys,
//! audits, training, reports delivered): what may be entered, for which periods, and which
//! values are overdue.
//!
//! Owns: the checks on one value (`kpi set`, a row of `kpi import`), the periods a manual
//! KPI's values fall due in, and [`overdue`]. Pure: takes the catalogue, the values entered
//! and today's date; reads no clock and no file. [`import`] reads a meeting's values from a
//! CSV; [`retarget`] reads a recovery plan's new schedule from the command line.
//!
//! Which periods a value is for: the KPI's period kind ([`KpiSettings::period_kind`]: its
//! `period` key, else by `frequency`: monthly, a month; quarterly and termly, a quarter;
//! biannually, a half-year; annually, an academic year), and also a month within it where
//! that is a quarter (a quarterly KPI is often reported by the month it was measured in), or
//! a quarter within a half-year (values entered before half-years were a period kind). A
//! period is entered as the digests name it ("Jan-Jun 2026") or by its key ("2026-H1"). A KPI
//! reported by financial or calendar year says so with `period = "financial_year"` or
//! `"calendar_year"`.

pub mod chase;
pub mod import;
pub mod retarget;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};

use super::{
    Catalogue, Count, Figure, Figures, KpiSettings, Month, Period, PeriodKind, Target, Unit,
    target_in_force,
};

/// Longest note, in characters: a line or two of context for the board, not a report.
pub const MAX_NOTE: usize = 500;
/// Longest name of whoever entered a value.
pub const MAX_BY: usize = 100;

/// A value as someone typed it (`kpi set`) or as a row of an import, before it is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub kpi: String,
    pub period: String,
    pub value: f64,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub note: Option<String>,
    pub by: String,
}

/// A checked value, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualValue {
    pub kpi_id: String,
    pub period: Period,
    pub value: f64,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    /// Free text for the board's own table (`kpi show`); never mailed or logged.
    pub note: Option<String>,
    pub by: String,
}

/// A stored value: who entered it is in [`ManualValue::by`]; when, here. The latest entry for
/// a KPI and period is in force; earlier ones are kept as history.
#[derive(Debug, Clone, PartialEq)]
pub struct Entered {
    pub id: i64,
    pub value: ManualValue,
    pub entered_at: DateTime<Utc>,
    /// How it came: "set" or "import".
    pub via: String,
}

/// Which input a refusal is about (a CSV column of the import, a flag of `kpi set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Kpi,
    Period,
    Value,
    Numerator,
    Denominator,
    Note,
    By,
}

impl Field {
    /// The import's column name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Kpi => "kpi",
            Field::Period => "period",
            Field::Value => "value",
            Field::Numerator => "numerator",
            Field::Denominator => "denominator",
            Field::Note => "note",
            Field::By => "by",
        }
    }
}

/// Why one input was refused. The message never repeats what was typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", field.as_str())]
pub struct Refusal {
    pub field: Field,
    pub message: String,
}

fn refuse(bad: &mut Vec<Refusal>, field: Field, message: impl Into<String>) {
    bad.push(Refusal {
        field,
        message: message.into(),
    });
}

/// Check a value someone enters, against the catalogue; `today` bounds the period (a period
/// that has not begun has no value yet).
pub fn check(
    catalogue: &Catalogue,
    draft: &Draft,
    today: NaiveDate,
) -> Result<ManualValue, Vec<Refusal>> {
    let mut bad = Vec::new();
    let kpi = match catalogue.get(draft.kpi.trim()) {
        None => {
            refuse(&mut bad, Field::Kpi, "no KPI with this id in the catalogue");
            None
        }
        Some(k) if k.measure.is_some() => {
            refuse(&mut bad, Field::Kpi, computed(k));
            None
        }
        Some(k) => Some(k),
    };
    let period = match draft.period.trim().parse::<Period>() {
        Ok(p) => Some(p),
        Err(_) => {
            refuse(
                &mut bad,
                Field::Period,
                "not a period: write YYYY-MM (month), YYYY-Qn or Jan-Mar YYYY (quarter), \
                 YYYY-Hn or Jan-Jun YYYY (half-year), AYyyyy/yy (academic year), FYyyyy/yy \
                 (financial year) or YYYY (calendar year)",
            );
            None
        }
    };
    if let Some(p) = period {
        if let Some(k) = kpi
            && !accepts(k, p.kind())
        {
            refuse(
                &mut bad,
                Field::Period,
                format!(
                    "this KPI's values are entered for {} ({})",
                    kinds_words(k),
                    k.frequency.as_str()
                ),
            );
        }
        if p.first_month() > Month::of(today) {
            refuse(&mut bad, Field::Period, "the period has not begun yet");
        }
        if Month::new(2014, 9).is_some_and(|start| p.first_month() < start) {
            refuse(
                &mut bad,
                Field::Period,
                "the period is before EHC plans began (September 2014)",
            );
        }
    }
    if let Some(k) = kpi {
        check_value(k.unit, draft, &mut bad);
    }
    let note = draft
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(n) = note {
        text_rule(&mut bad, Field::Note, n, MAX_NOTE);
    }
    let by = draft.by.trim();
    if let Err(e) = check_name(by) {
        refuse(&mut bad, Field::By, e);
    }
    match (kpi, period) {
        (Some(_), Some(period)) if bad.is_empty() => Ok(ManualValue {
            kpi_id: draft.kpi.trim().to_string(),
            period,
            value: draft.value,
            numerator: draft.numerator.and_then(|n| u64::try_from(n).ok()),
            denominator: draft.denominator.and_then(|n| u64::try_from(n).ok()),
            note: note.map(str::to_string),
            by: by.to_string(),
        }),
        _ => Err(bad),
    }
}

/// Check the name of whoever enters something (`--by`, the login name, the import's `by`).
pub fn check_name(by: &str) -> Result<(), String> {
    let mut bad = Vec::new();
    if by.trim().is_empty() {
        refuse(&mut bad, Field::By, "say who is entering the value");
    } else {
        text_rule(&mut bad, Field::By, by.trim(), MAX_BY);
    }
    match bad.into_iter().next() {
        Some(r) => Err(r.message),
        None => Ok(()),
    }
}

/// Why a computed KPI takes no value by hand.
fn computed(k: &KpiSettings) -> String {
    format!(
        "this KPI is computed by each run from the `{}` extract (measure {}); only a KPI \
         without a measure takes values entered by hand",
        k.source.as_deref().unwrap_or("?"),
        k.measure.map_or("?", |m| m.as_str())
    )
}

fn text_rule(bad: &mut Vec<Refusal>, field: Field, s: &str, max: usize) {
    for message in text_faults(s, max) {
        refuse(bad, field, message);
    }
}

/// What is wrong with a line of text someone typed: longer than `max` characters, or holding
/// a line break or control character. Shared by every entry of free text (action updates and
/// commentary too). The messages never repeat the text.
pub fn text_faults(s: &str, max: usize) -> Vec<String> {
    let mut faults = Vec::new();
    let n = s.chars().count();
    if n > max {
        faults.push(format!("{n} characters long; at most {max} allowed"));
    }
    if s.chars().any(char::is_control) {
        faults.push("contains a line break or control character".into());
    }
    faults
}

fn check_value(unit: Unit, d: &Draft, bad: &mut Vec<Refusal>) {
    let v = d.value;
    if !v.is_finite() {
        refuse(bad, Field::Value, "not a number");
        return;
    }
    match unit {
        Unit::Percent if !(0.0..=100.0).contains(&v) => {
            refuse(bad, Field::Value, "a percentage is between 0 and 100")
        }
        Unit::Weeks if v < 0.0 => refuse(bad, Field::Value, "weeks cannot be negative"),
        Unit::Count | Unit::Deliverable if v < 0.0 || v.fract() != 0.0 => {
            refuse(bad, Field::Value, "a count is a whole number, 0 or more")
        }
        _ => {}
    }
    match (d.numerator, d.denominator) {
        (None, None) => {}
        (Some(_), None) => refuse(
            bad,
            Field::Denominator,
            "a numerator needs its denominator (give both or neither)",
        ),
        (None, Some(_)) => refuse(
            bad,
            Field::Numerator,
            "a denominator needs its numerator (give both or neither)",
        ),
        (Some(_), Some(_)) if matches!(unit, Unit::Count | Unit::Deliverable) => refuse(
            bad,
            Field::Numerator,
            "a count has no numerator and denominator",
        ),
        (Some(n), Some(den)) => {
            let mut ok = true;
            if n < 0 {
                refuse(bad, Field::Numerator, "cannot be negative");
                ok = false;
            }
            if den < 1 {
                refuse(bad, Field::Denominator, "must be 1 or more");
                ok = false;
            }
            if ok && unit == Unit::Percent && n > den {
                refuse(bad, Field::Numerator, "is more than the denominator");
                ok = false;
            }
            if ok && v.is_finite() {
                // Multiply first, as the computed KPIs do, so whole results are exact.
                let exact = match unit {
                    Unit::Percent => n as f64 * 100.0 / den as f64,
                    _ => n as f64 / den as f64,
                };
                if !agrees(v, exact) {
                    refuse(
                        bad,
                        Field::Value,
                        format!(
                            "does not agree with numerator / denominator ({}); give the value \
                             rounded to the places you write",
                            unit.format(exact)
                        ),
                    );
                }
            }
        }
    }
}

/// Places after the point that `v` is written to (at most 6).
fn decimals(v: f64) -> i32 {
    (0..6)
        .find(|d| {
            let s = v * 10f64.powi(*d);
            (s - s.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

/// `v` is `exact` rounded to the places `v` is written to: 33, 33.3 and 33.33 all agree with
/// 100/3, 34 does not.
pub fn agrees(v: f64, exact: f64) -> bool {
    (v - exact).abs() <= 0.5 * 10f64.powi(-decimals(v)) + 1e-9
}

/// May a value of this KPI be entered for a period of `kind`? Its own kind, and a month
/// within it where its kind is a quarter (a quarterly KPI is often reported by the month it
/// was measured in). Not a quarter for a twice-yearly KPI: "Apr-Jun" is not the half-year
/// the digest asks for, and one stored would stand for it ([`covering`] still reads those
/// entered before half-years were a kind, as their half-year's value).
pub fn accepts(kpi: &KpiSettings, kind: PeriodKind) -> bool {
    let own = kpi.period_kind();
    kind == own || (own == PeriodKind::Quarter && kind == PeriodKind::Month)
}

/// The periods a KPI takes values for, in words with their syntax.
pub fn kinds_words(kpi: &KpiSettings) -> &'static str {
    match kpi.period_kind() {
        PeriodKind::Month => "a month (YYYY-MM)",
        PeriodKind::Quarter => "a quarter (YYYY-Qn or Jan-Mar YYYY) or a month (YYYY-MM)",
        PeriodKind::HalfYear => "a half-year (YYYY-Hn or Jan-Jun YYYY)",
        PeriodKind::AcademicYear => "an academic year (AYyyyy/yy)",
        PeriodKind::FinancialYear => "a financial year (FYyyyy/yy)",
        PeriodKind::CalendarYear => "a calendar year (YYYY)",
    }
}

/// A period a manual KPI's value falls due for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The period.
    pub period: Period,
    /// The first month a value for it may fall in (the period's first month).
    pub first: Month,
}

impl Due {
    pub fn last(self) -> Month {
        self.period.last_month()
    }

    /// A value entered for `p` counts for this period.
    pub fn covers(self, p: Period) -> bool {
        self.first <= p.first_month() && p.last_month() <= self.last()
    }

    /// As a board paper writes it: "Jan-Mar 2021", "Jan-Jun 2021", "academic year 2020/21".
    pub fn label(self) -> String {
        if self.first == self.period.first_month() {
            return self.period.label();
        }
        let short = |m: Month| m.label()[..3].to_string();
        format!(
            "{}-{} {}",
            short(self.first),
            short(self.last()),
            self.last().first_day().year()
        )
    }

    /// The date by which its value is to be entered: `days` after it ends.
    pub fn due_by(self, days: u32) -> NaiveDate {
        let end = self.last().last_day();
        end.checked_add_days(Days::new(days.into())).unwrap_or(end)
    }
}

/// The due period of `kpi` holding month `m`.
pub fn due_containing(kpi: &KpiSettings, m: Month) -> Due {
    let p = Period::containing(kpi.period_kind(), m);
    Due {
        period: p,
        first: p.first_month(),
    }
}

/// The due period before `d`.
pub fn previous_due(kpi: &KpiSettings, d: Due) -> Due {
    due_containing(kpi, d.first.prev())
}

/// The due period a run rates `kpi` for: the latest that has ended and whose value is due
/// (`days` after it ended) or already entered. With `upto` (`run-now --period`), the latest
/// ended by then.
pub fn report_due(
    kpi: &KpiSettings,
    id: &str,
    days: u32,
    entered: &[Entered],
    today: NaiveDate,
    upto: Option<Month>,
) -> Due {
    if let Some(m) = upto {
        let d = due_containing(kpi, m);
        return if d.last() > m {
            previous_due(kpi, d)
        } else {
            d
        };
    }
    let mut d = due_containing(kpi, Month::of(today));
    if d.last().last_day() >= today {
        d = previous_due(kpi, d);
    }
    // Bounded: `days` is at most a few hundred, a few periods back.
    for _ in 0..1200 {
        if d.due_by(days) < today || covering(entered, id, d).is_some() {
            break;
        }
        d = previous_due(kpi, d);
    }
    d
}

/// The value in force for `d`: the entry for the latest period inside it (a quarter's own
/// value before one of its months'), the latest entered of those.
pub fn covering<'a>(entered: &'a [Entered], id: &str, d: Due) -> Option<&'a Entered> {
    entered
        .iter()
        .filter(|e| e.value.kpi_id == id && d.covers(e.value.period))
        .max_by_key(|e| (e.value.period.last_month(), e.value.period.kind(), e.id))
}

/// The figure of an entry: its value, with its counts where both were entered.
pub fn figure(e: &Entered) -> Figure {
    Figure {
        value: e.value.value,
        count: match (e.value.numerator, e.value.denominator) {
            (Some(numerator), Some(denominator)) => Some(Count {
                numerator,
                denominator,
            }),
            _ => None,
        },
    }
}

/// The figures of `d` and the period before it, from the values entered (no year to date:
/// values entered are not counts that add up), and the entry the current one came from.
pub fn figures(kpi: &KpiSettings, id: &str, entered: &[Entered], d: Due) -> (Figures, Option<i64>) {
    let current = covering(entered, id, d);
    let previous = covering(entered, id, previous_due(kpi, d));
    (
        Figures {
            current: current.map(figure),
            previous: previous.map(figure),
            year_to_date: None,
            shown: None,
        },
        current.map(|e| e.id),
    )
}

/// The periods of `kpi` whose values were due before `today` (`days` after each ended), in
/// order: from the one holding its first milestone, leaving out those whose milestone in
/// force at their end is "not applicable" (or none: a new schedule not yet begun).
pub fn due_periods(kpi: &KpiSettings, days: u32, today: NaiveDate) -> Vec<Due> {
    let first = super::versions(kpi)
        .iter()
        .flat_map(|v| v.milestones.iter())
        .filter_map(|m| m.from.parse::<Month>().ok())
        .min();
    let Some(first) = first else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut due = due_containing(kpi, first);
    // Bounded: a century of months is more than any plan runs for.
    for _ in 0..1200 {
        if due.due_by(days) >= today {
            break;
        }
        let applies = target_in_force(kpi, due.last())
            .is_some_and(|t| !matches!(t.target, Target::NotApplicable));
        if applies {
            out.push(due);
        }
        due = due_containing(kpi, due.last().next());
    }
    out
}

/// A manual KPI whose value has not been entered in time: an exception for its owner.
#[derive(Debug, Clone, PartialEq)]
pub struct Overdue {
    pub kpi_id: String,
    pub title: String,
    /// Key of the owning sub-group.
    pub owner: String,
    /// The latest due period, past its due date with no value entered.
    pub due: Due,
    pub due_by: NaiveDate,
    /// Where its chase stands ([`chase::chase`] sets it; [`overdue`] says [`chase::Stage::Asked`]).
    pub stage: chase::Stage,
}

/// Every enabled manual KPI whose latest due period is past its due date (`overdue_days`
/// after it ended, the KPI's own or `default_days`) with no value entered for it: that period
/// only is asked for, not the earlier ones (a value missed long ago is the pack's history, not
/// a chase). Only periods from the KPI's first milestone on count, and not those whose
/// milestone is "not applicable".
pub fn overdue(
    catalogue: &Catalogue,
    default_days: u32,
    entered: &[Entered],
    today: NaiveDate,
) -> Vec<Overdue> {
    catalogue
        .iter()
        .filter(|(_, k)| k.enabled && k.measure.is_none())
        .filter_map(|(id, k)| {
            let days = k.overdue_days.unwrap_or(default_days);
            let due = *due_periods(k, days, today).last()?;
            let entered = entered
                .iter()
                .any(|e| e.value.kpi_id == *id && due.covers(e.value.period));
            (!entered).then(|| Overdue {
                kpi_id: id.clone(),
                title: k.title.clone(),
                owner: k.owner.clone(),
                due,
                due_by: due.due_by(days),
                stage: chase::Stage::Asked,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
