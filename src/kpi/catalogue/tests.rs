//! The shipped catalogue against the seeds, and the check naming each problem by its key.

use chrono::NaiveDate;

use super::*;
use crate::kpi::{Better, Frequency, Rag, Retarget, Target, rate, target_in_force};
use crate::load::builtin_kinds;

const IDS: [&str; 26] = [
    "1/1", "1/2", "1/2a", "1/3", "1/3a", "1/4", "1/5", "1/6", "2/1", "2/2", "2/3", "3/1", "3/2",
    "3/3", "3/4", "3/5", "4/1", "4/2", "4/3", "4/4", "4/5", "4/6", "5/1", "5/2", "5/3", "5/4",
];

fn issues(c: &Catalogue) -> Vec<String> {
    let kinds = builtin_kinds().expect("kinds parse");
    let known = Known {
        sub_groups: [
            "performance",
            "health",
            "coproduction",
            "governance",
            "joint_performance",
            "dco_task_finish",
        ]
        .into_iter()
        .collect(),
        sources: [
            ("tracker", kinds.get("tracker")),
            ("reviews", kinds.get("reviews")),
            ("provider", kinds.get("provider")),
            ("sen2", kinds.get("sen2_requests")),
        ]
        .into_iter()
        .collect(),
    };
    let mut out = Vec::new();
    c.check(&known, &mut |key, msg| out.push(format!("{key}: {msg}")));
    out
}

fn m(s: &str) -> Month {
    s.parse().expect("month")
}

fn target(c: &Catalogue, id: &str, period: &str) -> Option<Target> {
    target_in_force(&c[id], m(period)).map(|t| t.target)
}

#[test]
fn the_shipped_catalogue_has_all_26_kpis_and_is_sound() {
    let c = builtin().expect("kpis.toml parses");
    let mut want: Vec<&str> = IDS.to_vec();
    want.sort();
    assert_eq!(c.keys().map(String::as_str).collect::<Vec<_>>(), want);
    assert_eq!(issues(&c), Vec::<String>::new());
    let computed: Vec<&str> = c.computed().map(|k| k.id).collect();
    assert_eq!(
        computed,
        [
            "1/2", "1/2a", "1/3", "1/3a", "1/5", "5/1", "5/2", "5/3", "5/4"
        ]
    );
    let cohorts: Vec<(&str, Option<NaiveDate>)> = c["1/3"]
        .cohorts
        .iter()
        .map(|k| (k.cohort.as_str(), k.deadline_in(2019)))
        .collect();
    let day = |m, d| NaiveDate::from_ymd_opt(2020, m, d);
    assert_eq!(
        cohorts,
        [
            ("Yr 6", day(2, 15)),
            ("Yr 9", day(8, 31)),
            ("Yr 11", day(3, 31))
        ],
        "the seeds' deadlines for the 2019/20 cohorts (004:1406-1408)"
    );
    assert!(c["1/3a"].cohorts.is_empty());
    assert_eq!(c["5/1"].service.as_deref(), Some("Paediatric Dietetics"));
    assert_eq!(
        c["5/4"].service.as_deref(),
        Some("Speech and Language Therapy")
    );
    assert_eq!(c["1/2"].started_from, NaiveDate::from_ymd_opt(2019, 6, 1));
    assert_eq!(c["1/2a"].started_from, NaiveDate::from_ymd_opt(2020, 1, 1));
    for (id, k) in c.iter() {
        assert!(!k.action.is_empty(), "{id}");
        assert!(!k.baseline.text.is_empty(), "{id}");
        let lower = id.starts_with("5/");
        assert_eq!(k.better == Better::Lower, lower, "{id}");
        assert_eq!(k.unit == Unit::Weeks, lower, "{id}");
        for ms in &k.milestones {
            assert!(
                ms.label.is_some(),
                "{id} {}: milestones carry the seeds' words",
                ms.from
            );
        }
    }
    assert_eq!(c["5/1"].frequency, Frequency::Monthly);
    assert_eq!(c["2/3"].frequency, Frequency::Biannually);
    assert_eq!(c["3/1"].owner, "dco_task_finish");
    assert!(c["3/2"].milestones.is_empty(), "not legible in the seeds");
}

