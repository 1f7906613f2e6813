//! Disclosure in each view model: a count under the threshold shows as "<5", a share with a
//! small part has its percentage "not shown", in every row an output can build (a slipped,
//! resolved, overdue, standing and pack-exception KPI row; a risk's change and its recorded
//! history; an action).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::action::ActionRow;
use super::kpi::{ItemContext, exception, in_exception, notice, rag_counts, rows};
use super::risk::{RiskRow, recorded};
use crate::disclose::Disclosure;
use crate::kpi::{Count, Evaluation, Figure, Figures, Period, Rag, StoredResult, evaluate_figures};

fn now() -> DateTime<Utc> {
    "2021-08-02T07:00:00Z".parse().expect("instant")
}

/// KPI 1/2a (a share) for July 2021 with `n` of `d` plans in time.
fn share(n: u64, d: u64) -> Evaluation {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let p: Period = "2021-07".parse().expect("period");
    let figures = Figures {
        current: Some(Figure {
            value: 100.0 * n as f64 / d as f64,
            count: Some(Count {
                numerator: n,
                denominator: d,
            }),
        }),
        ..Figures::default()
    };
    let mut e = evaluate_figures("1/2a", &c["1/2a"], rules(), figures, now().date_naive(), p);
    // As the run computes it from the tracker (a value entered by hand has no noun).
    e.measure = Some(crate::kpi::Measure::EhcpWithin20Weeks);
    e
}

fn rules() -> crate::kpi::Rules {
    crate::kpi::Rules::new(5.0, Disclosure::default())
}

fn item(e: &Evaluation) -> super::kpi::Slipped {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let ctx = ItemContext {
        kpi: c.get(&e.kpi_id),
        load: None,
        latest_error: None,
        outcome: None,
        entered: &[],
        commentary: &[],
        disclosure: Disclosure::default(),
        linker: None,
    };
    exception::row(e, &ctx, now(), None)
        .slipped
        .expect("the digest's part")
}

#[test]
fn a_slipped_kpi_row_writes_a_small_count_as_under_5_and_hides_its_share() {
    let small = item(&share(3, 40));
    assert_eq!(small.value, "not shown: <5 in a count");
    assert_eq!(
        small.counts.as_deref(),
        Some("<5 of 40 new EHC plans within 20 weeks")
    );
    assert!(
        small.value_line.starts_with("not shown"),
        "{}",
        small.value_line
    );
    assert!(!small.value_line.contains("7.5"), "{}", small.value_line);
    // The rest is small too: 37 of 40 leaves 3 late, which would give back the count.
    let rest = item(&share(37, 40));
    assert_eq!(rest.value, "not shown: <5 in a count");
    assert_eq!(
        rest.counts.as_deref(),
        Some("all but <5 of 40 new EHC plans within 20 weeks"),
        "the late ones are under 5, so the count in time is not shown either"
    );
    let shown = item(&share(20, 40));
    assert_eq!(shown.value, "50.0%");
    assert_eq!(
        shown.counts.as_deref(),
        Some("20 of 40 new EHC plans within 20 weeks")
    );
}

fn stored(kpi: &str, n: i64, d: i64) -> StoredResult {
    StoredResult {
        kpi_id: kpi.into(),
        period: "2021-07".parse().expect("month"),
        value: Some(100.0 * n as f64 / d as f64),
        numerator: Some(n),
        denominator: Some(d),
        rag: Rag::Red,
        target: None,
        overdue_open: None,
        direction: None,
        run_id: 1,
        ytd_numerator: None,
        ytd_denominator: None,
    }
}

