//! Silences: an operator holds back items that match, until a date, with a comment and an
//! author (`sendwatch silence add`). Pure: `now` is an argument; the store keeps them
//! ([`crate::store`] `silences`).
//!
//! Owns: [`Silence`], whether one applies now ([`Silence::active`]), which silences an item
//! ([`silencing`]), and reading `--until` ([`parse_until`]). A silenced item is listed at the
//! digest's foot ([`super::Silenced`]), never dropped silently.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};

use super::item::Item;
use super::matcher::{Matcher, all_match, parse_matchers};

/// One silence as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: i64,
    /// Matchers as written, e.g. `kpi=3/3`.
    pub matchers: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub comment: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    /// Set by `silence expire`.
    pub expired_at: Option<DateTime<Utc>>,
}

impl Silence {
    /// Applies at `now`: started, not past its end, not expired by hand.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at && self.expired_at.is_none_or(|e| now < e)
    }

    /// "active", "expired" (by hand or by time) or "pending" (starts later).
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        if self.active(now) {
            "active"
        } else if now < self.starts_at && self.expired_at.is_none() {
            "pending"
        } else {
            "expired"
        }
    }

    fn parsed(&self) -> Vec<Matcher> {
        // Stored only after parsing; a row that no longer parses silences nothing.
        parse_matchers(&self.matchers).unwrap_or_default()
    }
}

/// The first silence active at `now` that holds `item` back.
pub fn silencing<'a>(
    silences: &'a [Silence],
    item: &Item,
    now: DateTime<Utc>,
) -> Option<&'a Silence> {
    silences
        .iter()
        .find(|s| s.active(now) && !s.matchers.is_empty() && all_match(&s.parsed(), item))
}

/// What the operator gave is not a silence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("--until `{0}` is neither a date (YYYY-MM-DD) nor a duration (30m, 12h, 7d, 2w)")]
    Until(String),
    #[error("--until {0} is not in the future")]
    Past(String),
    #[error("a silence needs at least one --match")]
    NoMatcher,
    #[error("--match {matcher}: {error}")]
    Matcher { matcher: String, error: String },
    #[error("a silence needs a --comment saying why")]
    NoComment,
    #[error("a silence needs an --author")]
    NoAuthor,
}

