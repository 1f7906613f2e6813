//! Tests of the checks on a manual value and of the periods that fall due.

use super::*;
use crate::kpi::catalogue::builtin;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn p(s: &str) -> Period {
    s.parse().expect("period")
}

fn draft(kpi: &str, period: &str, value: f64) -> Draft {
    Draft {
        kpi: kpi.into(),
        period: period.into(),
        value,
        by: "ann".into(),
        ..Draft::default()
    }
}

fn refused(dr: &Draft) -> Vec<(Field, String)> {
    let c = builtin().expect("catalogue");
    check(&c, dr, d("2021-07-31"))
        .expect_err("refused")
        .into_iter()
        .map(|r| (r.field, r.message))
        .collect()
}

fn first(dr: &Draft) -> (Field, String) {
    refused(dr).into_iter().next().expect("one refusal")
}

#[test]
fn a_good_value_is_kept_with_who_entered_it() {
    let c = builtin().expect("catalogue");
    let mut dr = draft(" 3/3 ", "2020-Q2", 33.3);
    dr.numerator = Some(1);
    dr.denominator = Some(3);
    dr.note = Some("  from the March sessions ".into());
    let v = check(&c, &dr, d("2021-07-31")).expect("accepted");
    assert_eq!(v.kpi_id, "3/3");
    assert_eq!(v.period, p("2020-Q2"));
    assert_eq!((v.numerator, v.denominator), (Some(1), Some(3)));
    assert_eq!(v.note.as_deref(), Some("from the March sessions"));
    assert_eq!(v.by, "ann");
    // A month inside a quarter is fine for a quarterly KPI.
    check(&c, &draft("3/3", "2020-05", 40.0), d("2021-07-31")).expect("a month");
}

#[test]
fn a_computed_or_unknown_kpi_is_refused_plainly() {
    let (field, msg) = first(&draft("1/2a", "2020-05", 40.0));
    assert_eq!(field, Field::Kpi);
    assert!(
        msg.contains(
            "computed by each run from the `tracker` extract (measure ehcp_within_20_weeks)"
        ),
        "{msg}"
    );
    let (field, msg) = first(&draft("9/9", "2020-05", 40.0));
    assert_eq!(
        (field, msg.as_str()),
        (Field::Kpi, "no KPI with this id in the catalogue")
    );
}

#[test]
fn the_period_must_fit_the_kpi_and_have_begun() {
    // 4/1 is annual: an academic year.
    assert!(
        first(&draft("4/1", "2020-Q1", 40.0))
            .1
            .contains("an academic year (AYyyyy/yy)")
    );
    assert!(
        first(&draft("4/1", "FY2019/20", 40.0))
            .1
            .contains("annually")
    );
    assert!(
        first(&draft("3/3", "AY2019/20", 40.0))
            .1
            .contains("a quarter (YYYY-Qn or Jan-Mar YYYY) or a month")
    );
    // 2/3 is twice-yearly: its half-year as the digest names it, or its key; not a quarter
    // inside it (Apr-Jun is not the half-year asked for), nor a month.
    for named in ["Jan-Jun 2020", "2020-H1"] {
        let v = check(
            &builtin().expect("catalogue"),
            &draft("2/3", named, 40.0),
            d("2021-07-31"),
        )
        .unwrap_or_else(|e| panic!("{named}: {e:?}"));
        assert!(
            v.period.last_month() <= "2020-06".parse().expect("month"),
            "{named}"
        );
    }
    assert_eq!(
        check(
            &builtin().expect("catalogue"),
            &draft("2/3", "Jan-Jun 2020", 40.0),
            d("2021-07-31")
        )
        .map(|v| v.period.to_string()),
        Ok("2020-H1".to_string()),
        "the whole half-year is stored"
    );
    for quarter in ["2020-Q2", "Apr-Jun 2020", "2020-05"] {
        let (field, message) = first(&draft("2/3", quarter, 40.0));
        assert_eq!(field, Field::Period, "{quarter}");
        assert_eq!(
            message,
            "this KPI's values are entered for a half-year (YYYY-Hn or Jan-Jun YYYY) \
             (biannually)",
            "{quarter}"
        );
    }
    assert!(
        first(&draft("3/3", "2020-Q5", 40.0))
            .1
            .starts_with("not a period")
    );
    assert!(
        first(&draft("3/3", "2021-Q4", 40.0))
            .1
            .contains("not begun")
    );
    assert!(
        first(&draft("3/3", "2014-Q1", 40.0))
            .1
            .contains("before EHC plans began")
    );
    let c = builtin().expect("catalogue");
    check(&c, &draft("4/1", "AY2019/20", 40.0), d("2021-07-31")).expect("academic year");
    // A KPI's `period` key overrides its frequency.
    let mut c2 = c.clone();
    c2.get_mut("4/1").expect("4/1").period = Some(PeriodKind::CalendarYear);
    check(&c2, &draft("4/1", "2020", 40.0), d("2021-07-31")).expect("calendar year");
}

