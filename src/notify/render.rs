//! Render: a digest becomes a subject and a plain-text body. Pure.
//!
//! What goes in (DOMAIN 7): per KPI the period, value, target in force, previous value, RAG,
//! direction of travel, baseline, and the extract the figures came from; then each change of
//! a risk's score ([`super::risk`]). What stays out
//! (DOMAIN 8): case ids, dates about a child, free text; every count under 5 shows as "<5",
//! and an average wait over fewer than 5 referrals is not shown at all (over one referral it
//! would be that child's wait).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Digest, SourceNote, SubGroup};
use crate::kpi::{Basis, Catalogue, Count, FEWEST_FOR_AN_AVERAGE, Measure, direction_of_travel};
use crate::kpi::{Evaluation, Rag};

/// Small-cell suppression (counts under 5 shown as "<5"), shared with the stages before.
pub use crate::kpi::{SMALL_COUNT, suppress};

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
    pub risks: &'a crate::risk::Register,
    /// For the names of the sub-groups that own the risks.
    pub sub_groups: &'a BTreeMap<String, SubGroup>,
    pub sources: &'a BTreeMap<String, SourceNote>,
}

pub fn render(digest: &Digest<'_>, ctx: &Context<'_>) -> Rendered {
    let periods: Vec<String> = {
        let mut p: Vec<_> = digest.items.iter().map(|e| e.period).collect();
        p.sort();
        p.dedup();
        p.into_iter().map(|m| m.label()).collect()
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let (n, r) = (digest.items.len(), digest.risks.len());
    let mut what = Vec::new();
    if n > 0 {
        what.push(format!("{n} KPI{} slipped", plural(n)));
    }
    if r > 0 {
        what.push(format!("{r} risk{} changed", plural(r)));
    }
    let when = if periods.is_empty() {
        "risk log".to_string()
    } else {
        periods.join(", ")
    };
    let subject = format!(
        "{} {} SEND exception report, {when}: {} ({})",
        ctx.subject_prefix,
        ctx.area,
        what.join(", "),
        digest.sub_group_name
    )
    .trim()
    .to_string();

    let mut b = String::new();
    let _ = writeln!(b, "Exception report for the {}", digest.sub_group_name);
    if periods.is_empty() {
        let _ = writeln!(b, "{} SEND improvement plan, risk log", ctx.area);
    } else {
        let _ = writeln!(
            b,
            "{} SEND improvement plan, period {}",
            ctx.area,
            periods.join(", ")
        );
    }
    if n > 0 {
        let _ = writeln!(b);
        let _ = writeln!(
            b,
            "{} KPI{} owned by this sub-group missed the milestone target in force or could not be reported:",
            n,
            plural(n)
        );
    }
    for e in &digest.items {
        let _ = writeln!(b);
        item(&mut b, e, ctx);
    }
    if r > 0 {
        let holder = digest.risks.iter().any(|c| c.owner != digest.sub_group);
        super::risk::section(&mut b, &digest.risks, holder, ctx);
    }
    let _ = writeln!(b);
    let _ = writeln!(b, "--");
    let _ = writeln!(
        b,
        "Counts under {SMALL_COUNT} are shown as \"<5\". This report carries aggregate figures only: \
         no case ids, names or dates about a child."
    );
    if digest
        .items
        .iter()
        .any(|e| e.measure == Measure::AverageWaitWeeks)
    {
        let _ = writeln!(
            b,
            "An average wait over fewer than {FEWEST_FOR_AN_AVERAGE} referrals is not shown: it would \
             describe individual children."
        );
    }
    let why = match (n > 0, r > 0) {
        (true, false) => "these KPIs are RED or have no data for the period",
        (false, _) => "the score of a risk it hears of changed",
        (true, true) => {
            "these KPIs are RED or have no data for the period, and the score of a risk it hears of changed"
        }
    };
    let _ = writeln!(
        b,
        "Sent by sendwatch (job {}, run {}) because {why}.",
        ctx.job, ctx.run_id
    );
    Rendered { subject, body: b }
}

/// Nouns for what a measure counts.
fn words(measure: Measure) -> (&'static str, &'static str) {
    match measure {
        Measure::EhcpWithin20Weeks => ("new EHC plans", "within 20 weeks"),
        Measure::HealthAdviceWithin6Weeks => ("health advice requests", "within 6 weeks"),
        Measure::AverageWaitWeeks => ("referrals", "seen"),
    }
}

fn basis_phrase(measure: Measure, basis: Basis) -> &'static str {
    match (measure, basis) {
        (Measure::EhcpWithin20Weeks, Basis::Completed) => {
            "plans counted in the month the final plan was issued"
        }
        (Measure::EhcpWithin20Weeks, Basis::Started) => {
            "requests counted in the month they were received"
        }
        (Measure::HealthAdviceWithin6Weeks, Basis::Completed) => {
            "advice counted in the month it was returned"
        }
        (Measure::HealthAdviceWithin6Weeks, Basis::Started) => {
            "advice counted in the month it was requested"
        }
        (Measure::AverageWaitWeeks, Basis::Completed) => {
            "referrals counted in the month of their first appointment"
        }
        (Measure::AverageWaitWeeks, Basis::Started) => {
            "referrals counted in the month they were made; recent months read short, as their \
             long waits are not over yet"
        }
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".to_string(), crate::kpi::fmt_pct)
}

/// A value as the mail may show it: "no data", the figure, or for an average over fewer than
/// [`SMALL_COUNT`] referrals nothing (it would be a child's own wait, or close to it).
fn shown(measure: Measure, c: Option<Count>) -> String {
    match c {
        Some(c)
            if measure == Measure::AverageWaitWeeks && c.denominator < FEWEST_FOR_AN_AVERAGE =>
        {
            "not shown: <5 referrals".to_string()
        }
        Some(c) => measure
            .value(c.numerator, c.denominator)
            .map_or_else(|| "no data".to_string(), |v| measure.format(v)),
        None => "no data".to_string(),
    }
}

/// The direction of travel, with the previous value written as [`shown`] writes it.
fn direction(e: &Evaluation) -> String {
    if e.measure != Measure::AverageWaitWeeks {
        return e.direction.clone();
    }
    let previous = shown(e.measure, e.previous);
    direction_of_travel(
        e.value(),
        e.previous_value(),
        e.milestone.as_ref().map(|m| m.target),
        e.better,
        &|_| previous.clone(),
    )
}

fn item(b: &mut String, e: &Evaluation, ctx: &Context<'_>) {
    let (noun, within) = words(e.measure);
    let _ = writeln!(b, "KPI {}: {}", e.kpi_id, e.title);
    let _ = writeln!(
        b,
        "  Period:           {} ({})",
        e.period.label(),
        basis_phrase(e.measure, e.basis)
    );
    match e.current {
        Some(c)
            if e.measure == Measure::AverageWaitWeeks && c.denominator < FEWEST_FOR_AN_AVERAGE =>
        {
            let _ = writeln!(
                b,
                "  Value:            not shown: an average over <5 {noun} {within} in {}",
                e.period.label()
            );
        }
        Some(c) if e.measure == Measure::AverageWaitWeeks => {
            let _ = writeln!(
                b,
                "  Value:            {} (average over {} {noun} {within} in {})",
                shown(e.measure, e.current),
                suppress(c.denominator),
                e.period.label()
            );
        }
        Some(c) => {
            let _ = writeln!(
                b,
                "  Value:            {} ({} of {} {noun} {within})",
                pct(e.value()),
                suppress(c.numerator),
                suppress(c.denominator)
            );
        }
        None if e.measure == Measure::AverageWaitWeeks => {
            let _ = writeln!(
                b,
                "  Value:            NO DATA: no {noun} {within} in {}",
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
                e.measure.format(m.target),
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
        None => {
            let _ = writeln!(b, "  Target in force:  none yet");
        }
    }
    let _ = writeln!(
        b,
        "  Previous value:   {} ({})",
        shown(e.measure, e.previous),
        e.period.prev().label()
    );
    let _ = writeln!(b, "  RAG:              {}", e.rag);
    let _ = writeln!(b, "  Baseline:         {}", e.baseline);
    let _ = writeln!(b, "  Direction:        {}", direction(e));
    if e.measure == Measure::AverageWaitWeeks {
        let _ = writeln!(
            b,
            "  Still waiting on {}: {}, of whom past 18 weeks: {}",
            e.as_of,
            suppress(e.waiting),
            suppress(e.overdue_open)
        );
    } else {
        let _ = writeln!(
            b,
            "  Still open and past the limit on {}: {}",
            e.as_of,
            suppress(e.overdue_open)
        );
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
