//! The risk section of an exception report as the templates see it: each change of a risk's
//! score the sub-group hears of, with the old and new score and band, why (or what cleared
//! it), and the mitigation. Pure.
//!
//! The reasons come from [`crate::risk`], written with counts under 5 as "<5" and no average
//! over fewer than 5 referrals; the rest (titles, mitigations, owners) is configuration.

use serde::Serialize;

use super::context::Context;
use crate::risk::{ChangeKind, RiskChange};

/// One change of a risk's score as the templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct RiskView {
    pub id: String,
    pub title: String,
    /// "raised", "changed" or "cleared".
    pub kind: &'static str,
    /// "RAISED from 16 (very high) to 20 (very high)".
    pub change: String,
    /// "likelihood 4 -> 5, impact 4 -> 4".
    pub levels: String,
    pub owner: String,
    /// Why it was raised or changed.
    pub why: Vec<String>,
    /// For a cleared risk: what had raised it, and what cleared it.
    pub raised_by: Vec<String>,
    pub cleared_because: Vec<String>,
    pub mitigation: Option<String>,
}

/// "Risk log: 2 changes of a risk's score (as holder of the log, ...):".
pub(super) fn intro(n: usize, holder: bool) -> String {
    let whose = if holder {
        "as holder of the log, this sub-group hears of all risks"
    } else {
        "of risks this sub-group owns"
    };
    format!(
        "Risk log: {n} change{} of a risk's score ({whose}):",
        if n == 1 { "" } else { "s" }
    )
}

impl RiskView {
    pub(super) fn build(c: &RiskChange, ctx: &Context<'_>) -> RiskView {
        let risk = ctx.risks.get(&c.risk_id);
        let (from, to) = (c.from.text(), c.to.text());
        let (kind, change) = match c.kind {
            ChangeKind::Raised => ("raised", format!("RAISED from {from} to {to}")),
            ChangeKind::Changed => (
                "changed",
                format!("CHANGED while raised, from {from} to {to}"),
            ),
            ChangeKind::Cleared => (
                "cleared",
                format!("CLEARED: back to the register's {to}, from {from}"),
            ),
        };
        let owner = ctx
            .sub_groups
            .get(&c.owner)
            .map_or(c.owner.as_str(), |g| g.name.as_str());
        let contact = risk
            .and_then(|r| r.contact.as_ref())
            .map(|c| format!("; contact: {}", c.name))
            .unwrap_or_default();
        let cleared = c.kind == ChangeKind::Cleared;
        RiskView {
            id: c.risk_id.clone(),
            title: risk
                .map_or("(no longer in the register)", |r| r.title.as_str())
                .to_string(),
            kind,
            change,
            levels: format!(
                "likelihood {} -> {}, impact {} -> {}",
                c.from.level.likelihood,
                c.to.level.likelihood,
                c.from.level.impact,
                c.to.level.impact
            ),
            owner: format!("{owner}{contact}"),
            why: if cleared {
                Vec::new()
            } else {
                c.reasons.clone()
            },
            raised_by: if cleared {
                c.triggers.clone()
            } else {
                Vec::new()
            },
            cleared_because: if cleared {
                c.reasons.clone()
            } else {
                Vec::new()
            },
            mitigation: risk.map(|r| r.mitigation.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::risk::{Level, Scored};

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
            },
        )]);
        let ctx = Context {
            area: "Sefton",
            subject_prefix: "",
            job: "j",
            run_id: 1,
            kpis: &kpis,
            risks: &register,
            sub_groups: &sub_groups,
            sources: &sources,
            entered: &[],
            commentary: &[],
        };
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
}
