//! A KPI read once (issue 22) with its early warning (issue 21): a KPI in exception or
//! overdue says its warning in its own block, in both parts of the mail, and is neither
//! listed again as a warning item nor counted again in the subject and footer; a KPI with a
//! warning only keeps its own item.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::kpi::forecast::{Band, Forecast, Method, Projection};
use crate::kpi::warning::Warning;
use crate::kpi::{Catalogue, Evaluation, Period};
use crate::notify::context::Context;
use crate::notify::{Digest, RecipientDigest, SubGroup};

const AT_RISK: &str = "at risk for Jun-21 (chance 40%)";
const ON_COURSE: &str = "on course for Jun-21 (chance 85%)";

fn now() -> DateTime<Utc> {
    "2021-03-02T07:00:00Z".parse().expect("instant")
}

/// KPI `id` of the built-in catalogue for February 2021 with no figures: NO DATA, an
/// exception.
fn no_data(c: &Catalogue, id: &str) -> Evaluation {
    let p: Period = "2021-02".parse().expect("period");
    let e = crate::kpi::evaluate_figures(
        id,
        &c[id],
        crate::kpi::Rules::new(5.0, crate::disclose::Disclosure::default()),
        crate::kpi::Figures::default(),
        p.last_month().last_day(),
        p,
    );
    assert!(e.rag.is_exception(), "{id}: {:?}", e.rag);
    e
}

/// KPI `id`'s warning at the June 2021 milestone: at risk (40%) or on course (85%).
fn warning(id: &str, band: Band) -> Warning {
    let milestone = "2021-06".parse().expect("month");
    let chance = if band == Band::OnCourse { 0.85 } else { 0.40 };
    Warning {
        kpi_id: id.into(),
        owner: "performance".into(),
        milestone,
        target: 95.0,
        forecast: Forecast {
            band,
            milestone,
            horizon: 4,
            projection: Some(Projection {
                method: Method::Linear,
                points: 14,
                value: 90.0,
                low: 80.0,
                high: 99.0,
                chance,
            }),
        },
        shown: 14,
        hidden: 0,
        spc: None,
        periods: Vec::new(),
        analysis: None,
    }
}

fn digest<'a>(
    key: &str,
    items: Vec<&'a Evaluation>,
    overdue: Vec<&'a crate::kpi::manual::Overdue>,
    warnings: Vec<&'a Warning>,
) -> Digest<'a> {
    Digest {
        sub_group: key.into(),
        sub_group_name: format!("{key} Sub Group"),
        recipients: vec!["p@example.org".into()],
        items,
        overdue,
        risks: Vec::new(),
        resolved: Vec::new(),
        actions: Vec::new(),
        warnings,
        silenced: Vec::new(),
    }
}

fn context<'a>(
    c: &'a Catalogue,
    register: &'a crate::risk::Register,
    groups: &'a BTreeMap<String, SubGroup>,
    sources: &'a crate::store::Sources,
    warnings: &'a [Warning],
) -> Context<'a> {
    Context {
        run_id: Some(4),
        warnings,
        ..Context::for_tests(c, register, groups, sources)
    }
}

fn view(groups: Vec<Digest<'_>>, ctx: &Context<'_>) -> super::DigestView {
    let rd = RecipientDigest {
        recipient: "p@example.org".into(),
        groups,
    };
    super::build(&rd, ctx, now(), &|_| None)
}

fn ids(rows: &[crate::view::warning::WarningRow]) -> Vec<&str> {
    rows.iter().map(|w| w.id.as_str()).collect()
}