#[test]
fn a_kpi_row_from_the_store_says_a_hidden_share_is_not_shown() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let latest = |n, d| {
        let r = rows(
            &c,
            &BTreeMap::new(),
            &[stored("1/2a", n, d)],
            &[],
            Some("1/2a"),
            None,
            rules(),
        );
        r[0].latest().cloned().expect("a latest value")
    };
    let hidden = latest(3, 40);
    assert_eq!(hidden.value, None, "no number to read back");
    assert_eq!(hidden.value_text, "not shown: <5 in a count");
    let shown = latest(20, 40);
    assert_eq!(shown.value, Some(50.0));
    assert_eq!(shown.value_text, "50.0%");
    // The same row serialised (the pack and the live view render it) carries no raw figure.
    let json = serde_json::to_string(&rows(
        &c,
        &BTreeMap::new(),
        &[stored("1/2a", 3, 40)],
        &[],
        Some("1/2a"),
        None,
        rules(),
    ))
    .expect("json");
    assert!(!json.contains("7.5"), "{json}");
}

#[test]
fn a_risk_row_carries_the_reasons_as_written_through_disclosure() {
    let (register, log) = crate::risk::catalogue::builtin().expect("register");
    let reason = format!(
        "KPI 1/3a was RED: {} of 40 reviews completed",
        crate::disclose::Disclosure::default().suppress(3)
    );
    let c = crate::risk::RiskChange {
        risk_id: "R2".into(),
        owner: "performance".into(),
        kind: crate::risk::ChangeKind::Raised,
        from: crate::risk::Scored::new(crate::risk::Level::new(4, 4), &log),
        to: crate::risk::Scored::new(crate::risk::Level::new(5, 4), &log),
        triggers: vec!["KPI 1/3a RED".into()],
        reasons: vec![reason],
        at: now(),
    };
    let row = RiskRow::change(&c, register.get("R2"), "Performance Sub Group");
    let change = row.change.expect("the digest's part");
    assert_eq!(change.why, ["KPI 1/3a was RED: <5 of 40 reviews completed"]);
    assert_eq!(
        change.change,
        "RAISED from 16 (very high) to 20 (very high)"
    );
    assert!(
        row.title.starts_with("Timely completion of EHCP reviews"),
        "{}",
        row.title
    );
}

#[test]
fn an_action_row_shows_words_and_dates_only() {
    let due: NaiveDate = "2021-06-30".parse().expect("date");
    let row = ActionRow::slipped(
        "1.2.1",
        "Recruit",
        "A Person",
        due,
        "Not on track",
        "overdue",
        None,
        None,
    );
    let v = serde_json::to_value(&row).expect("json");
    assert_eq!(v["due"], "2021-06-30");
    assert_eq!(v["why"], "overdue");
    assert_eq!(v["status"], "Not on track");
    assert!(v.get("overdue").is_none(), "the log's part is not filled");
}

#[test]
fn a_resolved_kpi_row_writes_its_value_through_disclosure() {
    let resolved = |e: &Evaluation| {
        notice::resolved(e, Disclosure::default())
            .resolved
            .expect("the resolved part")
    };
    let hidden = resolved(&share(3, 40));
    assert_eq!(hidden.value, "not shown: <5 in a count");
    assert_eq!(resolved(&share(37, 40)).value, "not shown: <5 in a count");
    let shown = resolved(&share(20, 40));
    assert_eq!(shown.value, "50.0%");
    assert_eq!(shown.period, "July 2021");
    let mut none = share(20, 40);
    none.current = None;
    // The resolved notice's own word for a missing value (the slipped part's is "NO DATA").
    assert_eq!(resolved(&none).value, "no data");
    let row = notice::resolved(&share(3, 40), Disclosure::default());
    let v = serde_json::to_value(&row).expect("json");
    assert_eq!(v["id"], "1/2a");
    assert_eq!(v["value"], "not shown: <5 in a count");
    assert!(
        v.get("value_line").is_none(),
        "only the resolved part is filled"
    );
    let json = v.to_string();
    assert!(!json.contains("7.5") && !json.contains("\"3\""), "{json}");
}

