//! What `run-now` prints of a run: each source's outcome, each KPI's value and rating (with
//! the backlog, advice outstanding or reviews overdue beside it), each change of a risk's
//! score, and the delivery.

use crate::disclose::Disclosure;
use crate::job::{RunReport, SourceOutcome};
use crate::store::RunStatus;
use crate::view::not_rated;

pub(super) fn print_report(r: &RunReport, d: Disclosure) {
    let status = match r.status {
        RunStatus::Ok => "ok",
        RunStatus::Failed => "FAILED",
        RunStatus::Running => "running",
        RunStatus::Abandoned => "ABANDONED",
        RunStatus::Skipped => "skipped",
    };
    println!("run {} of job {}: {status}", r.run_id, r.job);
    for (name, o) in &r.sources {
        match o {
            SourceOutcome::Loaded {
                load_id,
                rows,
                set_aside,
                as_of,
            } => {
                // No "data as of": the extract's latest event date can be one child's.
                let _ = as_of;
                println!(
                    "  source {name}: loaded (load {load_id}, {} rows{})",
                    d.suppress(*rows),
                    if *set_aside == 0 {
                        String::new()
                    } else {
                        format!(", {} set aside", d.suppress(*set_aside))
                    },
                )
            }
            SourceOutcome::Held {
                load_id, reason, ..
            } => {
                println!(
                    "  source {name}: HELD as load {load_id}, last good load kept: {reason}; approve with `sendwatch load approve {load_id}`"
                )
            }
            SourceOutcome::Unchanged { why } => {
                println!("  source {name}: unchanged ({why})")
            }
            SourceOutcome::FetchFailed { error } => {
                println!("  source {name}: FETCH FAILED, last good load kept: {error}")
            }
            SourceOutcome::Rejected { error } => {
                println!("  source {name}: REJECTED, last good load kept: {error}")
            }
            SourceOutcome::Checked { .. } => println!("  source {name}: checked (dry run)"),
        }
    }
    for e in &r.evaluations {
        println!("{}", kpi_line(e, d));
    }
    for c in &r.risks {
        println!(
            "  risk {:<4} {} {} -> {}: {}",
            c.risk_id,
            c.kind.as_str().to_uppercase(),
            c.from.text(),
            c.to.text(),
            c.triggers.join("; ")
        );
    }
    let ambiguous = if r.delivery.ambiguous > 0 {
        format!(", {} ambiguous (may have arrived)", r.delivery.ambiguous)
    } else {
        String::new()
    };
    println!(
        "  exception reports: {} queued, {} delivered, {} failed, {} pending{ambiguous}; via {}",
        r.queued, r.delivery.sent, r.delivery.failed, r.delivery.still_pending, r.delivered_via
    );
}

/// One KPI's line: its value and rating as the mail would write them.
fn kpi_line(e: &crate::kpi::Evaluation, d: Disclosure) -> String {
    let fmt = |v: f64| e.format(v);
    // As the mail: nothing disclosure control hides (an average over few referrals, a
    // share with a small part).
    // Nor its RAG, which would tell which side of the target the hidden value is.
    let hidden = crate::view::kpi::unrated(e);
    let average = e.measure == Some(crate::kpi::Measure::AverageWaitWeeks);
    let written = e
        .current
        .filter(|_| e.shown.current.value)
        .and_then(|f| f.written(average, d));
    let rag = if hidden { not_rated() } else { e.rag.as_str() };
    let value = match (e.current, written) {
        (Some(_), Some(v)) => fmt(v),
        (Some(_), None) => crate::disclose::NOT_SHOWN.to_string(),
        (None, _) => "no data".to_string(),
    };
    let target = e
        .milestone
        .as_ref()
        .map_or_else(|| "none".to_string(), |m| fmt(m.target));
    // Beside it, as the mail says (counts under 5 as "<5"): the backlog, advice outstanding.
    let beside = crate::notify::beside(e, d).map_or_else(String::new, |b| format!("  {b}"));
    let line = format!(
        "  KPI {:<5} {:<21} value {:>10}  target {:>10}  {:<16}{beside}",
        e.kpi_id,
        e.period.label(),
        value,
        target,
        rag,
    );
    line.trim_end().to_string()
}
