//! `sendwatch kpi show`: the board's KPI table the way the seeds print it (004:1385-1545):
//! per KPI its id, title, action, owner, baseline, and each milestone with its target and,
//! where a run stored one, the value and RAG for the milestone's month; the latest stored
//! value beside it. As text, CSV or JSON, from the rows of [`super::rows`].
//!
//! Values only: no counts appear (a count under 5 would have to be suppressed), so nothing
//! here can single out a child. A manual KPI also lists the values entered by hand that are
//! in force, with who entered them, when, and the board's note (the one place a note is
//! shown). A timeliness KPI's published benchmarks ([`crate::view::benchmark`]) follow it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{KpiRow, rows};
use crate::disclose::Disclosure;
use crate::kpi::manual::Entered;
use crate::kpi::{Catalogue, Period, RagSettings, Rules, StoredResult};
use crate::view::benchmark::Benchmark;
use crate::view::{Format, csv_line as line};

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("no KPI named `{0}` in the catalogue")]
    UnknownKpi(String),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Print the catalogue (or the one KPI `only`) with the stored results, each KPI's latest or
/// (with `period`) the one of its period kind that holds `period`'s last month. `owners`
/// maps a sub-group key to its name. The AMBER bands said are the shipped `[rag]`'s
/// ([`RagSettings::default`]); `kpi show` gives the configured ones ([`show_entered`]).
pub fn show(
    catalogue: &Catalogue,
    owners: &BTreeMap<String, String>,
    results: &[StoredResult],
    only: Option<&str>,
    period: Option<Period>,
    format: Format,
    disclosure: Disclosure,
) -> Result<String, ShowError> {
    let stored = Stored {
        catalogue,
        owners,
        results,
        entered: &[],
        rag: RagSettings::default(),
        disclosure,
    };
    show_entered(&stored, only, period, format)
}

/// What the table is read from.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub catalogue: &'a Catalogue,
    /// A sub-group's name by its key.
    pub owners: &'a BTreeMap<String, String>,
    pub results: &'a [StoredResult],
    /// The values entered by hand, listed under each manual KPI.
    pub entered: &'a [Entered],
    /// The AMBER bands each KPI is rated with (`[rag]`), said beside it.
    pub rag: RagSettings,
    /// The rules the stored figures are written by (`[disclosure]`).
    pub disclosure: Disclosure,
}

/// [`show`], listing under each manual KPI the values entered by hand in `s.entered`.
pub fn show_entered(
    s: &Stored<'_>,
    only: Option<&str>,
    period: Option<Period>,
    format: Format,
) -> Result<String, ShowError> {
    show_benchmarked(s, &BTreeMap::new(), only, period, format)
}

/// [`show_entered`], with each timeliness KPI's published benchmarks (by KPI id) under it in
/// the table and as its `benchmark` in JSON. The CSV stays one row per milestone; the
/// benchmarks as CSV are `kpi show --benchmarks` ([`crate::view::benchmark::show`]).
pub fn show_benchmarked(
    s: &Stored<'_>,
    benchmarks: &BTreeMap<String, Benchmark>,
    only: Option<&str>,
    period: Option<Period>,
    format: Format,
) -> Result<String, ShowError> {
    if let Some(id) = only
        && !s.catalogue.contains_key(id)
    {
        return Err(ShowError::UnknownKpi(id.to_string()));
    }
    let mut views = rows(
        s.catalogue,
        s.owners,
        s.results,
        s.entered,
        only,
        period,
        Rules::of(s.rag, s.disclosure),
    );
    for v in &mut views {
        if let Some(st) = v.standing.as_mut() {
            st.benchmark = benchmarks.get(&v.id).cloned();
        }
    }
    Ok(match format {
        // Which policy kept the small numbers out, said once under the table; a column of the
        // CSV and a field of each JSON row, so a figure copied out says it too.
        Format::Table => table(&views) + "\n" + &s.disclosure.note() + "\n",
        Format::Csv => csv(&views),
        Format::Json => serde_json::to_string_pretty(&views)? + "\n",
    })
}

