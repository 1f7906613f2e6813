//! A KPI in exception as a digest tells it ([`Slipped`], the digest's part of a
//! [`super::KpiRow`]): every figure already a string written through [`crate::disclose`]
//! (counts under the threshold "<5", shares with a small part and averages over few referrals
//! "not shown", no event dates). Pure: the report's time comes in as an argument.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::KpiRow;
use crate::disclose::{Disclosure, Verdict};
use crate::kpi::commentary::Commentary;
use crate::kpi::manual::Entered;
use crate::kpi::{Aggregation, Basis, Evaluation, Figure, KpiSettings, Measure, Month, Period};
use crate::kpi::{PeriodKind, Rag, Target, Unit, target_in_force, versions};
use crate::store::LoadRecord;
use crate::view::chart::{Series, TrendRow};
use crate::view::{NOT_RATED_COLOUR, not_rated, rag_colour};

mod provenance;

use provenance::{entered_by_hand, extract_facts};

/// Days an owner is given to answer for a slipped KPI when no commentary is on record.
pub const COMMENTARY_DAYS: i64 = 14;

/// What a digest says of one slipped KPI (its id and title are the row's).
#[derive(Debug, Clone, Serialize)]
pub struct Slipped {
    pub period: String,
    /// How the figure is counted ("plans counted in the month the final plan was issued").
    pub basis: String,
    pub rag: String,
    /// The RAG colour (background, text) for the HTML.
    pub rag_colour: &'static str,
    pub rag_text_colour: &'static str,
    /// The value alone ("53.1%", "NO DATA", "not shown: <5 in a count").
    pub value: String,
    /// The value with its counts, as the text part writes it.
    pub value_line: String,
    /// "26 of 49 new EHC plans within 20 weeks", or "average over 7 referrals seen in July 2021".
    pub counts: Option<String>,
    pub year_to_date: Option<String>,
    pub target: String,
    pub target_notes: Vec<String>,
    /// The next milestone after the period: "75.0% from April 2022 (\"Apr-22: 75%\")".
    pub next_milestone: Option<String>,
    /// "42.0% (June 2021)".
    pub previous: String,
    /// "up 3.2 points on June 2021", when both figures may be shown.
    pub change: Option<String>,
    pub baseline: String,
    pub direction: String,
    pub still_open: Option<String>,
    /// "extract "tracker"" or "entered by hand".
    pub source: String,
    /// How old the figures' data is: "fetched 2021-08-02 07:00 UTC (3 days before this report); data to July 2021".
    pub freshness: String,
    /// The text part's source lines (provenance, as before).
    pub source_lines: Vec<String>,
    pub provenance: Vec<Fact>,
    pub warning: Option<String>,
    pub commentary: CommentaryView,
    /// The content id of its trend chart, when the mail has one.
    pub chart_cid: Option<String>,
    pub chart_caption: Option<String>,
    /// The chart's figures in words (the chart itself has no text), oldest first.
    pub trend: Vec<TrendRow>,
}

/// A KPI's chart in the mail: its content id and the series it draws.
#[derive(Debug, Clone)]
pub struct ChartRef {
    pub cid: String,
    pub series: Series,
}

/// What the slipped part is written from besides the evaluation: the KPI's catalogue entry,
/// the load its figures came from and this run's error fetching its source, the values
/// entered by hand and the owners' commentary.
#[derive(Debug, Clone)]
pub struct ItemContext<'a> {
    pub kpi: Option<&'a KpiSettings>,
    /// The load in force for the KPI's source (none if no extract was ever accepted).
    pub load: Option<&'a LoadRecord>,
    /// This run's fetch or validation error for the source, when there was one.
    pub latest_error: Option<String>,
    /// What became of the source this run, in one word ("held", "rejected", "fetch
    /// failed"; [`crate::store::SourceOutcome::word`]), so a held load is called held.
    pub outcome: Option<&'static str>,
    pub entered: &'a [Entered],
    pub commentary: &'a [Commentary],
    /// The rules every figure of the row is written by (`[disclosure]`).
    pub disclosure: Disclosure,
    /// The digest's links ([`crate::view::ask`]); `None`: the request's words alone.
    pub linker: Option<crate::view::ask::Linker<'a>>,
}

/// A label and its value, for the collapsed provenance footer.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// The request the seeds' exception reports answered (DOMAIN 7).
#[derive(Debug, Clone, Serialize)]
pub struct CommentaryView {
    /// Whether the owner has supplied it.
    pub supplied: bool,
    pub reason: String,
    pub actions: String,
    pub revised_date: String,
    pub next_update: String,
    pub author: String,
    /// "requested from the owner, wanted by 2021-08-16" when none is on record.
    pub requested: String,
    /// The link that answers the request ([`crate::view::ask::link`]), when there is one.
    pub link: Option<String>,
}

