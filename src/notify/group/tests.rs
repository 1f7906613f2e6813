//! Routing into digests: each recipient their items, silences listed at the foot, resolved
//! notices where the route asks and only for what the person was told. Pure, `now` given.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::kpi::{Figure, Figures, Period, evaluate_figures};
use crate::notify::RouteSettings;
use crate::notify::silence::Silence;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect(s)
}

fn kpi(id: &str, value: f64) -> Evaluation {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let p: Period = "2021-07".parse().expect("period");
    let today: NaiveDate = "2021-08-02".parse().expect("date");
    let figures = Figures {
        current: Some(Figure { value, count: None }),
        ..Figures::default()
    };
    evaluate_figures(
        id,
        &c[id],
        crate::kpi::Rules::new(5.0, crate::disclose::Disclosure::default()),
        figures,
        today,
        p,
    )
}

fn groups() -> BTreeMap<String, SubGroup> {
    let g = |name: &str, owners: &[&str]| SubGroup {
        name: name.into(),
        owners: owners.iter().map(|s| s.to_string()).collect(),
        lead: None,
    };
    BTreeMap::from([
        ("health".into(), g("Health", &["h@x.org"])),
        (
            "performance".into(),
            g("Performance", &["p@x.org", "h@x.org"]),
        ),
    ])
}

fn routes() -> Vec<RouteSettings> {
    vec![
        RouteSettings {
            matchers: vec!["kpi=1/5".into()],
            to: vec!["ccg@x.org".into()],
            continue_: true,
            send_resolved: Some(false),
            ..RouteSettings::default()
        },
        RouteSettings {
            matchers: vec!["kpi=~.+".into()],
            owners: true,
            ..RouteSettings::default()
        },
    ]
}

/// No chase told to anyone.
static NONE_TOLD: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();

fn inputs<'a>(
    evaluations: &'a [Evaluation],
    silences: &'a [Silence],
    last_told: &'a BTreeMap<String, Vec<String>>,
    empty: &'a BTreeMap<String, String>,
) -> RouteInputs<'a> {
    RouteInputs {
        evaluations,
        overdue: &[],
        risks: &[],
        actions: &[],
        warnings: &[],
        sources: empty,
        silences,
        last_told,
        chase_told: &NONE_TOLD,
        now: t("2021-08-02T07:00:00Z"),
    }
}

fn kpis_of(r: &RecipientDigest<'_>) -> Vec<String> {
    r.groups
        .iter()
        .flat_map(|g| {
            g.items
                .iter()
                .map(move |e| format!("{}:{}", g.sub_group, e.kpi_id))
        })
        .collect()
}

#[test]
fn each_recipient_gets_the_items_routed_to_them_in_one_digest() {
    let (groups, routes, lists) = (groups(), routes(), BTreeMap::new());
    let router = Router::new(&routes, &groups, &lists, BTreeMap::new(), None);
    let evaluations = [kpi("1/5", 40.0), kpi("1/2a", 40.0)];
    let (told, empty) = (BTreeMap::new(), BTreeMap::new());
    let digests = route_digests(&router, &inputs(&evaluations, &[], &told, &empty));
    let by = by_recipient(&digests);
    let who: Vec<(&str, Vec<String>)> = by
        .iter()
        .map(|r| (r.recipient.as_str(), kpis_of(r)))
        .collect();
    assert_eq!(
        who,
        [
            ("ccg@x.org", vec!["health:1/5".to_string()]),
            (
                "h@x.org",
                vec!["health:1/5".to_string(), "performance:1/2a".to_string()]
            ),
            ("p@x.org", vec!["performance:1/2a".to_string()]),
        ]
    );
}

#[test]
fn a_silenced_item_is_listed_not_carried_and_a_digest_of_silenced_items_is_not_sent() {
    let (groups, routes, lists) = (groups(), routes(), BTreeMap::new());
    let router = Router::new(&routes, &groups, &lists, BTreeMap::new(), None);
    let evaluations = [kpi("1/5", 40.0), kpi("1/2a", 40.0)];
    let silences = [Silence {
        id: 7,
        matchers: vec!["kpi=1/5".into()],
        starts_at: t("2021-08-01T00:00:00Z"),
        ends_at: t("2021-09-01T00:00:00Z"),
        comment: "recovery plan agreed".into(),
        author: "pm".into(),
        created_at: t("2021-08-01T00:00:00Z"),
        expired_at: None,
    }];
    let (told, empty) = (BTreeMap::new(), BTreeMap::new());
    let digests = route_digests(&router, &inputs(&evaluations, &silences, &told, &empty));
    let by = by_recipient(&digests);
    let ccg = by.iter().find(|r| r.recipient == "ccg@x.org").expect("ccg");
    assert!(ccg.only_silenced(), "the CCG hears of 1/5 alone, silenced");
    let h = by.iter().find(|r| r.recipient == "h@x.org").expect("h");
    assert!(!h.only_silenced());
    assert_eq!(kpis_of(h), ["performance:1/2a"]);
    let health = h
        .groups
        .iter()
        .find(|g| g.sub_group == "health")
        .expect("health");
    assert_eq!(health.silenced.len(), 1);
    assert_eq!(health.silenced[0].silence_id, 7);
    assert_eq!(health.silenced[0].item, "KPI 1/5 RED (2021-07)");
    // Silenced items are not in the key: a silence alone is no news.
    assert!(h.key(|_| false).items.iter().all(|l| !l.contains("1/5")));

    // Past its end it no longer applies.
    let mut later = inputs(&evaluations, &silences, &told, &empty);
    later.now = t("2021-09-01T00:00:00Z");
    let by = by_recipient(&route_digests(&router, &later));
    assert!(by.iter().all(|r| !r.only_silenced()));
}

