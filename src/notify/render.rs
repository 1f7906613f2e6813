//! Render: a digest becomes a subject and a plain-text body. Pure.
//!
//! What goes in (DOMAIN 7): per KPI the period, value, target in force, previous value, RAG,
//! direction of travel, baseline, and the extract the figures came from. What stays out
//! (DOMAIN 8): case ids, dates about a child, free text; every count under 5 shows as "<5",
//! and an average wait over fewer than 5 referrals is not shown at all (over one referral it
//! would be that child's wait).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Digest, SourceNote};
use crate::kpi::{Aggregation, Evaluation, Period, PeriodKind, Rag};
use crate::kpi::{
    Basis, Catalogue, Count, FEWEST_FOR_AN_AVERAGE, Figure, Measure, Target, Travel,
    direction_of_travel, period_noun,
};

/// Counts below this are shown as "<5" (small-cell suppression).
pub const SMALL_COUNT: u64 = 5;

/// A count as it may appear in an email.
pub fn suppress(n: u64) -> String {
    if n < SMALL_COUNT {
        "<5".to_string()
    } else {
        n.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Everything besides the digest that the text needs.
pub struct Context<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub job: &'a str,
    pub run_id: i64,
    pub kpis: &'a Catalogue,
    pub sources: &'a BTreeMap<String, SourceNote>,
}

pub fn render(digest: &Digest<'_>, ctx: &Context<'_>) -> Rendered {
    let periods: Vec<String> = {
        let mut p: Vec<_> = digest.items.iter().map(|e| e.period).collect();
        p.sort();
        p.dedup();
        p.into_iter().map(|m| m.label()).collect()
    };
    let n = digest.items.len();
    let subject = format!(
        "{} {} SEND exception report, {}: {} KPI{} slipped ({})",
        ctx.subject_prefix,
        ctx.area,
        periods.join(", "),
        n,
        if n == 1 { "" } else { "s" },
        digest.sub_group_name
    )
    .trim()
    .to_string();

    let mut b = String::new();
    let _ = writeln!(b, "Exception report for the {}", digest.sub_group_name);
    let _ = writeln!(
        b,
        "{} SEND improvement plan, period {}",
        ctx.area,
        periods.join(", ")
    );
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "{} KPI{} owned by this sub-group missed the milestone target in force or could not be reported:",
        n,
        if n == 1 { "" } else { "s" }
    );
    for e in &digest.items {
        let _ = writeln!(b);
        item(&mut b, e, ctx);
    }
    let _ = writeln!(b);
    let _ = writeln!(b, "--");
    let _ = writeln!(
        b,
        "Counts under {SMALL_COUNT} are shown as \"<5\". This report carries aggregate figures only: \
         no case ids, names or dates about a child."
    );
    if digest.items.iter().any(|e| is_wait(e)) {
        let _ = writeln!(
            b,
            "An average wait over fewer than {FEWEST_FOR_AN_AVERAGE} referrals is not shown: it would \
             describe individual children."
        );
    }
    let _ = writeln!(
        b,
        "Sent by sendwatch (job {}, run {}) because these KPIs are RED or have no data for the period.",
        ctx.job, ctx.run_id
    );
    Rendered { subject, body: b }
}

fn is_wait(e: &Evaluation) -> bool {
    e.measure == Some(Measure::AverageWaitWeeks)
}

/// Nouns for what a measure counts.
fn words(measure: Option<Measure>) -> (&'static str, &'static str) {
    match measure {
        Some(Measure::EhcpWithin20Weeks) => ("new EHC plans", "within 20 weeks"),
        Some(Measure::HealthAdviceWithin6Weeks) => ("health advice requests", "within 6 weeks"),
        Some(Measure::AverageWaitWeeks) => ("referrals", "seen"),
        Some(Measure::TransitionReviewsByDeadline) => (
            "transition reviews due in the academic year",
            "completed by their cohort's deadline",
        ),
        Some(Measure::OtherReviewsCompleted) => {
            ("other reviews due in the academic year", "completed")
        }
        None => ("", "as entered"),
    }
}

fn basis_phrase(e: &Evaluation) -> String {
    let Some(measure) = e.measure else {
        return "a value entered by hand".into();
    };
    // The reviews KPIs' academic year: the one holding the period's last month, whose figure
    // the period's is.
    let year = || Period::containing(PeriodKind::AcademicYear, e.period.last_month()).label();
    match (measure, e.basis) {
        (Measure::EhcpWithin20Weeks, Basis::Completed) => {
            "plans counted in the month the final plan was issued".into()
        }
        (Measure::EhcpWithin20Weeks, Basis::Started) => {
            "requests counted in the month they were received".into()
        }
        (Measure::HealthAdviceWithin6Weeks, Basis::Completed) => {
            "advice counted in the month it was returned".into()
        }
        (Measure::HealthAdviceWithin6Weeks, Basis::Started) => {
            "advice counted in the month it was requested".into()
        }
        (Measure::AverageWaitWeeks, Basis::Completed) => {
            "referrals counted in the month of their first appointment".into()
        }
        (Measure::AverageWaitWeeks, Basis::Started) => {
            "referrals counted in the month they were made; recent months read short, as their \
             long waits are not over yet"
                .into()
        }
        (Measure::TransitionReviewsByDeadline, _) => format!(
            "cumulative over {}: the cohorts' reviews due in it, completed by the period's end \
             and by the cohort's deadline",
            year()
        ),
        (Measure::OtherReviewsCompleted, _) => format!(
            "cumulative over {}: reviews due in it, completed by the period's end",
            year()
        ),
    }
}

