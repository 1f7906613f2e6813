//! Catch-up: the fire times a job missed while no daemon ran, and what to do with them.
//! Pure: both functions take the instants (`since`, `now`) as arguments.
//!
//! [`missed`] lists the fire times in `(since, now]` exactly as [`super::next_fire`] walks
//! them forward, so a time in a clock change's gap or repeated hour is listed once, as the
//! daemon would have fired it. Only the newest are listed (a walk back from `now` finds where
//! they start), so a year down with a per-minute job costs no more than a day down; the
//! older ones are counted. [`plan`] applies the job's policy: `skip` runs none, `latest`
//! (the default) runs the newest once, `all` runs each, at most [`MAX_CATCH_UP_RUNS`].

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::Deserialize;

use super::next_fire;

/// `[jobs.NAME] catch_up`: what a daemon does at start with fire times missed while down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// Run none of them; each is recorded as skipped.
    Skip,
    /// Run the newest once; the older ones are recorded as skipped.
    #[default]
    Latest,
    /// Run each, oldest first, at most [`MAX_CATCH_UP_RUNS`] (the newest); the rest skipped.
    All,
}

impl CatchUp {
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUp::Skip => "skip",
            CatchUp::Latest => "latest",
            CatchUp::All => "all",
        }
    }
}

/// The most missed fire times `all` runs.
pub const MAX_CATCH_UP_RUNS: usize = 24;
/// The most missed fire times listed one by one (a ledger row each); older ones are counted.
pub const MAX_LISTED: usize = 100;
/// Counting stops here: "at least" this many earlier.
const COUNT_CAP: usize = 10_000;

/// The fire times missed in `(since, now]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missed {
    /// The newest ones, oldest first.
    pub listed: Vec<DateTime<Utc>>,
    /// How many earlier ones were not listed.
    pub earlier: usize,
    /// `earlier` is a floor: counting stopped there.
    pub earlier_at_least: bool,
}

/// The fire times of `cron` (read in `tz`) in `(since, now]`, at most `keep` of the newest.
pub fn missed(
    cron: &Cron,
    tz: Tz,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    keep: usize,
) -> Missed {
    let mut out = Missed::default();
    if keep == 0 || now <= since {
        return out;
    }
    // Walk back from `now` to where the newest `keep` begin. The backward search may land on
    // an instant the forward walk never fires (the second pass of a repeated hour), so it
    // only bounds the window; the forward walk below decides what is listed.
    let mut start = since;
    let mut cursor = now.with_timezone(&tz);
    let mut inclusive = true;
    for found in 1..=keep {
        match cron.find_previous_occurrence(&cursor, inclusive) {
            Ok(p) if p.with_timezone(&Utc) > since => {
                if found == keep {
                    start = (p.with_timezone(&Utc) - TimeDelta::seconds(1)).max(since);
                }
                cursor = p;
                inclusive = false;
            }
            _ => break,
        }
    }
    let mut t = start;
    // Bounded: the window holds about `keep` fire times.
    for _ in 0..keep.saturating_mul(2) + 4 {
        match next_fire(cron, tz, t).filter(|n| *n <= now) {
            Some(n) => {
                out.listed.push(n);
                t = n;
            }
            None => break,
        }
    }
    if out.listed.len() > keep {
        let extra = out.listed.len() - keep;
        out.listed.drain(..extra);
    }
    if let Some(&first) = out.listed.first() {
        let mut t = since;
        while let Some(n) = next_fire(cron, tz, t).filter(|n| *n < first) {
            if out.earlier >= COUNT_CAP {
                out.earlier_at_least = true;
                break;
            }
            out.earlier += 1;
            t = n;
        }
    }
    out
}

/// Why a missed fire time is not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipWhy {
    /// `catch_up = "skip"`.
    Policy,
    /// `catch_up = "latest"`: a newer missed time runs instead.
    Superseded,
    /// `catch_up = "all"`, past [`MAX_CATCH_UP_RUNS`].
    OverCap,
}

/// What to do with the missed fire times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Run these, in this order (oldest first).
    pub run: Vec<DateTime<Utc>>,
    /// Record these as skipped, oldest first.
    pub skip: Vec<(DateTime<Utc>, SkipWhy)>,
    /// Earlier missed times not listed (recorded in the oldest skipped row's note).
    pub earlier: usize,
    pub earlier_at_least: bool,
}

pub fn plan(policy: CatchUp, missed: &Missed) -> Plan {
    let n = missed.listed.len();
    let (skip_n, why) = match policy {
        CatchUp::Skip => (n, SkipWhy::Policy),
        CatchUp::Latest => (n.saturating_sub(1), SkipWhy::Superseded),
        CatchUp::All => (n.saturating_sub(MAX_CATCH_UP_RUNS), SkipWhy::OverCap),
    };
    Plan {
        run: missed.listed[skip_n..].to_vec(),
        skip: missed.listed[..skip_n].iter().map(|t| (*t, why)).collect(),
        earlier: missed.earlier,
        earlier_at_least: missed.earlier_at_least,
    }
}