#[test]
fn a_kpi_in_exception_says_its_warning_in_its_block_and_is_counted_once() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let e = no_data(&c, "1/2a");
    // 1/2a is in exception and at risk; 1/5 is at risk only.
    let w = [warning("1/2a", Band::AtRisk), warning("1/5", Band::AtRisk)];
    let (groups, sources) = (BTreeMap::new(), BTreeMap::new());
    let register = crate::risk::Register::default();
    let ctx = context(&c, &register, &groups, &sources, &w);
    let v = view(
        vec![digest(
            "performance",
            vec![&e],
            Vec::new(),
            vec![&w[0], &w[1]],
        )],
        &ctx,
    );
    let g = &v.groups[0];
    assert_eq!(g.kpis[0].id, "1/2a");
    assert_eq!(g.kpis[0].early_warning.as_deref(), Some(AT_RISK));
    assert_eq!(ids(&g.warnings), ["1/5"], "1/2a not listed again");
    // The operator's count (`preview`'s items) is the reader's: 1/2a once, 1/5 once.
    assert_eq!(g.items(), 2);
    assert!(
        v.summary.ends_with(", 1 at risk of missing a milestone"),
        "1/5 only: {}",
        v.summary
    );

    // With 1/2a's warning alone, the mail is its exception, and says nothing else.
    let v = view(
        vec![digest("performance", vec![&e], Vec::new(), vec![&w[0]])],
        &ctx,
    );
    assert!(v.groups[0].warnings.is_empty());
    assert_eq!(v.groups[0].kpis[0].early_warning.as_deref(), Some(AT_RISK));
    assert!(!v.summary.contains("at risk"), "{}", v.summary);
    assert!(!v.subject.contains("at risk"), "{}", v.subject);
    let footer = v.footer.join("\n");
    assert!(!footer.contains("projection"), "{footer}");
    assert!(footer.contains("a KPI is RED or has no data"), "{footer}");
}

#[test]
fn a_kpi_with_only_a_warning_keeps_its_own_item() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let w = [warning("1/5", Band::AtRisk)];
    let (groups, sources) = (BTreeMap::new(), BTreeMap::new());
    let register = crate::risk::Register::default();
    let ctx = context(&c, &register, &groups, &sources, &w);
    let v = view(
        vec![digest("performance", Vec::new(), Vec::new(), vec![&w[0]])],
        &ctx,
    );
    let g = &v.groups[0];
    assert!(g.kpis.is_empty());
    assert_eq!(ids(&g.warnings), ["1/5"]);
    assert_eq!(g.warnings[0].sentence, format!("Early warning: {AT_RISK}"));
    assert_eq!(v.summary, "1 at risk of missing a milestone");
    let footer = v.footer.join("\n");
    assert!(
        footer.contains("because a KPI's projection says it may miss its next milestone."),
        "{footer}"
    );
}

#[test]
fn a_kpi_in_exception_back_on_course_says_so_in_its_block_only() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let e = no_data(&c, "1/2a");
    let w = [
        warning("1/2a", Band::OnCourse),
        warning("1/5", Band::OnCourse),
    ];
    let (groups, sources) = (BTreeMap::new(), BTreeMap::new());
    let register = crate::risk::Register::default();
    let ctx = context(&c, &register, &groups, &sources, &w);
    let v = view(
        vec![digest(
            "performance",
            vec![&e],
            Vec::new(),
            vec![&w[0], &w[1]],
        )],
        &ctx,
    );
    let g = &v.groups[0];
    assert_eq!(g.kpis[0].early_warning.as_deref(), Some(ON_COURSE));
    assert_eq!(ids(&g.back_on_course), ["1/5"], "1/2a not listed again");
    assert!(
        v.summary.ends_with(", 1 back on course for a milestone"),
        "{}",
        v.summary
    );

    let v = view(
        vec![digest("performance", vec![&e], Vec::new(), vec![&w[0]])],
        &ctx,
    );
    assert!(v.groups[0].back_on_course.is_empty());
    assert!(!v.summary.contains("back on course"), "{}", v.summary);
    assert!(!v.footer.join("\n").contains("back on course"));
}

#[test]
fn an_overdue_kpi_and_one_in_another_sections_exception_are_folded_too() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let today = NaiveDate::from_ymd_opt(2020, 8, 1).expect("date");
    let overdue = crate::kpi::manual::overdue(&c, 30, &[], today);
    let late = overdue
        .iter()
        .find(|o| o.kpi_id == "3/3")
        .expect("3/3 overdue");
    let e = no_data(&c, "1/2a");
    let w = [warning("3/3", Band::AtRisk), warning("1/2a", Band::AtRisk)];
    let (groups, sources) = (BTreeMap::new(), BTreeMap::new());
    let register = crate::risk::Register::default();
    let ctx = context(&c, &register, &groups, &sources, &w);
    // 1/2a's exception is the performance section's; its warning is routed to health's.
    let v = view(
        vec![
            digest("dco", Vec::new(), vec![late], vec![&w[0]]),
            digest("performance", vec![&e], Vec::new(), Vec::new()),
            digest("health", Vec::new(), Vec::new(), vec![&w[1]]),
        ],
        &ctx,
    );
    assert_eq!(
        v.groups[0].overdue[0].early_warning.as_deref(),
        Some(AT_RISK)
    );
    assert_eq!(v.groups[1].kpis[0].early_warning.as_deref(), Some(AT_RISK));
    assert!(v.groups.iter().all(|g| g.warnings.is_empty()));
    assert_eq!(v.summary, "1 KPI slipped (0 red), 1 value overdue");
}

