//! Freshness: when a source's next extract is due, and whether it is late. Pure.
//!
//! A source with a cadence is expected to bring new data (a load that was swapped in, not a
//! re-fetch of the same bytes) once per cadence; past the cadence plus its deadline, the
//! source is stale. Staleness is news for the source's data owner; it changes no KPI's rating.

use chrono::{DateTime, Duration, Months, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
}

impl Cadence {
    /// One cadence after `t` (calendar months for monthly and quarterly); `t` itself past
    /// the end of time.
    pub fn after(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Cadence::Daily => t.checked_add_signed(Duration::days(1)),
            Cadence::Weekly => t.checked_add_signed(Duration::days(7)),
            Cadence::Monthly => t.checked_add_months(Months::new(1)),
            Cadence::Quarterly => t.checked_add_months(Months::new(3)),
        }
        .unwrap_or(t)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
        }
    }
}

/// A source late with its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// When the current data arrived (none: never).
    pub last_new: Option<DateTime<Utc>>,
    /// When new data was due by.
    pub due: Option<DateTime<Utc>>,
}

/// Is a source stale at `now`, given when its current data arrived?
pub fn stale(
    cadence: Cadence,
    deadline_days: u32,
    last_new: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Stale> {
    let Some(last) = last_new else {
        return Some(Stale {
            last_new: None,
            due: None,
        });
    };
    // The deadline is checked to be at most a year; unchecked, past the end of time it is
    // never due.
    let due = cadence
        .after(last)
        .checked_add_signed(Duration::days(i64::from(deadline_days)))?;
    (now > due).then_some(Stale {
        last_new: Some(last),
        due: Some(due),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    #[test]
    fn monthly_with_ten_days_grace() {
        let last = Some(t("2026-09-02T07:00:00Z"));
        assert_eq!(
            stale(Cadence::Monthly, 10, last, t("2026-10-12T06:59:00Z")),
            None
        );
        let late = stale(Cadence::Monthly, 10, last, t("2026-10-12T07:01:00Z")).expect("stale");
        assert_eq!(late.due, Some(t("2026-10-12T07:00:00Z")));
        assert!(stale(Cadence::Monthly, 10, None, t("2026-10-12T07:01:00Z")).is_some());
        assert_eq!(
            Cadence::Quarterly.after(t("2026-11-30T00:00:00Z")),
            t("2027-02-28T00:00:00Z"),
            "a short month clamps the day"
        );
    }

    #[test]
    fn a_deadline_past_the_end_of_time_is_never_due_and_does_not_panic() {
        let last = Some(t("2026-09-02T07:00:00Z"));
        assert_eq!(
            stale(Cadence::Daily, u32::MAX, last, t("2027-10-12T07:01:00Z")),
            None
        );
        let end = DateTime::<Utc>::MAX_UTC;
        assert_eq!(Cadence::Weekly.after(end), end);
    }
}
