//! The shrink guard: an extract that lost too many rows, or whose data goes back in time, is
//! held for an operator rather than swapped in over good data. Pure.

use chrono::NaiveDate;

use crate::disclose::data_month;

/// What is known of a load for the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub rows: u64,
    pub as_of: Option<NaiveDate>,
}

/// Why `new` should be held rather than replace `current`, if it should (every reason that
/// applies, joined).
pub fn hold_reason(current: Option<Extent>, new: Extent, max_shrink: f64) -> Option<String> {
    let current = current?;
    let mut reasons = Vec::new();
    if current.rows > 0 && (new.rows as f64) < current.rows as f64 * (1.0 - max_shrink) {
        let lost = current.rows - new.rows.min(current.rows);
        reasons.push(format!(
            "it has {} rows against the current load's {} (down {:.1}%, more than the {:.0}% \
             allowed by load.max_shrink)",
            new.rows,
            current.rows,
            100.0 * lost as f64 / current.rows as f64,
            max_shrink * 100.0
        ));
    }
    // Months only: the latest date of an extract is one child's event (DOMAIN 8), so no
    // reason (kept in `loads.held_reason`, mailed, logged) ever carries the day.
    if let (Some(was), Some(now)) = (current.as_of, new.as_of)
        && now < was
    {
        let (now_m, was_m) = (data_month(Some(now)), data_month(Some(was)));
        reasons.push(if now_m == was_m {
            format!(
                "its data ends earlier in {now_m} than the current load's does: the as-of date \
                 went backwards"
            )
        } else {
            format!(
                "its data runs to {now_m}, before the current load's {was_m}: the as-of date \
                 went backwards"
            )
        });
    }
    (!reasons.is_empty()).then(|| reasons.join("; and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        s.parse().ok()
    }

    #[test]
    fn holds_a_shrunk_or_older_extract_and_passes_the_rest() {
        let cur = Extent {
            rows: 200,
            as_of: d("2021-07-31"),
        };
        let half = Extent {
            rows: 100,
            as_of: d("2021-07-31"),
        };
        assert!(hold_reason(Some(cur), half, 0.10).is_some_and(|r| r.contains("down 50.0%")));
        let ninety = Extent {
            rows: 180,
            as_of: d("2021-07-31"),
        };
        assert_eq!(
            hold_reason(Some(cur), ninety, 0.10),
            None,
            "exactly 10% is allowed"
        );
        let older = Extent {
            rows: 210,
            as_of: d("2021-06-30"),
        };
        let reason = hold_reason(Some(cur), older, 0.10).expect("held");
        assert!(
            reason.contains("runs to June 2021, before the current load's July 2021"),
            "{reason}"
        );
        let same_month = Extent {
            rows: 210,
            as_of: d("2021-07-03"),
        };
        let reason = hold_reason(Some(cur), same_month, 0.10).expect("held");
        assert!(reason.contains("earlier in July 2021"), "{reason}");
        for r in [&reason, &hold_reason(Some(cur), older, 0.10).expect("held")] {
            assert!(
                !r.contains("2021-0") && !r.contains("31") && !r.contains("30"),
                "a day: {r}"
            );
        }
        assert_eq!(
            hold_reason(None, half, 0.10),
            None,
            "a first load has nothing to guard"
        );
    }
}
