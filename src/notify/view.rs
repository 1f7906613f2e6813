//! The digest as the templates see it: plain serialisable structs built from a
//! [`RecipientDigest`] and the render [`Context`]. Every figure in them is already a string
//! written through [`crate::disclose`], so no template, however a council restyles it, can
//! print a raw count, a share with a small part, or an event date (DOMAIN 8). Pure: the
//! report's time comes in as an argument.
//!
//! Owns: the digest's heading, subject, footer and silenced items; every KPI (slipped, back
//! on track, a value overdue), risk change and slipped action is a row of [`crate::view`],
//! built here from the digest; which early warnings are items of their own (a KPI the
//! digest shows in exception or overdue says its warning in that block, so it is read and
//! counted once). Must not: lay anything out (that is the templates', `config/templates/`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::context::Context;
use super::{ActionNote, Digest, RecipientDigest, Silenced};
use crate::kpi::{Evaluation, Rag};
use crate::view::action::ActionRow;
use crate::view::ask::Linker;
use crate::view::kpi::{ItemContext, KpiRow, notice, unrated};
use crate::view::pending::Pending;
use crate::view::plural;
use crate::view::risk::RiskRow;
use crate::view::warning::WarningRow;

pub use crate::view::kpi::{COMMENTARY_DAYS, ChartRef};

#[cfg(test)]
mod early_warning_tests;
#[cfg(test)]
mod tests;

/// One recipient's email.
#[derive(Debug, Clone, Serialize)]
pub struct DigestView {
    pub area: String,
    pub subject_prefix: String,
    pub job: String,
    pub run_id: String,
    /// "Exception report for the X Sub Group", or for several sub-groups.
    pub heading: String,
    /// "Sefton SEND improvement plan, period July 2021".
    pub plan_line: String,
    /// The periods of its KPI items ("July 2021"), or "risk log".
    pub periods: String,
    /// What it holds, for the subject: "3 KPIs slipped (2 red), 1 value overdue".
    pub summary: String,
    /// How many KPI items are RED.
    pub red: String,
    /// The sub-group's name, or "N sub-groups".
    pub names: String,
    /// The subject as the built-in template writes it (a council's may write its own).
    pub subject: String,
    pub groups: Vec<GroupView>,
    /// When the report was made (the run's time, UTC, to the minute).
    pub made_at: String,
    /// What awaits approval, in the board's digest only (the board signs figures off; the
    /// others hear of their own items). Never a reason to send: no item, no news key.
    pub pending: Option<Pending>,
    pub footer: Vec<String>,
}

/// One sub-group's part.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub key: String,
    pub name: String,
    pub kpis_intro: Option<String>,
    pub kpis: Vec<KpiRow>,
    pub overdue_intro: Option<String>,
    pub overdue: Vec<KpiRow>,
    pub risks_intro: Option<String>,
    pub risks: Vec<RiskRow>,
    pub resolved: Vec<KpiRow>,
    pub actions: Vec<ActionRow>,
    /// KPIs whose projection says they may miss their next milestone (the templates' early
    /// warning block).
    pub warnings: Vec<WarningRow>,
    /// KPIs an early warning was told of that are on course again for that milestone.
    pub back_on_course: Vec<WarningRow>,
    pub silenced: Vec<SilencedView>,
}

impl GroupView {
    /// The items the reader sees in this part: each row once (a KPI in exception whose
    /// warning its block says is one).
    pub fn items(&self) -> usize {
        self.kpis.len()
            + self.overdue.len()
            + self.risks.len()
            + self.resolved.len()
            + self.actions.len()
            + self.warnings.len()
            + self.back_on_course.len()
    }
}

/// An item a silence holds back.
#[derive(Debug, Clone, Serialize)]
pub struct SilencedView {
    pub item: String,
    pub silence: String,
    pub until: String,
    pub comment: String,
    pub author: String,
}

/// How many of a sub-group's KPI items the mail says are RED: one whose value is not shown
/// is not rated in the mail, so not counted red either.
fn said_red(d: &Digest<'_>) -> usize {
    d.items
        .iter()
        .filter(|e| e.rag == Rag::Red && !unrated(e))
        .count()
}