#[test]
fn a_kpi_out_of_exception_is_resolved_for_those_told_of_it_whose_route_asks() {
    let (groups, routes, lists) = (groups(), routes(), BTreeMap::new());
    let router = Router::new(&routes, &groups, &lists, BTreeMap::new(), None);
    let evaluations = [kpi("1/5", 100.0)];
    assert_eq!(evaluations[0].rag, crate::kpi::Rag::Green);
    let told = BTreeMap::from([
        (
            "h@x.org".to_string(),
            vec!["health|kpi|1/5|2021-06|RED".to_string()],
        ),
        (
            "ccg@x.org".to_string(),
            vec!["health|kpi|1/5|2021-06|RED".to_string()],
        ),
        // Told it was back already: not again.
        (
            "p@x.org".to_string(),
            vec!["health|resolved|1/5|2021-07|GREEN".to_string()],
        ),
    ]);
    let empty = BTreeMap::new();
    let by = by_recipient(&route_digests(
        &router,
        &inputs(&evaluations, &[], &told, &empty),
    ));
    let who: Vec<&str> = by.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(
        who,
        ["h@x.org"],
        "the CCG's route has send_resolved = false"
    );
    let h = &by[0];
    assert_eq!(h.groups[0].resolved.len(), 1);
    assert!(h.groups[0].items.is_empty());
    assert_eq!(
        h.key(|_| false).items,
        ["health|resolved|1/5|2021-07|GREEN"]
    );
    assert_eq!(h.periods(), "2021-07");
}

/// A warning for KPI `id` (owned by `owner`) at the June 2021 milestone in `band`.
fn warning(
    id: &str,
    owner: &str,
    band: crate::kpi::forecast::Band,
) -> crate::kpi::warning::Warning {
    let milestone = "2021-06".parse().expect("month");
    crate::kpi::warning::Warning {
        kpi_id: id.into(),
        owner: owner.into(),
        milestone,
        target: 95.0,
        forecast: crate::kpi::forecast::Forecast {
            band,
            milestone,
            horizon: 4,
            projection: None,
        },
        shown: 12,
        hidden: 0,
        spc: None,
        periods: Vec::new(),
        analysis: None,
    }
}

#[test]
fn an_early_warning_at_risk_is_routed_like_an_exception_and_keyed_by_milestone_and_band() {
    use crate::kpi::forecast::Band;
    let warnings = [
        warning("1/5", "health", Band::AtRisk),
        warning("1/2a", "performance", Band::OnCourse),
        warning("3/3", "performance", Band::TooLittleData),
    ];
    let mut r = vec![RouteSettings {
        matchers: vec!["state=at_risk".into()],
        to: vec!["board@x.org".into()],
        continue_: true,
        ..RouteSettings::default()
    }];
    r.extend(routes());
    let g = groups();
    let lists = BTreeMap::new();
    let router = Router::new(&r, &g, &lists, BTreeMap::new(), None);
    let (silences, told, empty) = (Vec::new(), BTreeMap::new(), BTreeMap::new());
    let mut inp = inputs(&[], &silences, &told, &empty);
    inp.warnings = &warnings;
    let by = by_recipient(&route_digests(&router, &inp));
    let who: Vec<&str> = by.iter().map(|d| d.recipient.as_str()).collect();
    // 1/5's owner (health), the board by `state=at_risk`, and the CCG by its `kpi=1/5`
    // route, as for an exception; on course and too little data are told to no one.
    assert_eq!(who, ["board@x.org", "ccg@x.org", "h@x.org"]);
    for d in &by {
        let ids: Vec<&str> = d
            .groups
            .iter()
            .flat_map(|g| g.warnings.iter().map(|w| w.kpi_id.as_str()))
            .collect();
        assert_eq!(ids, ["1/5"], "{}", d.recipient);
        let key = d.key(|_| false);
        assert_eq!(key.items, ["health|at_risk|1/5|2021-06|at_risk"]);
        assert_eq!(d.periods(), "early warning");
    }
}