/// The same in a few words for a one-line summary (`run-now`): "backlog 12", "advice
/// outstanding <5", "reviews overdue 30"; waits and values entered by hand say nothing there.
pub fn beside(e: &Evaluation) -> Option<String> {
    let what = match e.measure? {
        Measure::EhcpWithin20Weeks => "backlog",
        Measure::HealthAdviceWithin6Weeks => "advice outstanding",
        Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => "reviews overdue",
        Measure::AverageWaitWeeks => return None,
    };
    Some(format!("{what} {}", suppress(e.overdue_open)))
}

/// What stays open beside the KPI at the data's as-of date: the assessment backlog, advice
/// outstanding, reviews overdue, referrals still waiting; nothing for a value entered by hand.
fn still_open(e: &Evaluation) -> Option<String> {
    let n = suppress(e.overdue_open);
    Some(match e.measure? {
        Measure::EhcpWithin20Weeks => {
            format!("Backlog on {}: {n} open requests past 20 weeks", e.as_of)
        }
        Measure::HealthAdviceWithin6Weeks => {
            format!(
                "Advice outstanding on {}: {n} requests past 6 weeks",
                e.as_of
            )
        }
        Measure::TransitionReviewsByDeadline => format!(
            "Reviews overdue on {}: {n} not completed, past their due date or cohort deadline",
            e.as_of
        ),
        Measure::OtherReviewsCompleted => format!(
            "Reviews overdue on {}: {n} not completed, past their due date",
            e.as_of
        ),
        Measure::AverageWaitWeeks => format!(
            "Still waiting on {}: {}, of whom past 18 weeks: {n}",
            e.as_of,
            suppress(e.waiting)
        ),
    })
}

/// A figure as the mail may show it: "no data", the value, or for an average over fewer than
/// [`SMALL_COUNT`] referrals nothing (it would be a child's own wait, or close to it).
fn shown(e: &Evaluation, f: Option<Figure>) -> String {
    match f {
        Some(f) if is_wait(e) && f.count.is_some_and(few) => "not shown: <5 referrals".to_string(),
        Some(f) => e.format(f.value),
        None => "no data".to_string(),
    }
}

fn few(c: Count) -> bool {
    c.denominator < FEWEST_FOR_AN_AVERAGE
}

/// The direction of travel, with the previous value written as [`shown`] writes it.
fn direction(e: &Evaluation) -> String {
    if !is_wait(e) || !e.previous_count().is_some_and(few) {
        return e.direction.clone();
    }
    let previous = shown(e, e.previous);
    direction_of_travel(&Travel {
        value: e.value(),
        previous: e.previous_value(),
        previous_text: &previous,
        target: e.milestone.as_ref().map(|m| (m.target, m.from)),
        baseline: None,
        baseline_pending: false,
        better: e.better,
        period_noun: period_noun(e.period.kind()),
    })
}

/// "Value: 53.1% (26 of 49 new EHC plans within 20 weeks)", or the figure alone when it was
/// entered without its counts.
fn value_with_counts(e: &Evaluation, f: Figure, noun: &str, within: &str) -> String {
    match f.count {
        Some(c) if is_wait(e) => format!(
            "{} (average over {} {noun} {within} in {})",
            shown(e, Some(f)),
            suppress(c.denominator),
            e.period.label()
        ),
        Some(c) => format!(
            "{} ({} of {} {noun} {within})",
            e.format(f.value),
            suppress(c.numerator),
            suppress(c.denominator)
        ),
        None => e.format(f.value),
    }
}

