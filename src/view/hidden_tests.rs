//! Issue 17, defects 3 and 4: a value disclosure control hides takes its RAG, direction and
//! change with it (the digest's rows say [`super::not_rated`]); a share entered by hand with a
//! small part is not shown in `kpi show`'s table, CSV or JSON; and every float in JSON and CSV
//! is at one decimal place, never a raw ratio that gives its parts back.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::kpi::{ItemContext, Stored, exception, notice, show_entered, unrated};
use super::{Format, NOT_RATED_COLOUR, not_rated};
use crate::disclose::Disclosure;
use crate::kpi::manual::{Entered, ManualValue};
use crate::kpi::{Count, Evaluation, Measure, MonthlyCounts, Rag, Rules, StoredResult, evaluate};

fn now() -> DateTime<Utc> {
    "2021-08-02T07:00:00Z".parse().expect("instant")
}

/// KPI 5/1 (an average wait, 7 weeks in force, lower better) for March 2021: `weeks` in all
/// over `referrals`, February 40 weeks over 5 (8.0, shown).
fn wait(weeks: u64, referrals: u64) -> Evaluation {
    waits((40, 5), (weeks, referrals))
}

/// KPI 5/1 for March 2021 with February's and March's (weeks in all, referrals).
fn waits(feb: (u64, u64), march: (u64, u64)) -> Evaluation {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let mut counts = MonthlyCounts::default();
    for (m, (n, d)) in [("2021-02", feb), ("2021-03", march)] {
        counts.by_month.insert(
            m.parse().expect("month"),
            Count {
                numerator: n,
                denominator: d,
            },
        );
    }
    let as_of = NaiveDate::from_ymd_opt(2021, 7, 31).expect("date");
    let rules = Rules::new(5.0, Disclosure::default());
    let m = Measure::AverageWaitWeeks;
    let march = "2021-03".parse().expect("period");
    evaluate("5/1", &c["5/1"], m, rules, &counts, as_of, march)
}

/// Words that would rate a value or give its direction.
const RATING_WORDS: [&str; 9] = [
    "RED",
    "AMBER",
    "GREEN",
    "worse",
    "better than",
    "improved",
    "deteriorated",
    "maintained",
    "behind",
];

fn assert_unrated(json: &str) {
    for w in RATING_WORDS {
        assert!(!json.contains(w), "`{w}` in {json}");
    }
    assert!(json.contains(not_rated()), "{json}");
}

#[test]
fn a_hidden_averages_digest_rows_show_no_rag_direction_or_change() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let d = Disclosure::default();
    let ctx = ItemContext {
        kpi: c.get("5/1"),
        load: None,
        latest_error: None,
        outcome: None,
        entered: &[],
        commentary: &[],
        disclosure: d,
        linker: None,
    };
    // One referral seen after 10 weeks: RED inside, as the risk triggers read it.
    let one = wait(10, 1);
    assert_eq!(one.rag, Rag::Red);
    assert!(unrated(&one));
    let row = exception::row(&one, &ctx, now(), None);
    let s = row.slipped.as_ref().expect("the digest's part");
    assert_eq!(s.rag, not_rated());
    assert_eq!(s.direction, not_rated());
    assert_eq!((s.rag_colour, s.rag_text_colour), NOT_RATED_COLOUR);
    assert_eq!(s.change, None);
    assert!(s.value.starts_with("not shown"), "{}", s.value);
    assert_unrated(&serde_json::to_string(&row).expect("json"));
    // Back on track (its rating says so) is not said of a hidden value either.
    let mut back = wait(5, 1);
    back.rag = Rag::Green;
    assert_unrated(&serde_json::to_string(&notice::resolved(&back, d)).expect("json"));
    // Over five referrals the same wait is rated, with its direction and change.
    let five = wait(50, 5);
    assert!(!unrated(&five));
    let s = exception::row(&five, &ctx, now(), None)
        .slipped
        .expect("the digest's part");
    assert_eq!(s.rag, "RED");
    assert!(s.direction.contains("worse than"), "{}", s.direction);
    assert_eq!(s.change.as_deref(), Some("up 2.0 weeks on February 2021"));
}