/// The overdue manual values of `d` whose KPI no section of the digest (`all`) already
/// shows as a card for the missing value (a BASELINE OVERDUE or NO DATA card names it
/// itself): each KPI's missing value once per digest, and counted once. A card with a
/// figure (RED for an earlier period) does not ask for the value, so the request stays:
/// hidden, it would be counted as told ([`crate::notify::chase`]) and never asked.
fn late<'a, 'b>(d: &'b Digest<'a>, all: &[&Digest<'_>]) -> Vec<&'b crate::kpi::manual::Overdue> {
    d.overdue
        .iter()
        .copied()
        .filter(|o| {
            !all.iter().any(|g| {
                g.items
                    .iter()
                    .any(|e| e.kpi_id == o.kpi_id && crate::notify::chase::value_missing(e))
            })
        })
        .collect()
}

/// What a digest holds, counted for its subject, its summary line and its footer.
struct Tally {
    /// Slipped KPIs, and how many of them the mail says are RED.
    n: usize,
    red: usize,
    late: usize,
    risks: usize,
    back: usize,
    /// Early warnings told as items of their own (a KPI in exception or overdue says its
    /// warning in its block, and is not counted again).
    warned: usize,
    recovered: usize,
    /// "3 KPIs slipped (2 red), 1 value overdue".
    summary: String,
}

fn tally(groups: &[&Digest<'_>]) -> Tally {
    let count = |f: &dyn Fn(&Digest<'_>) -> usize| groups.iter().map(|d| f(d)).sum::<usize>();
    let n = count(&|d| d.items.len());
    let red = count(&|d| said_red(d));
    let unrated = count(&|d| d.items.iter().filter(|e| unrated(e)).count());
    let late = count(&|d| late(d, groups).len());
    let r = count(&|d| d.risks.len());
    let back = count(&|d| d.resolved.len());
    let acts = count(&|d| d.actions.len());
    // A warning of a KPI in exception is said in its block, and counted as that KPI.
    let warned = count(&|d| own_warnings(d, groups, true).count());
    let recovered = count(&|d| own_warnings(d, groups, false).count());
    let mut what = Vec::new();
    let quiet = late == 0 && r == 0 && back == 0 && acts == 0 && warned == 0 && recovered == 0;
    if n > 0 || quiet {
        // A slipped KPI whose value is not shown is not rated, so not said to be red.
        // No count of them: the list says which they are.
        let rated = match (red, unrated) {
            (_, 0) => format!("{red} red"),
            (0, _) => "not rated".to_string(),
            (r, _) => format!("{r} red, some not rated"),
        };
        what.push(format!("{n} KPI{} slipped ({rated})", plural(n)));
    }
    if late > 0 {
        what.push(format!("{late} value{} overdue", plural(late)));
    }
    if r > 0 {
        what.push(format!("{r} risk{} changed", plural(r)));
    }
    if acts > 0 {
        what.push(format!("{acts} action{} slipped", plural(acts)));
    }
    if back > 0 {
        what.push(format!("{back} back on track"));
    }
    if warned > 0 {
        what.push(format!("{warned} at risk of missing a milestone"));
    }
    if recovered > 0 {
        what.push(format!("{recovered} back on course for a milestone"));
    }
    Tally {
        n,
        red,
        late,
        risks: r,
        back,
        warned,
        recovered,
        summary: what.join(", "),
    }
}

/// The view of `digest`; `charts` gives a KPI's trend chart in the mail (its content id and
/// points), when the mail carries one.
pub fn build(
    digest: &RecipientDigest<'_>,
    ctx: &Context<'_>,
    now: DateTime<Utc>,
    charts: &dyn Fn(&Evaluation) -> Option<ChartRef>,
) -> DigestView {
    let groups: Vec<&Digest<'_>> = digest.groups.iter().collect();
    let names = match groups.as_slice() {
        [one] => one.sub_group_name.clone(),
        many => format!("{} sub-groups", many.len()),
    };
    let heading = match groups.as_slice() {
        [one] => format!("Exception report for the {}", one.sub_group_name),
        many => format!(
            "Exception reports for {} sub-groups, the worst first: {}",
            many.len(),
            many.iter()
                .map(|d| d.sub_group_name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    // Each recipient's own links, made at the report's time (never part of the outbox's key:
    // that is the news, [`super::RecipientDigest::key`]).
    let linker = ctx
        .links
        .and_then(|l| l.for_recipient(&digest.recipient, now));
    let t = tally(&groups);
    let (n, red, late, r, back) = (t.n, t.red, t.late, t.risks, t.back);
    let summary = t.summary.clone();
    let mut periods: Vec<_> = groups
        .iter()
        .flat_map(|d| d.items.iter().chain(d.resolved.iter()).map(|e| e.period))
        .collect();
    periods.sort();
    periods.dedup();
    let periods: Vec<String> = periods.into_iter().map(|p| p.label()).collect();
    let only_risks = n == 0 && late == 0 && back == 0 && r > 0;
    // One period in a heading: with KPIs of several periods (a month's computed KPIs beside
    // a quarter's entered by hand) the heading names none, and each KPI its own.
    let (when, plan_line) = if let [p] = periods.as_slice() {
        (
            format!(", {p}"),
            format!("{} SEND improvement plan, period {p}", ctx.area),
        )
    } else if only_risks {
        (
            ", risk log".to_string(),
            format!("{} SEND improvement plan, risk log", ctx.area),
        )
    } else {
        (String::new(), format!("{} SEND improvement plan", ctx.area))
    };
    let subject = format!(
        "{} {} SEND exception report{when}: {summary} ({names})",
        ctx.subject_prefix, ctx.area
    )
    .trim()
    .to_string();
    DigestView {
        area: ctx.area.to_string(),
        subject_prefix: ctx.subject_prefix.to_string(),
        job: ctx.job.to_string(),
        run_id: ctx
            .run_id
            .map_or_else(|| "preview".into(), |id| id.to_string()),
        heading,
        plan_line,
        periods: match periods.as_slice() {
            [] => "risk log".into(),
            [p] => p.clone(),
            _ => "several periods".into(),
        },
        summary,
        red: red.to_string(),
        names,
        subject,
        groups: groups
            .iter()
            .map(|d| group(d, &groups, ctx, now, charts, linker.as_ref()))
            .collect(),
        made_at: crate::disclose::stamp(now),
        pending: ctx
            .pending
            .filter(|_| !ctx.board.is_empty() && groups.iter().any(|d| d.sub_group == ctx.board))
            .cloned(),
        footer: footer(&groups, ctx, &t),
    }
}

fn group(
    d: &Digest<'_>,
    all: &[&Digest<'_>],
    ctx: &Context<'_>,
    now: DateTime<Utc>,
    charts: &dyn Fn(&Evaluation) -> Option<ChartRef>,
    linker: Option<&Linker<'_>>,
) -> GroupView {
    let n = d.items.len();
    let overdue = late(d, all);
    let late = overdue.len();
    let holder = d.risks.iter().any(|c| c.owner != d.sub_group);
    GroupView {
        key: d.sub_group.clone(),
        name: d.sub_group_name.clone(),
        kpis_intro: (n > 0).then(|| {
            format!(
                "{n} KPI{} owned by this sub-group missed the milestone target in force or could \
                 not be reported:",
                plural(n)
            )
        }),
        kpis: d
            .items
            .iter()
            .map(|e| {
                let ictx = item_context(e, ctx, linker.copied());
                crate::view::kpi::KpiRow {
                    early_warning: early_warning(&e.kpi_id, ctx),
                    ..crate::view::kpi::exception::row(e, &ictx, now, charts(e))
                }
            })
            .collect(),
        overdue_intro: (late > 0).then(|| {
            format!(
                "{late} KPI{} owned by this sub-group, entered by hand, {} no value for a period \
                 past its due date:",
                plural(late),
                if late == 1 { "has" } else { "have" }
            )
        }),
        overdue: overdue
            .iter()
            .map(|o| crate::view::kpi::KpiRow {
                early_warning: early_warning(&o.kpi_id, ctx),
                ..notice::overdue(o, linker)
            })
            .collect(),
        risks_intro: (!d.risks.is_empty()).then(|| crate::view::risk::intro(d.risks.len(), holder)),
        risks: d.risks.iter().map(|c| risk(c, ctx)).collect(),
        resolved: d
            .resolved
            .iter()
            .map(|e| notice::resolved(e, ctx.disclosure))
            .collect(),
        actions: d.actions.iter().map(|a| action(a, linker)).collect(),
        warnings: warning_rows(d, all, ctx, true),
        back_on_course: warning_rows(d, all, ctx, false),
        silenced: d.silenced.iter().map(silenced).collect(),
    }
}

/// `d`'s early warnings that need telling (at risk, off course), or else those back on
/// course, but those of a KPI some section of the digest (`all`) shows in exception or
/// overdue: its block says its warning, so the KPI is read once.
fn own_warnings<'a, 'b>(
    d: &'b Digest<'a>,
    all: &'b [&Digest<'_>],
    at_risk: bool,
) -> impl Iterator<Item = &'a crate::kpi::warning::Warning> + 'b {
    d.warnings.iter().copied().filter(move |w| {
        w.needs_telling() == at_risk
            && !all.iter().any(|g| {
                g.items.iter().any(|e| e.kpi_id == w.kpi_id)
                    || late(g, all).iter().any(|o| o.kpi_id == w.kpi_id)
            })
    })
}

fn warning_rows(
    d: &Digest<'_>,
    all: &[&Digest<'_>],
    ctx: &Context<'_>,
    at_risk: bool,
) -> Vec<WarningRow> {
    own_warnings(d, all, at_risk)
        .filter_map(|w| Some(WarningRow::of(w, ctx.kpis.get(&w.kpi_id)?)))
        .collect()
}

/// KPI `id`'s early warning in words ("at risk for Jun-21 (chance 40%)"), for its block.
fn early_warning(id: &str, ctx: &Context<'_>) -> Option<String> {
    ctx.warnings
        .iter()
        .find(|w| w.kpi_id == id)
        .map(|w| w.words())
}

fn action(a: &ActionNote, linker: Option<&Linker<'_>>) -> ActionRow {
    ActionRow::slipped(
        &a.reference,
        &a.title,
        &a.contact,
        a.due,
        &a.status,
        &a.why,
        a.meeting,
        linker,
    )
}

fn risk(c: &crate::risk::RiskChange, ctx: &Context<'_>) -> RiskRow {
    let owner = ctx
        .sub_groups
        .get(&c.owner)
        .map_or(c.owner.as_str(), |g| g.name.as_str());
    RiskRow::change(c, ctx.risks.get(&c.risk_id), owner)
}

/// What a slipped KPI's row is written from besides its evaluation.
fn item_context<'a>(
    e: &Evaluation,
    ctx: &Context<'a>,
    linker: Option<Linker<'a>>,
) -> ItemContext<'a> {
    let kpi = ctx.kpis.get(&e.kpi_id);
    let note = kpi
        .and_then(|k| k.source.as_deref())
        .and_then(|s| ctx.sources.get(s));
    ItemContext {
        kpi,
        load: note.and_then(|n| n.load.as_ref()),
        latest_error: note.and_then(crate::store::SourceState::latest_error),
        outcome: note
            .and_then(|n| n.outcome.as_ref())
            .map(crate::store::SourceOutcome::word),
        entered: ctx.entered,
        commentary: ctx.commentary,
        disclosure: ctx.disclosure,
        linker,
    }
}

fn silenced(s: &Silenced) -> SilencedView {
    SilencedView {
        item: s.item.clone(),
        silence: s.silence_id.to_string(),
        until: s.until.format("%Y-%m-%d").to_string(),
        comment: s.comment.clone(),
        author: s.author.clone(),
    }
}

/// What the figures may not show, and why the email was sent: each reason one the digest
/// carries.
fn footer(groups: &[&Digest<'_>], ctx: &Context<'_>, t: &Tally) -> Vec<String> {
    let threshold = ctx.disclosure.threshold();
    let mut out = vec![format!(
        "{} This report carries aggregate figures only: no case ids, names or dates about a \
         child; dates are the extract's or the period's.",
        ctx.disclosure.note()
    )];
    let waits = groups.iter().any(|d| {
        d.items
            .iter()
            .any(|e| e.measure == Some(crate::kpi::Measure::AverageWaitWeeks))
    });
    if waits {
        out.push(format!(
            "An average wait over fewer than {threshold} referrals is not shown: it would \
             describe individual children."
        ));
    }
    let acts = groups.iter().map(|d| d.actions.len()).sum::<usize>();
    let mut why = Vec::new();
    if t.n > 0 {
        why.push(if t.n == 1 {
            "a KPI is RED or has no data for its period"
        } else {
            "these KPIs are RED or have no data for their period"
        });
    }
    if t.late > 0 {
        why.push("a value entered by hand is overdue");
    }
    if t.risks > 0 {
        why.push("the score of a risk it hears of changed");
    }
    if acts > 0 {
        why.push("an action slipped or wants an update");
    }
    if t.back > 0 {
        why.push("a KPI is back on track");
    }
    // As the tally counts them: a warning said in its KPI's block is not a reason of its own.
    if t.warned > 0 {
        why.push("a KPI's projection says it may miss its next milestone");
    }
    if t.recovered > 0 {
        why.push("a KPI warned of is back on course for its milestone");
    }
    let run = ctx
        .run_id
        .map_or_else(|| "a preview".to_string(), |id| format!("run {id}"));
    let because = match why.split_last() {
        None => String::new(),
        Some((last, [])) => format!(" because {last}"),
        Some((last, rest)) => format!(" because {} and {last}", rest.join(", ")),
    };
    out.push(format!(
        "Sent by sendwatch (job {}, {run}){because}.",
        ctx.job
    ));
    if t.late > 0 {
        out.push(
            "A KPI entered by hand is overdue when no value has been entered for its latest \
             period by its due date; the performance officer who keeps the plan's figures \
             enters it."
                .into(),
        );
    }
    out
}
