//! A timeliness KPI's published benchmarks: for each year the DfE's release gives, the area's
//! published figure of the KPI's `national_measure` beside its region's, England's and each
//! statistical neighbour's, with the neighbours' median and the area's rank among its
//! neighbours. One model ([`Benchmark`]) for every output: `kpi show` (a section under the
//! KPI, or `--benchmarks` alone as table, CSV or JSON), the pack and the live view's KPI page
//! (`benchmark.html.j2`).
//!
//! The figures are the DfE's as published (public, unsuppressed; no child-level value),
//! written with the decimal places the release gives (at least one for a percentage: 23 is
//! "23.0"); a figure the release does not give (`x`, `z`, `c`, `low`, `u`, blank) is "-",
//! never 0, and takes no part in the median or the rank. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::{Format, csv_line};
use crate::kpi::{Better, Catalogue, KpiSettings, Period};
use crate::stats::compare::{Compared, Role};
use crate::stats::{MeasureDef, Published, StatUnit, written};

/// One KPI's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Benchmark {
    pub kpi: String,
    /// The published measure compared (the KPI's `national_measure`) and its label.
    pub measure: String,
    pub label: String,
    pub unit: &'static str,
    /// Which way the rank counts: `higher` or `lower` is better, as the KPI says.
    pub better: &'static str,
    /// Where the figures are from: each release (name, title) and the files read.
    pub source: String,
    /// The words for no figure ("x, z, c, low, u or blank").
    pub absent: String,
    /// The area, its region, England, then each neighbour.
    pub columns: Vec<ColumnView>,
    /// Oldest first.
    pub years: Vec<YearView>,
    /// What was asked for and is not in the release (a neighbour, the area itself).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnView {
    /// `area`, `region`, `england` or `neighbour`.
    pub role: &'static str,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct YearView {
    /// As stored (`2019`) and as a board paper writes it.
    pub period: String,
    pub period_label: String,
    /// One per column, in the columns' order.
    pub cells: Vec<CellView>,
    /// The neighbours' median, "-" when none has a figure.
    pub neighbours_median: String,
    /// The area's rank among itself and its neighbours with a figure ("2 of 3"; 1 is best),
    /// "-" when the area or every neighbour has none.
    pub rank: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// As published, or "-".
    pub text: String,
    pub value: Option<f64>,
    /// Where it is from: the release, the file and its line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Every KPI's comparison that has one (a `national_measure` and an imported release), by id.
pub fn build_all(
    catalogue: &Catalogue,
    measures: &BTreeMap<String, MeasureDef>,
    c: &Compared,
) -> BTreeMap<String, Benchmark> {
    catalogue
        .iter()
        .filter_map(|(id, k)| build(id, k, measures, c).map(|b| (id.clone(), b)))
        .collect()
}

/// KPI `id`'s comparison; `None` without a `national_measure`, a known measure or a release.
pub fn build(
    id: &str,
    k: &KpiSettings,
    measures: &BTreeMap<String, MeasureDef>,
    c: &Compared,
) -> Option<Benchmark> {
    let measure = k.national_measure.as_deref()?;
    let def = measures.get(measure)?;
    if c.releases.is_empty() {
        return None;
    }
    let mine = |series: &[Published], period: Period| {
        series
            .iter()
            .find(|p| p.figure.measure == measure && p.figure.period == period)
            .cloned()
    };
    let periods: BTreeSet<Period> = c
        .columns
        .iter()
        .flat_map(|(_, _, s)| s.iter())
        .filter(|p| p.figure.measure == measure)
        .map(|p| p.figure.period)
        .collect();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let mut years = Vec::new();
    for period in periods {
        let found: Vec<(Role, Option<Published>)> = c
            .columns
            .iter()
            .map(|(role, _, s)| (*role, mine(s, period)))
            .collect();
        for p in found.iter().filter_map(|(_, p)| p.as_ref()) {
            used.insert((p.release.clone(), p.figure.file.clone()));
        }
        years.push(year(period, &found, def.unit, k.better));
    }
    Some(Benchmark {
        kpi: id.to_string(),
        measure: measure.to_string(),
        label: def.label.clone(),
        unit: def.unit.as_str(),
        better: k.better.as_str(),
        source: source(c, &used),
        absent: c.absent.clone(),
        columns: c
            .columns
            .iter()
            .map(|(role, a, _)| ColumnView {
                role: role.as_str(),
                code: a.code.clone(),
                name: a.name.clone(),
            })
            .collect(),
        years,
        notes: c.missing.clone(),
    })
}