#[test]
fn both_parts_say_the_warning_once_in_the_kpis_block() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let today = NaiveDate::from_ymd_opt(2020, 8, 1).expect("date");
    let overdue = crate::kpi::manual::overdue(&c, 30, &[], today);
    let late = overdue
        .iter()
        .find(|o| o.kpi_id == "3/3")
        .expect("3/3 overdue");
    let e = no_data(&c, "1/2a");
    // The overdue one is off course, so each sentence is its own KPI's.
    let mut off = warning("3/3", Band::OffCourse);
    off.forecast.projection = off
        .forecast
        .projection
        .map(|p| Projection { chance: 0.05, ..p });
    let w = [warning("1/2a", Band::AtRisk), off];
    let (groups, sources) = (BTreeMap::new(), BTreeMap::new());
    let register = crate::risk::Register::default();
    let ctx = context(&c, &register, &groups, &sources, &w);
    let rd = RecipientDigest {
        recipient: "p@example.org".into(),
        groups: vec![digest(
            "performance",
            vec![&e],
            vec![late],
            vec![&w[0], &w[1]],
        )],
    };
    let m = crate::notify::render::render_mail(
        &rd,
        &ctx,
        &crate::notify::render::Templates::builtin(),
        &[],
        now(),
    )
    .expect("renders");
    let text_block = format!("  Early warning:    {AT_RISK}\n");
    let text_late = "  Early warning:    off course for Jun-21 (chance 5%)\n";
    assert_eq!(m.text.matches(&text_block).count(), 1, "{}", m.text);
    assert_eq!(m.text.matches(text_late).count(), 1, "{}", m.text);
    assert_eq!(m.text.matches("for Jun-21").count(), 2, "{}", m.text);
    assert!(
        !m.text.contains("may miss their next milestone"),
        "{}",
        m.text
    );
    assert_eq!(m.html.matches(AT_RISK).count(), 1, "{}", m.html);
    assert_eq!(
        m.html.matches("off course for Jun-21 (chance 5%)").count(),
        1,
        "{}",
        m.html
    );
    assert!(
        !m.html.contains("may miss their next milestone"),
        "{}",
        m.html
    );
    assert!(!m.subject.contains("at risk"), "{}", m.subject);
}

#[test]
fn a_request_for_a_value_stays_beside_a_card_with_a_figure() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let today = NaiveDate::from_ymd_opt(2020, 8, 1).expect("date");
    let overdue = crate::kpi::manual::overdue(&c, 30, &[], today);
    let late = overdue
        .iter()
        .find(|o| o.kpi_id == "3/3")
        .expect("3/3 overdue");
    let (groups, sources) = (BTreeMap::new(), BTreeMap::new());
    let register = crate::risk::Register::default();
    let ctx = context(&c, &register, &groups, &sources, &[]);
    // A card for the missing value names it: the request is not said again.
    let missing = no_data(&c, "3/3");
    let v = view(
        vec![digest("dco", vec![&missing], vec![late], Vec::new())],
        &ctx,
    );
    assert_eq!((v.groups[0].kpis.len(), v.groups[0].overdue.len()), (1, 0));
    // A RED card with a figure does not ask for the value: the request stays (hidden, it
    // would be counted as told and never asked).
    let mut red = no_data(&c, "3/3");
    red.current = Some(crate::kpi::Figure {
        value: 40.0,
        count: None,
    });
    red.rag = crate::kpi::Rag::Red;
    let v = view(
        vec![digest("dco", vec![&red], vec![late], Vec::new())],
        &ctx,
    );
    assert_eq!((v.groups[0].kpis.len(), v.groups[0].overdue.len()), (1, 1));
    assert!(v.summary.ends_with("1 value overdue"), "{}", v.summary);
}