#[test]
fn values_are_in_range_for_their_unit() {
    assert_eq!(first(&draft("3/3", "2020-Q2", 100.5)).0, Field::Value);
    assert_eq!(first(&draft("3/3", "2020-Q2", -1.0)).0, Field::Value);
    assert_eq!(first(&draft("3/3", "2020-Q2", f64::NAN)).1, "not a number");
    // 2/1 counts reports: whole numbers.
    assert!(
        first(&draft("2/1", "2020-Q2", 1.5))
            .1
            .contains("whole number")
    );
    let c = builtin().expect("catalogue");
    check(&c, &draft("2/1", "2020-Q2", 3.0), d("2021-07-31")).expect("a count");
    let mut counted = draft("2/1", "2020-Q2", 3.0);
    counted.numerator = Some(3);
    counted.denominator = Some(4);
    assert!(first(&counted).1.contains("a count has no numerator"));
}

#[test]
fn numerator_and_denominator_come_together_and_agree_with_the_value() {
    let with = |v: f64, n: Option<i64>, den: Option<i64>| {
        let mut dr = draft("3/3", "2020-Q2", v);
        dr.numerator = n;
        dr.denominator = den;
        dr
    };
    let c = builtin().expect("catalogue");
    let ok = |dr: &Draft| check(&c, dr, d("2021-07-31")).is_ok();
    assert!(ok(&with(33.0, Some(1), Some(3))));
    assert!(ok(&with(33.33, Some(1), Some(3))));
    assert!(!ok(&with(34.0, Some(1), Some(3))));
    assert!(!ok(&with(33.4, Some(1), Some(3))));
    assert!(ok(&with(66.7, Some(2), Some(3))));
    assert_eq!(first(&with(40.0, Some(4), None)).0, Field::Denominator);
    assert_eq!(first(&with(40.0, None, Some(10))).0, Field::Numerator);
    assert!(
        first(&with(100.0, Some(11), Some(10)))
            .1
            .contains("more than the denominator")
    );
    assert!(first(&with(0.0, Some(0), Some(0))).1.contains("1 or more"));
    let (field, msg) = first(&with(40.0, Some(5), Some(10)));
    assert_eq!(field, Field::Value);
    assert!(msg.contains("(50.0%)"), "{msg}");
}

#[test]
fn notes_and_names_are_bounded_free_text() {
    let mut dr = draft("3/3", "2020-Q2", 40.0);
    dr.note = Some("x".repeat(MAX_NOTE + 1));
    assert_eq!(
        first(&dr),
        (
            Field::Note,
            format!(
                "{} characters long; at most {MAX_NOTE} allowed",
                MAX_NOTE + 1
            )
        )
    );
    dr.note = Some("two\nlines".into());
    assert_eq!(first(&dr).0, Field::Note);
    dr.note = None;
    dr.by = " ".into();
    assert_eq!(
        first(&dr),
        (Field::By, "say who is entering the value".into())
    );
}