fn table(views: &[KpiRow]) -> String {
    let mut b = String::new();
    for (i, v) in views.iter().enumerate() {
        let Some(s) = &v.standing else {
            continue;
        };
        if i > 0 {
            b.push('\n');
        }
        let _ = writeln!(b, "KPI {}  {}", v.id, v.title);
        let _ = writeln!(
            b,
            "  Action {}; owner {}; {}; {}, {} is better; {}",
            s.action,
            s.owner_name.as_deref().unwrap_or(&s.owner),
            s.frequency,
            s.unit,
            s.better,
            if s.computed {
                "computed from an extract"
            } else {
                "entered by hand"
            }
        );
        let _ = writeln!(
            b,
            "  Rating:   GREEN at or better than target; {} ({}); RED beyond",
            s.amber, s.amber_set_by
        );
        let _ = writeln!(b, "  Baseline: {}", s.baseline.text);
        if let Some(a) = &s.latest {
            let _ = writeln!(
                b,
                "  Latest:   {}: {} {}",
                a.period_label, a.value_text, a.rag
            );
            if let Some(d) = &a.direction {
                let _ = writeln!(b, "  Direction: {d}");
            }
        }
        if let Some(w) = &s.warning {
            for l in w.lines() {
                let _ = writeln!(b, "  {l}");
            }
        }
        if s.milestones.is_empty() {
            let _ = writeln!(b, "  Milestones: none printed");
        }
        let mut version = "as printed";
        for m in &s.milestones {
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
        if !s.entered.is_empty() {
            let _ = writeln!(b, "  Entered by hand (the value in force for each period):");
        }
        for e in &s.entered {
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
        if let Some(bench) = &s.benchmark {
            b.push_str(&crate::view::benchmark::table(bench));
        }
    }
    b
}

const CSV_HEADER: [&str; 17] = [
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
    "disclosure",
];

/// One row per milestone; a KPI without milestones has one row with those columns empty.
fn csv(views: &[KpiRow]) -> String {
    let mut b = String::new();
    line(&mut b, CSV_HEADER.iter().map(|s| s.to_string()));
    for v in views {
        let Some(s) = &v.standing else {
            continue;
        };
        let head = [
            v.id.clone(),
            v.title.clone(),
            s.action.clone(),
            s.owner.clone(),
            s.frequency.to_string(),
            s.unit.to_string(),
            s.better.to_string(),
            s.baseline.text.clone(),
        ];
        if s.milestones.is_empty() {
            line(
                &mut b,
                head.iter()
                    .cloned()
                    .chain(std::iter::repeat_n(String::new(), 8))
                    .chain([s.disclosure.to_string()]),
            );
        }
        for m in &s.milestones {
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
                s.disclosure.to_string(),
            ];
            line(&mut b, head.iter().cloned().chain(tail));
        }
    }
    b
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
                ytd_numerator: None,
                ytd_denominator: None,
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
                ytd_numerator: None,
                ytd_denominator: None,
            },
        ];
        show(
            &c,
            &owners,
            &results,
            only,
            None,
            format,
            Disclosure::default(),
        )
        .expect("shows")
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
                ytd_numerator: None,
                ytd_denominator: None,
            }];
            let json = show(
                &c,
                &BTreeMap::new(),
                &results,
                Some("5/1"),
                None,
                Format::Json,
                Disclosure::default(),
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
    fn the_table_says_each_kpis_amber_band_in_its_unit() {
        let t = shown(Format::Table, Some("1/2a"));
        assert!(
            t.contains(
                "\n  Rating:   GREEN at or better than target; AMBER within 5 points of target \
                 (rag.amber_tolerance); RED beyond\n"
            ),
            "{t}"
        );
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let s = Stored {
            catalogue: &c,
            owners: &BTreeMap::new(),
            results: &[],
            entered: &[],
            rag: RagSettings {
                amber_tolerance_weeks: 2.0,
                ..RagSettings::default()
            },
            disclosure: Disclosure::default(),
        };
        let t = show_entered(&s, Some("5/2"), None, Format::Table).expect("shows");
        assert!(
            t.contains("AMBER within 2 weeks of target (rag.amber_tolerance_weeks); RED beyond"),
            "{t}"
        );
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
        assert!(a.ends_with(",63.6,GREEN,suppress"), "{a}");
    }

    #[test]
    fn json_parses_and_an_unknown_kpi_is_refused() {
        let v: serde_json::Value =
            serde_json::from_str(&shown(Format::Json, None)).expect("valid JSON");
        let all = v.as_array().expect("array");
        assert_eq!(all.len(), 26);
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let err = show(
            &c,
            &BTreeMap::new(),
            &[],
            Some("9/9"),
            None,
            Format::Json,
            Disclosure::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "no KPI named `9/9` in the catalogue");
        assert_eq!("csv".parse::<Format>(), Ok(Format::Csv));
        assert!("xml".parse::<Format>().is_err());
    }
}
