//! The shipped register against DOMAIN.md section 6, and the check naming each problem by key.

use super::*;
use crate::risk::{Level, TriggerSettings};

const SUB_GROUPS: [&str; 7] = [
    "performance",
    "health",
    "coproduction",
    "governance",
    "joint_performance",
    "joint_commissioning",
    "dco_task_finish",
];

fn known(kpis: &crate::kpi::Catalogue) -> Known<'_> {
    Known {
        sub_groups: SUB_GROUPS.into_iter().collect(),
        kpis: kpis
            .iter()
            .map(|(id, k)| (id.as_str(), k.measure.is_some()))
            .collect(),
        sources: [("tracker", true), ("provider", true), ("reviews", false)]
            .into_iter()
            .collect(),
    }
}

fn issues(reg: &Register, log: &RiskLogSettings) -> Vec<String> {
    let kpis = crate::kpi::catalogue::builtin().expect("kpis");
    let mut out = Vec::new();
    reg.check(log, &known(&kpis), &mut |key, msg| {
        out.push(format!("{key}: {msg}"))
    });
    out
}

#[test]
fn the_shipped_register_has_r1_to_r13_and_is_sound() {
    let (reg, log) = builtin().expect("risks.toml parses");
    let ids: Vec<&str> = reg.ordered().into_iter().map(|(id, _)| id).collect();
    let want: Vec<String> = (1..=13).map(|i| format!("R{i}")).collect();
    assert_eq!(ids, want);
    assert_eq!(issues(&reg, &log), Vec::<String>::new());
    assert_eq!(log.holder, "governance", "the log's holder (004:1038)");
    for (id, r) in reg.iter() {
        assert!(!r.cites.is_empty(), "{id} cites the seeds");
        assert!(!r.mitigation.is_empty(), "{id}");
    }
    // "The area of greatest risk" scores highest.
    let top = reg.values().map(|r| r.level().score()).max();
    assert_eq!(top, Some(reg["R1"].level().score()));
    assert_eq!(reg["R1"].level(), Level::new(4, 5));
    assert_eq!(reg["R2"].owner, "performance");
    assert_eq!(
        reg["R10"].contact.as_ref().map(|c| c.name.as_str()),
        Some("Designated Clinical Officer (DCO)")
    );
    // The triggers the brief names: reviews RED two periods running, SALT over 18 weeks, a
    // stale source, the assessment backlog.
    let has = |id: &str, f: &dyn Fn(&TriggerSettings) -> bool| reg[id].triggers.iter().any(f);
    assert!(has("R2", &|t| t.kpi.as_deref() == Some("1/3a")
        && t.periods == Some(2)));
    assert!(has("R10", &|t| t.kpi.as_deref() == Some("5/4")
        && t.above == Some(18.0)));
    assert!(has("R11", &|t| t.source.as_deref() == Some("tracker")));
    assert!(has("R8", &|t| t.figure
        == Some(crate::risk::Figure::OverdueOpen)));
}

#[test]
fn each_problem_is_named_by_its_key() {
    let (mut reg, mut log) = builtin().expect("risks.toml parses");
    log.holder = "nobody".into();
    log.bands[0].from = 2;
    log.bands[2].from = 3;
    log.bands[3].name = "low".into();
    let r = reg.get_mut("R2").expect("R2");
    r.owner = "board".into();
    r.likelihood = 6;
    r.triggers[0].kpi = Some("9/9".into());
    r.triggers[1].likelihood = Some(0);
    r.triggers[2].likelihood = Some(4); // the register's: raises nothing
    let r = reg.get_mut("R11").expect("R11");
    r.triggers[0].source = Some("nowhere".into());
    r.triggers[1].source = Some("reviews".into());
    r.triggers[2].periods = None;
    let r = reg.get_mut("R8").expect("R8");
    r.triggers[0].kpi = Some("4/1".into()); // entered by hand: no overdue_open
    r.triggers[0].impact = Some(2); // below the register's 3
    let got = issues(&reg, &log);
    for want in [
        "risk_log.holder: no sub-group named `nobody`",
        "risk_log.bands[0].from: the first band must start at 1",
        "risk_log.bands[2].from: bands must be in score order",
        "risk_log.bands[3].name: `low` is given twice",
        "risks.R2.owner: no sub-group named `board`",
        "risks.R2.likelihood: must be 1 to 5",
        "risks.R2.triggers[0].kpi: no KPI named `9/9`",
        "risks.R2.triggers[1].likelihood: must be 1 to 5",
        "risks.R11.triggers[0].source: no source named `nowhere`",
        "risks.R11.triggers[1].source: source `reviews` has no cadence",
        "risks.R11.triggers[2]: needs periods",
        "risks.R8.triggers[0].figure: KPI `4/1` is entered by hand",
        "risks.R8.triggers[0]: a trigger raises a risk",
    ] {
        assert!(
            got.iter().any(|g| g.starts_with(want)),
            "`{want}` not in {got:#?}"
        );
    }
    // With a valid register level, a trigger at the register's own level raises nothing.
    let (mut reg, log) = builtin().expect("risks.toml parses");
    reg.get_mut("R2").expect("R2").triggers[0].likelihood = Some(4);
    let got = issues(&reg, &log);
    assert!(
        got.iter()
            .any(|g| g.starts_with(
                "risks.R2.triggers[0]: raises nothing: the score would stay 16"
            )),
        "{got:#?}"
    );
}

#[test]
fn ids_order_as_people_read_them() {
    let mut ids = vec!["R10", "R2", "R1", "R13", "X1", "R9"];
    ids.sort_by(|a, b| id_order(a, b));
    assert_eq!(ids, ["R1", "R2", "R9", "R10", "R13", "X1"]);
}
