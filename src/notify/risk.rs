//! The risk section of an exception report: each change of a risk's score the sub-group hears
//! of, with the old and new score and band, why (or what cleared it), and the mitigation.
//! Pure.
//!
//! The reasons come from [`crate::risk`], written with counts under 5 as "<5" and no average
//! over fewer than 5 referrals; the rest (titles, mitigations, owners) is configuration.

use std::fmt::Write as _;

use super::context::Context;
use crate::risk::{ChangeKind, RiskChange};

/// Continuation lines line up under the values, as in the KPI items.
const INDENT: usize = 20;
const WIDTH: usize = 96;

pub(super) fn section(b: &mut String, changes: &[&RiskChange], holder: bool, ctx: &Context<'_>) {
    let n = changes.len();
    let whose = if holder {
        "as holder of the log, this sub-group hears of all risks"
    } else {
        "of risks this sub-group owns"
    };
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "Risk log: {n} change{} of a risk's score ({whose}):",
        if n == 1 { "" } else { "s" }
    );
    for c in changes {
        let _ = writeln!(b);
        item(b, c, ctx);
    }
}

fn item(b: &mut String, c: &RiskChange, ctx: &Context<'_>) {
    let risk = ctx.risks.get(&c.risk_id);
    let title = risk.map_or("(no longer in the register)", |r| r.title.as_str());
    let _ = writeln!(b, "Risk {}: {title}", c.risk_id);
    let (from, to) = (c.from.text(), c.to.text());
    let change = match c.kind {
        ChangeKind::Raised => format!("RAISED from {from} to {to}"),
        ChangeKind::Changed => format!("CHANGED while raised, from {from} to {to}"),
        ChangeKind::Cleared => format!("CLEARED: back to the register's {to}, from {from}"),
    };
    field(b, "Change:", &change);
    field(
        b,
        "",
        &format!(
            "likelihood {} -> {}, impact {} -> {}",
            c.from.level.likelihood, c.to.level.likelihood, c.from.level.impact, c.to.level.impact
        ),
    );
    let owner = ctx
        .sub_groups
        .get(&c.owner)
        .map_or(c.owner.as_str(), |g| g.name.as_str());
    let contact = risk
        .and_then(|r| r.contact.as_ref())
        .map(|c| format!("; contact: {}", c.name))
        .unwrap_or_default();
    field(b, "Owner:", &format!("{owner}{contact}"));
    match c.kind {
        ChangeKind::Cleared => {
            lines(b, "Was raised by:", &c.triggers);
            lines(b, "Cleared because:", &c.reasons);
        }
        _ => lines(b, "Why:", &c.reasons),
    }
    if let Some(r) = risk {
        field(b, "Mitigation:", &r.mitigation);
    }
}

fn lines(b: &mut String, label: &str, items: &[String]) {
    for (i, l) in items.iter().enumerate() {
        field(b, if i == 0 { label } else { "" }, l);
    }
}

/// "  Label:            text", the text wrapped at [`WIDTH`] under itself.
fn field(b: &mut String, label: &str, text: &str) {
    let mut line = format!("  {label:<width$}", width = INDENT - 2);
    let mut first = true;
    for word in text.split_whitespace() {
        if !first && line.len() + 1 + word.len() > WIDTH {
            let _ = writeln!(b, "{}", line.trim_end());
            line = " ".repeat(INDENT);
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(word);
        first = false;
    }
    let _ = writeln!(b, "{}", line.trim_end());
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
        let mut b = String::new();
        section(&mut b, &[&raised, &cleared], true, &ctx);
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
        assert!(b.lines().all(|l| l.len() <= WIDTH), "{b}");
    }
}
