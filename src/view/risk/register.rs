//! The risk register as `sendwatch risks` prints it and the pack shows it: each risk with its
//! register level and its level now (raised by which triggers, since when), and with
//! `--history` every change.
//!
//! Owns: the register's rows ([`views`]), the history's ([`recorded`], each row with its
//! [`Recorded`] part) and their text, CSV and JSON. Pure: takes the register and the recorded changes, returns a string. The reasons were
//! written disclosure-safe when recorded ([`crate::risk::describe`]); nothing else here comes
//! from the data.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{InRegister, LevelView, RiskRow};
use crate::kpi::Catalogue;
use crate::risk::{
    Register, RiskEvent, RiskLogSettings, RiskSettings, RiskState, current_states, describe,
};
use crate::view::{Format, csv_line as line};

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A recorded change of a risk's score as the history lists it (the risk's id and title are
/// the row's).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The change's number in the store.
    pub event: i64,
    pub run_id: i64,
    /// When (UTC, to the minute).
    pub at: String,
    /// "raised", "changed" or "cleared".
    pub change: &'static str,
    /// The owning sub-group's key.
    pub owner: String,
    pub from: LevelView,
    pub to: LevelView,
    pub triggers: Vec<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Both<'a> {
    risks: &'a [RiskRow],
    history: &'a [RiskRow],
}

/// The register (and with `history`, every change) in `format`.
pub fn show(
    register: &Register,
    log: &RiskLogSettings,
    kpis: &Catalogue,
    owners: &BTreeMap<String, String>,
    events: &[RiskEvent],
    history: bool,
    format: Format,
) -> Result<String, ShowError> {
    let views = views(register, log, kpis, owners, events);
    let changes: Vec<RiskRow> = if history {
        recorded(register, events)
    } else {
        Vec::new()
    };
    Ok(match format {
        Format::Table => {
            let mut b = table(&views, log);
            if history {
                b.push('\n');
                b.push_str(&history_table(&changes));
            }
            b
        }
        Format::Csv if history => history_csv(&changes),
        Format::Csv => csv(&views),
        Format::Json if history => {
            serde_json::to_string_pretty(&Both {
                risks: &views,
                history: &changes,
            })? + "\n"
        }
        Format::Json => serde_json::to_string_pretty(&views)? + "\n",
    })
}

/// Each risk of the register, as it stands after `events`, in the register's order; shared by
/// `sendwatch risks` and the board pack.
pub fn views(
    register: &Register,
    log: &RiskLogSettings,
    kpis: &Catalogue,
    owners: &BTreeMap<String, String>,
    events: &[RiskEvent],
) -> Vec<RiskRow> {
    let states = current_states(events);
    register
        .ordered()
        .into_iter()
        .map(|(id, r)| view(id, r, log, kpis, owners, states.get(id)))
        .collect()
}

/// Each recorded change as `--history` lists it, oldest first; `register` gives the titles.
pub fn recorded(register: &Register, events: &[RiskEvent]) -> Vec<RiskRow> {
    events.iter().map(|e| recorded_row(register, e)).collect()
}

fn view(
    id: &str,
    r: &RiskSettings,
    log: &RiskLogSettings,
    kpis: &Catalogue,
    owners: &BTreeMap<String, String>,
    state: Option<&RiskState>,
) -> RiskRow {
    let register = LevelView::new(r.level(), log.band(r.level().score()));
    let raised = state.filter(|s| s.raised);
    let standing = InRegister {
        owner: r.owner.clone(),
        owner_name: owners.get(&r.owner).cloned(),
        contact: r.contact.as_ref().map(|c| match &c.email {
            Some(e) => format!("{} <{e}>", c.name),
            None => c.name.clone(),
        }),
        current: raised.map_or_else(
            || register.clone(),
            |s| LevelView::new(s.level.level, &s.level.band),
        ),
        register,
        raised: raised.is_some(),
        raised_by: raised.map(|s| s.triggers.clone()).unwrap_or_default(),
        reasons: raised.map(|s| s.reasons.clone()).unwrap_or_default(),
        since: state.map(|s| crate::disclose::stamp(s.since)),
        mitigation: r.mitigation.clone(),
        cites: r.cites.clone(),
        triggers: r
            .triggers
            .iter()
            .filter_map(|t| t.condition().ok())
            .map(|c| describe(&c, kpis))
            .collect(),
    };
    RiskRow {
        standing: Some(standing),
        ..RiskRow::new(id, &r.title)
    }
}