/// The digest's row for `e`, with its chart when the mail carries one.
pub fn row(
    e: &Evaluation,
    ctx: &ItemContext<'_>,
    now: DateTime<Utc>,
    chart: Option<ChartRef>,
) -> KpiRow {
    KpiRow {
        slipped: Some(slipped(e, ctx, now, chart)),
        ..KpiRow::new(&e.kpi_id, &e.title)
    }
}

fn slipped(
    e: &Evaluation,
    ctx: &ItemContext<'_>,
    now: DateTime<Utc>,
    chart: Option<ChartRef>,
) -> Slipped {
    let (kpi, d) = (ctx.kpi, ctx.disclosure);
    let (noun, within) = words(e.measure);
    let value = match e.current {
        Some(_) => shown(e, e.current, e.shown.current, d),
        None => "NO DATA".to_string(),
    };
    let counts = e
        .current
        .and_then(|f| counts(e, f, e.shown.current, noun, within, d));
    let (target, target_notes) = target(e);
    let source_name = kpi.and_then(|k| k.source.as_deref()).unwrap_or("?");
    let (source, freshness, source_lines, provenance, warning) = if e.measure.is_none() {
        let line = entered_by_hand(e, ctx);
        (
            "entered by hand".to_string(),
            "a value entered by hand".to_string(),
            vec![line.clone()],
            vec![Fact {
                label: "Source".into(),
                value: line,
            }],
            None,
        )
    } else {
        extract_facts(source_name, ctx, now, e.rag)
    };
    let chart_caption = chart.as_ref().map(|c| chart_caption(e, c));
    let trend: Vec<TrendRow> = chart
        .as_ref()
        .map_or_else(Vec::new, |c| c.series.rows(|v| e.format(v)));
    // A value not shown is not rated either: the owner is told it needs attention, not why.
    let hidden = super::unrated(e);
    let (rag, (rag_bg, rag_fg), direction) = if hidden {
        (
            not_rated().to_string(),
            NOT_RATED_COLOUR,
            not_rated().to_string(),
        )
    } else {
        (e.rag.to_string(), rag_colour(e.rag), e.direction.clone())
    };
    Slipped {
        period: e.period.label(),
        basis: basis_phrase(e),
        rag,
        rag_colour: rag_bg,
        rag_text_colour: rag_fg,
        value_line: value_line(e, noun, within, d),
        value,
        counts,
        year_to_date: year_to_date(e, d),
        target,
        target_notes,
        next_milestone: kpi.and_then(|k| next_milestone(k, e)),
        previous: format!(
            "{} ({})",
            shown(e, e.previous, e.shown.previous, d),
            e.period.prev().label()
        ),
        change: change(e, d),
        baseline: e.baseline.clone(),
        direction,
        still_open: still_open(e, d),
        source,
        freshness,
        source_lines,
        provenance,
        warning,
        commentary: commentary(e, ctx.commentary, now, ctx.linker.as_ref()),
        chart_cid: chart.map(|c| c.cid),
        chart_caption,
        trend,
    }
}

/// The words under a KPI's chart for a reader who cannot see it: what it draws (the layers
/// its legend names) and its scale.
fn chart_caption(e: &Evaluation, c: &ChartRef) -> String {
    let (lo, hi) = c.series.range();
    // The layers the chart draws (issue 21), named as its legend names them.
    let mut layers = String::new();
    if !c.series.spc.is_empty() {
        layers.push_str(", the SPC mean (grey) and process limits (dashed grey)");
    }
    if let Some(p) = c.series.projection {
        layers.push_str(&format!(
            ", the projection to {} (dashed blue) and its {:.0}% interval (shaded)",
            p.milestone.label(),
            crate::kpi::forecast::LEVEL * 100.0
        ));
    }
    format!(
        "KPI {}: {} periods to {} (line) against the milestone target (dashed){layers}, \
         on a scale from {} (bottom) to {} (top); a period whose figure may not be shown \
         is a gap.",
        e.kpi_id,
        c.series.points.len(),
        e.period.label(),
        e.format(lo),
        e.format(hi)
    )
}

fn is_wait(e: &Evaluation) -> bool {
    e.measure == Some(Measure::AverageWaitWeeks)
}

