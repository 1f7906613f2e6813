//! The digest's view as the templates lay it out: a risk section read the way the board would.

use std::collections::BTreeMap;

use crate::notify::context::Context;
use crate::risk::{ChangeKind, RiskChange};
use crate::risk::{Level, Scored};

/// The context both tests render in: the Sefton register, no KPIs or sources.
fn context<'a>(
    register: &'a crate::risk::Register,
    kpis: &'a crate::kpi::Catalogue,
    sub_groups: &'a BTreeMap<String, crate::notify::SubGroup>,
    sources: &'a crate::store::Sources,
    run_id: Option<i64>,
) -> Context<'a> {
    Context {
        job: "j",
        run_id,
        ..Context::for_tests(kpis, register, sub_groups, sources)
    }
}

#[test]
fn a_raised_and_a_cleared_risk_read_as_the_board_would() {
    let (register, log) = crate::risk::catalogue::builtin().expect("register");
    let kpis = crate::kpi::Catalogue::default();
    let sources = BTreeMap::new();
    let sub_groups = BTreeMap::from([(
        "performance".to_string(),
        crate::notify::SubGroup {
            name: "Performance Sub Group".into(),
            owners: vec!["p@example.org".into()],
            lead: None,
        },
    )]);
    let ctx = context(&register, &kpis, &sub_groups, &sources, Some(1));
    let raised = RiskChange {
        risk_id: "R2".into(),
        owner: "performance".into(),
        kind: ChangeKind::Raised,
        from: Scored::new(Level::new(4, 4), &log),
        to: Scored::new(Level::new(5, 4), &log),
        triggers: vec!["KPI 1/3a RED for 2 periods running".into()],
        reasons: vec!["KPI 1/3a was RED for 2 periods running: June 2021, July 2021".into()],
        at: "2021-08-02T07:00:00Z".parse().expect("instant"),
    };
    let mut cleared = raised.clone();
    cleared.kind = ChangeKind::Cleared;
    std::mem::swap(&mut cleared.from, &mut cleared.to);
    cleared.reasons = vec!["KPI 1/3a was GREEN in August 2021 (96.0%)".into()];
    let digest = crate::notify::Digest {
        sub_group: "governance".into(),
        sub_group_name: "System Leadership and Governance Sub Group".into(),
        recipients: vec!["g@example.org".into()],
        items: Vec::new(),
        overdue: Vec::new(),
        risks: vec![&raised, &cleared],
        resolved: Vec::new(),
        actions: Vec::new(),
        warnings: Vec::new(),
        silenced: Vec::new(),
    };
    let b = crate::notify::render(&digest, &ctx).body;
    for want in [
        "Risk log: 2 changes of a risk's score (as holder of the log, this sub-group hears of",
        "Risk R2: Timely completion of EHCP reviews (KPI 1/3, 1/3a)",
        "  Change:           RAISED from 16 (very high) to 20 (very high)\n                    \
         likelihood 4 -> 5, impact 4 -> 4",
        "  Owner:            Performance Sub Group",
        "  Why:              KPI 1/3a was RED for 2 periods running: June 2021, July 2021",
        "  Mitigation:       Remedial actions agreed by SENDCIB",
        "  Change:           CLEARED: back to the register's 16 (very high), from 20 \
         (very high)",
        "  Was raised by:    KPI 1/3a RED for 2 periods running",
        "  Cleared because:  KPI 1/3a was GREEN in August 2021 (96.0%)",
    ] {
        assert!(b.contains(want), "`{want}` not in\n{b}");
    }
    let section = b.split("\n--\n").next().unwrap_or_default();
    assert!(section.lines().all(|l| l.len() <= 96), "{b}");
}

#[test]
fn a_preview_says_so_where_a_run_names_its_run() {
    let (register, log) = crate::risk::catalogue::builtin().expect("register");
    let kpis = crate::kpi::Catalogue::default();
    let sources = BTreeMap::new();
    let sub_groups = BTreeMap::new();
    let change = RiskChange {
        risk_id: "R2".into(),
        owner: "performance".into(),
        kind: ChangeKind::Raised,
        from: Scored::new(Level::new(4, 4), &log),
        to: Scored::new(Level::new(5, 4), &log),
        triggers: Vec::new(),
        reasons: Vec::new(),
        at: "2021-08-02T07:00:00Z".parse().expect("instant"),
    };
    let digest = crate::notify::Digest {
        sub_group: "governance".into(),
        sub_group_name: "Governance".into(),
        recipients: vec!["g@example.org".into()],
        items: Vec::new(),
        overdue: Vec::new(),
        risks: vec![&change],
        resolved: Vec::new(),
        actions: Vec::new(),
        warnings: Vec::new(),
        silenced: Vec::new(),
    };
    let body = |run_id| {
        let ctx = context(&register, &kpis, &sub_groups, &sources, run_id);
        crate::notify::render(&digest, &ctx).body
    };
    let run = body(Some(7));
    assert!(
        run.contains("Sent by sendwatch (job j, run 7) because"),
        "{run}"
    );
    let preview = body(None);
    assert!(
        preview.contains("Sent by sendwatch (job j, a preview) because"),
        "{preview}"
    );
    assert!(!preview.contains("run 0"), "{preview}");
}

#[test]
fn each_recipients_view_carries_links_made_for_them_and_none_without_a_setup() {
    let (register, _) = crate::risk::catalogue::builtin().expect("register");
    let kpis = crate::kpi::Catalogue::default();
    let sources = BTreeMap::new();
    let sub_groups = BTreeMap::new();
    let note = crate::notify::ActionNote {
        reference: "1.1".into(),
        title: "Recruit".into(),
        owner: "performance".into(),
        contact: "A Person".into(),
        due: "2021-06-30".parse().expect("date"),
        status: "Not on track".into(),
        why: "overdue".into(),
        meeting: None,
    };
    let digest = crate::notify::Digest {
        sub_group: "performance".into(),
        sub_group_name: "Performance".into(),
        recipients: vec!["p@example.org".into()],
        items: Vec::new(),
        overdue: Vec::new(),
        risks: Vec::new(),
        resolved: Vec::new(),
        actions: vec![&note],
        warnings: Vec::new(),
        silenced: Vec::new(),
    };
    let now: chrono::DateTime<chrono::Utc> = "2026-12-07T09:00:00Z".parse().expect("instant");
    let key = || crate::answer::LinkKey::new(&[5u8; 32]).expect("key");
    let setup = crate::view::ask::LinkSetup::new(key(), "http://127.0.0.1:9187", "sefton", 14);
    let link_to = |to: &str, links| {
        let mut ctx = context(&register, &kpis, &sub_groups, &sources, Some(1));
        ctx.links = links;
        let one = crate::notify::RecipientDigest {
            recipient: to.into(),
            groups: vec![digest.clone()],
        };
        let v = super::build(&one, &ctx, now, &|_| None);
        v.groups[0].actions[0]
            .slipped
            .as_ref()
            .and_then(|s| s.link.clone())
    };
    for to in ["p@example.org", "lead@example.org"] {
        let url = link_to(to, Some(&setup)).expect("a link");
        let token = url
            .strip_prefix("http://127.0.0.1:9187/answer/")
            .expect("token");
        let g = key().open(token, now).expect("opens");
        assert_eq!(g.to, to);
        assert_eq!(
            g.ask,
            crate::answer::Ask::Action {
                reference: "1.1".into()
            }
        );
    }
    assert_eq!(link_to("p@example.org", None), None);
}
