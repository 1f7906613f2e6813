//! Schedule: when each job fires, as a pure function of `now`.
//!
//! Cron expressions are read in the configured zone (Europe/London) with croner and
//! chrono-tz. tokio-cron-scheduler keeps a job's UTC offset from the day it was created, so
//! after a clock change its zoned jobs fire an hour out; the daemon therefore uses it only as
//! a UTC tick each second and asks [`next_fire`] which jobs are due.
//!
//! On the spring-forward day a time in the missing hour (01:30) fires once, at 02:00 BST;
//! on the fall-back day a time in the repeated hour fires once, at its first occurrence.
//! [`catch_up`] works out the fire times missed while no daemon ran and what to do with them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

pub mod catch_up;
pub mod settings;

pub use catch_up::{CatchUp, Missed, Plan, SkipWhy, missed, plan};
pub use settings::{DEAD_MAN_HOURS, JobSettings, TIMEOUT_SECS};

#[derive(Debug, thiserror::Error)]
#[error("`{pattern}` is not a valid cron expression: {reason}")]
pub struct CronError {
    pattern: String,
    reason: String,
}

/// Parse a five-field cron expression (minute hour day-of-month month day-of-week), or a
/// six-field one with seconds first.
pub fn parse_cron(pattern: &str) -> Result<Cron, CronError> {
    let err = |reason: String| CronError {
        pattern: pattern.to_string(),
        reason,
    };
    let seconds = match pattern.split_whitespace().count() {
        5 => Seconds::Disallowed,
        6 => Seconds::Required,
        _ => {
            return Err(err(
                "expected 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first"
                    .into(),
            ));
        }
    };
    CronParser::builder()
        .seconds(seconds)
        .build()
        .parse(pattern)
        .map_err(|e| err(e.to_string()))
}

