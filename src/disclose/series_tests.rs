//! The series model's relations, one test each: a running total's months, a year to date
//! against its months, the rest of a share, an average's referrals, a denominator beside a
//! hidden value, and the rounding policy.

use super::*;
use crate::disclose::{DisclosureSettings, Policy};

fn d() -> Disclosure {
    Disclosure::default()
}

/// A running total since the year began (month 0 is the year's start).
fn running(to: i64, numerator: u64, denominator: u64) -> Offer {
    Offer {
        span: Span {
            axis: 0,
            from: 0,
            to,
        },
        numerator,
        denominator,
    }
}

/// A year to date: the months from the year's start (month 1) to `to`.
fn ytd(to: i64, numerator: u64, denominator: u64) -> Offer {
    running(to, numerator, denominator)
}

/// One month's flow.
fn month(m: i64, numerator: u64, denominator: u64) -> Offer {
    Offer {
        span: Span {
            axis: 0,
            from: m - 1,
            to: m,
        },
        numerator,
        denominator,
    }
}

fn values(s: &mut Series, offers: &[Offer]) -> Vec<bool> {
    offers.iter().map(|o| s.offer(*o).value).collect()
}

#[test]
fn a_running_totals_month_is_hidden_when_it_adds_a_small_count() {
    // Issue 17, defect 1: 1/3's 15.2, 19.6, 26.1, 34.8% of 46 are 7, 9, 12, 16 of 46: the
    // months added 2, 3 and 4. Shown after 7 of 46: 12 (5 more than the last shown).
    let mut s = Series::new(d(), Shape::Share);
    let shown = values(
        &mut s,
        &[
            running(1, 7, 46),
            running(2, 9, 46),
            running(3, 12, 46),
            running(4, 16, 46),
        ],
    );
    assert_eq!(shown, [true, false, true, false]);
    // The digest's own case: 5 of 34, then 7 of 34 (2 reviews in August 2020).
    let mut s = Series::new(d(), Shape::Share);
    let second = s.offer(running(1, 5, 34));
    let third = s.offer(running(2, 7, 34));
    assert!(second.value && second.rated);
    assert_eq!(third.why, Why::Recoverable);
    assert!(!third.rated, "a hidden figure's RAG is not said");
}

#[test]
fn a_running_total_that_did_not_move_is_shown() {
    // A difference of 0 gives no child's figure.
    let mut s = Series::new(d(), Shape::Share);
    assert_eq!(
        values(&mut s, &[running(1, 7, 46), running(2, 7, 46)]),
        [true, true]
    );
}

#[test]
fn a_year_to_date_is_hidden_when_it_gives_a_hidden_month_back() {
    // Defect 2: 1/5's April 17 of 23, May 23 of 32, June hidden (19 of 22: 3 late), and a
    // year to date of 59 of 77 would give June back.
    let mut s = Series::new(d(), Shape::Share);
    let april = s.offer(month(1, 17, 23));
    let april_ytd = s.offer(ytd(1, 17, 23));
    let may = s.offer(month(2, 23, 32));
    let may_ytd = s.offer(ytd(2, 40, 55));
    let june = s.offer(month(3, 19, 22));
    let june_ytd = s.offer(ytd(3, 59, 77));
    assert!(april.value && april_ytd.value && may.value && may_ytd.value);
    assert_eq!(june.why, Why::Small);
    assert!(
        june.denominator,
        "22 cases gives nothing back: '<5 of 22' may be written"
    );
    assert_eq!(june_ytd.why, Why::Recoverable);
    // July shown; its year to date would give June back with it.
    let july = s.offer(month(4, 30, 40));
    let july_ytd = s.offer(ytd(4, 89, 117));
    assert!(july.value);
    assert_eq!(july_ytd.why, Why::Recoverable);
}

#[test]
fn the_rest_of_a_share_is_checked_too() {
    // Month 2 is 6 of 8 (2 not): hidden. A year to date of 16 of 28 beside month 1's 10 of
    // 20 gives 6 of 8 back: its rest is 2.
    let mut s = Series::new(d(), Shape::Share);
    s.offer(month(1, 10, 20));
    assert_eq!(s.offer(month(2, 6, 8)).why, Why::Small);
    let ytd = Offer {
        span: Span {
            axis: 0,
            from: 0,
            to: 2,
        },
        numerator: 16,
        denominator: 28,
    };
    assert_eq!(s.offer(ytd).why, Why::Recoverable);
}

