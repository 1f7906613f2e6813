//! After a cycle: did every area run exactly once, and did every message reach the sink
//! exactly once? Read from the replicas' reports, the ledger and the outbox of each area,
//! and the Message-IDs the sink received (`<sendwatch.INSTALLATION.RUN.ROW@domain>`, one
//! per outbox row). A failure is a `MISMATCH` line, which fails the bench.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::deploy::JOB;
use super::extracts::Area;
use super::worker::WorkerReport;
use crate::report::fmt_count;
use sendwatch::store::{OutboxStatus, RunStatus, Store};

/// The exactly-once lines of a cycle: two when all is well, else a `MISMATCH` line for each
/// thing wrong (the first few of each kind).
pub async fn exactly_once(
    base: &Store,
    at: DateTime<Utc>,
    areas: &[Area],
    reports: &[WorkerReport],
    received: &[String],
) -> anyhow::Result<Vec<String>> {
    let head = format!("{} areas, {} replica(s)", areas.len(), reports.len());
    let mut wrong: Vec<String> = Vec::new();
    let (ran_by, ran_count) = who_ran(reports, &mut wrong);
    let outbox = ledger_and_outbox(base, at, areas, reports, &ran_by, &mut wrong).await?;
    at_the_sink(&outbox, received, &mut wrong);

    if !wrong.is_empty() {
        let more = wrong.len().saturating_sub(10);
        let mut out: Vec<String> = wrong
            .into_iter()
            .take(10)
            .map(|w| format!("MISMATCH ({head}): {w}"))
            .collect();
        if more > 0 {
            out.push(format!("MISMATCH ({head}): and {more} more"));
        }
        return Ok(out);
    }
    let shares: Vec<String> = ran_count
        .iter()
        .enumerate()
        .map(|(k, n)| format!("replica {} ran {n}", k + 1))
        .collect();
    Ok(vec![
        format!(
            "exactly once ({head}): every area's instant is in the ledger once, run once and ended ok ({})",
            shares.join(", ")
        ),
        format!(
            "exactly once ({head}): {} messages in the outbox, all sent; {} at the sink, each once",
            fmt_count(outbox.len() as u64),
            fmt_count(received.len() as u64)
        ),
    ])
}

/// Who ran what, by the replicas' own account: the replicas (by index) that ran each area,
/// and how many areas each replica ran.
fn who_ran<'r>(
    reports: &'r [WorkerReport],
    wrong: &mut Vec<String>,
) -> (BTreeMap<&'r str, Vec<usize>>, Vec<usize>) {
    let mut ran_by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut ran_count = vec![0usize; reports.len()];
    for (k, r) in reports.iter().enumerate() {
        for o in &r.areas {
            match o.outcome.as_str() {
                "ran" => {
                    ran_by.entry(o.id.as_str()).or_default().push(k);
                    ran_count[k] += 1;
                }
                "taken" => {}
                other => wrong.push(format!(
                    "area {} in replica {}: {other}{}",
                    o.id,
                    k + 1,
                    o.error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                )),
            }
            if o.outcome == "ran"
                && let Some(e) = &o.error
            {
                wrong.push(format!("area {}: {e}", o.id));
            }
        }
    }
    (ran_by, ran_count)
}

/// The ledger: each area's instant once, ended ok, by the replica that says it ran it; and
/// every outbox row of those runs sent. Returns the rows' `RUN.ROW` keys.
async fn ledger_and_outbox(
    base: &Store,
    at: DateTime<Utc>,
    areas: &[Area],
    reports: &[WorkerReport],
    ran_by: &BTreeMap<&str, Vec<usize>>,
    wrong: &mut Vec<String>,
) -> anyhow::Result<BTreeSet<String>> {
    let mut outbox: BTreeSet<String> = BTreeSet::new();
    let mut unsent = 0usize;
    for a in areas {
        let by = ran_by.get(a.id.as_str()).map_or(&[][..], Vec::as_slice);
        if by.len() != 1 {
            wrong.push(format!("area {} ran {} times", a.id, by.len()));
        }
        let store = base.for_area(&a.id);
        let runs: Vec<_> = store
            .list_runs(Some(JOB), 100)
            .await?
            .into_iter()
            .filter(|r| r.scheduled_at == Some(at))
            .collect();
        let [run] = runs.as_slice() else {
            wrong.push(format!(
                "area {}: its instant is in the ledger {} times",
                a.id,
                runs.len()
            ));
            continue;
        };
        if run.status != RunStatus::Ok {
            wrong.push(format!(
                "area {}: its run ended {}",
                a.id,
                run.status.as_str()
            ));
        }
        if let [k] = by {
            let pid = format!(":{}", reports[*k].pid);
            if !run.runner.as_deref().is_some_and(|r| r.ends_with(&pid)) {
                wrong.push(format!(
                    "area {}: replica {} says it ran it, the ledger names another",
                    a.id,
                    k + 1
                ));
            }
        }
        for m in store.run_mail(run.id).await? {
            if m.status != OutboxStatus::Sent {
                unsent += 1;
            }
            outbox.insert(format!("{}.{}", m.run_id, m.id));
        }
    }
    if unsent > 0 {
        wrong.push(format!("{unsent} message(s) in the outbox not sent"));
    }
    Ok(outbox)
}

/// The sink: each outbox row's message once, and nothing else.
fn at_the_sink(outbox: &BTreeSet<String>, received: &[String], wrong: &mut Vec<String>) {
    let mut at_sink: BTreeMap<String, usize> = BTreeMap::new();
    for id in received {
        *at_sink.entry(key(id)).or_default() += 1;
    }
    let twice = at_sink.values().filter(|n| **n > 1).count();
    if twice > 0 {
        wrong.push(format!(
            "{twice} message(s) reached the sink more than once"
        ));
    }
    let keys: BTreeSet<String> = at_sink.into_keys().collect();
    let missing = outbox.difference(&keys).count();
    let stray = keys.difference(outbox).count();
    if missing > 0 || stray > 0 {
        wrong.push(format!(
            "{missing} outbox message(s) never reached the sink; {stray} at the sink are in no outbox"
        ));
    }
}

/// `<sendwatch.INSTALLATION.RUN.ROW@domain>` -> `RUN.ROW`; anything else as it is (it will
/// match no outbox row).
fn key(message_id: &str) -> String {
    let local = message_id
        .trim_matches(['<', '>'])
        .split('@')
        .next()
        .unwrap_or("");
    let parts: Vec<&str> = local.rsplitn(3, '.').collect();
    match parts.as_slice() {
        [row, run, _] => format!("{run}.{row}"),
        _ => message_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_gives_its_run_and_row() {
        assert_eq!(key("<sendwatch.ab12.17.403@example.org>"), "17.403");
        assert_eq!(key("<odd>"), "<odd>");
    }
}