/// The first fire time strictly after `after`, for `cron` read in `tz`.
pub fn next_fire(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A job's schedule and when it is next due.
#[derive(Debug, Clone)]
pub struct Entry {
    pub job: String,
    pub cron: Cron,
    pub next_due: Option<DateTime<Utc>>,
}

impl Entry {
    pub fn new(job: &str, pattern: &str, tz: Tz, now: DateTime<Utc>) -> Result<Entry, CronError> {
        let cron = parse_cron(pattern)?;
        let next_due = next_fire(&cron, tz, now);
        Ok(Entry {
            job: job.to_string(),
            cron,
            next_due,
        })
    }

    /// The instants due at `now`, oldest first (more than one when a tick came late: a busy
    /// or suspended machine), at most [`MAX_DUE`] of the newest; the entry then moves to its
    /// next time after `now`.
    pub fn take_due(&mut self, tz: Tz, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let Some(first) = self.next_due.filter(|d| *d <= now) else {
            return Vec::new();
        };
        // Fire times are whole seconds: (first - 1 s, now] starts at `first`.
        let due = missed(
            &self.cron,
            tz,
            first - chrono::TimeDelta::seconds(1),
            now,
            MAX_DUE,
        );
        self.next_due = next_fire(&self.cron, tz, now);
        due.listed
    }
}

/// The most instants one tick hands over; a tick later than that keeps the newest.
pub const MAX_DUE: usize = 24;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Timelike};
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::London;

    /// Every fire from local midnight of `from` to local midnight of `to`, in London time.
    fn fires(pattern: &str, from: (i32, u32, u32), to: (i32, u32, u32)) -> Vec<DateTime<Tz>> {
        fires_in(London, pattern, from, to)
    }

    /// Every fire from local midnight of `from` to local midnight of `to` in `tz`, in `tz`.
    fn fires_in(
        tz: Tz,
        pattern: &str,
        from: (i32, u32, u32),
        to: (i32, u32, u32),
    ) -> Vec<DateTime<Tz>> {
        let cron = parse_cron(pattern).expect("cron");
        let start = tz
            .with_ymd_and_hms(from.0, from.1, from.2, 0, 0, 0)
            .single()
            .expect("start");
        let end = tz
            .with_ymd_and_hms(to.0, to.1, to.2, 0, 0, 0)
            .single()
            .expect("end");
        let mut out = Vec::new();
        let mut t = start.with_timezone(&Utc);
        while let Some(next) = next_fire(&cron, tz, t) {
            if next >= end.with_timezone(&Utc) {
                break;
            }
            out.push(next.with_timezone(&tz));
            t = next;
        }
        out
    }

    fn one_per_day(fires: &[DateTime<Tz>], days: i64) {
        assert_eq!(fires.len() as i64, days, "{fires:?}");
        let mut dates: Vec<NaiveDate> = fires.iter().map(|f| f.date_naive()).collect();
        dates.dedup();
        assert_eq!(dates.len(), fires.len(), "a day fired twice: {fires:?}");
    }

    #[test]
    fn daily_0700_across_both_2027_clock_changes() {
        for (from, to) in [
            ((2027, 3, 25), (2027, 4, 1)),
            ((2027, 10, 28), (2027, 11, 4)),
        ] {
            let f = fires("0 7 * * *", from, to);
            one_per_day(&f, 7);
            for t in &f {
                assert_eq!((t.hour(), t.minute()), (7, 0), "{t}");
            }
        }
        // The instant moves by an hour in UTC across the change: 07:00 GMT, then 06:00 UTC.
        let spring = fires("0 7 * * *", (2027, 3, 27), (2027, 3, 29));
        assert_eq!(spring[0].with_timezone(&Utc).hour(), 7);
        assert_eq!(spring[1].with_timezone(&Utc).hour(), 6);
        // And back on 31 October: 06:00 UTC (BST) on the 30th, 07:00 UTC (GMT) on the 31st.
        let autumn = fires("0 7 * * *", (2027, 10, 30), (2027, 11, 1));
        assert_eq!(autumn[0].with_timezone(&Utc).hour(), 6);
        assert_eq!(autumn[1].with_timezone(&Utc).hour(), 7);
    }

    #[test]
    fn daily_0130_across_both_2027_clock_changes() {
        // 28 March 2027: 01:00 GMT jumps to 02:00 BST, so 01:30 does not exist that day.
        let spring = fires("30 1 * * *", (2027, 3, 25), (2027, 4, 1));
        one_per_day(&spring, 7);
        for t in &spring {
            let expected = if t.date_naive() == NaiveDate::from_ymd_opt(2027, 3, 28).expect("d") {
                (2, 0) // the first instant after the gap
            } else {
                (1, 30)
            };
            assert_eq!((t.hour(), t.minute()), expected, "{t}");
        }
        // 31 October 2027: 01:00-02:00 happens twice; 01:30 fires once.
        let autumn = fires("30 1 * * *", (2027, 10, 28), (2027, 11, 4));
        one_per_day(&autumn, 7);
        for t in &autumn {
            assert_eq!((t.hour(), t.minute()), (1, 30), "{t}");
        }
        // The first 01:30 of the two (BST, 00:30 UTC), not the second (GMT, 01:30 UTC).
        let sunday = autumn
            .iter()
            .find(|t| t.date_naive() == NaiveDate::from_ymd_opt(2027, 10, 31).expect("d"))
            .expect("31 October fires");
        assert_eq!(sunday.with_timezone(&Utc).hour(), 0, "{sunday}");
    }

    /// `general.time_zone` set elsewhere: New York changes its clocks on 14 March and
    /// 7 November 2027, not with London on 28 March and 31 October.
    #[test]
    fn a_job_in_another_zone_follows_that_zones_clock_changes_not_londons() {
        // Across London's changes New York keeps EDT: 07:00 local is 11:00 UTC every day.
        for (from, to) in [
            ((2027, 3, 25), (2027, 4, 1)),
            ((2027, 10, 28), (2027, 11, 4)),
        ] {
            let f = fires_in(New_York, "0 7 * * *", from, to);
            one_per_day(&f, 7);
            for t in &f {
                assert_eq!((t.hour(), t.minute()), (7, 0), "{t}");
                assert_eq!(t.with_timezone(&Utc).hour(), 11, "{t}");
            }
        }
        // Across its own: 07:00 local stays, the UTC hour moves (12 EST, 11 EDT, 12 EST).
        let spring = fires_in(New_York, "0 7 * * *", (2027, 3, 13), (2027, 3, 15));
        let autumn = fires_in(New_York, "0 7 * * *", (2027, 11, 6), (2027, 11, 8));
        let utc_hours = |f: &[DateTime<Tz>]| -> Vec<u32> {
            f.iter().map(|t| t.with_timezone(&Utc).hour()).collect()
        };
        assert_eq!(utc_hours(&spring), vec![12, 11]);
        assert_eq!(utc_hours(&autumn), vec![11, 12]);
        // 02:30 does not exist on 14 March 2027 there (02:00 EST jumps to 03:00 EDT): it
        // fires once, at 03:00; on 7 November 01:30 happens twice and fires once.
        let gap = fires_in(New_York, "30 2 * * *", (2027, 3, 14), (2027, 3, 15));
        assert_eq!(gap.len(), 1, "{gap:?}");
        assert_eq!((gap[0].hour(), gap[0].minute()), (3, 0), "{gap:?}");
        let twice = fires_in(New_York, "30 1 * * *", (2027, 11, 7), (2027, 11, 8));
        assert_eq!(twice.len(), 1, "{twice:?}");
        assert_eq!((twice[0].hour(), twice[0].minute()), (1, 30), "{twice:?}");
    }

    #[test]
    fn take_due_fires_once_per_instant() {
        let tz = London;
        let now = Utc
            .with_ymd_and_hms(2027, 3, 27, 23, 0, 0)
            .single()
            .expect("now");
        let mut e = Entry::new("j", "30 1 * * *", tz, now).expect("entry");
        assert!(e.take_due(tz, now).is_empty());
        let due = e.next_due.expect("due");
        assert_eq!(e.take_due(tz, due), vec![due]);
        assert!(e.take_due(tz, due).is_empty(), "fired twice");
        assert!(e.next_due.expect("next") > due);
    }

    #[test]
    fn a_late_tick_hands_over_each_instant_it_passed_once() {
        let tz = London;
        let start = Utc
            .with_ymd_and_hms(2027, 3, 28, 0, 0, 0)
            .single()
            .expect("now");
        let mut e = Entry::new("j", "*/5 * * * * *", tz, start).expect("entry");
        let late = start + chrono::TimeDelta::seconds(17);
        let due = e.take_due(tz, late);
        let secs: Vec<i64> = due.iter().map(|d| (*d - start).num_seconds()).collect();
        assert_eq!(secs, vec![5, 10, 15]);
        assert_eq!(e.next_due, Some(start + chrono::TimeDelta::seconds(20)));
        // A day asleep hands over only the newest MAX_DUE, and the next is after `now`.
        let asleep = late + chrono::TimeDelta::days(1);
        let due = e.take_due(tz, asleep);
        assert_eq!(due.len(), MAX_DUE);
        assert!(due.windows(2).all(|w| w[0] < w[1]));
        assert!(e.next_due.expect("next") > asleep);
        assert!(*due.last().expect("newest") > asleep - chrono::TimeDelta::seconds(5));
    }

    #[test]
    fn six_fields_put_seconds_first() {
        let cron = parse_cron("*/5 * * * * *").expect("six fields");
        let t = Utc
            .with_ymd_and_hms(2027, 10, 31, 1, 0, 2)
            .single()
            .expect("t");
        assert_eq!(
            next_fire(&cron, London, t),
            Some(t + chrono::TimeDelta::seconds(3))
        );
    }

    #[test]
    fn rejects_bad_patterns() {
        assert!(parse_cron("0 7 * *").is_err());
        assert!(parse_cron("0 0 7 * * * *").is_err());
        assert!(parse_cron("61 7 * * *").is_err());
        assert!(parse_cron("61 0 7 * * *").is_err());
    }
}