#[test]
fn periods_fall_due_from_the_first_milestone_and_not_when_not_applicable() {
    let c = builtin().expect("catalogue");
    let labels = |id: &str, today: &str| -> Vec<String> {
        due_periods(&c[id], 30, d(today))
            .into_iter()
            .map(|due| due.period.to_string())
            .collect()
    };
    // 2/1: quarterly, first milestone Dec-19; Q2 2020 ended 30 June, due by 30 July.
    assert_eq!(labels("2/1", "2020-07-30"), ["2019-Q4", "2020-Q1"]);
    assert_eq!(
        labels("2/1", "2020-07-31"),
        ["2019-Q4", "2020-Q1", "2020-Q2"]
    );
    // 1/4: Oct-19 "NA (training in September)", then from Jan-20.
    assert_eq!(labels("1/4", "2020-05-01")[0], "2020-Q1");
    // 3/1: a baseline by Dec-19, then "audit will sample 10%" (no target) from Jun-20.
    assert_eq!(labels("3/1", "2022-01-01"), ["2019-Q4", "2020-Q1"]);
    // 3/2: no milestone legible: never due.
    assert!(labels("3/2", "2022-01-01").is_empty());
    // 2/3 is biannual: half-years, named and keyed as such.
    let half: Vec<String> = due_periods(&c["2/3"], 30, d("2021-02-01"))
        .into_iter()
        .map(Due::label)
        .collect();
    assert_eq!(half, ["Jul-Dec 2019", "Jan-Jun 2020", "Jul-Dec 2020"]);
    assert_eq!(
        labels("2/3", "2021-02-01"),
        ["2019-H2", "2020-H1", "2020-H2"]
    );
}

fn entered(kpi: &str, period: &str) -> Entered {
    Entered {
        id: 1,
        value: ManualValue {
            kpi_id: kpi.into(),
            period: p(period),
            value: 1.0,
            numerator: None,
            denominator: None,
            note: None,
            by: "ann".into(),
        },
        entered_at: DateTime::UNIX_EPOCH,
        via: "set".into(),
    }
}

#[test]
fn overdue_names_the_latest_due_period_only_and_skips_computed_kpis() {
    let mut c = builtin().expect("catalogue");
    c.retain(|id, _| ["1/2a", "2/1", "2/3", "3/3"].contains(&id.as_str()));
    let today = d("2020-08-01");
    let values = [
        entered("2/1", "2019-Q4"),
        entered("2/3", "2019-12"),
        // The twice-yearly KPI's half-year, as the digest names it.
        entered("2/3", "Jan-Jun 2020"),
        entered("3/3", "2019-Q4"),
        entered("3/3", "2020-05"), // a month inside Q2 covers it
    ];
    let o = overdue(&c, 30, &values, today);
    let ids: Vec<&str> = o.iter().map(|x| x.kpi_id.as_str()).collect();
    assert_eq!(ids, ["2/1"], "{o:?}");
    // Its latest period, not the earlier Q1 also missing.
    assert_eq!(o[0].due.period, p("2020-Q2"));
    assert_eq!(o[0].due_by, d("2020-07-30"));
    assert_eq!(o[0].owner, "health");
    // A value for the latest period ends the chase, whatever is missing before it.
    let latest = [entered("2/1", "2020-Q2")];
    assert!(
        overdue(&c, 30, &latest, today)
            .iter()
            .all(|x| x.kpi_id != "2/1")
    );
    // Nothing entered: the latest due period.
    let none = overdue(&c, 30, &[], today);
    let k33 = none.iter().find(|x| x.kpi_id == "3/3").expect("3/3");
    assert_eq!(k33.due.period, p("2020-Q2"));
    let k23 = none.iter().find(|x| x.kpi_id == "2/3").expect("2/3");
    assert_eq!(
        (k23.due.period, k23.due.label()),
        (p("2020-H1"), "Jan-Jun 2020".to_string())
    );
    // The KPI's own overdue_days beats the default; a disabled KPI is not an exception.
    c.get_mut("3/3").expect("3/3").overdue_days = Some(60);
    let later = overdue(&c, 30, &[], today);
    let k33 = later.iter().find(|x| x.kpi_id == "3/3").expect("3/3");
    assert_eq!(k33.due.period, p("2020-Q1"));
    c.get_mut("3/3").expect("3/3").enabled = false;
    assert!(
        overdue(&c, 30, &[], today)
            .iter()
            .all(|x| x.kpi_id != "3/3")
    );
    // Before its first milestone a KPI is not due at all.
    assert!(overdue(&c, 30, &[], d("2019-12-31")).is_empty());
}