#[test]
fn the_shipped_targets_resolve_as_the_seeds_print_them() {
    let c = builtin().expect("parses");
    let v = |x: f64| Some(Target::Value(x));
    // 1/2a: NA in 2019, the January cell is the actual, then 15%, 25%, then "50% or national
    // average whichever is the higher" against England's 60.1%, then 75%.
    assert_eq!(target(&c, "1/2a", "2019-09"), None);
    assert_eq!(target(&c, "1/2a", "2019-12"), Some(Target::NotApplicable));
    assert_eq!(target(&c, "1/2a", "2020-03"), Some(Target::NotApplicable));
    assert_eq!(target(&c, "1/2a", "2020-04"), v(15.0));
    assert_eq!(target(&c, "1/2a", "2020-09"), v(25.0));
    assert_eq!(target(&c, "1/2a", "2020-11"), v(60.1));
    assert_eq!(target(&c, "1/2a", "2021-07"), v(75.0));
    let oct = target_in_force(&c["1/2a"], m("2020-10")).expect("in force");
    assert_eq!(
        oct.label.as_deref(),
        Some("Oct-20: 50% or national average whichever is the higher")
    );
    // 1/2: NA from the new statutory reporting period.
    assert_eq!(target(&c, "1/2", "2020-01"), v(10.0));
    assert_eq!(target(&c, "1/2", "2021-07"), Some(Target::NotApplicable));
    // 1/1: the national average.
    assert_eq!(target(&c, "1/1", "2019-10"), v(9.0));
    assert_eq!(target(&c, "1/1", "2020-01"), Some(Target::NotApplicable));
    // 1/4: baseline plus 10 points, but the baseline is not established.
    assert_eq!(target(&c, "1/4", "2020-01"), v(50.0));
    assert_eq!(
        target(&c, "1/4", "2020-05"),
        Some(Target::EstablishBaseline {
            by: NaiveDate::from_ymd_opt(2020, 1, 31)
        })
    );
    // 1/6: establish the baseline by 31 October 2019.
    assert_eq!(
        target(&c, "1/6", "2019-10"),
        Some(Target::EstablishBaseline {
            by: NaiveDate::from_ymd_opt(2019, 10, 31)
        })
    );
    // 4/1: 38.5% plus 10 points, then plus 15.
    assert_eq!(target(&c, "4/1", "2020-11"), None);
    assert_eq!(target(&c, "4/1", "2021-01"), v(48.5));
    assert_eq!(target(&c, "4/1", "2021-06"), v(53.5));
    // 5/4: weeks, lower is better; 20 weeks from Dec-19.
    let t = target_in_force(&c["5/4"], m("2020-01")).and_then(|t| t.value());
    assert_eq!(t, Some(20.0));
    let tol = crate::kpi::RagSettings::default().band(&c["5/4"]).tolerance;
    assert_eq!(rate(Some(19.0), t, c["5/4"].better, tol), Rag::Green);
    assert_eq!(rate(Some(21.0), t, c["5/4"].better, tol), Rag::Amber);
    assert_eq!(rate(Some(25.0), t, c["5/4"].better, tol), Rag::Red);
}

#[test]
fn each_problem_is_named_by_its_key() {
    let mut c = builtin().expect("parses");
    {
        let k = c.get_mut("1/4").expect("1/4");
        k.owner = "nobody".into();
        k.milestones.swap(1, 2);
        k.milestones[3].not_applicable = true;
        k.milestones[4].relative = None;
        k.baseline.value = Some(40.0);
        k.retargets.push(Retarget {
            effective: "2019-06".into(),
            reason: "recovery plan".into(),
            baseline: None,
            milestones: vec![MilestoneSettings {
                from: "2019-07".into(),
                target: Some(101.0),
                ..MilestoneSettings::default()
            }],
        });
    }
    {
        let k = c.get_mut("1/5").expect("1/5");
        k.source = None;
    }
    {
        let k = c.get_mut("1/1").expect("1/1");
        k.national.clear();
    }
    let text = issues(&c).join("\n");
    for want in [
        "kpis.\"1/4\".owner: no sub-group named `nobody`",
        "kpis.\"1/4\".milestones[2].from: milestones must be in date order",
        "kpis.\"1/4\".milestones[3]: give one target kind, not baseline_plus and not_applicable",
        "kpis.\"1/4\".milestones[4]: baseline_plus needs relative",
        "kpis.\"1/4\".baseline: give a value (the baseline is known) or establish_by",
        "kpis.\"1/4\".baseline.date: a baseline value needs the month",
        "kpis.\"1/4\".retargets[0].effective: 2019-06 is before the first milestone (2019-10)",
        "kpis.\"1/4\".retargets[0].milestones[0].target: a percentage cannot be over 100",
        "kpis.\"1/5\".source: measure health_advice_within_6_weeks needs a source",
        "kpis.\"1/1\".milestones[0]: national_average needs a national value",
    ] {
        assert!(text.contains(want), "`{want}` not in:\n{text}");
    }
}

