//! Render's unit tests: suppression, an overdue manual value, every section of a digest in
//! both parts, and a council's own template.

use super::*;
use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::kpi::commentary::Commentary;
use crate::kpi::{Count, Figure, Period, Rag, manual};
use crate::notify::{ActionNote, Silenced, SubGroup};

#[test]
fn small_counts_are_suppressed() {
    let d = crate::disclose::Disclosure::default();
    assert_eq!(d.suppress(0), "<5");
    assert_eq!(d.suppress(4), "<5");
    assert_eq!(d.suppress(5), "5");
    assert_eq!(d.suppress(123), "123");
}

#[test]
fn an_overdue_value_is_its_own_item_and_not_also_no_data() {
    use crate::kpi::{Figures, Period, evaluate_figures};
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let today = "2020-08-01".parse::<NaiveDate>().expect("date");
    let overdue = manual::overdue(&c, 30, &[], today);
    let q2: Period = "2020-Q2".parse().expect("period");
    let e = evaluate_figures(
        "3/3",
        &c["3/3"],
        crate::kpi::Rules::new(5.0, crate::disclose::Disclosure::default()),
        Figures::default(),
        today,
        q2,
    );
    assert_eq!(e.rag, Rag::NoData);
    let groups = BTreeMap::from([(
        "dco_task_finish".to_string(),
        super::super::SubGroup {
            name: "DCO group".into(),
            owners: vec!["dco@example.org".into()],
            lead: None,
        },
    )]);
    let evaluations = [e];
    let digests =
        super::super::group_exceptions(&groups, &evaluations, &overdue, &[], "governance");
    assert_eq!(digests.len(), 1, "only the sub-groups configured");
    let d = &digests[0];
    assert!(
        d.items.is_empty(),
        "3/3 is said as overdue, not also as NO DATA"
    );
    let ids: Vec<&str> = d.overdue.iter().map(|o| o.kpi_id.as_str()).collect();
    assert_eq!(ids, ["3/1", "3/3", "3/4", "3/5"]);
    let sources = BTreeMap::new();
    let register = crate::risk::Register::default();
    let ctx = Context {
        subject_prefix: "[sendwatch]",
        run_id: Some(3),
        ..Context::for_tests(&c, &register, &groups, &sources)
    };
    let r = render(d, &ctx);
    assert_eq!(
        r.subject,
        "[sendwatch] Sefton SEND exception report: 4 values overdue (DCO group)"
    );
    assert!(
        r.body.contains(
            "KPI 3/3: % of staff having completed training\n  Overdue:          no value \
             entered for Apr-Jun 2020, due by 2020-07-30\n  Wanted:           the value for \
             Apr-Jun 2020, from this sub-group, to the performance officer"
        ),
        "{}",
        r.body
    );
    assert!(!r.body.contains("missed the milestone"), "{}", r.body);
    // Words, not a command; the latest period only.
    assert!(!r.body.contains("sendwatch kpi"), "{}", r.body);
    assert!(!r.body.contains("earlier period"), "{}", r.body);
}

fn sub_groups() -> BTreeMap<String, SubGroup> {
    BTreeMap::from([(
        "performance".to_string(),
        SubGroup {
            name: "Performance & <Provision> Sub Group".into(),
            owners: vec!["p@example.org".into()],
            lead: None,
        },
    )])
}

/// KPI `id` of the built-in catalogue for `period`, with no figures.
fn unfigured(c: &crate::kpi::Catalogue, id: &str, period: &str) -> Evaluation {
    let p: Period = period.parse().expect("period");
    crate::kpi::evaluate_figures(
        id,
        &c[id],
        crate::kpi::Rules::new(5.0, crate::disclose::Disclosure::default()),
        crate::kpi::Figures::default(),
        p.last_month().last_day(),
        p,
    )
}

