//! Render's unit tests: suppression and an overdue manual value.

use super::*;
use std::collections::BTreeMap;

use chrono::NaiveDate;

#[test]
fn small_counts_are_suppressed() {
    assert_eq!(suppress(0), "<5");
    assert_eq!(suppress(4), "<5");
    assert_eq!(suppress(5), "5");
    assert_eq!(suppress(123), "123");
}

#[test]
fn an_overdue_value_is_its_own_item_and_not_also_no_data() {
    use crate::kpi::{Figures, Period, evaluate_figures};
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let today = "2020-08-01".parse::<NaiveDate>().expect("date");
    let overdue = manual::overdue(&c, 30, &[], today);
    let q2: Period = "2020-Q2".parse().expect("period");
    let e = evaluate_figures("3/3", &c["3/3"], 5.0, Figures::default(), today, q2);
    assert_eq!(e.rag, Rag::NoData);
    let groups = BTreeMap::from([(
        "dco_task_finish".to_string(),
        super::super::SubGroup {
            name: "DCO group".into(),
            owners: vec!["dco@example.org".into()],
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
    let ctx = Context {
        area: "Sefton",
        subject_prefix: "[sendwatch]",
        job: "monthly",
        run_id: 3,
        kpis: &c,
        risks: &crate::risk::Register::default(),
        sub_groups: &groups,
        sources: &sources,
        entered: &[],
        commentary: &[],
    };
    let r = render(d, &ctx);
    assert_eq!(
        r.subject,
        "[sendwatch] Sefton SEND exception report: 4 values overdue (DCO group)"
    );
    assert!(
        r.body.contains(
            "KPI 3/3: % of staff having completed training\n  Overdue:          no value \
             entered for Apr-Jun 2020, due by 2020-07-30\n                    (nor for 2 \
             earlier periods)\n  To enter it:      sendwatch kpi set 3/3 --period 2020-Q2"
        ),
        "{}",
        r.body
    );
    assert!(!r.body.contains("missed the milestone"), "{}", r.body);
}