#[test]
fn a_shown_value_is_not_compared_with_a_hidden_previous_one() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let ctx = ItemContext {
        kpi: c.get("5/1"),
        load: None,
        latest_error: None,
        outcome: None,
        entered: &[],
        commentary: &[],
        disclosure: Disclosure::default(),
        linker: None,
    };
    // February: 2 referrals, 12 weeks on average (hidden); March: 5 referrals, 10 weeks.
    // "Improved on the previous period" would say February's hidden average was over 10.
    let e = waits((24, 2), (50, 5));
    let s = exception::row(&e, &ctx, now(), None)
        .slipped
        .expect("the digest's part");
    assert_eq!(s.rag, "RED", "March itself is shown and rated");
    assert_eq!(s.change, None);
    assert!(s.previous.starts_with("not shown"), "{}", s.previous);
    for w in ["improved", "deteriorated", "maintained", "@ "] {
        assert!(!s.direction.contains(w), "`{w}` in {}", s.direction);
    }
    assert_eq!(
        s.direction,
        "Performance is behind the December 2020 baseline & target; the change on the \
         previous month is not rated: too few cases."
    );
}

/// KPI 3/3 (a percentage entered by hand) for 2021-Q1, `n` of `d`.
fn entered(value: f64, n: u64, d: u64) -> Entered {
    Entered {
        id: 1,
        value: ManualValue {
            kpi_id: "3/3".into(),
            period: "2021-Q1".parse().expect("quarter"),
            value,
            numerator: Some(n),
            denominator: Some(d),
            note: None,
            by: "ann".into(),
        },
        entered_at: now(),
        via: "set".into(),
    }
}

fn stored(kpi: &str, value: f64, n: i64, d: i64) -> StoredResult {
    StoredResult {
        kpi_id: kpi.into(),
        period: "2021-03".parse().expect("month"),
        value: Some(value),
        numerator: Some(n),
        denominator: Some(d),
        rag: Rag::Green,
        target: None,
        overdue_open: None,
        direction: None,
        run_id: 1,
        ytd_numerator: None,
        ytd_denominator: None,
    }
}

fn show(kpi: &str, results: &[StoredResult], entered: &[Entered], f: Format) -> String {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let s = Stored {
        catalogue: &c,
        owners: &BTreeMap::new(),
        results,
        entered,
        rag: crate::kpi::RagSettings::default(),
        disclosure: Disclosure::default(),
    };
    show_entered(&s, Some(kpi), None, f).expect("shows")
}

#[test]
fn a_hidden_shares_percentage_is_not_shown_in_the_table_csv_or_json() {
    let one_of_three = [entered(100.0 / 3.0, 1, 3)];
    for f in [Format::Table, Format::Csv, Format::Json] {
        let out = show("3/3", &[], &one_of_three, f);
        assert!(!out.contains("33.3"), "{f:?}: {out}");
        assert!(!out.contains("of <5"), "{f:?}: {out}");
    }
    let table = show("3/3", &[], &one_of_three, Format::Table);
    assert!(table.contains("not shown: <5 in a count"), "{table}");
    let json = show("3/3", &[], &one_of_three, Format::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v[0]["entered"][0]["value"], serde_json::Value::Null);
    assert_eq!(v[0]["entered"][0]["value_text"], "not shown: <5 in a count");
    // 20 of 40 has no small part: shown.
    let half = show("3/3", &[], &[entered(50.0, 20, 40)], Format::Table);
    assert!(half.contains("50.0%"), "{half}");
}

#[test]
fn json_and_csv_floats_are_at_one_decimal_place() {
    // 28 of 33: every part is at least 5, so it is shown, but 84.84848484848484 is 28/33.
    let ratio = 28.0 * 100.0 / 33.0;
    let results = [stored("1/2a", ratio, 28, 33)];
    let manual = [entered(ratio, 28, 33)];
    let json = show("1/2a", &results, &[], Format::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v[0]["latest"]["value"], 84.8, "{json}");
    assert!(!json.contains("84.84"), "{json}");
    let json = show("3/3", &[], &manual, Format::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v[0]["entered"][0]["value"], 84.8, "{json}");
    assert!(!json.contains("84.84"), "{json}");
    let csv = show("1/2a", &results, &[], Format::Csv);
    assert!(!csv.contains("84.84"), "{csv}");
}