#[test]
fn an_overdue_manual_value_row_names_the_period_and_its_due_date_only() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let (id, k) = c
        .iter()
        .find(|(_, k)| k.measure.is_none())
        .expect("a KPI entered by hand");
    let period: Period = "2021-Q2".parse().expect("quarter");
    let o = crate::kpi::manual::Overdue {
        kpi_id: id.clone(),
        title: k.title.clone(),
        owner: k.owner.clone(),
        due: crate::kpi::manual::Due {
            period,
            first: period.first_month(),
        },
        due_by: "2021-07-31".parse().expect("date"),
        stage: crate::kpi::manual::chase::Stage::Asked,
    };
    let row = notice::overdue(&o, None);
    assert_eq!(row.id, *id);
    let part = row.overdue.clone().expect("the overdue part");
    assert_eq!(part.period, "Apr-Jun 2021");
    assert_eq!(part.due_by, "2021-07-31");
    // The latest period only, asked for in words: no command, no count of earlier periods.
    assert_eq!(
        part.wanted,
        "the value for Apr-Jun 2021, from this sub-group, to the performance officer who \
         keeps the plan's figures"
    );
    assert_eq!(part.link, None);
    let v = serde_json::to_value(&row).expect("json");
    assert_eq!(v["due_by"], "2021-07-31");
    assert!(v.get("value").is_none(), "no figure: nothing to disclose");
}

#[test]
fn a_pack_exception_row_carries_the_stored_value_as_disclosure_writes_it() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let period: Period = "2021-07".parse().expect("period");
    let exception = |n, d| {
        let standing = rows(
            &c,
            &BTreeMap::new(),
            &[stored("1/2a", n, d)],
            &[],
            Some("1/2a"),
            None,
            rules(),
        );
        in_exception(&c["1/2a"], &standing[0], Some(period), &[])
    };
    let row = exception(3, 40);
    // Its value hidden, so its RAG too (issue 17): not rated, and no RED colour.
    assert_eq!(row.class, Some("none"));
    let part = row.exception.clone().expect("the exception part");
    assert_eq!(part.value, "not shown: <5 in a count");
    assert_eq!(part.rag, crate::view::not_rated());
    assert_eq!(part.period, "July 2021");
    let json = serde_json::to_string(&row).expect("json");
    assert!(!json.contains("7.5"), "{json}");
    assert_eq!(
        exception(20, 40).exception.map(|e| e.value).as_deref(),
        Some("50.0%")
    );
}

#[test]
fn a_risk_history_row_keeps_its_reasons_as_written_and_the_history_keys() {
    let (register, log) = crate::risk::catalogue::builtin().expect("register");
    let event = crate::risk::RiskEvent {
        id: 4,
        run_id: 9,
        change: crate::risk::RiskChange {
            risk_id: "R2".into(),
            owner: "performance".into(),
            kind: crate::risk::ChangeKind::Raised,
            from: crate::risk::Scored::new(crate::risk::Level::new(4, 4), &log),
            to: crate::risk::Scored::new(crate::risk::Level::new(5, 4), &log),
            triggers: vec!["KPI 1/3a RED".into()],
            reasons: vec![format!(
                "KPI 1/3a was RED: {} of 40 reviews completed",
                crate::disclose::Disclosure::default().suppress(3)
            )],
            at: now(),
        },
    };
    let rows = recorded(&register, &[event]);
    let row = &rows[0];
    assert_eq!(row.id, "R2");
    assert!(row.title.starts_with("Timely completion"), "{}", row.title);
    let r = row.recorded.as_ref().expect("the history's part");
    assert_eq!(r.reasons, ["KPI 1/3a was RED: <5 of 40 reviews completed"]);
    assert_eq!(r.at, "2021-08-02 07:00 UTC");
    // Written in the history's keys: `id` the change's number, `risk` the risk's id.
    let v = serde_json::to_value(row).expect("json");
    assert_eq!(v["id"], 4);
    assert_eq!(v["risk"], "R2");
    assert_eq!(v["change"], "raised");
    assert_eq!(v["to"]["score"], 20);
    assert!(v.get("title").is_none(), "{v}");
    let keys: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 10, "{keys:?}");
}