/// 1/2a RED for July 2021 at 26 of 49, June 20 of 45; 1/5 hidden (3 of 10).
fn evaluations(c: &crate::kpi::Catalogue) -> Vec<Evaluation> {
    let fig = |n: u64, d: u64| Figure {
        value: 100.0 * n as f64 / d as f64,
        count: Some(Count {
            numerator: n,
            denominator: d,
        }),
    };
    let mut a = unfigured(c, "1/2a", "2021-07");
    a.measure = Some(crate::kpi::Measure::EhcpWithin20Weeks);
    a.current = Some(fig(26, 49));
    a.previous = Some(fig(20, 45));
    a.rag = Rag::Red;
    a.owner = "performance".into();
    let mut b = a.clone();
    b.kpi_id = "1/5".into();
    b.title = "A KPI with a small count".into();
    b.current = Some(fig(3, 10));
    b.previous = None;
    let mut g = a.clone();
    g.kpi_id = "1/3".into();
    g.rag = Rag::Green;
    let mut all = vec![a, b, g];
    // The figures were set by hand: what may be shown of them, each alone.
    for e in &mut all {
        let f = crate::kpi::Figures {
            current: e.current,
            previous: e.previous,
            year_to_date: e.year_to_date,
            shown: None,
        };
        e.shown = crate::kpi::Shown::alone(&f, false, crate::disclose::Disclosure::default());
    }
    all
}

#[test]
fn every_section_is_in_both_parts_with_figures_as_disclosure_allows() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let evals = evaluations(&c);
    let groups = sub_groups();
    let sources = BTreeMap::new();
    let now: chrono::DateTime<chrono::Utc> = "2021-08-02T07:00:00Z".parse().expect("instant");
    let commentary = [Commentary {
        kpi_id: "1/2a".into(),
        period: evals[0].period,
        reason: "Staff <absence> in the team".into(),
        actions: "Agency staff until October".into(),
        revised_date: NaiveDate::from_ymd_opt(2021, 12, 31),
        next_update: NaiveDate::from_ymd_opt(2021, 9, 15),
        author: "Head of SEND".into(),
        entered_at: now,
    }];
    let action = ActionNote {
        reference: "1.2.1".into(),
        title: "Recruit to the SEND team".into(),
        owner: "performance".into(),
        contact: "Head of SEND".into(),
        due: NaiveDate::from_ymd_opt(2021, 6, 30).expect("date"),
        status: "Not on track".into(),
        why: "overdue".into(),
        meeting: None,
    };
    let silenced = Silenced {
        item: "KPI 3/3 NO DATA".into(),
        silence_id: 7,
        until: "2021-09-30T00:00:00Z".parse().expect("instant"),
        comment: "Survey moved to autumn".into(),
        author: "ann".into(),
    };
    let d = Digest {
        sub_group: "performance".into(),
        sub_group_name: groups["performance"].name.clone(),
        recipients: vec!["p@example.org".into()],
        items: vec![&evals[0], &evals[1]],
        overdue: Vec::new(),
        risks: Vec::new(),
        resolved: vec![&evals[2]],
        actions: vec![&action],
        warnings: Vec::new(),
        silenced: vec![silenced],
    };
    let register = crate::risk::Register::default();
    let ctx = Context {
        subject_prefix: "[sendwatch]",
        run_id: Some(9),
        commentary: &commentary,
        ..Context::for_tests(&c, &register, &groups, &sources)
    };
    let rd = RecipientDigest {
        recipient: "p@example.org".into(),
        groups: vec![d],
    };
    let history = [];
    let m = render_mail(&rd, &ctx, &Templates::builtin(), &history, now).expect("renders");
    assert_eq!(
        m.subject,
        "[sendwatch] Sefton SEND exception report, July 2021: 2 KPIs slipped (1 red, some not rated), 1 action \
         slipped, 1 back on track (Performance & <Provision> Sub Group)"
    );
    for want in [
        "Value:            53.1% (26 of 49 new EHC plans within 20 weeks)",
        "Change:           up 8.6 points on June 2021",
        "Value:            not shown: <5 in a count (<5 of 10 new EHC plans within 20 weeks)",
        "Reason:           Staff <absence> in the team",
        "Revised date:     2021-12-31",
        "Exception report: requested from the owner, wanted by 2021-08-16",
        "Action 1.2.1: Recruit to the SEND team",
        "Back on track since the last report:",
        "KPI 1/3: ",
        "Silenced:         KPI 3/3 NO DATA: silence 7 until 2021-09-30 by ann: Survey moved to",
    ] {
        assert!(m.text.contains(want), "`{want}` not in\n{}", m.text);
    }
    assert!(!m.text.contains("30.0%"), "the hidden share: {}", m.text);
    for want in [
        "Performance &amp; &lt;Provision&gt; Sub Group",
        "Staff &lt;absence&gt; in the team",
        "&lt;5 of 10",
        "<details><summary>Where these figures come from</summary>",
        "Back on track</strong>",
        "KPI 3&#x2f;3 NO DATA (silence 7)",
    ] {
        assert!(m.html.contains(want), "`{want}` not in\n{}", m.html);
    }
    assert!(
        !m.html.contains("<script") && !m.html.contains("http://") && !m.html.contains("https://")
    );
    assert!(!m.html.contains("30.0%"));
    assert!(m.images.is_empty(), "no history, no chart");
}