/// A fire time as the ledger's notes say it: `07:00 GMT on 2027-03-27` (seconds if any).
pub fn local(at: DateTime<Utc>, tz: Tz) -> String {
    let t = at.with_timezone(&tz);
    let clock = if t.timestamp() % 60 == 0 {
        "%H:%M %Z"
    } else {
        "%H:%M:%S %Z"
    };
    format!("{} on {}", t.format(clock), t.format("%Y-%m-%d"))
}

/// The note of a catch-up run.
pub fn run_note(at: DateTime<Utc>, tz: Tz) -> String {
    format!("catch-up of {} missed while down", local(at, tz))
}

/// The note of a missed fire time not run. `ran` is the newest missed time that runs, if any;
/// `earlier` is said on the oldest skipped row only.
pub fn skip_note(
    why: SkipWhy,
    ran: Option<DateTime<Utc>>,
    tz: Tz,
    earlier: Option<(usize, bool)>,
) -> String {
    let mut note = match (why, ran) {
        (SkipWhy::Policy, _) => "missed while down; catch_up = \"skip\"".to_string(),
        (SkipWhy::Superseded, Some(r)) => format!(
            "missed while down; catch_up = \"latest\" ran only the newest missed time, {}",
            local(r, tz)
        ),
        (SkipWhy::Superseded, None) => "missed while down; catch_up = \"latest\"".to_string(),
        (SkipWhy::OverCap, _) => format!(
            "missed while down; catch_up = \"all\" runs at most the {MAX_CATCH_UP_RUNS} newest"
        ),
    };
    if let Some((n, at_least)) = earlier.filter(|(n, _)| *n > 0) {
        let floor = if at_least { "at least " } else { "" };
        note.push_str(&format!(
            "; {floor}{n} earlier missed fire times are not listed"
        ));
    }
    note
}

#[cfg(test)]
mod tests {
    use super::super::parse_cron;
    use super::*;
    use chrono::{TimeZone, Timelike};
    use chrono_tz::Europe::London;

    fn london(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .expect("local time")
            .with_timezone(&Utc)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("utc")
    }

    /// Every fire time in (since, now], walked forward one by one: the reference.
    fn walk(pattern: &str, since: DateTime<Utc>, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let cron = parse_cron(pattern).expect("cron");
        let mut out = Vec::new();
        let mut t = since;
        while let Some(n) = next_fire(&cron, London, t).filter(|n| *n <= now) {
            out.push(n);
            t = n;
        }
        out
    }

    fn missed_of(pattern: &str, since: DateTime<Utc>, now: DateTime<Utc>, keep: usize) -> Missed {
        missed(
            &parse_cron(pattern).expect("cron"),
            London,
            since,
            now,
            keep,
        )
    }

    fn hm(t: &DateTime<Utc>) -> (u32, u32) {
        let l = t.with_timezone(&London);
        (l.hour(), l.minute())
    }

    #[test]
    fn daily_0700_down_across_the_spring_change() {
        // Last ran Friday 26 March 07:00 GMT; back on Monday 29 March at 08:00 BST.
        let m = missed_of(
            "0 7 * * *",
            london(2027, 3, 26, 7, 0),
            london(2027, 3, 29, 8, 0),
            MAX_LISTED,
        );
        assert_eq!(m.listed.len(), 3, "{m:?}");
        assert!(m.listed.iter().all(|t| hm(t) == (7, 0)), "{m:?}");
        assert_eq!(m.listed[0], utc(2027, 3, 27, 7, 0));
        assert_eq!(
            m.listed[1],
            utc(2027, 3, 28, 6, 0),
            "07:00 BST is 06:00 UTC"
        );
        assert_eq!(m.earlier, 0);
        let p = plan(CatchUp::Latest, &m);
        assert_eq!(p.run, vec![utc(2027, 3, 29, 6, 0)]);
        assert_eq!(
            p.skip,
            vec![
                (utc(2027, 3, 27, 7, 0), SkipWhy::Superseded),
                (utc(2027, 3, 28, 6, 0), SkipWhy::Superseded)
            ]
        );
    }

    #[test]
    fn daily_0130_in_the_gap_and_the_repeated_hour_is_missed_once() {
        // 28 March 2027: 01:30 does not exist; the daemon fires at 02:00 BST.
        let m = missed_of(
            "30 1 * * *",
            london(2027, 3, 27, 1, 30),
            london(2027, 3, 29, 12, 0),
            MAX_LISTED,
        );
        assert_eq!(
            m.listed.iter().map(hm).collect::<Vec<_>>(),
            vec![(2, 0), (1, 30)]
        );
        // 31 October 2027: 01:30 happens twice; only the first (00:30 UTC) fires.
        let m = missed_of(
            "30 1 * * *",
            london(2027, 10, 30, 1, 30),
            london(2027, 10, 31, 3, 0),
            MAX_LISTED,
        );
        assert_eq!(m.listed, vec![utc(2027, 10, 31, 0, 30)]);
        // Down from just after the first 01:30 until after the second: nothing was missed.
        let m = missed_of(
            "30 1 * * *",
            utc(2027, 10, 31, 0, 30),
            utc(2027, 10, 31, 1, 45),
            MAX_LISTED,
        );
        assert_eq!(m, Missed::default());
        // Only the newest one listed, from just after the second 01:30: still the first.
        let m = missed_of(
            "30 1 * * *",
            london(2027, 10, 30, 1, 30),
            utc(2027, 10, 31, 1, 31),
            1,
        );
        assert_eq!(m.listed, vec![utc(2027, 10, 31, 0, 30)]);
        assert_eq!(m.earlier, 0);
    }

