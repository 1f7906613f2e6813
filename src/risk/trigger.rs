//! One trigger against the data: does it fire, and why (or why not).
//!
//! Owns: [`evaluate`] and the wording of its reasons. Pure. What a reason may say (DOMAIN 8):
//! which KPI, which periods, which aggregate figure against which threshold, which source and
//! when it last brought data; never a case, a child's date or free text. A count under the
//! threshold (5 by default) is written "<5", and an average wait over fewer than 5 referrals
//! is not written at all.

use chrono::{DateTime, Utc};

use super::history::History;
use super::{Bound, Condition, Figure};
use crate::disclose::{Disclosure, Verdict};
use crate::kpi::StoredResult;
use crate::kpi::publish::{Offered, publish_stored};
use crate::kpi::{Catalogue, KpiSettings, Measure, Rag};
use crate::source::freshness::{Cadence, stale};

/// When a source's current data arrived, and how often new data is due.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFreshness {
    pub source: String,
    pub cadence: Cadence,
    pub deadline_days: u32,
    /// When the current load was fetched (none: no extract ever accepted).
    pub last_new: Option<DateTime<Utc>>,
}

/// Everything the triggers read.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub kpis: &'a Catalogue,
    pub history: &'a History,
    pub sources: &'a [SourceFreshness],
    pub now: DateTime<Utc>,
    /// The rules the reasons' figures are written by (`[disclosure]`).
    pub disclosure: Disclosure,
}

/// What one trigger found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The trigger in words ("KPI 1/3a RED for 2 periods running"); identifies it in the
    /// record.
    pub trigger: String,
    pub fired: bool,
    /// Why it fired, or why it did not.
    pub reason: String,
}

/// The trigger in words.
pub fn describe(c: &Condition, kpis: &Catalogue) -> String {
    match c {
        Condition::Rated { kpi, rag, periods } => {
            if *periods == 1 {
                format!("KPI {kpi} {rag} for its latest period")
            } else {
                format!("KPI {kpi} {rag} for {periods} periods running")
            }
        }
        Condition::Figure { kpi, figure, bound } => {
            let k = kpis.get(kpi);
            let (what, threshold) = match figure {
                Figure::Value => ("value", bound_text(*bound, &|v| fmt_value(k, v))),
                Figure::OverdueOpen => (overdue_noun(k), bound_text(*bound, &plain)),
            };
            format!("KPI {kpi} {what} {threshold}")
        }
        Condition::Stale { source } => format!("source `{source}` stale past its deadline"),
    }
}

/// Evaluate one condition.
pub fn evaluate(c: &Condition, inputs: &Inputs<'_>) -> Finding {
    let (fired, reason) = match c {
        Condition::Rated { kpi, rag, periods } => {
            let k = inputs.kpis.get(kpi);
            rated(inputs.history, k, kpi, *rag, *periods, inputs.disclosure)
        }
        Condition::Figure { kpi, figure, bound } => figure_past(
            inputs.history,
            inputs.history.latest(kpi),
            inputs.kpis.get(kpi),
            kpi,
            *figure,
            *bound,
            inputs.disclosure,
        ),
        Condition::Stale { source } => stale_source(inputs, source),
    };
    Finding {
        trigger: describe(c, inputs.kpis),
        fired,
        reason,
    }
}

fn rated(
    history: &History,
    k: Option<&KpiSettings>,
    kpi: &str,
    rag: Rag,
    periods: u32,
    d: Disclosure,
) -> (bool, String) {
    let last = history.last_n(kpi, periods);
    if last.is_empty() {
        return (false, format!("KPI {kpi} has no stored result"));
    }
    for (i, (period, r)) in last.iter().enumerate() {
        // A period whose figure is not rated says no RAG, so it is no RED: rating it here
        // would tell which side of its target the hidden value is.
        let mismatch = match r {
            None => Some(format!("has no stored result for {}", period.label())),
            Some(r) if r.value.is_some() && !verdict(history, r, k, d).rated => Some(format!(
                "was {} in {}",
                crate::disclose::NOT_RATED,
                period.label()
            )),
            Some(r) if r.rag != rag => Some(format!(
                "was {} in {} ({})",
                r.rag,
                period.label(),
                shown(history, r, k, d)
            )),
            Some(_) => None,
        };
        if let Some(m) = mismatch {
            let after = match i {
                0 => String::new(),
                1 => format!("was {rag} in {} but ", last[0].0.label()),
                _ => format!(
                    "was {rag} from {} to {} but ",
                    last[i - 1].0.label(),
                    last[0].0.label()
                ),
            };
            return (false, format!("KPI {kpi} {after}{m}"));
        }
    }
    let listed: Vec<String> = last
        .iter()
        .rev()
        .map(|(p, r)| match (rag, r) {
            (Rag::Red, Some(r)) => {
                format!("{} {}{}", p.label(), shown(history, r, k, d), against(r, k))
            }
            _ => p.label(),
        })
        .collect();
    let running = if periods == 1 {
        "for its latest period".to_string()
    } else {
        format!("for {periods} periods running")
    };
    (
        true,
        format!("KPI {kpi} was {rag} {running}: {}", listed.join(", ")),
    )
}