#[test]
fn a_chart_is_referenced_by_its_content_id() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let evals = evaluations(&c);
    let groups = sub_groups();
    let sources = BTreeMap::new();
    let history: Vec<crate::kpi::StoredResult> =
        std::iter::successors(Some(evals[0].period.prev()), |p| Some(p.prev()))
            .take(11)
            .map(|period| crate::kpi::StoredResult {
                kpi_id: "1/2a".into(),
                period,
                value: Some(50.0),
                target: Some(75.0),
                numerator: Some(25),
                denominator: Some(50),
                rag: Rag::Red,
                direction: None,
                overdue_open: None,
                run_id: 1,
                ytd_numerator: None,
                ytd_denominator: None,
            })
            .collect();
    let d = Digest {
        sub_group: "performance".into(),
        sub_group_name: "P".into(),
        recipients: vec!["p@example.org".into()],
        items: vec![&evals[0]],
        overdue: Vec::new(),
        risks: Vec::new(),
        resolved: Vec::new(),
        actions: Vec::new(),
        warnings: Vec::new(),
        silenced: Vec::new(),
    };
    let register = crate::risk::Register::default();
    let ctx = Context {
        run_id: Some(9),
        ..Context::for_tests(&c, &register, &groups, &sources)
    };
    let rd = RecipientDigest {
        recipient: "p@example.org".into(),
        groups: vec![d],
    };
    let m = render_mail(
        &rd,
        &ctx,
        &Templates::builtin(),
        &history,
        chrono::Utc::now(),
    )
    .expect("renders");
    assert_eq!(m.images.len(), 1);
    let cid = &m.images[0].cid;
    assert!(m.html.contains(&format!("src=\"cid:{cid}\"")), "{}", m.html);
    assert_eq!(&m.images[0].png[..4], b"\x89PNG");
}

#[test]
fn a_councils_template_replaces_the_built_in_one_of_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("subject.txt.j2"),
        "{{ area }}: {{ red }} red\n",
    )
    .expect("write");
    let t = Templates::load(Some(dir.path())).expect("loads");
    let v = empty_view();
    assert_eq!(
        t.render("subject.txt.j2", &v).expect("renders"),
        "Sefton: 0 red\n"
    );
    std::fs::write(dir.path().join("digest.html.j2"), "{% if %}").expect("write");
    let e = Templates::load(Some(dir.path())).expect_err("a broken template is refused");
    assert!(e.to_string().contains("digest.html.j2"), "{e}");
}