    #[test]
    fn the_newest_are_listed_as_the_forward_walk_fires_them() {
        let windows = [
            (utc(2027, 3, 27, 20, 0), utc(2027, 3, 28, 4, 0)),
            (utc(2027, 10, 30, 22, 0), utc(2027, 10, 31, 3, 0)),
            (utc(2027, 10, 31, 0, 40), utc(2027, 10, 31, 1, 40)),
        ];
        for pattern in [
            "*/30 * * * *",
            "15 * * * *",
            "30 1 * * *",
            "0 2 * * *",
            "*/20 1 * * *",
        ] {
            for (since, now) in windows {
                let all = walk(pattern, since, now);
                for keep in [1, 3, MAX_LISTED] {
                    let m = missed_of(pattern, since, now, keep);
                    let from = all.len().saturating_sub(keep);
                    assert_eq!(
                        m.listed,
                        all[from..],
                        "{pattern} {since}..{now} keep {keep}"
                    );
                    assert_eq!(m.earlier, from, "{pattern} {since}..{now} keep {keep}");
                }
            }
        }
    }

    #[test]
    fn a_long_downtime_lists_the_newest_and_counts_the_rest() {
        let now = utc(2027, 10, 31, 12, 0);
        let m = missed_of("* * * * * *", now - TimeDelta::days(2), now, MAX_LISTED);
        assert_eq!(m.listed.len(), MAX_LISTED);
        assert_eq!(*m.listed.last().expect("newest"), now);
        assert_eq!((m.earlier, m.earlier_at_least), (COUNT_CAP, true));
        let m = missed_of("* * * * *", now - TimeDelta::hours(3), now, MAX_LISTED);
        assert_eq!(
            (m.listed.len(), m.earlier, m.earlier_at_least),
            (MAX_LISTED, 80, false)
        );
    }

    #[test]
    fn nothing_missed_when_now_is_not_past_since() {
        let t = utc(2027, 3, 28, 6, 0);
        assert_eq!(missed_of("0 7 * * *", t, t, MAX_LISTED), Missed::default());
        assert_eq!(
            missed_of("0 7 * * *", t, t - TimeDelta::days(3), MAX_LISTED),
            Missed::default()
        );
    }

    #[test]
    fn each_policy_plans_its_runs_and_skips() {
        let base = utc(2027, 3, 1, 7, 0);
        let listed: Vec<_> = (0..30).map(|d| base + TimeDelta::days(d)).collect();
        let m = Missed {
            listed: listed.clone(),
            earlier: 5,
            earlier_at_least: false,
        };
        let skip = plan(CatchUp::Skip, &m);
        assert!(skip.run.is_empty());
        assert_eq!(skip.skip.len(), 30);
        assert!(skip.skip.iter().all(|(_, w)| *w == SkipWhy::Policy));
        let latest = plan(CatchUp::Latest, &m);
        assert_eq!(latest.run, vec![listed[29]]);
        assert_eq!(latest.skip.len(), 29);
        let all = plan(CatchUp::All, &m);
        assert_eq!(all.run, listed[6..]);
        assert_eq!(
            all.skip.iter().map(|s| s.0).collect::<Vec<_>>(),
            listed[..6]
        );
        assert!(all.skip.iter().all(|(_, w)| *w == SkipWhy::OverCap));
        assert_eq!(all.earlier, 5);
        let none = plan(CatchUp::All, &Missed::default());
        assert_eq!(none, Plan::default());
    }

    #[test]
    fn notes_say_the_local_time() {
        assert_eq!(
            run_note(utc(2027, 3, 29, 6, 0), London),
            "catch-up of 07:00 BST on 2027-03-29 missed while down"
        );
        assert_eq!(
            skip_note(
                SkipWhy::Superseded,
                Some(utc(2027, 3, 29, 6, 0)),
                London,
                Some((3, false))
            ),
            "missed while down; catch_up = \"latest\" ran only the newest missed time, 07:00 BST on 2027-03-29; 3 earlier missed fire times are not listed"
        );
        assert_eq!(
            local(utc(2027, 1, 5, 7, 0) + TimeDelta::seconds(5), London),
            "07:00:05 GMT on 2027-01-05"
        );
    }
}
