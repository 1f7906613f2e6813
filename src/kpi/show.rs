//! The board's KPI table, the way the seeds print it (004:1385-1545): per KPI its id, title,
//! action, owner, baseline, and each milestone with its target and, where a run stored one,
//! the value and RAG for the milestone's month; the latest stored value beside it.
//!
//! Owns: `sendwatch kpi show` as text, CSV or JSON. Pure: takes the catalogue and the stored
//! results, returns a string. Values only: no counts appear (a count under 5 would have to
//! be suppressed), so nothing here can single out a child. A manual KPI also lists the values
//! entered by hand that are in force, with who entered them, when, and the board's note (the
//! one place a note is shown).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

use super::manual::Entered;
use super::{
    Catalogue, KpiSettings, Measure, Month, Period, StoredResult, Target, resolve, versions,
};

/// How `kpi show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!("`{s}`: expected table, csv or json")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("no KPI named `{0}` in the catalogue")]
    UnknownKpi(String),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One KPI as the table shows it.
#[derive(Debug, Serialize)]
pub struct KpiView {
    pub id: String,
    pub title: String,
    pub action: String,
    /// The owning sub-group's key and name.
    pub owner: String,
    pub owner_name: Option<String>,
    pub frequency: &'static str,
    pub unit: &'static str,
    pub better: &'static str,
    /// Computed from an extract (else entered by hand).
    pub computed: bool,
    pub baseline: BaselineView,
    /// The period asked for (`--period`), else the latest one a run stored a value for.
    pub latest: Option<Actual>,
    pub milestones: Vec<MilestoneView>,
    /// Manual KPIs: the values entered by hand in force, by period.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entered: Vec<EnteredView>,
}

/// A value entered by hand, as `kpi show` lists it: no counts, the note in full.
#[derive(Debug, Serialize)]
pub struct EnteredView {
    /// As written: `2020-Q2`, `AY2019/20`.
    pub period: String,
    pub period_label: String,
    pub value: f64,
    pub value_text: String,
    pub by: String,
    /// RFC 3339, UTC.
    pub entered_at: String,
    pub note: Option<String>,
    pub entry: i64,
}