#[test]
fn the_next_milestone_is_the_first_after_the_period() {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let e = unfigured(&c, "1/3a", "2020-05");
    assert_eq!(
        crate::view::kpi::exception::next_milestone(&c["1/3a"], &e).as_deref(),
        Some("60.0% from July 2020 (\"Jul-20: 60%\")")
    );
    let e = unfigured(&c, "1/3a", "2022-01");
    assert_eq!(
        crate::view::kpi::exception::next_milestone(&c["1/3a"], &e),
        None
    );
}

/// The view of a digest with nothing in it, for the templates' own tests.
fn empty_view() -> DigestView {
    super::view::build(
        &RecipientDigest {
            recipient: "x@example.org".into(),
            groups: Vec::new(),
        },
        &Context {
            job: "j",
            run_id: Some(1),
            ..Context::for_tests(
                &crate::kpi::Catalogue::default(),
                &crate::risk::Register::default(),
                &BTreeMap::new(),
                &BTreeMap::new(),
            )
        },
        chrono::Utc::now(),
        &|_| None,
    )
}

/// The built-in templates with `digest.txt.j2` replaced by `text`.
fn with_text_part(text: &str) -> (tempfile::TempDir, Templates) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("digest.txt.j2"), text).expect("write");
    let t = Templates::load(Some(dir.path())).expect("loads");
    (dir, t)
}

#[test]
fn a_part_is_refused_past_its_output_cap_naming_the_template_and_the_cap() {
    let v = empty_view();
    let stop = Stop::new(false);
    let t = Templates::builtin();
    let whole = t
        .render_capped("digest.html.j2", &v, MAX_PART_BYTES, &stop)
        .expect("within the cap");
    let e = t
        .render_capped("digest.html.j2", &v, whole.len() - 1, &stop)
        .expect_err("one byte short");
    assert!(
        matches!(&e, RenderError::TooLarge { name, max } if name == "digest.html.j2" && *max == whole.len() - 1),
        "{e:?}"
    );
    let exactly = t
        .render_capped("digest.html.j2", &v, whole.len(), &stop)
        .expect("exactly the cap is allowed");
    assert_eq!(exactly, whole);

    // A council's template that writes without end stops at MAX_PART_BYTES, well within
    // its fuel, and says so without the digest's data.
    let line = "x".repeat(1000);
    let (_dir, t) = with_text_part(&format!(
        "{{{{ area }}}}{{% for i in range(100000) %}}{line}\n{{% endfor %}}"
    ));
    let e = t
        .render_capped("digest.txt.j2", &v, MAX_PART_BYTES, &stop)
        .expect_err("capped");
    let said = e.to_string();
    assert!(
        said.contains("digest.txt.j2")
            && said.contains(&format!("output past {MAX_PART_BYTES} bytes")),
        "{said}"
    );
    assert!(!said.contains("Sefton") && !said.contains("xxx"), "{said}");
}

#[test]
fn a_template_that_loops_without_bound_runs_out_of_fuel() {
    let (_dir, t) = with_text_part(
        "{{ area }}{% for i in range(100000) %}{% for j in range(100000) %}{% if i == j %}{% endif %}{% endfor %}{% endfor %}",
    );
    let e = t
        .render_capped(
            "digest.txt.j2",
            &empty_view(),
            MAX_PART_BYTES,
            &Stop::new(false),
        )
        .expect_err("out of fuel");
    assert!(
        matches!(&e, RenderError::OutOfFuel { name, .. } if name == "digest.txt.j2"),
        "{e:?}"
    );
    let said = e.to_string();
    assert!(said.contains("ran out of fuel"), "{said}");
    assert!(!said.contains("Sefton"), "no data in the error: {said}");
}

#[test]
fn a_raised_stop_ends_the_render() {
    let stop = Stop::new(true);
    let e = Templates::builtin()
        .render_capped("digest.txt.j2", &empty_view(), MAX_PART_BYTES, &stop)
        .expect_err("stopped");
    assert!(matches!(e, RenderError::Stopped { .. }), "{e:?}");
}