fn item(b: &mut String, e: &Evaluation, ctx: &Context<'_>) {
    let (noun, within) = words(e.measure);
    let _ = writeln!(b, "KPI {}: {}", e.kpi_id, e.title);
    let _ = writeln!(
        b,
        "  Period:           {} ({})",
        e.period.label(),
        basis_phrase(e)
    );
    match e.current {
        Some(f) if is_wait(e) && f.count.is_some_and(few) => {
            let _ = writeln!(
                b,
                "  Value:            not shown: an average over <5 {noun} {within} in {}",
                e.period.label()
            );
        }
        Some(f) => {
            let _ = writeln!(
                b,
                "  Value:            {}",
                value_with_counts(e, f, noun, within)
            );
        }
        None if is_wait(e) => {
            let _ = writeln!(
                b,
                "  Value:            NO DATA: no {noun} {within} in {}",
                e.period.label()
            );
        }
        None if e.measure.is_none() => {
            let _ = writeln!(
                b,
                "  Value:            NO DATA: no value has been entered for {}",
                e.period.label()
            );
        }
        None => {
            let _ = writeln!(
                b,
                "  Value:            NO DATA: no {noun} to count for {}",
                e.period.label()
            );
        }
    }
    // The value only: its counts less the period's would give the earlier months' counts,
    // small ones among them.
    // Not for a cumulative KPI (the reviews): its period's figure is already the year's to date.
    if let Some(f) = e.year_to_date
        && !e.period.kind().is_year()
        && e.measure
            .is_none_or(|m| m.aggregation() == Aggregation::Sum)
    {
        let _ = writeln!(b, "  Year to date:     {}", shown(e, Some(f)));
    }
    match &e.milestone {
        Some(m) => {
            let label = m
                .label
                .as_deref()
                .map(|l| format!(", \"{l}\""))
                .unwrap_or_default();
            let _ = writeln!(
                b,
                "  Target in force:  {} (milestone from {}{label})",
                e.format(m.target),
                m.from.label()
            );
            if let Some(t) = &e.in_force {
                if let (Some(from), Some(reason)) = (t.effective, &t.reason) {
                    let _ = writeln!(
                        b,
                        "                    under the targets reset from {}: {reason}",
                        from.label()
                    );
                }
                if let Some(note) = &t.note {
                    let _ = writeln!(b, "                    {note}");
                }
            }
        }
        None => match e.in_force.as_ref().map(|t| &t.target) {
            Some(Target::EstablishBaseline { by }) => {
                let by = by.map(|d| format!(" by {d}")).unwrap_or_default();
                let late = if e.rag == Rag::BaselineOverdue {
                    ", and that date has passed"
                } else {
                    ""
                };
                let _ = writeln!(
                    b,
                    "  Target in force:  none: the baseline is to be established{by}{late}"
                );
            }
            _ => {
                let _ = writeln!(b, "  Target in force:  none yet");
            }
        },
    }
    let _ = writeln!(
        b,
        "  Previous value:   {} ({})",
        shown(e, e.previous),
        e.period.prev().label()
    );
    let _ = writeln!(b, "  RAG:              {}", e.rag);
    let _ = writeln!(b, "  Baseline:         {}", e.baseline);
    let _ = writeln!(b, "  Direction:        {}", direction(e));
    if let Some(open) = still_open(e) {
        let _ = writeln!(b, "  {open}");
    }
    let source = ctx
        .kpis
        .get(&e.kpi_id)
        .and_then(|k| k.source.as_deref())
        .unwrap_or("?");
    provenance(b, source, ctx.sources.get(source), e.as_of);
    if e.rag == Rag::NoData && ctx.sources.get(source).is_some_and(|s| s.load.is_none()) {
        let _ = writeln!(b, "  No extract of this source has ever been accepted.");
    }
}

fn provenance(b: &mut String, source: &str, note: Option<&SourceNote>, as_of: NaiveDate) {
    let Some(note) = note else {
        let _ = writeln!(b, "  Source:           {source}");
        return;
    };
    if let Some(l) = &note.load {
        let status = l
            .http_status
            .map(|s| format!("HTTP {s}, "))
            .unwrap_or_default();
        let _ = writeln!(
            b,
            "  Source:           extract `{}`, load {}: {}\n                    fetched {} UTC, {}{} bytes, {} rows, data as of {}\n                    sha256 {}",
            source,
            l.id,
            l.url,
            l.fetched_at.format("%Y-%m-%d %H:%M"),
            status,
            l.bytes.unwrap_or(0),
            l.rows_loaded.unwrap_or(0),
            l.data_as_of.unwrap_or(as_of),
            l.sha256.as_deref().unwrap_or("-"),
        );
    } else {
        let _ = writeln!(b, "  Source:           extract `{source}`: none loaded");
    }
    if let Some(err) = &note.latest_error {
        let _ = writeln!(
            b,
            "  WARNING:          this run's fetch of `{source}` failed, so these figures come from the \
             last good load above. The error: {}",
            first_line(err)
        );
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_suppressed() {
        assert_eq!(suppress(0), "<5");
        assert_eq!(suppress(4), "<5");
        assert_eq!(suppress(5), "5");
        assert_eq!(suppress(123), "123");
        // The averages' rule hides no fewer than the counts' rule does.
        assert_eq!(FEWEST_FOR_AN_AVERAGE, SMALL_COUNT);
    }
}
