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

/// One mail of a walk: the week it was queued in, its recipient, subject and text body.
struct Told {
    week: usize,
    to: String,
    subject: String,
    body: String,
}

/// Twenty-six weekly runs of the exceptions job from 2026-10-05 on `backend` with `extra`:
/// every mail they queued, in the week it was queued.
async fn walk(backend: &crate::support::Backend, extra: &str) -> Vec<Told> {
    let start = DateTime::parse_from_rfc3339("2026-10-05T07:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    let name = backend.name;
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg = folder_config_with(dir.path(), &backend.url, &tracker, extra);
    let mut seen = std::collections::BTreeSet::new();
    let mut told = Vec::new();
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
            told.push(Told {
                week,
                to: m.header("To").unwrap_or_default(),
                subject: m.header("Subject").unwrap_or_default(),
                body: m.body.clone(),
            });
            seen.insert(p);
        }
    }
    app.store.close().await;
    told
}

async fn a_missing_value_is_asked_reminded_twice_escalated_once_then_no_more() {
    for backend in backends().await {
        let name = backend.name;
        // (week, recipient, the chase line of 4/1) for every digest that tells of 4/1.
        let told: Vec<(usize, String, String)> = walk(&backend, EXTRA)
            .await
            .into_iter()
            .filter_map(|m| Some((m.week, m.to, chase_line(&m.body)?)))
            .collect();
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

/// Whether `body` shows KPI `id`'s block (its card or its overdue value).
fn shows(body: &str, id: &str) -> bool {
    body.contains(&format!("KPI {id}: "))
}

/// The weeks `to` was mailed in, and those of them whose mail shows KPI `id`.
fn weeks_of(mails: &[Told], to: &str, id: &str) -> (Vec<usize>, Vec<usize>) {
    let mine: Vec<&Told> = mails.iter().filter(|m| m.to == to).collect();
    let all = mine.iter().map(|m| m.week).collect();
    let showing = mine
        .iter()
        .filter(|m| shows(&m.body, id))
        .map(|m| m.week)
        .collect();
    (all, showing)
}

/// With the exceptions repeated weekly (the default interval) the owners hear every week of
/// what is not chased (a red KPI, slipped actions); a manual KPI's missing value still rides
/// along only in the runs its chase tells it, and once the chase has ended it is not told at
/// all, as NO DATA nor as BASELINE OVERDUE.
async fn a_missing_value_is_told_on_the_chase_s_schedule_only_though_other_news_goes_weekly() {
    let extra = EXTRA.replace(
        "repeat_interval_hours = 8784",
        "repeat_interval_hours = 168",
    );
    for backend in backends().await {
        let name = backend.name;
        let mails = walk(&backend, &extra).await;
        // 4/1 (a survey, due by 2026-09-30): asked, reminded before and after 2026-12-10,
        // escalated before 2027-01-14; never again, though a digest goes every week.
        let (all, told) = weeks_of(&mails, "copro@example.org", "4/1");
        assert!(all.len() >= 20, "{name}: digests each week {all:?}");
        assert_eq!(told, [0, 9, 10, 14], "{name}: 4/1 told in {told:?}");
        let (_, lead) = weeks_of(&mails, "copro-lead@example.org", "4/1");
        assert_eq!(lead, [14], "{name}: the lead told in {lead:?}");
        // No digest repeats a stage: each chase line once per recipient.
        let mut lines: Vec<(String, String)> = mails
            .iter()
            .filter_map(|m| Some((m.to.clone(), chase_line(&m.body)?)))
            .collect();
        let n = lines.len();
        lines.sort();
        lines.dedup();
        assert_eq!(lines.len(), n, "{name}: a stage told twice: {lines:#?}");
        // 1/4 (quarterly, entered by hand, its baseline never established): its BASELINE
        // OVERDUE card is its chase's. Apr-Jun 2026 asked in the first run; Jul-Sep 2026
        // (due by 2026-10-30) asked on 2026-11-02, reminded before and after 2026-12-10,
        // escalated before 2027-01-14; Oct-Dec 2026 (due by 2027-01-30) asked on 2027-02-01,
        // reminded before and after 2027-02-11 (meetings every four weeks after the last
        // configured), escalated before 2027-03-11; then nothing, though the sub-group's
        // digest goes every week for its red KPI and its actions.
        let perf = "pm-ap-subgroup@example.org";
        let (all, told) = weeks_of(&mails, perf, "1/4");
        assert!(all.len() >= 20, "{name}: digests each week {all:?}");
        assert_eq!(
            told,
            [0, 4, 9, 10, 14, 17, 18, 19, 22],
            "{name}: 1/4 told in {told:?}"
        );
        let cards = mails
            .iter()
            .filter(|m| m.to == perf && shows(&m.body, "1/4"))
            .filter(|m| m.body.contains("BASELINE OVERDUE"))
            .count();
        assert_eq!(cards, 9, "{name}: 1/4's BASELINE OVERDUE card in {told:?}");
        // Counted once where it is told: a KPI slipped, not also a value overdue.
        for m in mails.iter().filter(|m| m.to == perf) {
            let subject = &m.subject;
            let slipped = if shows(&m.body, "1/4") {
                "2 KPIs"
            } else {
                "1 KPI"
            };
            assert!(
                subject.contains(&format!("{slipped} slipped")) && !subject.contains("overdue"),
                "{name} week {}: {subject}",
                m.week
            );
        }
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(a_missing_value_is_asked_reminded_twice_escalated_once_then_no_more).each_backend(),
        trial!(a_missing_value_is_told_on_the_chase_s_schedule_only_though_other_news_goes_weekly)
            .each_backend(),
    ]
}