#[test]
fn the_rag_tally_counts_each_kpis_latest_rating_red_first_and_none_as_no_data() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let mut green = stored("1/2", 30, 40);
    green.rag = Rag::Green;
    let mut hidden_green = stored("1/3", 19, 20);
    hidden_green.rag = Rag::Green;
    let all = rows(
        &c,
        &BTreeMap::new(),
        &[
            stored("1/2a", 20, 40),
            green,
            stored("1/5", 3, 40),
            hidden_green,
        ],
        &[],
        None,
        None,
        rules(),
    );
    let tally: Vec<(String, &str, usize)> = rag_counts(&all)
        .into_iter()
        .map(|t| (t.rag, t.class, t.count))
        .collect();
    // A hidden value (3 of 40; 19 of 20 leaves 1) is not rated (issue 17), whatever its RAG.
    assert_eq!(
        tally,
        [
            ("RED".to_string(), "red", 1),
            ("GREEN".to_string(), "green", 1),
            ("NO DATA".to_string(), "nodata", c.len() - 4),
            (crate::view::not_rated().to_string(), "none", 2),
        ]
    );
}

/// KPI 2/3 (twice-yearly) rated per quarter before half-years were a kind, then per
/// half-year: each of `(period, value, direction)`.
fn twice_yearly(rows: &[(&str, f64, &str)]) -> Vec<StoredResult> {
    rows.iter()
        .map(|&(period, value, direction)| StoredResult {
            kpi_id: "2/3".into(),
            period: period.parse().expect("period"),
            value: Some(value),
            numerator: None,
            denominator: None,
            direction: Some(direction.into()),
            ..stored("2/3", 1, 1)
        })
        .collect()
}

#[test]
fn a_twice_yearly_kpis_standing_reads_its_half_years_only() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let results = twice_yearly(&[
        ("2019-Q4", 30.0, "quarter"),
        ("2025-Q4", 30.0, "quarter"),
        ("2026-Q2", 30.0, "quarter"),
        ("2019-H2", 60.0, "half"),
        ("2025-H2", 70.0, "half"),
        ("2026-H1", 80.0, "Improved on Jul-Dec 2025"),
    ]);
    let show = |period: Option<&str>| {
        let period = period.map(|p| p.parse::<Period>().expect("period"));
        let row = rows(
            &c,
            &BTreeMap::new(),
            &results,
            &[],
            Some("2/3"),
            period,
            rules(),
        );
        serde_json::to_value(&row[0]).expect("json")
    };
    // Apr-Jun 2026 starts after Jan-Jun 2026, so it would be the latest of the mixed series.
    for asked in [None, Some("2026-H1"), Some("2026-Q2"), Some("2026-06")] {
        let v = show(asked);
        let latest = &v["latest"];
        assert_eq!(latest["period"], "2026-H1", "{asked:?}: {v}");
        assert_eq!(latest["period_label"], "Jan-Jun 2026", "{asked:?}: {v}");
        assert_eq!(latest["direction"], "Improved on Jul-Dec 2025", "{asked:?}");
        assert_eq!(latest["value"], 80.0, "{asked:?}");
        let text = v.to_string();
        for quarter in ["Q2", "Q4", "Apr-Jun", "Oct-Dec"] {
            assert!(!text.contains(quarter), "{asked:?} {quarter}: {text}");
        }
    }
    // The first milestone (Dec-19) is met by its half-year, Jul-Dec 2019, not Oct-Dec.
    let v = show(None);
    let first = &v["milestones"][0]["actual"];
    assert_eq!(first["period_label"], "Jul-Dec 2019", "{v}");
    assert_eq!(first["value"], 60.0, "{v}");
}