#[test]
fn a_kpis_chart_in_the_mail_carries_its_early_warnings_layers() {
    use crate::kpi::forecast::{Band, Forecast, Method, Projection};
    use crate::kpi::spc;
    use crate::kpi::warning::{SpcReading, Warning};
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let evals = evaluations(&c);
    let e = &evals[0];
    let groups = sub_groups();
    let sources = BTreeMap::new();
    // Eleven months before July 2021, 40% rising a point a month.
    let mut periods: Vec<Period> = std::iter::successors(Some(e.period.prev()), |p| Some(p.prev()))
        .take(11)
        .collect();
    periods.reverse();
    let history: Vec<crate::kpi::StoredResult> = periods
        .iter()
        .zip(0i64..)
        .map(|(&period, i)| crate::kpi::StoredResult {
            kpi_id: "1/2a".into(),
            period,
            value: Some(100.0 * (20 + i) as f64 / 50.0),
            target: Some(75.0),
            numerator: Some(20 + i),
            denominator: Some(50),
            rag: Rag::Red,
            direction: None,
            overdue_open: None,
            run_id: 1,
            ytd_numerator: None,
            ytd_denominator: None,
        })
        .collect();
    // Its warning as kpi::warning builds it: the limits of the twelve values shown, and a
    // projection to October 2021.
    let mut values: Vec<f64> = history.iter().filter_map(|r| r.value).collect();
    values.push(100.0 * 26.0 / 49.0);
    periods.push(e.period);
    let analysis = spc::analyse(&values, &spc::Options::default()).expect("limits");
    let milestone = "2021-10".parse().expect("month");
    let w = Warning {
        kpi_id: "1/2a".into(),
        owner: "performance".into(),
        milestone,
        target: 75.0,
        forecast: Forecast {
            band: Band::AtRisk,
            milestone,
            horizon: 3,
            projection: Some(Projection {
                method: Method::Linear,
                points: 12,
                value: 56.0,
                low: 50.0,
                high: 62.0,
                chance: 0.3,
            }),
        },
        shown: 12,
        hidden: 0,
        spc: Some(SpcReading {
            variation: analysis.variation,
            assurance: analysis.assurance,
            points: 12,
            limits: analysis.segments[0].limits,
            since: None,
            chart: crate::kpi::SpcChart::Xmr,
        }),
        periods,
        analysis: Some(analysis),
    };
    let d = Digest {
        sub_group: "performance".into(),
        sub_group_name: "P".into(),
        recipients: vec!["p@example.org".into()],
        items: vec![e],
        overdue: Vec::new(),
        risks: Vec::new(),
        resolved: Vec::new(),
        actions: Vec::new(),
        warnings: Vec::new(),
        silenced: Vec::new(),
    };
    let register = crate::risk::Register::default();
    let ctx = Context {
        run_id: Some(9),
        ..Context::for_tests(&c, &register, &groups, &sources)
    };
    let rd = RecipientDigest {
        recipient: "p@example.org".into(),
        groups: vec![d],
    };
    let now = chrono::Utc::now();
    let mail = |warnings: &[Warning]| {
        lay_out(
            prepare(&rd, &ctx, &history, warnings, now),
            &Templates::builtin(),
            &Stop::new(false),
        )
        .expect("renders")
    };
    let with = mail(std::slice::from_ref(&w));
    let plain = mail(&[]);
    assert_eq!((with.images.len(), plain.images.len()), (1, 1));
    assert_ne!(with.images[0].png, plain.images[0].png, "the layers drawn");
    assert!(
        with.html.contains(
            "(dashed), the SPC mean (grey) and process limits (dashed grey), the projection to \
             October 2021 (dashed blue) and its 80% interval (shaded), on a scale"
        ),
        "{}",
        with.html
    );
    assert!(!plain.html.contains("SPC mean"), "{}", plain.html);
}
