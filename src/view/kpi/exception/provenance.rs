//! Where a slipped KPI's figures come from, as the digest says it: the extract's load (its
//! fetch time, size and digest) or the entry made by hand, and a warning when this run's
//! new extract did not come into force (a fetch failed, an extract rejected, or a load held
//! for checking: each called what it is). No event date: the fetch time and the data's
//! month only.

use chrono::{DateTime, Utc};

use super::{Fact, ItemContext};
use crate::disclose;
use crate::kpi::manual;
use crate::kpi::{Evaluation, Rag};

/// Where a manual KPI's figure came from: the entry, who made it and when (never its note).
pub(super) fn entered_by_hand(e: &Evaluation, ctx: &ItemContext<'_>) -> String {
    let entry = ctx.kpi.and_then(|k| {
        let due = manual::due_containing(k, e.period.last_month());
        manual::covering(ctx.entered, &e.kpi_id, due)
    });
    match entry {
        Some(x) => format!(
            "entered by hand by {} on {} (entry {}, for {})",
            x.value.by,
            x.entered_at.format("%Y-%m-%d"),
            x.id,
            x.value.period.label()
        ),
        None => format!("entered by hand: no value for {}", e.period.label()),
    }
}

pub(super) type Facts = (String, String, Vec<String>, Vec<Fact>, Option<String>);

/// A computed KPI's source: the load, its fetch time and digest; the only dates are the
/// extract's fetch time and the month its data runs to.
pub(super) fn extract_facts(
    source: &str,
    ctx: &ItemContext<'_>,
    now: DateTime<Utc>,
    rag: Rag,
) -> Facts {
    let name = format!("extract \"{source}\"");
    let fact = |label: &str, value: String| Fact {
        label: label.into(),
        value,
    };
    let Some(l) = ctx.load else {
        let mut lines = vec![format!("{name}: none loaded")];
        if rag == Rag::NoData {
            lines.push("No extract of this source has ever been accepted.".into());
        }
        let warning = ctx
            .latest_error
            .as_deref()
            .map(|e| warn(source, e, ctx.outcome));
        return (
            name,
            "no extract loaded".into(),
            lines,
            vec![fact("Source", format!("{source}: none loaded"))],
            warning,
        );
    };
    let days = (now - l.fetched_at).num_days().max(0);
    let age = match days {
        0 => "today".to_string(),
        1 => "1 day before this report".to_string(),
        n => format!("{n} days before this report"),
    };
    let freshness = format!(
        "fetched {} UTC ({age}); data to {}",
        l.fetched_at.format("%Y-%m-%d %H:%M"),
        disclose::data_month(l.data_as_of)
    );
    let status = l
        .http_status
        .map(|s| format!("HTTP {s}, "))
        .unwrap_or_default();
    let rows = ctx.disclosure.suppress_i64(l.rows_loaded.unwrap_or(0));
    let sha = l.sha256.clone().unwrap_or_else(|| "-".into());
    // Redacted again on the way out: a row stored before every query value was hidden.
    let url = crate::secret::redact_url(&l.url);
    let lines = vec![
        format!("{name}, load {}: {url}", l.id),
        format!(
            "fetched {} UTC, {status}{} bytes, {rows} rows",
            l.fetched_at.format("%Y-%m-%d %H:%M"),
            l.bytes.unwrap_or(0)
        ),
        format!("sha256 {sha}"),
    ];
    let facts = vec![
        fact("Source", source.to_string()),
        fact("Load", l.id.to_string()),
        fact("Loaded by run", l.run_id.to_string()),
        fact("Fetched from", url),
        fact(
            "Fetched at",
            format!("{} UTC", l.fetched_at.format("%Y-%m-%d %H:%M")),
        ),
        fact("Rows", rows),
        fact("sha256", sha),
    ];
    let warning = ctx
        .latest_error
        .as_deref()
        .map(|e| warn(source, e, ctx.outcome));
    (name, freshness, lines, facts, warning)
}

fn warn(source: &str, err: &str, outcome: Option<&str>) -> String {
    // The first line only, in the mail's own quotes (an error may quote a name in backticks).
    let line = err.lines().next().unwrap_or(err).replace('`', "\"");
    match outcome {
        Some("held") => format!(
            "the new extract of \"{source}\" was held for checking, not swapped in, so these \
             figures come from the last good load above. Why it was held: {}",
            line.split_once(": ").map_or(line.as_str(), |(_, why)| why)
        ),
        Some("rejected") => format!(
            "this run's new extract of \"{source}\" was rejected, so these figures come from \
             the last good load above. Why: {line}"
        ),
        _ => format!(
            "this run's fetch of \"{source}\" failed, so these figures come from the last good \
             load above. The error: {line}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::warn;

    #[test]
    fn a_held_load_is_called_held_and_a_failed_fetch_failed() {
        let held = warn(
            "tracker",
            "the new extract (load 4) was held, not swapped in: it has 40% fewer rows",
            Some("held"),
        );
        assert!(
            held.starts_with("the new extract of \"tracker\" was held for checking"),
            "{held}"
        );
        assert!(
            held.ends_with("Why it was held: it has 40% fewer rows"),
            "{held}"
        );
        assert!(!held.contains("fetch"), "{held}");
        let failed = warn("tracker", "HTTP 503 from `host`", Some("fetch failed"));
        assert!(
            failed.starts_with("this run's fetch of \"tracker\" failed"),
            "{failed}"
        );
        assert!(!failed.contains('`'), "{failed}");
        let rejected = warn("tracker", "a bad header", Some("rejected"));
        assert!(rejected.contains("was rejected"), "{rejected}");
    }
}
