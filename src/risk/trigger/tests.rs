//! Every trigger kind against hand-made history: fires, holds back, and says why.

use super::*;
use crate::kpi::PeriodKind;
use crate::risk::testing::{at, catalogue, inputs, rec};

fn red(kpi: &str, periods: u32) -> Condition {
    Condition::Rated {
        kpi: kpi.into(),
        rag: Rag::Red,
        periods,
    }
}

fn run(c: &Condition, records: Vec<StoredResult>) -> Finding {
    let kpis = catalogue();
    let h = History::new(records);
    evaluate(c, &inputs(&kpis, &h, &[]))
}

#[test]
fn red_for_n_periods_running_fires_on_exactly_n_and_lists_them() {
    let f = run(
        &red("1/2a", 2),
        vec![
            rec("1/2a", "2021-06", Rag::Red, Some(50.0)),
            rec("1/2a", "2021-07", Rag::Red, Some(53.125)),
        ],
    );
    assert!(f.fired, "{f:?}");
    assert_eq!(f.trigger, "KPI 1/2a RED for 2 periods running");
    assert_eq!(
        f.reason,
        "KPI 1/2a was RED for 2 periods running: June 2021 50.0% against 75.0%, July 2021 \
         53.1% against 75.0%"
    );
}

#[test]
fn red_once_is_not_red_twice_running() {
    // The latest period RED, the one before AMBER: no.
    let f = run(
        &red("1/2a", 2),
        vec![
            rec("1/2a", "2021-06", Rag::Amber, Some(72.0)),
            rec("1/2a", "2021-07", Rag::Red, Some(53.1)),
        ],
    );
    assert!(!f.fired);
    assert_eq!(
        f.reason,
        "KPI 1/2a was RED in July 2021 but was AMBER in June 2021 (72.0%)"
    );
    // RED before, not now: no.
    let f = run(
        &red("1/2a", 2),
        vec![
            rec("1/2a", "2021-06", Rag::Red, Some(50.0)),
            rec("1/2a", "2021-07", Rag::Green, Some(80.0)),
        ],
    );
    assert!(!f.fired);
    assert_eq!(f.reason, "KPI 1/2a was GREEN in July 2021 (80.0%)");
    // A gap (June never computed) breaks the run: no result is not a RED one.
    let f = run(
        &red("1/2a", 2),
        vec![
            rec("1/2a", "2021-05", Rag::Red, Some(50.0)),
            rec("1/2a", "2021-07", Rag::Red, Some(50.0)),
        ],
    );
    assert!(!f.fired);
    assert!(
        f.reason.ends_with("has no stored result for June 2021"),
        "{}",
        f.reason
    );
    // Nothing stored at all.
    let f = run(&red("1/3a", 2), vec![]);
    assert_eq!(
        (f.fired, f.reason.as_str()),
        (false, "KPI 1/3a has no stored result")
    );
}

#[test]
fn three_running_needs_three_and_one_period_needs_only_the_latest() {
    let two = vec![
        rec("1/2a", "2021-06", Rag::Red, Some(50.0)),
        rec("1/2a", "2021-07", Rag::Red, Some(50.0)),
    ];
    assert!(!run(&red("1/2a", 3), two.clone()).fired);
    let mut three = two.clone();
    three.push(rec("1/2a", "2021-05", Rag::Red, Some(50.0)));
    assert!(run(&red("1/2a", 3), three.clone()).fired);
    // Earlier periods do not matter once the latest N are RED.
    three.push(rec("1/2a", "2021-04", Rag::Green, Some(90.0)));
    assert!(run(&red("1/2a", 3), three).fired);
    let once = run(
        &red("4/1", 1),
        vec![rec("4/1", "2020", Rag::Red, Some(20.0))],
    );
    assert!(once.fired);
    assert_eq!(once.trigger, "KPI 4/1 RED for its latest period");
    assert_eq!(
        once.reason,
        "KPI 4/1 was RED for its latest period: 2020 20.0% against 75.0%"
    );
}

#[test]
fn periods_run_by_the_latest_periods_kind() {
    let q = |p: &str, rag| rec("1/3", p, rag, Some(10.0));
    let f = run(
        &red("1/3", 2),
        vec![q("2021-Q1", Rag::Red), q("2021-Q2", Rag::Red)],
    );
    assert!(f.fired, "{f:?}");
    assert!(f.reason.contains("Jan-Mar 2021 10.0%"), "{}", f.reason);
    let p: crate::kpi::Period = "2021-Q2".parse().expect("quarter");
    assert_eq!(p.kind(), PeriodKind::Quarter);
}

#[test]
fn no_data_for_n_periods_running() {
    let c = Condition::Rated {
        kpi: "5/4".into(),
        rag: Rag::NoData,
        periods: 2,
    };
    let f = run(
        &c,
        vec![
            rec("5/4", "2021-06", Rag::NoData, None),
            rec("5/4", "2021-07", Rag::NoData, None),
        ],
    );
    assert!(f.fired);
    assert_eq!(f.trigger, "KPI 5/4 NO DATA for 2 periods running");
    assert_eq!(
        f.reason,
        "KPI 5/4 was NO DATA for 2 periods running: June 2021, July 2021"
    );
    let f = run(
        &c,
        vec![
            rec("5/4", "2021-06", Rag::NoData, None),
            rec("5/4", "2021-07", Rag::Red, Some(31.3)),
        ],
    );
    assert!(!f.fired);
    assert_eq!(f.reason, "KPI 5/4 was RED in July 2021 (31.3 weeks)");
}

