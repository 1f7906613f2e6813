//! Issue 22's "chasing that ends" (acceptance 4): a manual KPI's missing value is chased for
//! its latest due period only, on a schedule (asked once past its due date, reminded before
//! the next board meeting and once after it, escalated once to the sub-group's lead before
//! the meeting after), and then no more. Six months of weekly runs, each at its own fixed
//! instant, on both backends; the mail is counted in the outbox folder.

use chrono::{DateTime, TimeDelta, Utc};
use sendwatch::clock::Clock;
use sendwatch::job::RunOptions;
use sendwatch::store::RunStatus;

use crate::harness::{Mail, app, folder_config_with, outbox, repo};
use crate::support::backends;
use crate::support::trials::{Spec, trial};

/// The co-production sub-group owes the surveys 4/1-4/6 (academic year 2025/26, due by
/// 2026-09-30) and has a lead; the board meets on 2026-12-10 and 2027-01-14 (reminders 7
/// days before). A repeat interval of a year keeps what is not chased (its overdue actions,
/// the tracker's KPIs) to one telling, so each digest after the first is the chase's.
const EXTRA: &str = r#"
[sub_groups.coproduction]
owners = ["copro@example.org"]
lead = "copro-lead@example.org"

[action_log]
meetings = [2026-12-10, 2027-01-14]
ask_days_before = 7

[notify]
repeat_interval_hours = 8784

[jobs.monthly-exceptions]
manual_kpis = true
"#;

/// The "Chase:" line of KPI 4/1 in a digest, runs of spaces closed up.
fn chase_line(body: &str) -> Option<String> {
    let start = body.find("KPI 4/1: ")?;
    let block = body[start..].split("\n\n").next()?;
    let joined = block.split_whitespace().collect::<Vec<_>>().join(" ");
    let at = joined.find("Chase: ")?;
    Some(joined[at + "Chase: ".len()..].to_string())
}

async fn a_missing_value_is_asked_reminded_twice_escalated_once_then_no_more() {
    let start = DateTime::parse_from_rfc3339("2026-10-05T07:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config_with(dir.path(), &backend.url, &tracker, EXTRA);
        let mut seen = std::collections::BTreeSet::new();
        // (week, recipient, the chase line of 4/1) for every digest that tells of 4/1.
        let mut told: Vec<(usize, String, String)> = Vec::new();
        // One app, its clock set for each run: the store is opened once.
        let mut app = app(&cfg).await;
        for week in 0..26 {
            let at = start + TimeDelta::weeks(week as i64);
            app = app.with_clock(Clock::Fixed(at));
            let r = app
                .run_job("monthly-exceptions", RunOptions::manual())
                .await
                .expect("run");
            assert_eq!(r.status, RunStatus::Ok, "{name} week {week}: {r:?}");
            // The files are named by id, not in order: the new ones are those not seen.
            let mut files: Vec<_> = std::fs::read_dir(outbox(dir.path()))
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            files.retain(|p| !seen.contains(p));
            for p in files {
                let raw = std::fs::read_to_string(&p).expect("read eml");
                crate::support::assert_nothing_disclosive(&raw, &p.display().to_string());
                let m = Mail::parse(&raw);
                let to = m.header("To").unwrap_or_default();
                if let Some(line) = chase_line(&m.body) {
                    told.push((week, to, line));
                }
                seen.insert(p);
            }
        }
        app.store.close().await;
        let owner: Vec<(usize, &str)> = told
            .iter()
            .filter(|(_, to, _)| to == "copro@example.org")
            .map(|(w, _, l)| (*w, l.as_str()))
            .collect();
        let lead: Vec<(usize, &str)> = told
            .iter()
            .filter(|(_, to, _)| to == "copro-lead@example.org")
            .map(|(w, _, l)| (*w, l.as_str()))
            .collect();
        // Asked in the first run (2026-10-05); reminded in the week before the meeting of
        // 2026-12-10 (week 9, 2026-12-07) and once after it (week 10); escalated in the week
        // before 2027-01-14 (week 14, 2027-01-11); then nothing through March.
        let weeks: Vec<usize> = owner.iter().map(|(w, _)| *w).collect();
        assert_eq!(weeks, [0, 9, 10, 14], "{name}: {owner:#?}");
        assert!(
            owner[0].1.starts_with("asked for the first time"),
            "{name}: {owner:?}"
        );
        assert!(
            owner[1]
                .1
                .starts_with("a reminder before the board meeting on 2026-12-10"),
            "{name}: {owner:?}"
        );
        assert!(
            owner[2]
                .1
                .starts_with("a reminder after the board meeting on 2026-12-10"),
            "{name}: {owner:?}"
        );
        assert!(
            owner[3].1.starts_with("escalated to the sub-group's lead"),
            "{name}: {owner:?}"
        );
        let reminders = owner.iter().filter(|(_, l)| l.contains("reminder")).count();
        assert_eq!(reminders, 2, "{name}: {owner:?}");
        // The lead hears of it once, when it is escalated.
        assert_eq!(lead.len(), 1, "{name}: {lead:?}");
        assert_eq!(lead[0].0, 14, "{name}: {lead:?}");
        assert!(lead[0].1.starts_with("escalated"), "{name}: {lead:?}");
    }
}

pub fn tests() -> Vec<Spec> {
    vec![trial!(a_missing_value_is_asked_reminded_twice_escalated_once_then_no_more).each_backend()]
}
