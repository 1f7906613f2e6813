//! Raise, hold, change and clear, run by run, as the job records them.

use super::*;
use crate::kpi::Rag;
use crate::kpi::StoredResult;
use crate::risk::testing::{at, catalogue, inputs, rec};
use crate::risk::{History, SourceFreshness};
use crate::source::freshness::Cadence;

const REGISTER: &str = r#"
[risk_log]
holder = "governance"
bands = [
  { name = "low", from = 1 }, { name = "medium", from = 5 },
  { name = "high", from = 10 }, { name = "very high", from = 16 },
]

[risks.R2]
title = "Reviews"
owner = "performance"
likelihood = 3
impact = 4
mitigation = "Recovery plan."
triggers = [
  { kind = "red", kpi = "1/2a", periods = 2, likelihood = 4 },
  { kind = "stale", source = "tracker", impact = 5 },
]

[risks.R9]
title = "Funding"
owner = "coproduction"
likelihood = 2
impact = 2
mitigation = "Talks."
"#;

fn register() -> (Register, RiskLogSettings) {
    #[derive(serde::Deserialize)]
    struct File {
        risks: Register,
        risk_log: RiskLogSettings,
    }
    let f: File = config::Config::builder()
        .add_source(config::File::from_str(REGISTER, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .expect("register parses");
    (f.risks, f.risk_log)
}

/// One run: assess, then record the changes as the store would, for the next run to read.
/// Each run a day after the last, from 2021-08-02 07:00.
#[derive(Default)]
struct Log {
    events: Vec<RiskEvent>,
    runs: i64,
}

impl Log {
    fn run(&mut self, records: Vec<StoredResult>, tracker_new: &str) -> Vec<RiskChange> {
        let (reg, log) = register();
        let kpis = catalogue();
        let h = History::new(records);
        let sources = [SourceFreshness {
            source: "tracker".into(),
            cadence: Cadence::Monthly,
            deadline_days: 10,
            last_new: Some(at(tracker_new)),
        }];
        let mut now = inputs(&kpis, &h, &sources);
        now.now += chrono::Duration::days(self.runs);
        self.runs += 1;
        let changes = assess(&reg, &log, &current_states(&self.events), &now);
        for c in &changes {
            let id = self.events.len() as i64 + 1;
            self.events.push(RiskEvent {
                id,
                run_id: id,
                change: c.clone(),
            });
        }
        changes
    }
}

const FRESH: &str = "2021-07-31T07:00:00Z";
const OLD: &str = "2021-05-01T07:00:00Z";

fn k(period: &str, rag: Rag) -> StoredResult {
    rec("1/2a", period, rag, Some(50.0))
}

#[test]
fn a_kpi_red_two_periods_running_raises_holds_and_then_clears() {
    let mut log = Log::default();
    // One RED period: nothing yet.
    assert!(log.run(vec![k("2021-06", Rag::Red)], FRESH).is_empty());
    // Two running: raised from 12 (high) to 16 (very high), likelihood 3 -> 4.
    let two = vec![k("2021-06", Rag::Red), k("2021-07", Rag::Red)];
    let c = log.run(two.clone(), FRESH);
    assert_eq!(c.len(), 1, "{c:?}");
    let c = &c[0];
    assert_eq!((c.risk_id.as_str(), c.kind), ("R2", ChangeKind::Raised));
    assert_eq!(
        (c.from.text(), c.to.text()),
        ("12 (high)".into(), "16 (very high)".into())
    );
    assert_eq!(c.to.level, Level::new(4, 4));
    assert_eq!(c.triggers, ["KPI 1/2a RED for 2 periods running"]);
    assert!(c.reasons[0].starts_with("KPI 1/2a was RED for 2 periods running: June 2021"));
    assert_eq!(c.owner, "performance");
    // The same again: holds, nothing recorded.
    assert!(log.run(two.clone(), FRESH).is_empty());
    let state = &current_states(&log.events)["R2"];
    assert!(state.raised);
    assert_eq!(
        state.since,
        at("2021-08-03T07:00:00Z"),
        "the second run raised it"
    );
    // August GREEN: cleared, back to the register's 12, with what cleared it.
    let mut cleared = two;
    cleared.push(k("2021-08", Rag::Green));
    let c = log.run(cleared.clone(), FRESH);
    assert_eq!(c.len(), 1);
    let c = &c[0];
    assert_eq!(c.kind, ChangeKind::Cleared);
    assert_eq!(
        (c.from.text(), c.to.text()),
        ("16 (very high)".into(), "12 (high)".into())
    );
    assert_eq!(c.triggers, ["KPI 1/2a RED for 2 periods running"]);
    assert_eq!(c.reasons, ["KPI 1/2a was GREEN in August 2021 (50.0%)"]);
    assert!(!current_states(&log.events)["R2"].raised);
    // Cleared stays cleared.
    assert!(log.run(cleared, FRESH).is_empty());
    assert_eq!(log.events.len(), 2);
}

#[test]
fn a_second_trigger_changes_the_level_and_each_takes_its_own_highest() {
    let mut log = Log::default();
    let two = vec![k("2021-06", Rag::Red), k("2021-07", Rag::Red)];
    assert_eq!(log.run(two.clone(), FRESH)[0].kind, ChangeKind::Raised);
    // The tracker goes stale too: likelihood 4 from the first, impact 5 from the second.
    let c = log.run(two.clone(), OLD);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, ChangeKind::Changed);
    assert_eq!(c[0].to.level, Level::new(4, 5));
    assert_eq!(c[0].to.text(), "20 (very high)");
    assert_eq!(c[0].triggers.len(), 2);
    // Still raised since the first raise.
    let s = &current_states(&log.events)["R2"];
    assert!(s.raised);
    assert_eq!(s.since, log.events[0].change.at);
    assert_ne!(s.since, c[0].at);
    // The KPI recovers, the source is still stale: changed down, not cleared.
    let mut better = two;
    better.push(k("2021-08", Rag::Green));
    let c = log.run(better.clone(), OLD);
    assert_eq!(c[0].kind, ChangeKind::Changed);
    assert_eq!(c[0].to.level, Level::new(3, 5));
    assert_eq!(c[0].triggers, ["source `tracker` stale past its deadline"]);
    // New data: cleared.
    let c = log.run(better, FRESH);
    assert_eq!(c[0].kind, ChangeKind::Cleared);
    assert!(
        c[0].reasons[0].contains("is up to date"),
        "{:?}",
        c[0].reasons
    );
}

#[test]
fn a_risk_without_triggers_never_changes_and_the_shipped_register_assesses() {
    let mut log = Log::default();
    let changes = log.run(vec![k("2021-06", Rag::Red), k("2021-07", Rag::Red)], OLD);
    assert!(changes.iter().all(|c| c.risk_id != "R9"));

    let (reg, risk_log) = crate::risk::catalogue::builtin().expect("shipped register");
    let kpis = catalogue();
    let mut salt = rec("5/4", "2021-07", Rag::Red, Some(31.3));
    salt.denominator = Some(7);
    let h = History::new([salt]);
    let changes = assess(&reg, &risk_log, &BTreeMap::new(), &inputs(&kpis, &h, &[]));
    let ids: Vec<&str> = changes.iter().map(|c| c.risk_id.as_str()).collect();
    assert_eq!(ids, ["R10"], "{changes:?}");
    assert_eq!(changes[0].owner, "health");
    assert_eq!(changes[0].to.level, Level::new(4, 3));
}

#[test]
fn a_trigger_taken_out_of_the_register_clears_with_a_reason() {
    let mut log = Log::default();
    log.run(vec![k("2021-06", Rag::Red), k("2021-07", Rag::Red)], FRESH);
    // As if the register had been edited: the recorded trigger is not there any more.
    log.events[0].change.triggers = vec!["KPI 9/9 RED for 2 periods running".into()];
    let c = log.run(vec![k("2021-07", Rag::Green)], FRESH);
    assert_eq!(c[0].kind, ChangeKind::Cleared);
    assert_eq!(
        c[0].reasons,
        ["KPI 9/9 RED for 2 periods running: no longer in the register"]
    );
    assert_eq!(ChangeKind::parse("cleared"), Some(ChangeKind::Cleared));
    assert_eq!(ChangeKind::parse("nope"), None);
}