#[test]
fn a_run_rates_the_latest_period_due_or_already_entered() {
    let c = builtin().expect("catalogue");
    let k = &c["3/3"];
    let report = |today: &str, entered: &[Entered], upto: Option<&str>| {
        let upto = upto.map(|m| m.parse::<Month>().expect("month"));
        report_due(k, "3/3", 30, entered, d(today), upto)
            .period
            .to_string()
    };
    assert_eq!(report("2020-08-01", &[], None), "2020-Q2");
    assert_eq!(report("2020-07-15", &[], None), "2020-Q1", "Q2 not due yet");
    assert_eq!(
        report("2020-07-15", &[entered("3/3", "2020-06")], None),
        "2020-Q2",
        "but already entered"
    );
    assert_eq!(report("2020-08-01", &[], Some("2020-05")), "2020-Q1");
    assert_eq!(report("2020-08-01", &[], Some("2020-06")), "2020-Q2");
}

#[test]
fn a_periods_value_is_its_own_before_a_months_and_the_latest_month_before_an_earlier() {
    let c = builtin().expect("catalogue");
    let k = &c["3/3"];
    let with_id = |id: i64, period: &str, value: f64| {
        let mut e = entered("3/3", period);
        e.id = id;
        e.value.value = value;
        e
    };
    let q2 = due_containing(k, "2020-05".parse().expect("month"));
    let all = [
        with_id(1, "2020-Q2", 40.0),
        with_id(2, "2020-05", 30.0),
        with_id(3, "2020-04", 20.0),
        with_id(4, "2020-Q1", 10.0),
    ];
    assert_eq!(covering(&all, "3/3", q2).map(|e| e.id), Some(1));
    assert_eq!(covering(&all[1..], "3/3", q2).map(|e| e.id), Some(2));
    let (f, entry) = figures(k, "3/3", &all, q2);
    assert_eq!(entry, Some(1));
    assert_eq!(f.current.map(|x| x.value), Some(40.0));
    assert_eq!(f.previous.map(|x| x.value), Some(10.0), "Q1's");
    assert_eq!(f.current.and_then(|x| x.count), None, "no counts entered");
    assert!(f.year_to_date.is_none());
    let mut counted = with_id(5, "2020-Q3", 50.0);
    counted.value.numerator = Some(5);
    counted.value.denominator = Some(10);
    assert_eq!(
        figure(&counted).count,
        Some(Count {
            numerator: 5,
            denominator: 10
        })
    );
}

#[test]
fn a_twice_yearly_kpis_previous_value_is_the_half_year_before() {
    let c = builtin().expect("catalogue");
    let k = &c["2/3"];
    let with = |id: i64, period: &str, value: f64| {
        let mut e = entered("2/3", period);
        e.id = id;
        e.value.value = value;
        e
    };
    let h1 = due_containing(k, "2026-05".parse().expect("month"));
    assert_eq!(h1.period, p("2026-H1"));
    assert_eq!(previous_due(k, h1).period, p("2025-H2"));
    let all = [
        with(1, "2025-H2", 70.0),
        // An Apr-Jun entered before half-years were a kind: the half-year's own stands.
        with(2, "2026-Q2", 30.0),
        with(3, "2026-H1", 80.0),
    ];
    let (f, entry) = figures(k, "2/3", &all, h1);
    assert_eq!(entry, Some(3));
    assert_eq!(f.current.map(|x| x.value), Some(80.0));
    assert_eq!(f.previous.map(|x| x.value), Some(70.0), "Jul-Dec 2025's");
    // Rated half-year against half-year: improved on Jul-Dec 2025's 70%, not Apr-Jun's 30%.
    let e = crate::kpi::evaluate_figures(
        "2/3",
        k,
        crate::kpi::Rules::new(5.0, crate::disclose::Disclosure::default()),
        f,
        d("2026-08-01"),
        h1.period,
    );
    assert_eq!(e.previous_value(), Some(70.0));
    let direction = e.direction;
    assert!(
        direction.contains("improved on the previous period (@ 70.0%)"),
        "{direction}"
    );
}