#[test]
fn a_denominator_is_written_beside_a_hidden_value_only_when_it_gives_nothing_back() {
    let mut s = Series::new(d(), Shape::Share);
    s.offer(month(1, 10, 20));
    let small = s.offer(month(2, 2, 3));
    assert!(!small.value && !small.denominator);
    // 12 of 23 to date: 23 less 20 is the hidden month's 3 cases.
    let ytd = s.offer(Offer {
        span: Span {
            axis: 0,
            from: 0,
            to: 2,
        },
        numerator: 12,
        denominator: 23,
    });
    assert_eq!(ytd.why, Why::Recoverable);
    assert!(!ytd.denominator);
}

#[test]
fn an_average_over_few_referrals_cannot_be_had_by_differencing() {
    // 5/1: March's one referral is hidden; a year to date over 12 after one over 11 would
    // give its wait back.
    let mut s = Series::new(d(), Shape::Average);
    assert!(s.offer(ytd(1, 60, 11)).value);
    assert_eq!(s.offer(month(2, 12, 1)).why, Why::Small);
    assert_eq!(s.offer(ytd(2, 72, 12)).why, Why::Recoverable);
    // The weeks are not a count: a total that moved by 3 weeks over 10 referrals is shown.
    assert!(s.offer(ytd(3, 75, 22)).value);
}

#[test]
fn a_decision_never_changes_when_later_figures_come() {
    let offers = [
        running(1, 7, 46),
        running(2, 9, 46),
        running(3, 12, 46),
        running(4, 16, 46),
        running(5, 30, 46),
    ];
    let mut all = Series::new(d(), Shape::Share);
    let whole: Vec<Verdict> = offers.iter().map(|o| all.offer(*o)).collect();
    for n in 1..offers.len() {
        let mut part = Series::new(d(), Shape::Share);
        let prefix: Vec<Verdict> = offers[..n].iter().map(|o| part.offer(*o)).collect();
        assert_eq!(prefix, whole[..n]);
    }
}

#[test]
fn sums_that_rise_and_fall_are_checked_pair_by_pair() {
    assert!(differences_ok(&[0, 7, 14], 5));
    assert!(!differences_ok(&[0, 7, 9], 5));
    // +7 then -5: each step is large, but the ends are 2 apart.
    assert!(!differences_ok(&[0, 7, 2], 5));
    assert!(differences_ok(&[10, 10, 20], 5));
}

#[test]
fn a_running_totals_falling_rest_is_checked() {
    // The cases grow from 20 to 25 and the completed from 10 to 12: each count moved by 5
    // or 0... but the rest moved by 3.
    let mut s = Series::new(d(), Shape::Share);
    assert!(s.offer(running(1, 10, 20)).value);
    assert_eq!(s.offer(running(2, 15, 22)).why, Why::Recoverable);
}

#[test]
fn the_threshold_is_the_configured_one() {
    let ten = Disclosure::new(&DisclosureSettings {
        threshold: 10,
        policy: Policy::Suppress,
    });
    let mut s = Series::new(ten, Shape::Share);
    assert!(s.offer(running(1, 20, 60)).value);
    assert_eq!(s.offer(running(2, 27, 60)).why, Why::Recoverable);
    assert!(s.offer(running(3, 30, 60)).value);
}

#[test]
fn under_rounding_every_share_is_written_and_only_exact_ones_are_rated() {
    let round = d().with_policy(Policy::Round);
    let mut s = Series::new(round, Shape::Share);
    let first = s.offer(running(1, 7, 46));
    let second = s.offer(running(2, 9, 46));
    assert!(first.value && first.rated);
    assert!(second.value && second.denominator, "rounded, it is written");
    assert!(
        !second.rated,
        "its RAG would say which side of a target 9 of 46 is"
    );
    // 1 of 2 rounds to 0 of 0: no percentage at all.
    assert!(!s.offer(running(3, 1, 2)).value);
    assert_eq!(round.round(2), 0);
    assert_eq!(round.round(3), 5);
    assert_eq!(round.round(7), 5);
    assert_eq!(round.round(8), 10);
    // 9 of 46 is written 10 of 45: 22.2%.
    assert_eq!(round.share_value(19.6, 9, 46), Some(100.0 * 10.0 / 45.0));
    // An average is not rounded: over too few, it is hidden as under suppression.
    let mut avg = Series::new(round, Shape::Average);
    assert!(!avg.offer(month(1, 12, 2)).value);
}