#[derive(Debug, Serialize)]
pub struct BaselineView {
    pub text: String,
    pub value: Option<f64>,
    pub date: Option<String>,
    pub establish_by: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MilestoneView {
    /// "as printed", or "reset from YYYY-MM: reason".
    pub version: String,
    /// `YYYY-MM`.
    pub from: String,
    pub label: Option<String>,
    /// The figure, where the milestone gives one.
    pub target: Option<f64>,
    /// The target in words: "15.0%", "not applicable", "establish baseline by 2019-10-31".
    pub target_text: String,
    pub note: Option<String>,
    /// The stored value and RAG for the KPI's period holding the milestone's month.
    pub actual: Option<Actual>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Actual {
    /// As stored: `2021-05`, `2021-Q2`, `AY2020/21`, `FY2020/21`, `2021`.
    pub period: String,
    /// As a board paper writes it: "May 2021", "Apr-Jun 2021".
    pub period_label: String,
    pub value: Option<f64>,
    pub value_text: String,
    pub rag: String,
    pub direction: Option<String>,
}

/// Print the catalogue (or the one KPI `only`) with the stored results, each KPI's latest or
/// (with `period`) the one of its period kind that holds `period`'s last month. `owners`
/// maps a sub-group key to its name.
pub fn show(
    catalogue: &Catalogue,
    owners: &BTreeMap<String, String>,
    results: &[StoredResult],
    only: Option<&str>,
    period: Option<Period>,
    format: Format,
) -> Result<String, ShowError> {
    show_entered(catalogue, owners, results, &[], only, period, format)
}

/// [`show`], listing under each manual KPI the values entered by hand in `entered`.
pub fn show_entered(
    catalogue: &Catalogue,
    owners: &BTreeMap<String, String>,
    results: &[StoredResult],
    entered: &[Entered],
    only: Option<&str>,
    period: Option<Period>,
    format: Format,
) -> Result<String, ShowError> {
    if let Some(id) = only
        && !catalogue.contains_key(id)
    {
        return Err(ShowError::UnknownKpi(id.to_string()));
    }
    let views = views(catalogue, owners, results, entered, only, period);
    Ok(match format {
        Format::Table => table(&views),
        Format::Csv => csv(&views),
        Format::Json => serde_json::to_string_pretty(&views)? + "\n",
    })
}

/// Each KPI of the catalogue (or the one `only`) as the table shows it, in catalogue order;
/// shared by `kpi show` and the board pack.
pub fn views(
    catalogue: &Catalogue,
    owners: &BTreeMap<String, String>,
    results: &[StoredResult],
    entered: &[Entered],
    only: Option<&str>,
    period: Option<Period>,
) -> Vec<KpiView> {
    catalogue
        .iter()
        .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
        .map(|(id, k)| {
            let mut v = view(id, k, owners, results, period);
            v.entered = entered
                .iter()
                .filter(|e| e.value.kpi_id == *id)
                .map(|e| EnteredView {
                    period: e.value.period.to_string(),
                    period_label: e.value.period.label(),
                    value: e.value.value,
                    value_text: k.unit.format(e.value.value),
                    by: e.value.by.clone(),
                    entered_at: e.entered_at.to_rfc3339(),
                    note: e.value.note.clone(),
                    entry: e.id,
                })
                .collect();
            v
        })
        .collect()
}

fn view(
    id: &str,
    k: &KpiSettings,
    owners: &BTreeMap<String, String>,
    results: &[StoredResult],
    period: Option<Period>,
) -> KpiView {
    // An average over so few referrals would be a child's own wait, or near it: not shown.
    let average = k.measure == Some(Measure::AverageWaitWeeks);
    let hidden =
        |r: &StoredResult| !crate::disclose::stored_shown(average, r.numerator, r.denominator);
    let actual = |r: &StoredResult| Actual {
        period: r.period.to_string(),
        period_label: r.period.label(),
        direction: r.direction.clone(),
        value: r.value.filter(|_| !hidden(r)),
        value_text: match r.value {
            Some(_) if hidden(r) => crate::kpi::Figure::hidden_text(average),
            Some(v) => k.unit.format(v),
            None => "no data".to_string(),
        },
        rag: r.rag.to_string(),
    };
    let mine: Vec<&StoredResult> = results.iter().filter(|r| r.kpi_id == id).collect();
    let mut milestones = Vec::new();
    for version in versions(k) {
        let name = match (version.effective, version.reason) {
            (Some(e), Some(reason)) => format!("reset from {e}: {reason}"),
            _ => "as printed".to_string(),
        };
        for m in version.milestones {
            let Ok(from) = m.from.parse::<Month>() else {
                continue;
            };
            let resolved = resolve(k, &version, m, from);
            let target = resolved.as_ref().and_then(|t| t.value());
            let target_text = match resolved.as_ref().map(|t| &t.target) {
                Some(Target::Value(v)) => k.unit.format(*v),
                Some(Target::EstablishBaseline { by: Some(by) }) => {
                    format!("establish baseline by {by}")
                }
                Some(Target::EstablishBaseline { by: None }) => "establish baseline".into(),
                Some(Target::NotApplicable) => "not applicable".into(),
                Some(Target::Unknown) => "not known".into(),
                None => "malformed (see check-config)".into(),
            };
            milestones.push(MilestoneView {
                version: name.clone(),
                from: from.to_string(),
                label: m.label.clone(),
                target,
                target_text,
                note: resolved.and_then(|t| t.note),
                actual: mine
                    .iter()
                    .find(|r| r.period == Period::containing(k.period_kind(), from))
                    .map(|r| actual(r)),
            });
        }
    }
    KpiView {
        id: id.to_string(),
        title: k.title.clone(),
        action: k.action.clone(),
        owner: k.owner.clone(),
        owner_name: owners.get(&k.owner).cloned(),
        frequency: k.frequency.as_str(),
        unit: k.unit.as_str(),
        better: k.better.as_str(),
        computed: k.measure.is_some(),
        baseline: BaselineView {
            text: k.baseline.text.clone(),
            value: k.baseline.value,
            date: k.baseline.date.clone(),
            establish_by: k.baseline.establish_by.map(|d| d.to_string()),
        },
        latest: match period {
            Some(p) => {
                let wanted = Period::containing(k.period_kind(), p.last_month());
                mine.iter().find(|r| r.period == wanted).map(|r| actual(r))
            }
            None => mine.iter().max_by_key(|r| r.period).map(|r| actual(r)),
        },
        milestones,
        entered: Vec::new(),
    }
}

fn table(views: &[KpiView]) -> String {
    let mut b = String::new();
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            b.push('\n');
        }
        let _ = writeln!(b, "KPI {}  {}", v.id, v.title);
        let _ = writeln!(
            b,
            "  Action {}; owner {}; {}; {}, {} is better; {}",
            v.action,
            v.owner_name.as_deref().unwrap_or(&v.owner),
            v.frequency,
            v.unit,
            v.better,
            if v.computed {
                "computed from an extract"
            } else {
                "entered by hand"
            }
        );
        let _ = writeln!(b, "  Baseline: {}", v.baseline.text);
        if let Some(a) = &v.latest {
            let _ = writeln!(
                b,
                "  Latest:   {}: {} {}",
                a.period_label, a.value_text, a.rag
            );
            if let Some(d) = &a.direction {
                let _ = writeln!(b, "  Direction: {d}");
            }
        }
        if v.milestones.is_empty() {
            let _ = writeln!(b, "  Milestones: none printed");
        }
        let mut version = "as printed";
        for m in &v.milestones {
            if m.version != version {
                version = &m.version;
                let _ = writeln!(b, "  Targets {version}:");
            }
            let label = m.label.clone().unwrap_or_else(|| m.from.clone());
            let actual = m.actual.as_ref().map_or_else(
                || "-".to_string(),
                |a| format!("{} {}", a.value_text, a.rag),
            );
            let _ = writeln!(
                b,
                "  {label:<58} target {:<20} actual {actual}",
                m.target_text
            );
            if let Some(note) = &m.note {
                let _ = writeln!(b, "      ({note})");
            }
        }
        if !v.entered.is_empty() {
            let _ = writeln!(b, "  Entered by hand (the value in force for each period):");
        }
        for e in &v.entered {
            let day = e.entered_at.get(..10).unwrap_or(&e.entered_at);
            let _ = writeln!(
                b,
                "    {:<24} {:<12} by {} on {day} (entry {})",
                e.period_label, e.value_text, e.by, e.entry
            );
            if let Some(note) = &e.note {
                let _ = writeln!(b, "      note: {note}");
            }
        }
    }
    b
}

