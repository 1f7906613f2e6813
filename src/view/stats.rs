//! `stats show`: an area's published series beside its region's, England's and its statistical
//! neighbours', as a table, CSV (one row per figure, with its release, file, line and the
//! area's role) or JSON.
//!
//! The figures are the DfE's as published (public, unsuppressed), written with the decimal
//! places the release gives them (at least one for a percentage: 23 is "23.0"); a figure the
//! release does not give is "-", never 0. Pure.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Format, csv_line};
use crate::kpi::Period;
use crate::stats::compare::Role;
use crate::stats::{Area, MeasureDef, Published, StoredRelease, written};

/// What `stats show` prints.
pub struct StatsView<'a> {
    pub releases: &'a [StoredRelease],
    /// The configured area, its region, England and its neighbours, each with its figures and
    /// the part it plays; the region and England where the store has them.
    pub columns: Vec<(Role, &'a Area, &'a [Published])>,
    /// The measures, in the order printed.
    pub measures: Vec<(&'a str, &'a MeasureDef)>,
    /// The words for no figure ("x, z, c, low, u or blank").
    pub absent: String,
}

/// The view in `format`.
pub fn show(v: &StatsView<'_>, format: Format) -> String {
    match format {
        Format::Table => table(v),
        Format::Csv => csv(v),
        Format::Json => serde_json::to_string_pretty(&as_json(v)).unwrap_or_default() + "\n",
    }
}

/// One area's figure of `measure` for `period`.
fn figure<'a>(series: &'a [Published], measure: &str, period: Period) -> Option<&'a Published> {
    series
        .iter()
        .find(|p| p.figure.measure == measure && p.figure.period == period)
}

/// Every period any column has a figure of `measure` for, in order.
fn periods(v: &StatsView<'_>, measure: &str) -> Vec<Period> {
    let all: BTreeSet<Period> = v
        .columns
        .iter()
        .flat_map(|(_, _, s)| s.iter())
        .filter(|p| p.figure.measure == measure)
        .map(|p| p.figure.period)
        .collect();
    all.into_iter().collect()
}

fn area_words(a: &Area) -> String {
    match &a.old_code {
        Some(old) => format!("{} ({}, {old})", a.name, a.code),
        None => format!("{} ({})", a.name, a.code),
    }
}

fn table(v: &StatsView<'_>) -> String {
    let mut b = String::new();
    let names = |neighbours: bool| -> Vec<String> {
        v.columns
            .iter()
            .filter(|(r, _, _)| (*r == Role::Neighbour) == neighbours)
            .map(|(_, a, _)| area_words(a))
            .collect()
    };
    let heading = match names(false).as_slice() {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} beside {}", rest.join(" and ")),
        [] => String::new(),
    };
    let _ = writeln!(b, "Published statistics: {heading}");
    let neighbours = names(true);
    if !neighbours.is_empty() {
        let _ = writeln!(b, "Statistical neighbours: {}", neighbours.join(", "));
    }
    for r in v.releases {
        let _ = writeln!(
            b,
            "Release {}: {} (reporting year {}), imported {} from {}",
            r.release.name,
            r.release.title,
            r.release.reporting_year,
            r.imported_at.format("%Y-%m-%d %H:%M UTC"),
            r.release.imported_from
        );
    }
    let _ = writeln!(
        b,
        "\"-\": no figure published ({} in the release)",
        v.absent
    );
    let widths: Vec<usize> = v
        .columns
        .iter()
        .map(|(_, a, _)| a.name.chars().count().max(8))
        .collect();
    for (measure, def) in &v.measures {
        let _ = writeln!(b, "\n{} [{measure}]", def.label);
        let _ = write!(b, "  {:<10}", "period");
        for ((_, a, _), w) in v.columns.iter().zip(&widths) {
            let _ = write!(b, "  {:>w$}", a.name);
        }
        b.push('\n');
        for period in periods(v, measure) {
            let _ = write!(b, "  {:<10}", period.to_string());
            for ((_, _, series), w) in v.columns.iter().zip(&widths) {
                let text = figure(series, measure, period).map_or_else(
                    || "-".to_string(),
                    |p| written(p.figure.value, p.figure.decimals, def.unit),
                );
                let _ = write!(b, "  {text:>w$}");
            }
            b.push('\n');
        }
    }
    b
}

const CSV_HEADER: [&str; 13] = [
    "measure",
    "label",
    "unit",
    "period",
    "level",
    "area_code",
    "area_name",
    "value",
    "release",
    "reporting_year",
    "file",
    "line",
    "role",
];

/// One row per figure given: measure by measure, period by period, the area, its region,
/// England, its neighbours.
fn csv(v: &StatsView<'_>) -> String {
    let mut b = String::new();
    csv_line(&mut b, CSV_HEADER.iter().map(|s| s.to_string()));
    for (measure, def) in &v.measures {
        for period in periods(v, measure) {
            for (role, area, series) in &v.columns {
                let Some(p) = figure(series, measure, period) else {
                    continue;
                };
                let f = &p.figure;
                let row = [
                    measure.to_string(),
                    def.label.clone(),
                    def.unit.as_str().to_string(),
                    period.to_string(),
                    area.level.as_str().to_string(),
                    area.code.clone(),
                    area.name.clone(),
                    written(f.value, f.decimals, def.unit),
                    p.release.clone(),
                    p.reporting_year.to_string(),
                    f.file.clone(),
                    f.line.to_string(),
                    role.as_str().to_string(),
                ];
                csv_line(&mut b, row.into_iter());
            }
        }
    }
    b
}

fn as_json(v: &StatsView<'_>) -> Value {
    let releases: Vec<Value> = v
        .releases
        .iter()
        .map(|r| {
            json!({
                "name": r.release.name,
                "title": r.release.title,
                "reporting_year": r.release.reporting_year,
                "imported_from": r.release.imported_from,
                "imported_at": r.imported_at.to_rfc3339(),
            })
        })
        .collect();
    let measures: Vec<Value> = v
        .measures
        .iter()
        .map(|(measure, def)| {
            let rows: Vec<Value> = periods(v, measure)
                .into_iter()
                .map(|period| {
                    // By area code: the area's, its region's, England's, its neighbours'.
                    let cells: serde_json::Map<String, Value> = v
                        .columns
                        .iter()
                        .map(|(_, a, s)| {
                            let c =
                                figure(s, measure, period).map_or(Value::Null, |p| cell(p, def));
                            (a.code.clone(), c)
                        })
                        .collect();
                    json!({ "period": period.to_string(), "figures": cells })
                })
                .collect();
            json!({
                "measure": measure,
                "label": def.label,
                "unit": def.unit.as_str(),
                "periods": rows,
            })
        })
        .collect();
    json!({
        "areas": v.columns.iter().map(|(role, a, _)| {
            let mut area = serde_json::to_value(a).unwrap_or(Value::Null);
            if let Some(fields) = area.as_object_mut() {
                fields.insert("role".into(), json!(role.as_str()));
            }
            area
        }).collect::<Vec<_>>(),
        "releases": releases,
        "absent": v.absent,
        "measures": measures,
    })
}

/// A figure: its value (a whole number for a count), as written, and where it is from.
fn cell(p: &Published, def: &MeasureDef) -> Value {
    let f = &p.figure;
    let value = match def.unit {
        crate::stats::StatUnit::Count if f.value.fract() == 0.0 && f.value.abs() < 1e15 => {
            json!(f.value as i64)
        }
        _ => json!(f.value),
    };
    json!({
        "value": value,
        "text": written(f.value, f.decimals, def.unit),
        "release": p.release,
        "file": f.file,
        "line": f.line,
    })
}