fn recorded_row(register: &Register, e: &RiskEvent) -> RiskRow {
    let c = &e.change;
    let title = register
        .get(&c.risk_id)
        .map_or("(no longer in the register)", |r| r.title.as_str());
    RiskRow {
        recorded: Some(Recorded {
            event: e.id,
            run_id: e.run_id,
            at: crate::disclose::stamp(c.at),
            change: c.kind.as_str(),
            owner: c.owner.clone(),
            from: LevelView::new(c.from.level, &c.from.band),
            to: LevelView::new(c.to.level, &c.to.band),
            triggers: c.triggers.clone(),
            reasons: c.reasons.clone(),
        }),
        ..RiskRow::new(&c.risk_id, title)
    }
}

fn bands_text(log: &RiskLogSettings) -> String {
    log.bands
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let to = log.bands.get(i + 1).map_or(25, |n| n.from - 1);
            format!("{} {}-{to}", b.name, b.from)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(views: &[RiskRow], log: &RiskLogSettings) -> String {
    let mut b = String::new();
    let raised = views
        .iter()
        .filter(|v| v.standing.as_ref().is_some_and(|s| s.raised))
        .count();
    let _ = writeln!(
        b,
        "Risk register: {} risks, {raised} raised by a trigger. Score = likelihood x impact; \
         bands: {}.",
        views.len(),
        bands_text(log)
    );
    for v in views {
        let Some(s) = &v.standing else {
            continue;
        };
        let _ = writeln!(b);
        let _ = writeln!(b, "{}  {}", v.id, v.title);
        let contact = s
            .contact
            .as_ref()
            .map(|c| format!("; contact {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            b,
            "  Owner:      {}{contact}",
            s.owner_name.as_deref().unwrap_or(&s.owner)
        );
        let _ = writeln!(b, "  Register:   {}", s.register.text());
        if s.raised {
            let _ = writeln!(
                b,
                "  Now:        {}, RAISED since {}",
                s.current.text(),
                s.since.as_deref().unwrap_or("-")
            );
            for (i, r) in s.reasons.iter().enumerate() {
                let label = if i == 0 { "Why:" } else { "" };
                let _ = writeln!(b, "  {label:<11} {r}");
            }
        } else {
            let cleared = s
                .since
                .as_ref()
                .map(|s| format!(" (last cleared {s})"))
                .unwrap_or_default();
            let _ = writeln!(b, "  Now:        as the register{cleared}");
        }
        let _ = writeln!(b, "  Mitigation: {}", s.mitigation);
        if !s.triggers.is_empty() {
            let _ = writeln!(b, "  Triggers:   {}", s.triggers.join("; "));
        }
    }
    b
}

fn history_table(changes: &[RiskRow]) -> String {
    let mut b = String::new();
    if changes.is_empty() {
        let _ = writeln!(b, "History: no change recorded yet.");
        return b;
    }
    let _ = writeln!(b, "History, oldest first:");
    for (risk, e) in changes
        .iter()
        .filter_map(|v| v.recorded.as_ref().map(|e| (&v.id, e)))
    {
        let _ = writeln!(
            b,
            "{}  run {}  {}  {}: {} ({}) -> {} ({})",
            e.at,
            e.run_id,
            risk,
            e.change.to_uppercase(),
            e.from.score,
            e.from.band,
            e.to.score,
            e.to.band
        );
        let why = if e.change == "cleared" {
            "cleared because"
        } else {
            "why"
        };
        for r in &e.reasons {
            let _ = writeln!(b, "    {why}: {r}");
        }
    }
    b
}

fn level_fields(l: &LevelView) -> [String; 4] {
    [
        l.likelihood.to_string(),
        l.impact.to_string(),
        l.score.to_string(),
        l.band.clone(),
    ]
}

fn csv(views: &[RiskRow]) -> String {
    let mut b = String::new();
    let header = [
        "risk",
        "title",
        "owner",
        "contact",
        "register_likelihood",
        "register_impact",
        "register_score",
        "register_band",
        "likelihood",
        "impact",
        "score",
        "band",
        "raised",
        "raised_by",
        "since",
        "mitigation",
    ];
    line(&mut b, header.iter().map(|s| s.to_string()));
    for v in views {
        let Some(s) = &v.standing else {
            continue;
        };
        let fields = [v.id.clone(), v.title.clone(), s.owner.clone()]
            .into_iter()
            .chain([s.contact.clone().unwrap_or_default()])
            .chain(level_fields(&s.register))
            .chain(level_fields(&s.current))
            .chain([
                s.raised.to_string(),
                s.raised_by.join("; "),
                s.since.clone().unwrap_or_default(),
                s.mitigation.clone(),
            ]);
        line(&mut b, fields);
    }
    b
}

fn history_csv(changes: &[RiskRow]) -> String {
    let mut b = String::new();
    let header = [
        "id",
        "run",
        "at",
        "risk",
        "change",
        "owner",
        "from_likelihood",
        "from_impact",
        "from_score",
        "from_band",
        "likelihood",
        "impact",
        "score",
        "band",
        "triggers",
        "reasons",
    ];
    line(&mut b, header.iter().map(|s| s.to_string()));
    for (risk, e) in changes
        .iter()
        .filter_map(|v| v.recorded.as_ref().map(|e| (&v.id, e)))
    {
        let fields = [
            e.event.to_string(),
            e.run_id.to_string(),
            e.at.clone(),
            risk.clone(),
            e.change.to_string(),
            e.owner.clone(),
        ]
        .into_iter()
        .chain(level_fields(&e.from))
        .chain(level_fields(&e.to))
        .chain([e.triggers.join("; "), e.reasons.join("; ")]);
        line(&mut b, fields);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::testing::{at, catalogue};
    use crate::risk::{ChangeKind, Level, RiskChange, Scored};

    fn shipped() -> (Register, RiskLogSettings) {
        crate::risk::catalogue::builtin().expect("register")
    }

    fn raised_r2(log: &RiskLogSettings) -> RiskEvent {
        RiskEvent {
            id: 1,
            run_id: 7,
            change: RiskChange {
                risk_id: "R2".into(),
                owner: "performance".into(),
                kind: ChangeKind::Raised,
                from: Scored::new(Level::new(4, 4), log),
                to: Scored::new(Level::new(5, 4), log),
                triggers: vec!["KPI 1/3a RED for 2 periods running".into()],
                reasons: vec![
                    "KPI 1/3a was RED for 2 periods running: June 2021, July 2021".into(),
                ],
                at: at("2021-08-02T07:00:00Z"),
            },
        }
    }

    fn shown(events: &[RiskEvent], history: bool, format: Format) -> String {
        let (reg, log) = shipped();
        let owners = BTreeMap::from([(
            "performance".to_string(),
            "Performance Sub Group".to_string(),
        )]);
        show(&reg, &log, &catalogue(), &owners, events, history, format).expect("shows")
    }

    #[test]
    fn the_table_lists_r1_to_r13_in_order_with_the_raised_one_marked() {
        let (_, log) = shipped();
        let t = shown(&[raised_r2(&log)], false, Format::Table);
        let ids: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with('R') && l[1..].starts_with(|c: char| c.is_ascii_digit()))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let want: Vec<String> = (1..=13).map(|i| format!("R{i}")).collect();
        assert_eq!(ids, want, "{t}");
        assert!(t.contains("13 risks, 1 raised"), "{t}");
        assert!(
            t.contains(
                "  Now:        likelihood 5, impact 4, score 20 (very high), RAISED since \
                 2021-08-02 07:00 UTC"
            ),
            "{t}"
        );
        assert!(t.contains("  Why:        KPI 1/3a was RED for 2 periods running: June 2021"));
        assert!(t.contains("  Owner:      Performance Sub Group"), "{t}");
        assert!(t.contains("bands: low 1-4, medium 5-9, high 10-15, very high 16-25"));
        assert!(!t.contains("History"));
    }

    #[test]
    fn history_csv_and_json() {
        let (_, log) = shipped();
        let raised = raised_r2(&log);
        let mut cleared = raised.clone();
        cleared.id = 2;
        cleared.change.kind = ChangeKind::Cleared;
        std::mem::swap(&mut cleared.change.from, &mut cleared.change.to);
        let events = [raised, cleared];
        let t = shown(&events, true, Format::Table);
        assert!(
            t.contains("2021-08-02 07:00 UTC  run 7  R2  RAISED: 16 (very high) -> 20 (very high)"),
            "{t}"
        );
        assert!(
            t.contains("R2  CLEARED: 20 (very high) -> 16 (very high)"),
            "{t}"
        );
        assert!(
            t.contains("  Now:        as the register (last cleared 2021-08-02"),
            "{t}"
        );
        let csv = shown(&events, false, Format::Csv);
        assert_eq!(csv.lines().count(), 14, "a header and 13 risks");
        assert!(csv.lines().nth(1).is_some_and(|l| l.starts_with("R1,")));
        let hist = shown(&events, true, Format::Csv);
        assert_eq!(hist.lines().count(), 3);
        assert!(
            hist.lines()
                .nth(2)
                .is_some_and(|l| l.contains(",R2,cleared,"))
        );
        let v: serde_json::Value =
            serde_json::from_str(&shown(&events, true, Format::Json)).expect("json");
        assert_eq!(v["risks"].as_array().map(Vec::len), Some(13));
        assert_eq!(v["history"][0]["change"], "raised");
        let v: serde_json::Value =
            serde_json::from_str(&shown(&[], false, Format::Json)).expect("json");
        assert_eq!(v[1]["id"], "R2");
        assert_eq!(v[1]["raised"], false);
        assert_eq!(v[1]["current"]["score"], 16);
    }
}