/// `--until`: a date (the silence holds through that day, local time `tz`) or a duration from
/// `now` (`30m`, `12h`, `7d`, `2w`). Must be in the future.
pub fn parse_until(
    s: &str,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<DateTime<Utc>, SilenceError> {
    let s = s.trim();
    let bad = || SilenceError::Until(s.to_string());
    let end = if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let next = d.succ_opt().ok_or_else(bad)?;
        let midnight = next.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
        tz.from_local_datetime(&midnight)
            .earliest()
            .ok_or_else(bad)?
            .with_timezone(&Utc)
    } else {
        let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
        let n: i64 = n.parse().map_err(|_| bad())?;
        let d = match unit {
            "m" => TimeDelta::try_minutes(n),
            "h" => TimeDelta::try_hours(n),
            "d" => TimeDelta::try_days(n),
            "w" => TimeDelta::try_weeks(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        now.checked_add_signed(d).ok_or_else(bad)?
    };
    if end <= now {
        return Err(SilenceError::Past(s.to_string()));
    }
    Ok(end)
}

/// Check a new silence's parts: at least one matcher, each parsing; a comment; an author.
pub fn check_new(matchers: &[String], comment: &str, author: &str) -> Result<(), SilenceError> {
    if matchers.is_empty() {
        return Err(SilenceError::NoMatcher);
    }
    if let Err((i, e)) = parse_matchers(matchers) {
        return Err(SilenceError::Matcher {
            matcher: matchers[i].clone(),
            error: e.to_string(),
        });
    }
    if comment.trim().is_empty() {
        return Err(SilenceError::NoComment);
    }
    if author.trim().is_empty() {
        return Err(SilenceError::NoAuthor);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::item::{ItemKind, Severity};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect(s)
    }

    fn silence(matchers: &[&str], ends: &str) -> Silence {
        Silence {
            id: 1,
            matchers: matchers.iter().map(|s| s.to_string()).collect(),
            starts_at: t("2026-11-01T00:00:00Z"),
            ends_at: t(ends),
            comment: "recovery plan agreed".into(),
            author: "pm".into(),
            created_at: t("2026-11-01T00:00:00Z"),
            expired_at: None,
        }
    }

    fn kpi(id: &str) -> Item {
        Item {
            kind: ItemKind::NoData,
            sub_group: "coproduction".into(),
            kpi: Some(id.into()),
            risk: None,
            source: None,
            action: None,
            severity: Severity::Warning,
            period: "2026-Q3".into(),
            state: "NO DATA".into(),
        }
    }

    #[test]
    fn a_silence_applies_while_active_and_to_matching_items_only() {
        let s = [silence(&["kpi=3/3"], "2026-12-01T00:00:00Z")];
        let now = t("2026-11-23T20:00:00Z");
        assert_eq!(silencing(&s, &kpi("3/3"), now).map(|s| s.id), Some(1));
        assert!(silencing(&s, &kpi("3/1"), now).is_none());
        // Expires by time.
        assert!(silencing(&s, &kpi("3/3"), t("2026-12-01T00:00:00Z")).is_none());
        // Not before it starts.
        assert!(silencing(&s, &kpi("3/3"), t("2026-10-31T00:00:00Z")).is_none());
        // Expired by hand.
        let mut e = s.clone();
        e[0].expired_at = Some(t("2026-11-20T00:00:00Z"));
        assert!(silencing(&e, &kpi("3/3"), now).is_none());
        assert_eq!(e[0].state(now), "expired");
        assert_eq!(s[0].state(now), "active");
        // Every matcher must hold.
        let both = [silence(&["kpi=3/3", "kind=breach"], "2026-12-01T00:00:00Z")];
        assert!(silencing(&both, &kpi("3/3"), now).is_none());
    }

    #[test]
    fn until_is_a_date_through_its_day_or_a_duration_and_in_the_future() {
        let now = t("2026-11-23T20:00:00Z");
        let london = chrono_tz::Europe::London;
        assert_eq!(
            parse_until("2026-12-01", now, london),
            Ok(t("2026-12-02T00:00:00Z"))
        );
        // Summer time: the day ends at 23:00 UTC.
        assert_eq!(
            parse_until("2027-07-01", now, london),
            Ok(t("2027-07-01T23:00:00Z"))
        );
        assert_eq!(
            parse_until("7d", now, london),
            Ok(t("2026-11-30T20:00:00Z"))
        );
        assert_eq!(
            parse_until("12h", now, london),
            Ok(t("2026-11-24T08:00:00Z"))
        );
        assert_eq!(
            parse_until("2w", now, london),
            Ok(t("2026-12-07T20:00:00Z"))
        );
        assert!(matches!(
            parse_until("2026-11-01", now, london),
            Err(SilenceError::Past(_))
        ));
        assert!(matches!(
            parse_until("0h", now, london),
            Err(SilenceError::Past(_))
        ));
        assert!(matches!(
            parse_until("soon", now, london),
            Err(SilenceError::Until(_))
        ));
        assert!(matches!(
            parse_until("3y", now, london),
            Err(SilenceError::Until(_))
        ));
    }

    #[test]
    fn a_new_silence_needs_matchers_a_comment_and_an_author() {
        let m = vec!["kpi=3/3".to_string()];
        assert_eq!(check_new(&m, "why", "me"), Ok(()));
        assert_eq!(check_new(&[], "why", "me"), Err(SilenceError::NoMatcher));
        assert_eq!(check_new(&m, " ", "me"), Err(SilenceError::NoComment));
        assert_eq!(check_new(&m, "why", ""), Err(SilenceError::NoAuthor));
        assert!(matches!(
            check_new(&["colour=red".into()], "why", "me"),
            Err(SilenceError::Matcher { .. })
        ));
    }
}
