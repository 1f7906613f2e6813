//! `sendwatch runs [JOB] [--limit N] [--format table|json]`: the run ledger, newest first.
//!
//! One line per row: runs (scheduled, manual, catch-up) and the fire times recorded as
//! skipped, with who ran each, how long it took and the ledger's note, after which the mail
//! the run queued and why each was news ("mail: 2 queued (1 first, 1 changed)"; in JSON each
//! row with its reason). Times are shown in
//! `general.time_zone`; JSON gives them in UTC (RFC 3339).

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

use super::Failure;
use crate::config::Settings;
use crate::store::{OutboxRow, RunRecord, RunStatus, Store};

/// How `runs` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// Open the store for reading the ledger (migrating it, as every command does).
pub(super) async fn open(settings: &Settings) -> anyhow::Result<Store> {
    let store = crate::job::open_store(settings)
        .await
        .context("opening the database")?;
    Ok(store)
}

pub(super) async fn run(
    settings: &Settings,
    job: Option<&str>,
    limit: u32,
    format: Format,
) -> Result<ExitCode, Failure> {
    let store = open(settings).await?;
    let read = read(&store, job, limit).await;
    store.close().await;
    let (rows, mail) = read?;
    let tz = settings.time_zone();
    match format {
        Format::Table => print!("{}", table(&rows, &mail, tz)),
        Format::Json => println!("{}", json(&rows, &mail)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The ledger's rows and, for each, the mail its run queued.
async fn read(
    store: &Store,
    job: Option<&str>,
    limit: u32,
) -> anyhow::Result<(Vec<RunRecord>, Vec<Vec<OutboxRow>>)> {
    let rows = store
        .list_runs(job, limit)
        .await
        .context("reading the run ledger")?;
    let mut mail = Vec::new();
    for r in &rows {
        mail.push(store.run_mail(r.id).await.context("reading the outbox")?);
    }
    Ok((rows, mail))
}

/// What a run queued, for its note: "mail: 3 queued (2 first, 1 changed)", each reason the
/// news decision gave (mail that is not news, such as a notice, has none).
fn mail_note(mail: &[OutboxRow]) -> Option<String> {
    if mail.is_empty() {
        return None;
    }
    let mut why: Vec<(&str, usize)> = Vec::new();
    for reason in mail.iter().filter_map(|m| m.reason.as_deref()) {
        match why.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => why.push((reason, 1)),
        }
    }
    let mut note = format!("mail: {} queued", mail.len());
    if !why.is_empty() {
        let list: Vec<String> = why.iter().map(|(r, n)| format!("{n} {r}")).collect();
        note.push_str(&format!(" ({})", list.join(", ")));
    }
    Some(note)
}

/// `2027-03-29 07:00:05 BST`.
pub(super) fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// How long a run took (or has been going, if `end` is none), e.g. `3.2 s`, `4 min 05 s`.
pub(super) fn took(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> String {
    let ms = (end.unwrap_or_else(Utc::now) - start)
        .num_milliseconds()
        .max(0);
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

fn table(rows: &[RunRecord], mail: &[Vec<OutboxRow>], tz: Tz) -> String {
    if rows.is_empty() {
        return "no runs in the ledger\n".into();
    }
    let head = [
        "RUN",
        "JOB",
        "TRIGGER",
        "STATE",
        "SCHEDULED",
        "STARTED",
        "TOOK",
        "RUNNER",
    ];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                r.job.clone(),
                r.trigger.to_string(),
                r.status.to_string(),
                r.scheduled_at.map_or_else(|| "-".into(), |t| local(t, tz)),
                local(r.started_at, tz),
                match r.status {
                    RunStatus::Skipped => "-".into(),
                    RunStatus::Running => format!("{} so far", took(r.started_at, None)),
                    _ => took(r.started_at, r.finished_at),
                },
                r.runner.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut width = head.map(str::len);
    for c in &cells {
        for (w, cell) in width.iter_mut().zip(c) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cols: &[String], note: &str| {
        let mut s: String = cols
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}  "))
            .collect();
        s.push_str(note);
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&head.map(String::from), "NOTE");
    for ((c, r), m) in cells.iter().zip(rows).zip(mail) {
        let note = [r.note.clone(), mail_note(m)];
        let note: Vec<String> = note.into_iter().flatten().collect();
        out.push_str(&line(c, &note.join("; ")));
    }
    out
}

fn json(rows: &[RunRecord], mail: &[Vec<OutboxRow>]) -> String {
    let utc = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let list: Vec<serde_json::Value> = rows
        .iter()
        .zip(mail)
        .map(|(r, mail)| {
            let mail: Vec<serde_json::Value> = mail
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id,
                        "to": m.recipient_list(),
                        "status": m.status,
                        "reason": m.reason,
                    })
                })
                .collect();
            serde_json::json!({
                "id": r.id,
                "job": r.job,
                "trigger": r.trigger,
                "state": r.status,
                "scheduled_at": r.scheduled_at.map(utc),
                "started_at": utc(r.started_at),
                "finished_at": r.finished_at.map(utc),
                "seconds": r.finished_at.map(|f| (f - r.started_at).num_milliseconds() as f64 / 1000.0),
                "runner": r.runner,
                "lease_until": r.lease_until.map(utc),
                "note": r.note,
                "summary": r.summary,
                "mail": mail,
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_read_naturally() {
        let t = Utc
            .with_ymd_and_hms(2027, 3, 28, 6, 0, 0)
            .single()
            .expect("t");
        let d = |ms| Some(t + chrono::TimeDelta::milliseconds(ms));
        assert_eq!(took(t, d(3_240)), "3.2 s");
        assert_eq!(took(t, d(245_000)), "4 min 05 s");
        assert_eq!(took(t, d(3_900_000)), "1 h 05 min");
        assert_eq!(
            local(t, chrono_tz::Europe::London),
            "2027-03-28 07:00:00 BST"
        );
    }
}