const CSV_HEADER: [&str; 16] = [
    "kpi",
    "title",
    "action",
    "owner",
    "frequency",
    "unit",
    "better",
    "baseline",
    "version",
    "milestone_from",
    "milestone",
    "target",
    "target_text",
    "note",
    "actual",
    "rag",
];

/// One row per milestone; a KPI without milestones has one row with those columns empty.
fn csv(views: &[KpiView]) -> String {
    let mut b = String::new();
    line(&mut b, CSV_HEADER.iter().map(|s| s.to_string()));
    for v in views {
        let head = [
            v.id.clone(),
            v.title.clone(),
            v.action.clone(),
            v.owner.clone(),
            v.frequency.to_string(),
            v.unit.to_string(),
            v.better.to_string(),
            v.baseline.text.clone(),
        ];
        if v.milestones.is_empty() {
            line(
                &mut b,
                head.iter()
                    .cloned()
                    .chain(std::iter::repeat_n(String::new(), 8)),
            );
        }
        for m in &v.milestones {
            let opt = |x: Option<f64>| x.map(|x| format!("{x:.1}")).unwrap_or_default();
            let tail = [
                m.version.clone(),
                m.from.clone(),
                m.label.clone().unwrap_or_default(),
                opt(m.target),
                m.target_text.clone(),
                m.note.clone().unwrap_or_default(),
                opt(m.actual.as_ref().and_then(|a| a.value)),
                m.actual.as_ref().map(|a| a.rag.clone()).unwrap_or_default(),
            ];
            line(&mut b, head.iter().cloned().chain(tail));
        }
    }
    b
}