fn figure_past(
    history: &History,
    latest: Option<&StoredResult>,
    k: Option<&KpiSettings>,
    kpi: &str,
    figure: Figure,
    bound: Bound,
    d: Disclosure,
) -> (bool, String) {
    let Some(r) = latest else {
        return (false, format!("KPI {kpi} has no stored result"));
    };
    let period = r.period.label();
    let side = |fired: bool| {
        let t = bound_text(bound, &|v| match figure {
            Figure::Value => fmt_value(k, v),
            Figure::OverdueOpen => plain(v),
        });
        if fired { t } else { format!("not {t}") }
    };
    match figure {
        Figure::Value => {
            let Some(v) = r.value else {
                return (false, format!("KPI {kpi} has no value for {period}"));
            };
            // A value not shown is not held against its bound either: which side of it the
            // value is would be a rating of the hidden figure.
            if !verdict(history, r, k, d).rated {
                return (
                    false,
                    format!(
                        "KPI {kpi}'s value for {period} is {}",
                        crate::disclose::NOT_RATED
                    ),
                );
            }
            let fired = bound.passed_by(v);
            let reason = format!(
                "KPI {kpi} was {} in {period}, {}",
                shown(history, r, k, d),
                side(fired)
            );
            (fired, reason)
        }
        Figure::OverdueOpen => {
            let noun = overdue_noun(k);
            let Some(n) = r.overdue_open else {
                return (
                    false,
                    format!("KPI {kpi} has no count of {noun} for {period}"),
                );
            };
            let fired = bound.passed_by(n as f64);
            (
                fired,
                format!(
                    "KPI {kpi}: {} {noun} (latest result, {period}), {}",
                    d.suppress_i64(n),
                    side(fired)
                ),
            )
        }
    }
}

fn stale_source(inputs: &Inputs<'_>, source: &str) -> (bool, String) {
    let Some(s) = inputs.sources.iter().find(|s| s.source == source) else {
        return (
            false,
            format!("source `{source}` has no cadence to be late on"),
        );
    };
    let when = crate::disclose::stamp;
    let terms = format!(
        "{}, plus {} days' grace",
        s.cadence.as_str(),
        s.deadline_days
    );
    // Before a first accepted extract there is no deadline to be past: a source configured
    // but never loaded (or not yet run) is not a risk's trigger. Its owner hears of it.
    let Some(last_new) = s.last_new else {
        return (
            false,
            format!(
                "no extract of source `{source}` has been accepted yet, so no deadline has passed"
            ),
        );
    };
    match stale(s.cadence, s.deadline_days, Some(last_new), inputs.now).and_then(|st| st.due) {
        Some(due) => (
            true,
            format!(
                "source `{source}` has brought no new data since {}; new data was due by {} \
                 ({terms})",
                when(last_new),
                when(due)
            ),
        ),
        None => (
            false,
            format!(
                "source `{source}` is up to date (new data {})",
                when(last_new)
            ),
        ),
    }
}

/// What disclosure control lets be said of a stored figure, decided over its KPI's whole
/// series as every other output decides it ([`crate::kpi::publish`]).
fn verdict(h: &History, r: &StoredResult, k: Option<&KpiSettings>, d: Disclosure) -> Verdict {
    match k {
        Some(k) => publish_stored(k, &h.series(&r.kpi_id), d).stored(r),
        None => crate::kpi::Figure {
            value: r.value.unwrap_or(0.0),
            count: Offered::stored(r).current,
        }
        .alone(false, d),
    }
}

fn average(k: Option<&KpiSettings>) -> bool {
    k.is_some_and(|k| k.measure == Some(Measure::AverageWaitWeeks))
}

/// A stored value as a reason may write it.
fn shown(h: &History, r: &StoredResult, k: Option<&KpiSettings>, d: Disclosure) -> String {
    let v = verdict(h, r, k, d);
    match r.value {
        None => "no data".to_string(),
        Some(_) if !v.value => crate::kpi::Figure::hidden_as(v, average(k), d),
        Some(_) => r.written(average(k), d).map_or_else(
            || crate::disclose::NOT_SHOWN.to_string(),
            |w| fmt_value(k, w),
        ),
    }
}

/// ", target 48.0%" where the period had a target figure.
fn against(r: &StoredResult, k: Option<&KpiSettings>) -> String {
    r.target
        .map(|t| format!(" against {}", fmt_value(k, t)))
        .unwrap_or_default()
}

fn fmt_value(k: Option<&KpiSettings>, v: f64) -> String {
    match k {
        Some(k) => k.unit.format(v),
        None => plain(v),
    }
}

fn plain(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

fn bound_text(bound: Bound, fmt: &dyn Fn(f64) -> String) -> String {
    match bound {
        Bound::Above(t) => format!("above {}", fmt(t)),
        Bound::Below(t) => format!("below {}", fmt(t)),
    }
}

/// What a KPI's `overdue_open` counts.
fn overdue_noun(k: Option<&KpiSettings>) -> &'static str {
    match k.and_then(|k| k.measure) {
        Some(Measure::EhcpWithin20Weeks) => "requests still open past 20 weeks",
        Some(Measure::HealthAdviceWithin6Weeks) => {
            "health advice requests outstanding past 6 weeks"
        }
        Some(Measure::DecisionWithin6Weeks) => "requests awaiting a decision past 6 weeks",
        Some(Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted) => {
            "reviews overdue"
        }
        Some(Measure::AverageWaitWeeks) => "referrals waiting over 18 weeks",
        None => "cases still open past the limit",
    }
}

#[cfg(test)]
mod tests;
