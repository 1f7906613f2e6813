//! Render: a digest becomes a subject and a plain-text body. Pure.
//!
//! What goes in (DOMAIN 7): per KPI the period, value, target in force, previous value, RAG,
//! direction of travel, baseline, and the extract (or the entry by hand) the figures came
//! from; per manual KPI overdue, the period with no value and its due date; then each change
//! of a risk's score ([`super::risk`]). What stays out
//! (DOMAIN 8): case ids, dates about a child, free text; every count under 5 shows as "<5",
//! and an average wait over fewer than 5 referrals is not shown at all (over one referral it
//! would be that child's wait).

use std::fmt::Write as _;

use super::{Digest, RecipientDigest, SourceNote};
use crate::disclose;
use crate::kpi::manual::{self, Overdue};
use crate::kpi::{Aggregation, Evaluation, Period, PeriodKind, Rag};
use crate::kpi::{Basis, Figure, Measure, Target};

/// Small-cell suppression (counts under 5 shown as "<5"), shared with the stages before.
pub use crate::disclose::suppress;
use crate::disclose::suppress_i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

pub use super::context::Context;

/// The periods of a set of digests' KPI items, as labels in order.
fn periods(groups: &[&Digest<'_>]) -> Vec<String> {
    let mut p: Vec<_> = groups
        .iter()
        .flat_map(|d| d.items.iter().map(|e| e.period))
        .collect();
    p.sort();
    p.dedup();
    p.into_iter().map(|m| m.label()).collect()
}

fn plural(k: usize) -> &'static str {
    if k == 1 { "" } else { "s" }
}

/// The subject over `groups`, naming them as `names`.
fn subject(groups: &[&Digest<'_>], names: &str, ctx: &Context<'_>) -> String {
    let n: usize = groups.iter().map(|d| d.items.len()).sum();
    let late: usize = groups.iter().map(|d| d.overdue.len()).sum();
    let r: usize = groups.iter().map(|d| d.risks.len()).sum();
    let back: usize = groups.iter().map(|d| d.resolved.len()).sum();
    let mut what = Vec::new();
    if n > 0 || (late == 0 && r == 0 && back == 0) {
        what.push(format!("{n} KPI{} slipped", plural(n)));
    }
    if back > 0 {
        what.push(format!("{back} back on track"));
    }
    if late > 0 {
        what.push(format!("{late} value{} overdue", plural(late)));
    }
    if r > 0 {
        what.push(format!("{r} risk{} changed", plural(r)));
    }
    let periods = periods(groups);
    // A report of risk changes alone is about the risk log, not a period.
    let when = if !periods.is_empty() {
        format!(", {}", periods.join(", "))
    } else if n == 0 && late == 0 && r > 0 {
        ", risk log".to_string()
    } else {
        String::new()
    };
    format!(
        "{} {} SEND exception report{when}: {} ({names})",
        ctx.subject_prefix,
        ctx.area,
        what.join(", "),
    )
    .trim()
    .to_string()
}

/// "Lancashire SEND improvement plan, period Jul 2021" (or ", risk log").
fn plan_line(b: &mut String, groups: &[&Digest<'_>], ctx: &Context<'_>) {
    let periods = periods(groups);
    if periods.is_empty() {
        let only_risks = groups
            .iter()
            .all(|d| d.items.is_empty() && d.overdue.is_empty())
            && groups.iter().any(|d| !d.risks.is_empty());
        let log = if only_risks { ", risk log" } else { "" };
        let _ = writeln!(b, "{} SEND improvement plan{log}", ctx.area);
    } else {
        let _ = writeln!(
            b,
            "{} SEND improvement plan, period {}",
            ctx.area,
            periods.join(", ")
        );
    }
}

/// One sub-group's report: its own email, or the part of a recipient's digest for it.
pub fn render(digest: &Digest<'_>, ctx: &Context<'_>) -> Rendered {
    let groups = [digest];
    let mut b = String::new();
    let _ = writeln!(b, "Exception report for the {}", digest.sub_group_name);
    plan_line(&mut b, &groups, ctx);
    section(&mut b, digest, ctx);
    footer(&mut b, &groups, ctx);
    Rendered {
        subject: subject(&groups, &digest.sub_group_name, ctx),
        body: b,
    }
}

/// One person's digest: a single sub-group's report as [`render`] writes it, or for several
/// a section each, worst first, under one header and one footer.
pub fn render_for(digest: &RecipientDigest<'_>, ctx: &Context<'_>) -> Rendered {
    let groups: Vec<&Digest<'_>> = digest.groups.iter().collect();
    if let [one] = groups.as_slice() {
        return render(one, ctx);
    }
    let names: Vec<&str> = groups.iter().map(|d| d.sub_group_name.as_str()).collect();
    let mut b = String::new();
    let _ = writeln!(
        b,
        "Exception reports for {} sub-groups, the worst first: {}",
        groups.len(),
        names.join("; ")
    );
    plan_line(&mut b, &groups, ctx);
    for d in &groups {
        let _ = writeln!(b);
        let _ = writeln!(b, "== {} ==", d.sub_group_name);
        section(&mut b, d, ctx);
    }
    footer(&mut b, &groups, ctx);
    Rendered {
        subject: subject(&groups, &format!("{} sub-groups", groups.len()), ctx),
        body: b,
    }
}

/// A sub-group's items: slipped KPIs, overdue values, risk changes.
fn section(b: &mut String, digest: &Digest<'_>, ctx: &Context<'_>) {
    let n = digest.items.len();
    let late = digest.overdue.len();
    let r = digest.risks.len();
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
        item(b, e, ctx);
    }
    if late > 0 {
        let _ = writeln!(b);
        let _ = writeln!(
            b,
            "{late} KPI{} owned by this sub-group, entered by hand, {} no value for a period past its due date:",
            plural(late),
            if late == 1 { "has" } else { "have" }
        );
    }
    for o in &digest.overdue {
        let _ = writeln!(b);
        overdue_item(b, o);
    }
    if r > 0 {
        let holder = digest.risks.iter().any(|c| c.owner != digest.sub_group);
        super::risk::section(b, &digest.risks, holder, ctx);
    }
    // Resolved and silenced items (the routes' part; the templates lay them out in full).
    if !digest.resolved.is_empty() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Back on track since the last report:");
        for e in &digest.resolved {
            let _ = writeln!(b);
            let _ = writeln!(b, "KPI {}: {}", e.kpi_id, e.title);
            let _ = writeln!(b, "  Now:       {} in {}", e.rag, e.period.label());
        }
    }
    if !digest.silenced.is_empty() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Silenced (held back from this report, not dropped):");
        for s in &digest.silenced {
            let _ = writeln!(
                b,
                "  {}: silence {} until {} by {}: {}",
                s.item,
                s.silence_id,
                s.until.format("%Y-%m-%d"),
                s.author,
                s.comment
            );
        }
    }
}