/// One CSV record, quoting fields that need it.
pub(crate) fn line(b: &mut String, fields: impl Iterator<Item = String>) {
    let quoted: Vec<String> = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    let _ = writeln!(b, "{}", quoted.join(","));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(format: Format, only: Option<&str>) -> String {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let owners = BTreeMap::from([(
            "performance".to_string(),
            "Performance Sub Group".to_string(),
        )]);
        let results = vec![
            StoredResult {
                kpi_id: "1/2a".into(),
                period: "2020-04".parse().expect("month"),
                value: Some(63.6),
                numerator: Some(28),
                denominator: Some(44),
                rag: crate::kpi::Rag::Green,
                target: None,
                overdue_open: None,
                direction: None,
                run_id: 1,
            },
            StoredResult {
                kpi_id: "1/2a".into(),
                period: "2020-05".parse().expect("month"),
                value: None,
                numerator: None,
                denominator: None,
                rag: crate::kpi::Rag::NoData,
                target: None,
                overdue_open: None,
                direction: None,
                run_id: 2,
            },
        ];
        show(&c, &owners, &results, only, None, format).expect("shows")
    }

    #[test]
    fn an_average_wait_over_fewer_than_5_referrals_is_not_shown() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let latest = |denominator: i64| {
            let results = vec![StoredResult {
                kpi_id: "5/1".into(),
                period: "2021-07".parse().expect("month"),
                value: Some(9.0),
                numerator: None,
                denominator: Some(denominator),
                rag: crate::kpi::Rag::Red,
                target: None,
                overdue_open: None,
                direction: None,
                run_id: 1,
            }];
            let json = show(
                &c,
                &BTreeMap::new(),
                &results,
                Some("5/1"),
                None,
                Format::Json,
            )
            .expect("shows");
            let v: serde_json::Value = serde_json::from_str(&json).expect("json");
            v[0]["latest"].clone()
        };
        let few = latest(4);
        assert_eq!(few["value"], serde_json::Value::Null);
        assert_eq!(few["value_text"], "not shown: <5 referrals");
        let enough = latest(5);
        assert_eq!(enough["value"], 9.0);
        assert_eq!(enough["value_text"], "9 weeks");
    }

    #[test]
    fn the_table_prints_each_milestone_with_its_target_and_the_stored_actual() {
        let t = shown(Format::Table, Some("1/2a"));
        assert!(t.starts_with("KPI 1/2a  New EHCPs"), "{t}");
        assert!(t.contains("owner Performance Sub Group"), "{t}");
        assert!(t.contains("Latest:   May 2020: no data NO DATA"), "{t}");
        let apr = t
            .lines()
            .find(|l| l.contains("Apr-20: 15%"))
            .expect("Apr-20 line");
        assert!(
            apr.contains("target 15.0%") && apr.contains("actual 63.6% GREEN"),
            "{apr}"
        );
        let oct = t
            .lines()
            .find(|l| l.contains("Oct-20: 50% or national average whichever is the higher"))
            .expect("Oct-20 line");
        assert!(
            oct.contains("target 60.1%") && oct.contains("actual -"),
            "{oct}"
        );
        assert!(t.contains("not applicable"), "{t}");
        assert!(!t.contains("KPI 1/5"), "one KPI only");
    }

    #[test]
    fn csv_has_one_row_per_milestone_and_quotes_commas() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let text = shown(Format::Csv, None);
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[0], CSV_HEADER.join(","));
        let want: usize = c.values().map(|k| k.milestones.len().max(1)).sum();
        assert_eq!(rows.len() - 1, want);
        assert!(
            text.contains(",Oct-20: 50% or national average whichever is the higher,"),
            "no comma, no quotes"
        );
        assert!(
            text.contains("4/2,\"Parents, carers and young people rate"),
            "a comma is quoted"
        );
        let a = rows
            .iter()
            .find(|r| r.starts_with("1/2a,") && r.contains("Apr-20"))
            .expect("row");
        assert!(a.ends_with(",63.6,GREEN"), "{a}");
    }

    #[test]
    fn json_parses_and_an_unknown_kpi_is_refused() {
        let v: serde_json::Value =
            serde_json::from_str(&shown(Format::Json, None)).expect("valid JSON");
        let all = v.as_array().expect("array");
        assert_eq!(all.len(), 26);
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let err = show(&c, &BTreeMap::new(), &[], Some("9/9"), None, Format::Json).unwrap_err();
        assert_eq!(err.to_string(), "no KPI named `9/9` in the catalogue");
        assert_eq!("csv".parse::<Format>(), Ok(Format::Csv));
        assert!("xml".parse::<Format>().is_err());
    }
}