/// Nouns for what a measure counts.
fn words(measure: Option<Measure>) -> (&'static str, &'static str) {
    match measure {
        Some(Measure::EhcpWithin20Weeks) => ("new EHC plans", "within 20 weeks"),
        Some(Measure::HealthAdviceWithin6Weeks) => ("health advice requests", "within 6 weeks"),
        Some(Measure::DecisionWithin6Weeks) => {
            ("requests for assessment", "decided within 6 weeks")
        }
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
        (Measure::DecisionWithin6Weeks, Basis::Completed) => {
            "requests counted in the month they were decided".into()
        }
        (Measure::DecisionWithin6Weeks, Basis::Started) => {
            "requests counted in the month they were received".into()
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

/// What stays open beside the KPI in the extract (no date: the extract's latest event date
/// could be one child's; its fetch date is in the provenance): the assessment backlog, advice
/// outstanding, reviews overdue, referrals still waiting; nothing for a value entered by hand.
/// The backlog of a period that ended before that date is its own, at the period's end.
fn still_open(e: &Evaluation, d: Disclosure) -> Option<String> {
    let n = d.suppress(e.overdue_open);
    Some(match e.measure? {
        Measure::EhcpWithin20Weeks if e.period.last_month().last_day() < e.as_of => format!(
            "Backlog at the end of {}: {n} open requests past 20 weeks",
            e.period.label()
        ),
        Measure::EhcpWithin20Weeks => {
            format!("Backlog in the extract: {n} open requests past 20 weeks")
        }
        Measure::HealthAdviceWithin6Weeks => {
            format!("Advice outstanding in the extract: {n} requests past 6 weeks")
        }
        Measure::DecisionWithin6Weeks => {
            format!("Awaiting a decision in the extract: {n} requests past 6 weeks")
        }
        Measure::TransitionReviewsByDeadline => format!(
            "Reviews overdue in the extract: {n} not completed, past their due date or cohort deadline"
        ),
        Measure::OtherReviewsCompleted => {
            format!("Reviews overdue in the extract: {n} not completed, past their due date")
        }
        // "of whom" is a part of a whole: shown only when the rest is not small either.
        Measure::AverageWaitWeeks => {
            let (past, waiting) = d.share_counts(e.overdue_open, e.waiting);
            format!("Still waiting in the extract: {waiting}, of whom past 18 weeks: {past}")
        }
    })
}

/// A figure as the mail may show it: "no data", the value (rounded under that policy), or the
/// words that stand in for it when disclosure control hides it (`v`: decided over the KPI's
/// series).
pub(super) fn shown(e: &Evaluation, f: Option<Figure>, v: Verdict, d: Disclosure) -> String {
    match f.map(|f| (f, f.written(is_wait(e), d))) {
        Some((_, Some(value))) if v.value => e.format(value),
        Some(_) => Figure::hidden_as(v, is_wait(e), d),
        None => "no data".to_string(),
    }
}

/// The counts behind a figure, as they may be written.
fn counts(
    e: &Evaluation,
    f: Figure,
    v: Verdict,
    noun: &str,
    within: &str,
    d: Disclosure,
) -> Option<String> {
    let c = f.count?;
    Some(if is_wait(e) {
        format!(
            "average over {} {noun} {within} in {}",
            d.suppress(c.denominator),
            e.period.label()
        )
    } else {
        let (n, d) = d.share_counts_as(v, c.numerator, c.denominator);
        // A value entered by hand has no noun: "<5 of 10 as entered".
        format!("{n} of {d} {}", [noun, within].join(" ").trim())
    })
}

/// The text part's value line: "53.1% (26 of 49 new EHC plans within 20 weeks)", or why
/// there is none.
fn value_line(e: &Evaluation, noun: &str, within: &str, d: Disclosure) -> String {
    let v = e.shown.current;
    match e.current {
        Some(_) if is_wait(e) && !v.value => d.hidden_words(
            v,
            &format!(
                "an average over {} {noun} {within} in {}",
                d.hidden(),
                e.period.label()
            ),
        ),
        Some(f) => match counts(e, f, v, noun, within, d) {
            Some(c) => format!("{} ({c})", shown(e, Some(f), v, d)),
            None => e.format(f.value),
        },
        None if is_wait(e) => format!("NO DATA: no {noun} {within} in {}", e.period.label()),
        None if e.measure.is_none() => format!(
            "NO DATA: no value has been entered for {}",
            e.period.label()
        ),
        None => format!("NO DATA: no {noun} to count for {}", e.period.label()),
    }
}

/// The value only: its counts less the period's would give the earlier months' counts, small
/// ones among them. Not for a cumulative KPI (its period's figure is already the year's).
fn year_to_date(e: &Evaluation, d: Disclosure) -> Option<String> {
    let f = e.year_to_date?;
    let summed = e
        .measure
        .is_none_or(|m| m.aggregation() == Aggregation::Sum);
    (!e.period.kind().is_year() && summed).then(|| shown(e, Some(f), e.shown.year_to_date, d))
}

/// The target in force and the notes under it (a retarget's reason, how it was worked out).
fn target(e: &Evaluation) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let line = match &e.milestone {
        Some(m) => {
            let label = m
                .label
                .as_deref()
                .map(|l| format!(", \"{l}\""))
                .unwrap_or_default();
            if let Some(t) = &e.in_force {
                if let (Some(from), Some(reason)) = (t.effective, &t.reason) {
                    notes.push(format!(
                        "under the targets reset from {}: {reason}",
                        from.label()
                    ));
                }
                if let Some(note) = &t.note {
                    notes.push(note.clone());
                }
            }
            format!(
                "{} (milestone from {}{label})",
                e.format(m.target),
                m.from.label()
            )
        }
        None => match e.in_force.as_ref().map(|t| &t.target) {
            Some(Target::EstablishBaseline { by }) => {
                let by = by.map(|d| format!(" by {d}")).unwrap_or_default();
                let late = if e.rag == Rag::BaselineOverdue {
                    ", and that date has passed"
                } else {
                    ""
                };
                format!("none: the baseline is to be established{by}{late}")
            }
            _ => "none yet".to_string(),
        },
    };
    (line, notes)
}

/// The first milestone after the period: a new figure from a later month, under whichever
/// version of the targets will be in force then.
pub fn next_milestone(k: &KpiSettings, e: &Evaluation) -> Option<String> {
    let after = e.period.last_month();
    let mut months: Vec<Month> = versions(k)
        .iter()
        .flat_map(|v| v.milestones.iter())
        .filter_map(|m| m.from.parse::<Month>().ok())
        .filter(|m| *m > after)
        .collect();
    months.sort();
    months.dedup();
    months.into_iter().find_map(|m| {
        let t = target_in_force(k, m)?;
        (t.from == m).then(|| {
            let what = match t.target {
                Target::Value(v) => e.format(v),
                Target::EstablishBaseline { .. } => "baseline to be established".into(),
                Target::NotApplicable => "no target (NA)".into(),
                Target::Unknown => "the national average (not yet entered)".into(),
            };
            let label = t.label.map(|l| format!(" (\"{l}\")")).unwrap_or_default();
            format!("{what} from {}{label}", m.label())
        })
    })
}

/// The change on the previous period, when both figures are rated: the difference of the
/// two values as written.
fn change(e: &Evaluation, d: Disclosure) -> Option<String> {
    let (now, before) = (e.current?, e.previous?);
    if !e.shown.current.rated || !e.shown.previous.rated {
        return None;
    }
    let diff = now.written(is_wait(e), d)? - before.written(is_wait(e), d)?;
    let unit = match e.unit {
        Unit::Percent => "points",
        Unit::Weeks => "weeks",
        Unit::Count | Unit::Deliverable => "",
    };
    let prev = e.period.prev().label();
    if diff.abs() < 0.05 {
        return Some(format!("no change on {prev}"));
    }
    let way = if diff > 0.0 { "up" } else { "down" };
    let amount = format!("{:.1} {unit}", diff.abs());
    Some(format!("{way} {} on {prev}", amount.trim_end()))
}

/// The owner's commentary for the KPI and period, the latest entered; else the request for it.
fn commentary(
    e: &Evaluation,
    all: &[Commentary],
    now: DateTime<Utc>,
    linker: Option<&crate::view::ask::Linker<'_>>,
) -> CommentaryView {
    let date = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".into(), |d| d.to_string());
    let found = all
        .iter()
        .filter(|c| c.kpi_id == e.kpi_id && c.period == e.period)
        .max_by_key(|c| c.entered_at);
    let wanted = (now + chrono::TimeDelta::days(COMMENTARY_DAYS)).date_naive();
    match found {
        Some(c) => CommentaryView {
            supplied: true,
            reason: c.reason.clone(),
            actions: c.actions.clone(),
            revised_date: date(c.revised_date),
            next_update: date(c.next_update),
            author: format!("{}, {}", c.author, c.entered_at.format("%Y-%m-%d")),
            requested: String::new(),
            link: None,
        },
        None => CommentaryView {
            supplied: false,
            reason: String::new(),
            actions: String::new(),
            revised_date: String::new(),
            next_update: String::new(),
            author: String::new(),
            requested: format!(
                "requested from the owner, wanted by {wanted}: the reason, the recovery \
                 actions, a revised date and when the next update will be"
            ),
            link: crate::view::ask::link(
                linker,
                crate::view::ask::Request::Commentary {
                    kpi: &e.kpi_id,
                    period: &e.period.to_string(),
                },
            ),
        },
    }
}