/// 1/4 (entered by hand, its baseline never established) with no value for its latest due
/// period on 2026-10-05: its BASELINE OVERDUE card and its chase item, asked.
fn unentered_1_4() -> (Evaluation, Overdue) {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let today: NaiveDate = "2026-10-05".parse().expect("date");
    let o = crate::kpi::manual::overdue(&c, 30, &[], today)
        .into_iter()
        .find(|o| o.kpi_id == "1/4")
        .expect("1/4 overdue");
    let e = evaluate_figures(
        "1/4",
        &c["1/4"],
        crate::kpi::Rules::new(5.0, crate::disclose::Disclosure::default()),
        Figures::default(),
        today,
        o.due.period,
    );
    assert_eq!(e.rag, crate::kpi::Rag::BaselineOverdue);
    (e, o)
}

/// p@x.org's digest of `evaluations` and `overdue`, with `chase_told` told before: its KPIs
/// (cards), its overdue values and its key's lines.
fn p_digest(
    evaluations: &[Evaluation],
    overdue: &[Overdue],
    chase_told: &BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    let (groups, routes, lists) = (groups(), routes(), BTreeMap::new());
    let router = Router::new(&routes, &groups, &lists, BTreeMap::new(), None);
    let (told, empty) = (BTreeMap::new(), BTreeMap::new());
    let inp = RouteInputs {
        overdue,
        chase_told,
        ..inputs(evaluations, &[], &told, &empty)
    };
    let digests = route_digests(&router, &inp);
    let by = by_recipient(&digests);
    let p = by.iter().find(|r| r.recipient == "p@x.org")?;
    let late = p
        .groups
        .iter()
        .flat_map(|g| g.overdue.iter().map(|o| o.kpi_id.clone()))
        .collect();
    Some((kpis_of(p), late, p.key(|_| false).items))
}

#[test]
fn a_manual_kpi_s_baseline_overdue_card_goes_with_its_chase_keyed_by_its_stage() {
    let (card, o) = unentered_1_4();
    let red = kpi("1/2a", 40.0);
    let evaluations = [card, red];
    let none = BTreeMap::new();
    let (kpis, late, key) =
        p_digest(&evaluations, std::slice::from_ref(&o), &none).expect("a digest");
    assert_eq!(kpis, ["performance:1/2a", "performance:1/4"]);
    assert_eq!(late, ["1/4"]);
    // Keyed by the chase's line (told once per stage), not as a KPI line the repeat interval
    // would tell again.
    let chase = super::chase::line("performance", &o);
    assert!(key.contains(&chase), "{key:?}");
    assert!(!key.iter().any(|l| l.contains("|kpi|1/4|")), "{key:?}");

    // That stage told: a digest sent for the red KPI carries neither the card nor the chase
    // item again.
    let told = BTreeMap::from([(
        "p@x.org".to_string(),
        std::collections::BTreeSet::from([chase]),
    )]);
    let (kpis, late, key) =
        p_digest(&evaluations, std::slice::from_ref(&o), &told).expect("a digest");
    assert_eq!(kpis, ["performance:1/2a"]);
    assert!(late.is_empty(), "{late:?}");
    assert!(!key.iter().any(|l| l.contains("1/4")), "{key:?}");

    // The chase ended (no stage today): the card is not told at all.
    let (kpis, late, _) = p_digest(&evaluations, &[], &none).expect("a digest");
    assert_eq!(kpis, ["performance:1/2a"]);
    assert!(late.is_empty(), "{late:?}");
}

#[test]
fn a_chase_item_told_at_its_stage_rides_in_no_digest_sent_for_other_news_and_the_next_stage_is_told()
 {
    let (_, asked) = unentered_1_4();
    let evaluations = [kpi("1/2a", 40.0)];
    let told = BTreeMap::from([(
        "p@x.org".to_string(),
        std::collections::BTreeSet::from([super::chase::line("performance", &asked)]),
    )]);
    let (_, late, key) =
        p_digest(&evaluations, std::slice::from_ref(&asked), &told).expect("a digest");
    assert!(late.is_empty(), "{late:?}");
    assert!(!key.iter().any(|l| crate::news::is_chase(l)), "{key:?}");
    // Alone, it makes no digest at all.
    assert!(p_digest(&[], std::slice::from_ref(&asked), &told).is_none());
    // Its next stage is news of its own.
    let reminded = Overdue {
        stage: crate::kpi::manual::chase::Stage::Reminded {
            meeting: "2026-12-10".parse().expect("date"),
        },
        ..asked
    };
    let (_, late, _) =
        p_digest(&evaluations, std::slice::from_ref(&reminded), &told).expect("a digest");
    assert_eq!(late, ["1/4"]);
}