fn salt(above: f64) -> Condition {
    Condition::Figure {
        kpi: "5/4".into(),
        figure: Figure::Value,
        bound: Bound::Above(above),
    }
}

#[test]
fn a_value_past_its_threshold_fires_and_an_average_over_few_is_not_written() {
    let mut r = rec("5/4", "2021-07", Rag::Red, Some(31.2857));
    r.denominator = Some(7);
    let f = run(&salt(18.0), vec![r.clone()]);
    assert!(f.fired);
    assert_eq!(f.trigger, "KPI 5/4 value above 18 weeks");
    assert_eq!(
        f.reason,
        "KPI 5/4 was 31.3 weeks in July 2021, above 18 weeks"
    );
    let f = run(&salt(40.0), vec![r.clone()]);
    assert!(!f.fired);
    assert_eq!(
        f.reason,
        "KPI 5/4 was 31.3 weeks in July 2021, not above 40 weeks"
    );
    // Equal is not past.
    r.value = Some(18.0);
    assert!(!run(&salt(18.0), vec![r.clone()]).fired);
    // Over 3 referrals the average is one family's wait, or close: neither written nor held
    // against the bound (which side of 18 weeks it is would rate it).
    r.value = Some(26.0);
    r.denominator = Some(3);
    let f = run(&salt(18.0), vec![r.clone()]);
    assert!(!f.fired);
    assert!(!f.reason.contains("26"), "{}", f.reason);
    assert_eq!(
        f.reason,
        "KPI 5/4's value for July 2021 is not rated: too few cases"
    );
    // No value: does not fire.
    r.value = None;
    let f = run(&salt(18.0), vec![r]);
    assert_eq!(
        (f.fired, f.reason.as_str()),
        (false, "KPI 5/4 has no value for July 2021")
    );
    // Below: a percentage under its floor.
    let c = Condition::Figure {
        kpi: "1/5".into(),
        figure: Figure::Value,
        bound: Bound::Below(60.0),
    };
    let f = run(&c, vec![rec("1/5", "2021-07", Rag::Red, Some(40.0))]);
    assert!(f.fired);
    assert_eq!(f.reason, "KPI 1/5 was 40.0% in July 2021, below 60.0%");
}

#[test]
fn a_backlog_over_a_count_fires_with_small_counts_suppressed() {
    let c = Condition::Figure {
        kpi: "1/2a".into(),
        figure: Figure::OverdueOpen,
        bound: Bound::Above(50.0),
    };
    let mut r = rec("1/2a", "2021-07", Rag::Red, Some(53.1));
    r.overdue_open = Some(131);
    let f = run(&c, vec![r.clone()]);
    assert!(f.fired);
    assert_eq!(
        f.trigger,
        "KPI 1/2a requests still open past 20 weeks above 50"
    );
    assert_eq!(
        f.reason,
        "KPI 1/2a: 131 requests still open past 20 weeks (latest result, July 2021), above 50"
    );
    r.overdue_open = Some(3);
    let low = Condition::Figure {
        kpi: "1/2a".into(),
        figure: Figure::OverdueOpen,
        bound: Bound::Above(2.0),
    };
    let f = run(&low, vec![r.clone()]);
    assert!(f.fired);
    assert!(f.reason.contains(": <5 requests"), "{}", f.reason);
    assert!(!f.reason.contains('3'), "{}", f.reason);
    r.overdue_open = None;
    assert!(!run(&c, vec![r]).fired);
}

#[test]
fn a_source_stale_past_its_deadline_fires_until_new_data_arrives() {
    let kpis = catalogue();
    let h = History::default();
    let c = Condition::Stale {
        source: "provider".into(),
    };
    let src = |last: Option<&str>| SourceFreshness {
        source: "provider".into(),
        cadence: Cadence::Monthly,
        deadline_days: 10,
        last_new: last.map(at),
    };
    // now is 2021-08-02 07:00: data from 2021-06-01 was due by 2021-07-11.
    let sources = [src(Some("2021-06-01T07:00:00Z"))];
    let f = evaluate(&c, &inputs(&kpis, &h, &sources));
    assert!(f.fired);
    assert_eq!(f.trigger, "source `provider` stale past its deadline");
    assert_eq!(
        f.reason,
        "source `provider` has brought no new data since 2021-06-01 07:00 UTC; new data was \
         due by 2021-07-11 07:00 UTC (monthly, plus 10 days' grace)"
    );
    let sources = [src(Some("2021-07-01T07:00:00Z"))];
    let f = evaluate(&c, &inputs(&kpis, &h, &sources));
    assert!(!f.fired);
    assert_eq!(
        f.reason,
        "source `provider` is up to date (new data 2021-07-01 07:00 UTC)"
    );
    // Never loaded: no deadline yet, so no trigger (the source's owner hears of it).
    let sources = [src(None)];
    let f = evaluate(&c, &inputs(&kpis, &h, &sources));
    assert!(!f.fired);
    assert!(f.reason.contains("accepted yet"), "{}", f.reason);
    // A source without a cadence is never stale.
    let f = evaluate(&c, &inputs(&kpis, &h, &[]));
    assert!(!f.fired);
}
