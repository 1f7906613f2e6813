//! The news decision, one test per outcome, and the key's hash.

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;

const TOPIC: &str = "bob@example.org|2021-07";
const RED: &str = "health|kpi|1/5|2021-07|RED";
const NO_DATA: &str = "health|kpi|2/1|2021-07|NO DATA";
const RESOLVED: &str = "health|resolved|3/3|2021-07|GREEN";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 28, 7, 0, 0)
        .single()
        .expect("now")
}

fn week() -> TimeDelta {
    TimeDelta::days(7)
}

fn told(topic: &str, items: &[&str], days_ago: i64) -> Told {
    Told {
        topic: Some(topic.into()),
        items: items.iter().map(|s| s.to_string()).collect(),
        at: now() - TimeDelta::days(days_ago),
    }
}

fn items(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn never_told_on_the_topic_is_first() {
    let other = told(
        "bob@example.org|2021-06",
        &["health|kpi|1/5|2021-06|RED"],
        1,
    );
    assert_eq!(
        decide(&items(&[RED]), TOPIC, &[], week(), now()),
        Decision::Send(Reason::First)
    );
    assert_eq!(
        decide(&items(&[RED]), TOPIC, &[other], week(), now()),
        Decision::Send(Reason::First),
        "another period's digest is another topic"
    );
}

#[test]
fn an_item_not_told_before_is_changed() {
    let before = told(TOPIC, &[NO_DATA], 1);
    assert_eq!(
        decide(&items(&[NO_DATA, RED]), TOPIC, &[before], week(), now()),
        Decision::Send(Reason::Changed)
    );
}

#[test]
fn the_same_news_after_the_repeat_interval_is_repeat_passed() {
    let long_ago = told(TOPIC, &[RED], 8);
    assert_eq!(
        decide(&items(&[RED]), TOPIC, &[long_ago], week(), now()),
        Decision::Send(Reason::RepeatPassed)
    );
    assert_eq!(Reason::RepeatPassed.as_str(), "repeat interval passed");
}

#[test]
fn only_resolved_notices_new_is_resolved() {
    let before = told(TOPIC, &[RED], 1);
    assert_eq!(
        decide(&items(&[RED, RESOLVED]), TOPIC, &[before], week(), now()),
        Decision::Send(Reason::Resolved)
    );
    // A resolved notice beside news of another kind is that news.
    assert_eq!(
        decide(
            &items(&[RED, NO_DATA, RESOLVED]),
            TOPIC,
            &[told(TOPIC, &[RED], 1)],
            week(),
            now()
        ),
        Decision::Send(Reason::Changed)
    );
}

#[test]
fn everything_told_within_the_interval_is_no_news() {
    // Told across two messages, within the interval: still no news.
    let a = told(TOPIC, &[RED], 6);
    let b = told("bob@example.org|2021-06", &[NO_DATA], 1);
    assert_eq!(
        decide(&items(&[RED, NO_DATA]), TOPIC, &[a, b], week(), now()),
        Decision::NoNews
    );
    assert_eq!(
        decide(&[], TOPIC, &[], week(), now()),
        Decision::NoNews,
        "a message with no items is no news, as before"
    );
}

#[test]
fn a_key_is_the_same_whatever_the_order_of_its_items() {
    let a = NewsKey::new(TOPIC.into(), items(&[RED, NO_DATA]));
    let b = NewsKey::new(TOPIC.into(), items(&[NO_DATA, RED]));
    assert_eq!(a, b);
    assert_eq!(a.items, items(&[RED, NO_DATA]), "sorted");
    assert_ne!(a.digest, NewsKey::new(TOPIC.into(), items(&[RED])).digest);
    assert_eq!(fingerprint("line 3").len(), 16);
}

#[test]
fn a_chase_stage_is_told_once_not_repeated_with_the_interval() {
    const ASKED: &str = "coproduction|overdue|4/1|academic year 2025/26|asked";
    const REMINDED: &str = "coproduction|overdue|4/1|academic year 2025/26|reminded";
    let long_ago = told(TOPIC, &[ASKED, RED], 30);
    // The RED item repeats once the interval has passed; the chase item alone does not.
    assert_eq!(
        decide(
            &items(&[ASKED]),
            TOPIC,
            std::slice::from_ref(&long_ago),
            week(),
            now()
        ),
        Decision::NoNews
    );
    assert_eq!(
        decide(
            &items(&[RED]),
            TOPIC,
            std::slice::from_ref(&long_ago),
            week(),
            now()
        ),
        Decision::Send(Reason::RepeatPassed)
    );
    // Its next stage is news.
    assert_eq!(
        decide(&items(&[REMINDED]), TOPIC, &[long_ago], week(), now()),
        Decision::Send(Reason::Changed)
    );
}

#[test]
fn an_early_warning_once_told_is_never_repeated_but_a_new_band_is_news() {
    const AT_RISK: &str = "health|at_risk|1/5|2021-06|at_risk";
    const OFF: &str = "health|at_risk|1/5|2021-06|off_course";
    // Told a month ago, far past the repeat interval: still not news.
    let before = [told(TOPIC, &[AT_RISK], 30)];
    assert_eq!(
        decide(&items(&[AT_RISK]), TOPIC, &before, week(), now()),
        Decision::NoNews
    );
    // Its band changed: news.
    assert_eq!(
        decide(&items(&[OFF]), TOPIC, &before, week(), now()),
        Decision::Send(Reason::Changed)
    );
    // Told at risk, then off course: at risk again is news again.
    let flip = [told(TOPIC, &[AT_RISK], 30), told(TOPIC, &[OFF], 20)];
    assert_eq!(
        decide(&items(&[AT_RISK]), TOPIC, &flip, week(), now()),
        Decision::Send(Reason::Changed)
    );
    // Beside an exception past the interval, the digest goes again (for the exception).
    let both = [told(TOPIC, &[AT_RISK, RED], 30)];
    assert_eq!(
        decide(&items(&[AT_RISK, RED]), TOPIC, &both, week(), now()),
        Decision::Send(Reason::RepeatPassed)
    );
}

#[test]
fn an_early_warning_after_a_told_recovery_is_news_again_once() {
    const AT_RISK: &str = "health|at_risk|1/5|2021-06|at_risk";
    const BACK: &str = "health|at_risk|1/5|2021-06|on_course";
    // Never warned of: a back-on-course line takes nothing back, so it is no news.
    assert_eq!(
        decide(&items(&[BACK]), TOPIC, &[], week(), now()),
        Decision::NoNews
    );
    // Warned of, now back on course: news, of the resolved kind.
    let warned = [told(TOPIC, &[AT_RISK], 30)];
    assert_eq!(
        decide(&items(&[BACK]), TOPIC, &warned, week(), now()),
        Decision::Send(Reason::Resolved)
    );
    // Beside a new exception it is that news.
    assert_eq!(
        decide(&items(&[BACK, RED]), TOPIC, &warned, week(), now()),
        Decision::Send(Reason::Changed)
    );
    // The recovery told: at risk again is news (once)...
    let recovered = [told(TOPIC, &[AT_RISK], 30), told(TOPIC, &[BACK], 20)];
    assert_eq!(
        decide(&items(&[AT_RISK]), TOPIC, &recovered, week(), now()),
        Decision::Send(Reason::Changed)
    );
    assert_eq!(
        decide(&items(&[BACK]), TOPIC, &recovered, week(), now()),
        Decision::NoNews,
        "the recovery is not told twice"
    );
    // ...and, told, not again; nor does an old recovery make a warning news twice.
    let again = [
        told(TOPIC, &[AT_RISK], 30),
        told(TOPIC, &[BACK], 20),
        told(TOPIC, &[AT_RISK], 10),
    ];
    assert_eq!(
        decide(&items(&[AT_RISK]), TOPIC, &again, week(), now()),
        Decision::NoNews
    );
    // Two rows at one time: the later row (queue order) is the latest.
    let same_time = [told(TOPIC, &[AT_RISK], 10), told(TOPIC, &[BACK], 10)];
    assert_eq!(
        decide(&items(&[AT_RISK]), TOPIC, &same_time, week(), now()),
        Decision::Send(Reason::Changed)
    );
}