#[test]
fn a_source_without_the_tracker_columns_is_refused_for_a_tracker_measure() {
    let mut c = builtin().expect("parses");
    c.get_mut("1/2a").expect("1/2a").source = Some("provider".into());
    let kinds = builtin_kinds().expect("kinds parse");
    let known = Known {
        sub_groups: ["performance", "health", "coproduction"]
            .into_iter()
            .chain(["joint_performance", "dco_task_finish"])
            .collect(),
        sources: [
            ("tracker", kinds.get("tracker")),
            ("reviews", kinds.get("reviews")),
            ("provider", kinds.get("provider")),
        ]
        .into_iter()
        .collect(),
    };
    let mut out = Vec::new();
    c.check(&known, &mut |key, msg| out.push(format!("{key}: {msg}")));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].starts_with("kpis.\"1/2a\".source: measure"),
        "{out:?}"
    );
}

#[test]
fn a_sen2_return_serves_the_20_week_kpis_and_only_it_can_leave_the_exceptions_out() {
    let mut c = builtin().expect("parses");
    let k = c.get_mut("1/2a").expect("1/2a");
    k.source = Some("sen2".into());
    k.week20_exceptions = crate::kpi::Week20::Exclude;
    assert_eq!(issues(&c), Vec::<String>::new());
    let k = c.get_mut("1/2").expect("1/2");
    k.week20_exceptions = crate::kpi::Week20::Exclude;
    c.get_mut("1/5").expect("1/5").source = Some("sen2".into());
    let out = issues(&c);
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(
        out[0].starts_with("kpis.\"1/2\".week20_exceptions: only ehcp_within_20_weeks from"),
        "{out:?}"
    );
    assert!(
        out[1].contains("1/5\".source: measure health_advice_within_6_weeks needs a tracker"),
        "{out:?}"
    );
}

#[test]
fn a_wait_measure_needs_provider_columns_a_service_and_weeks() {
    let mut c = builtin().expect("parses");
    let k = c.get_mut("5/1").expect("5/1");
    k.source = Some("tracker".into());
    k.service = None;
    c.get_mut("5/2").expect("5/2").unit = Unit::Percent;
    c.get_mut("1/5").expect("1/5").service = Some("Occupational Therapy".into());
    let text = issues(&c).join("\n");
    for want in [
        "kpis.\"5/1\".source: measure average_wait_weeks needs a provider extract; the kind of `tracker` has no column `service`",
        "kpis.\"5/1\".service: measure average_wait_weeks needs the service",
        "kpis.\"5/2\".unit: measure average_wait_weeks computes weeks, not percent",
        "kpis.\"1/5\".service: service goes with measure average_wait_weeks only",
    ] {
        assert!(text.contains(want), "`{want}` not in:\n{text}");
    }
    assert_eq!(issues(&c).len(), 4, "{text}");
}

#[test]
fn a_reviews_measure_needs_reviews_columns_and_cohorts_with_days_of_the_year() {
    use crate::kpi::Cohort;
    let mut c = builtin().expect("parses");
    let cohort = |name: &str, deadline: &str| Cohort {
        cohort: name.into(),
        deadline: deadline.into(),
    };
    c.get_mut("1/3").expect("1/3").cohorts = vec![
        cohort("Yr 6", "15-02"),
        cohort("Yr 6", "02-15"),
        cohort(" ", "02-29"),
    ];
    let k = c.get_mut("1/3a").expect("1/3a");
    k.source = Some("tracker".into());
    k.cohorts = vec![cohort("Yr 9", "08-31")];
    k.started_from = NaiveDate::from_ymd_opt(2020, 1, 1);
    let text = issues(&c).join("\n");
    for want in [
        "kpis.\"1/3\".cohorts[0].deadline: not a day of the year as MM-DD",
        "kpis.\"1/3\".cohorts[1].cohort: `Yr 6` is given twice",
        "kpis.\"1/3\".cohorts[2].cohort: must not be empty",
        "kpis.\"1/3\".cohorts[2].deadline: not a day of the year",
        "kpis.\"1/3a\".source: measure other_reviews_completed needs a reviews extract; the kind of `tracker` has no column `transition_cohort`",
        "kpis.\"1/3a\".cohorts: cohorts go with measure transition_reviews_by_deadline only",
        "kpis.\"1/3a\".started_from: a reviews measure counts the academic year",
    ] {
        assert!(text.contains(want), "`{want}` not in:\n{text}");
    }
    assert_eq!(issues(&c).len(), 7, "{text}");
    c.get_mut("1/3").expect("1/3").cohorts.clear();
    let text = issues(&c).join("\n");
    assert!(
        text.contains(
            "kpis.\"1/3\".cohorts: measure transition_reviews_by_deadline needs its cohorts"
        ),
        "{text}"
    );
}