fn year(
    period: Period,
    found: &[(Role, Option<Published>)],
    unit: StatUnit,
    better: Better,
) -> YearView {
    let cells = found
        .iter()
        .map(|(_, p)| match p {
            Some(p) => CellView {
                text: written(p.figure.value, p.figure.decimals, unit),
                value: Some(p.figure.value),
                release: Some(p.release.clone()),
                file: Some(p.figure.file.clone()),
                line: Some(p.figure.line),
            },
            None => CellView {
                text: "-".into(),
                value: None,
                release: None,
                file: None,
                line: None,
            },
        })
        .collect();
    let figures = |role: Role| -> Vec<&Published> {
        found
            .iter()
            .filter(|(r, _)| *r == role)
            .filter_map(|(_, p)| p.as_ref())
            .collect()
    };
    let neighbours = figures(Role::Neighbour);
    let configured = found.iter().any(|(r, _)| *r == Role::Neighbour);
    let neighbours_median =
        median(&neighbours).map_or_else(|| "-".to_string(), |(v, places)| written(v, places, unit));
    let rank = match (figures(Role::Area).first(), configured) {
        (Some(area), true) if !neighbours.is_empty() => {
            let v = area.figure.value;
            let ahead = neighbours
                .iter()
                .filter(|n| match better {
                    Better::Higher => n.figure.value > v,
                    Better::Lower => n.figure.value < v,
                })
                .count();
            format!("{} of {}", ahead + 1, neighbours.len() + 1)
        }
        _ => "-".to_string(),
    };
    YearView {
        period: period.to_string(),
        period_label: period.label(),
        cells,
        neighbours_median,
        rank,
    }
}

/// The median of the figures and the decimal places to write it with (the most any of them
/// is published with).
fn median(figures: &[&Published]) -> Option<(f64, u8)> {
    let mut v: Vec<f64> = figures.iter().map(|p| p.figure.value).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let places = figures.iter().map(|p| p.figure.decimals).max().unwrap_or(0);
    let mid = v.len() / 2;
    let m = if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    };
    Some((m, places))
}

/// "DfE release ees-ehcp-2025 (Education, health and care plans, reporting year 2025):
/// timeliness_20_week.csv".
fn source(c: &Compared, used: &BTreeSet<(String, String)>) -> String {
    let mut by_release: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (release, file) in used {
        by_release.entry(release).or_default().push(file);
    }
    let parts: Vec<String> = by_release
        .iter()
        .map(|(name, files)| {
            let title = c
                .releases
                .iter()
                .find(|r| r.release.name == *name)
                .map(|r| format!(" ({})", r.release.title))
                .unwrap_or_default();
            format!("release {name}{title}: {}", files.join(", "))
        })
        .collect();
    if parts.is_empty() {
        "no figure of this measure in the imported release".to_string()
    } else {
        format!("Published by the DfE, {}", parts.join("; "))
    }
}

/// The comparison as `kpi show` prints it under a KPI (indented two spaces).
pub fn table(b: &Benchmark) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  Published benchmarks: {} [{}]", b.label, b.measure);
    if !b.columns.is_empty() {
        let _ = writeln!(
            out,
            "    {}; \"-\": no figure published ({})",
            b.source, b.absent
        );
        let widths: Vec<usize> = b
            .columns
            .iter()
            .map(|c| c.name.chars().count().max(6))
            .collect();
        let _ = write!(out, "    {:<10}", "year");
        for (c, w) in b.columns.iter().zip(&widths) {
            let _ = write!(out, "  {:>w$}", c.name);
        }
        let _ = writeln!(out, "  {:>18}  rank", "neighbours' median");
        for y in &b.years {
            let _ = write!(out, "    {:<10}", y.period_label);
            for (cell, w) in y.cells.iter().zip(&widths) {
                let _ = write!(out, "  {:>w$}", cell.text);
            }
            let _ = writeln!(out, "  {:>18}  {}", y.neighbours_median, y.rank);
        }
    }
    for n in &b.notes {
        let _ = writeln!(out, "    note: {n}");
    }
    out
}

const CSV_HEADER: [&str; 14] = [
    "kpi",
    "measure",
    "unit",
    "period",
    "role",
    "area_code",
    "area_name",
    "value",
    "neighbours_median",
    "area_rank",
    "release",
    "file",
    "line",
    "label",
];

/// `kpi show --benchmarks`: the comparisons alone, as a table, CSV (one row per year and
/// area, "-" where no figure is published) or JSON.
pub fn show(all: &[&Benchmark], format: Format) -> String {
    match format {
        Format::Table if all.is_empty() => {
            "no published benchmarks: no KPI names a national_measure, or no release is \
             imported (`sendwatch stats import PATH`)\n"
                .to_string()
        }
        Format::Table => {
            let parts: Vec<String> = all
                .iter()
                .map(|b| format!("KPI {}\n{}", b.kpi, table(b)))
                .collect();
            parts.join("\n")
        }
        Format::Csv => {
            let mut out = String::new();
            csv_line(&mut out, CSV_HEADER.iter().map(|s| s.to_string()));
            for b in all {
                for y in &b.years {
                    for (col, cell) in b.columns.iter().zip(&y.cells) {
                        let row = [
                            b.kpi.clone(),
                            b.measure.clone(),
                            b.unit.to_string(),
                            y.period.clone(),
                            col.role.to_string(),
                            col.code.clone(),
                            col.name.clone(),
                            cell.text.clone(),
                            y.neighbours_median.clone(),
                            y.rank.clone(),
                            cell.release.clone().unwrap_or_default(),
                            cell.file.clone().unwrap_or_default(),
                            cell.line.map(|l| l.to_string()).unwrap_or_default(),
                            b.label.clone(),
                        ];
                        csv_line(&mut out, row.into_iter());
                    }
                }
            }
            out
        }
        Format::Json => serde_json::to_string_pretty(all).unwrap_or_default() + "\n",
    }
}

#[cfg(test)]
#[path = "benchmark_tests.rs"]
mod tests;