/// What the figures may not show, and why the email was sent.
fn footer(b: &mut String, groups: &[&Digest<'_>], ctx: &Context<'_>) {
    let n: usize = groups.iter().map(|d| d.items.len()).sum();
    let late: usize = groups.iter().map(|d| d.overdue.len()).sum();
    let r: usize = groups.iter().map(|d| d.risks.len()).sum();
    let _ = writeln!(b);
    let _ = writeln!(b, "--");
    let _ = writeln!(
        b,
        "Counts under {t} are shown as \"<{t}\", and a percentage is shown only when neither of its \
         counts nor their difference is under {t}. This report carries aggregate figures only: \
         no case ids, names or dates about a child; dates are the extract's or the period's.",
        t = disclose::threshold()
    );
    if groups.iter().any(|d| d.items.iter().any(|e| is_wait(e))) {
        let _ = writeln!(
            b,
            "An average wait over fewer than {} referrals is not shown: it would \
             describe individual children.",
            disclose::threshold()
        );
    }
    let mut why = Vec::new();
    if n > 0 || r == 0 {
        why.push("these KPIs are RED or have no data for the period");
    }
    if r > 0 {
        why.push("the score of a risk it hears of changed");
    }
    let why = why.join(", and ");
    let _ = writeln!(
        b,
        "Sent by sendwatch (job {}, run {}) because {why}.",
        ctx.job, ctx.run_id
    );
    if late > 0 {
        let _ = writeln!(
            b,
            "A KPI entered by hand is overdue when no value has been entered for a period past its \
             due date; enter one with `sendwatch kpi set` or `sendwatch kpi import`."
        );
    }
}

/// A manual KPI overdue: the period with no value, when it was due, and how to enter it.
fn overdue_item(b: &mut String, o: &Overdue) {
    let _ = writeln!(b, "KPI {}: {}", o.kpi_id, o.title);
    let _ = writeln!(
        b,
        "  Overdue:          no value entered for {}, due by {}",
        o.due.label(),
        o.due_by
    );
    if o.earlier > 0 {
        let _ = writeln!(
            b,
            "                    (nor for {} earlier period{})",
            o.earlier,
            if o.earlier == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        b,
        "  To enter it:      sendwatch kpi set {} --period {} --value VALUE",
        o.kpi_id, o.due.period
    );
}

/// Where a manual KPI's figure came from: the entry, who made it and when (never its note).
fn entered_by_hand(b: &mut String, e: &Evaluation, ctx: &Context<'_>) {
    let entry = ctx.kpis.get(&e.kpi_id).and_then(|k| {
        let due = manual::due_containing(k, e.period.last_month());
        manual::covering(ctx.entered, &e.kpi_id, due)
    });
    match entry {
        Some(x) => {
            let _ = writeln!(
                b,
                "  Source:           entered by hand by {} on {} (entry {}, for {})",
                x.value.by,
                x.entered_at.format("%Y-%m-%d"),
                x.id,
                x.value.period.label()
            );
        }
        None => {
            let _ = writeln!(
                b,
                "  Source:           entered by hand: no value for {}",
                e.period.label()
            );
        }
    }
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

/// What stays open beside the KPI in the extract (no date: the extract's latest event date
/// could be one child's; its fetch date is in the provenance below): the assessment backlog, advice
/// outstanding, reviews overdue, referrals still waiting; nothing for a value entered by hand.
fn still_open(e: &Evaluation) -> Option<String> {
    let n = suppress(e.overdue_open);
    Some(match e.measure? {
        Measure::EhcpWithin20Weeks => {
            format!("Backlog in the extract: {n} open requests past 20 weeks")
        }
        Measure::HealthAdviceWithin6Weeks => {
            format!("Advice outstanding in the extract: {n} requests past 6 weeks")
        }
        Measure::TransitionReviewsByDeadline => format!(
            "Reviews overdue in the extract: {n} not completed, past their due date or cohort deadline"
        ),
        Measure::OtherReviewsCompleted => {
            format!("Reviews overdue in the extract: {n} not completed, past their due date")
        }
        // "of whom" is a part of a whole: shown only when the rest is not small either.
        Measure::AverageWaitWeeks => {
            let (past, waiting) = disclose::share_counts(e.overdue_open, e.waiting);
            format!("Still waiting in the extract: {waiting}, of whom past 18 weeks: {past}")
        }
    })
}

/// A figure as the mail may show it: "no data", the value, or nothing when disclosure control
/// hides it (an average over fewer than the threshold, a share with a small part).
fn shown(e: &Evaluation, f: Option<Figure>) -> String {
    match f {
        Some(f) if !f.disclosable(is_wait(e)) => Figure::hidden_text(is_wait(e)),
        Some(f) => e.format(f.value),
        None => "no data".to_string(),
    }
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
        // A value entered by hand has no noun: "(<5 of 10 as entered)".
        Some(c) => {
            let (n, d) = disclose::share_counts(c.numerator, c.denominator);
            format!(
                "{} ({n} of {d} {})",
                shown(e, Some(f)),
                [noun, within].join(" ").trim()
            )
        }
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
        Some(f) if is_wait(e) && !f.disclosable(true) => {
            let _ = writeln!(
                b,
                "  Value:            not shown: an average over {} {noun} {within} in {}",
                disclose::hidden(),
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
    let _ = writeln!(b, "  Direction:        {}", e.direction);
    if let Some(open) = still_open(e) {
        let _ = writeln!(b, "  {open}");
    }
    if e.measure.is_none() {
        entered_by_hand(b, e, ctx);
        return;
    }
    let source = ctx
        .kpis
        .get(&e.kpi_id)
        .and_then(|k| k.source.as_deref())
        .unwrap_or("?");
    provenance(b, source, ctx.sources.get(source));
    if e.rag == Rag::NoData && ctx.sources.get(source).is_some_and(|s| s.load.is_none()) {
        let _ = writeln!(b, "  No extract of this source has ever been accepted.");
    }
}

fn provenance(b: &mut String, source: &str, note: Option<&SourceNote>) {
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
            "  Source:           extract `{}`, load {}: {}\n                    fetched {} UTC, {}{} bytes, {} rows\n                    sha256 {}",
            source,
            l.id,
            l.url,
            l.fetched_at.format("%Y-%m-%d %H:%M"),
            status,
            l.bytes.unwrap_or(0),
            suppress_i64(l.rows_loaded.unwrap_or(0)),
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
mod tests;
