//! One CSV file of a release, read as published through its mapping: the rows the mapping
//! selects, at the levels it names, each mapped column's cell a figure or absent.
//!
//! Streamed through the extract readers' CSV reader ([`crate::load::read::csv`]), which holds
//! one record at a time and refuses one past `max_record_bytes`. The first broken rule refuses
//! the file, saying the file, the line, the column and the rule: a header without a mapped
//! column (or with it twice), a row with too few or too many cells, a period, level or area
//! that cannot be read, a cell that is neither a number of its unit nor a code for no figure,
//! an area and period given twice, or no row the mapping selects.

use std::collections::HashMap;
use std::io::Read;

use super::settings::{FileMap, Mapping, MeasureDef, StatUnit};
use super::{Area, Figure, Level, StatsError};
use crate::kpi::{Period, PeriodKind};
use crate::load::read::csv::CsvReader;
use crate::load::read::{ReadError, Record, RecordReader};

/// What one file gave.
#[derive(Debug, Default)]
pub struct FileRead {
    pub file: String,
    /// Lines read, the header too.
    pub lines: u64,
    /// Rows the mapping selected at a level it names.
    pub rows: u64,
    pub figures: Vec<Figure>,
    /// Cells of selected rows read as absent (a code or blank).
    pub absent: u64,
    /// Each (measure, period) a selected row gives, with a figure or without.
    pub covered: std::collections::BTreeSet<(String, Period)>,
    /// Each area the file names, as its latest period's row names it.
    pub areas: Vec<Area>,
    /// Selected rows at a level the mapping does not name (left out).
    pub other_levels: u64,
}

/// Where each column the mapping reads is in the header.
struct Positions {
    time_period: usize,
    time_identifier: usize,
    level: usize,
    country: (usize, usize),
    region: (usize, usize),
    la: (usize, usize),
    old_la: Option<usize>,
    select: Option<(usize, String)>,
    /// (measure, position, unit)
    measures: Vec<(String, usize, StatUnit)>,
    width: usize,
}

/// Read `input`, the release's `file`, through `map` (one of `mapping`'s files).
pub fn read_file(
    input: impl Read + Send,
    file: &str,
    map: &FileMap,
    mapping: &Mapping,
    measures: &std::collections::BTreeMap<String, MeasureDef>,
    max_record: usize,
) -> Result<FileRead, StatsError> {
    let refuse = |line: u64, column: Option<&str>, rule: String| refusal(file, line, column, rule);
    // The CSV reader names the extracts' key; here the limit is [stats]'s.
    let read_err = |e: ReadError| {
        let rule = e
            .message
            .replace("load.max_record_bytes", "[stats] max_record_bytes");
        refuse(e.line, None, rule)
    };
    let mut reader = CsvReader::new(input, max_record);
    let mut rec = Record::default();
    if !reader.read(&mut rec).map_err(read_err)? {
        return Err(refuse(1, None, "the file is empty".into()));
    }
    let header =
        texts(&rec).map_err(|i| refuse(1, None, format!("header cell {} is not UTF-8", i + 1)))?;
    let at = positions(&header, map, mapping, measures)
        .map_err(|(col, rule)| refuse(1, Some(&col), rule))?;
    let mut reading = Reading {
        file,
        header,
        at,
        mapping,
        out: FileRead {
            file: file.to_string(),
            lines: 1,
            ..FileRead::default()
        },
        seen: HashMap::new(),
        areas: HashMap::new(),
    };
    while reader.read(&mut rec).map_err(read_err)? {
        reading.row(&rec)?;
    }
    reading.finish(map)
}

fn refusal(file: &str, line: u64, column: Option<&str>, rule: String) -> StatsError {
    StatsError::Refused {
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        rule,
    }
}

/// One file being read: where its columns are, and what it gave so far.
struct Reading<'a> {
    file: &'a str,
    header: Vec<String>,
    at: Positions,
    mapping: &'a Mapping,
    out: FileRead,
    /// Each area and period's first line, to refuse a second.
    seen: HashMap<(Level, String, Period), u64>,
    /// Each area as its latest period's row names it.
    areas: HashMap<(Level, String), (Period, Area)>,
}

impl Reading<'_> {
    /// Refuse the file at `line`, naming the column at `col` if there is one.
    fn refuse(&self, line: u64, col: Option<usize>, rule: String) -> StatsError {
        refusal(self.file, line, col.map(|i| self.header[i].as_str()), rule)
    }

    /// Read one row: left out if the mapping does not select it, else its figures.
    fn row(&mut self, rec: &Record) -> Result<(), StatsError> {
        let (at, line) = (&self.at, rec.line);
        self.out.lines = line;
        if rec.len() != at.width {
            let rule = format!("has {} cells where the header has {}", rec.len(), at.width);
            return Err(self.refuse(line, None, rule));
        }
        let cell = |i: usize| {
            std::str::from_utf8(rec.get(i))
                .map_err(|_| self.refuse(line, Some(i), "is not UTF-8".into()))
        };
        if let Some((i, want)) = &at.select
            && cell(*i)? != want
        {
            return Ok(());
        }
        let Some(level) = level_of(cell(at.level)?, self.mapping) else {
            self.out.other_levels += 1;
            return Ok(());
        };
        let period = period_of(
            cell(at.time_identifier)?,
            cell(at.time_period)?,
            self.mapping,
        )
        .map_err(|(which, rule)| {
            let col = if which {
                at.time_identifier
            } else {
                at.time_period
            };
            self.refuse(line, Some(col), rule)
        })?;
        let area = area_of(level, at, &cell).map_err(|e| match e {
            AreaFault::Cell(e) => e,
            AreaFault::Blank(i) => {
                let rule = format!("is blank on a {} row", level.as_str().replace('_', " "));
                self.refuse(line, Some(i), rule)
            }
        })?;
        let mut figures = Vec::with_capacity(at.measures.len());
        let mut absent = 0;
        for (measure, i, unit) in &at.measures {
            match figure_of(cell(*i)?, *unit, self.mapping) {
                Ok(None) => absent += 1,
                Ok(Some((value, decimals))) => figures.push(Figure {
                    measure: measure.clone(),
                    period,
                    level,
                    area_code: area.code.clone(),
                    value,
                    decimals,
                    file: self.file.to_string(),
                    line,
                }),
                Err(rule) => return Err(self.refuse(line, Some(*i), rule)),
            }
        }
        if let Some(first) = self.seen.insert((level, area.code.clone(), period), line) {
            let rule = format!("gives the same area and period as line {first}");
            return Err(self.refuse(line, None, rule));
        }
        self.out.rows += 1;
        self.out.absent += absent;
        for (measure, _, _) in &self.at.measures {
            self.out.covered.insert((measure.clone(), period));
        }
        self.out.figures.extend(figures);
        let key = (level, area.code.clone());
        if self.areas.get(&key).is_none_or(|(p, _)| *p <= period) {
            self.areas.insert(key, (period, area));
        }
        Ok(())
    }

    /// What the file gave, or its refusal if the mapping selected none of its rows.
    fn finish(self, map: &FileMap) -> Result<FileRead, StatsError> {
        if self.out.rows == 0 {
            let (column, rule) = match &map.select {
                Some(s) => (
                    Some(s.column.as_str()),
                    format!(
                        "no row is `{}` at a level the mapping names: the mapping selects none",
                        s.value
                    ),
                ),
                None => (None, "no row at a level the mapping names".to_string()),
            };
            return Err(refusal(self.file, 1, column, rule));
        }
        let mut out = self.out;
        let mut list: Vec<Area> = self.areas.into_values().map(|(_, a)| a).collect();
        list.sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
        out.areas = list;
        Ok(out)
    }
}

/// The record's cells as text, or the index of the first that is not UTF-8.
fn texts(rec: &Record) -> Result<Vec<String>, usize> {
    rec.iter()
        .enumerate()
        .map(|(i, f)| {
            std::str::from_utf8(f)
                .map(|s| s.trim().to_string())
                .map_err(|_| i)
        })
        .collect()
}

/// Find every mapped column in the header: (column, rule) for the first missing or repeated.
fn positions(
    header: &[String],
    map: &FileMap,
    mapping: &Mapping,
    measures: &std::collections::BTreeMap<String, MeasureDef>,
) -> Result<Positions, (String, String)> {
    let find = |name: &str, why: &str| -> Result<usize, (String, String)> {
        let mut hits = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.as_str() == name);
        match (hits.next(), hits.next()) {
            (Some((i, _)), None) => Ok(i),
            (Some(_), Some(_)) => Err((name.to_string(), "is in the header twice".into())),
            (None, _) => Err((
                name.to_string(),
                format!("is not in the header (the mapping's {why} names it)"),
            )),
        }
    };
    let c = &mapping.columns;
    let mut list = Vec::new();
    for (measure, column) in &map.measures {
        let unit = measures.get(measure).map_or(StatUnit::Count, |m| m.unit);
        let i = find(column, &format!("measure {measure}"))?;
        list.push((measure.clone(), i, unit));
    }
    Ok(Positions {
        time_period: find(&c.time_period, "columns.time_period")?,
        time_identifier: find(&c.time_identifier, "columns.time_identifier")?,
        level: find(&c.geographic_level, "columns.geographic_level")?,
        country: (
            find(&c.country_code, "columns.country_code")?,
            find(&c.country_name, "columns.country_name")?,
        ),
        region: (
            find(&c.region_code, "columns.region_code")?,
            find(&c.region_name, "columns.region_name")?,
        ),
        la: (
            find(&c.la_code, "columns.la_code")?,
            find(&c.la_name, "columns.la_name")?,
        ),
        old_la: match &c.old_la_code {
            Some(col) => Some(find(col, "columns.old_la_code")?),
            None => None,
        },
        select: match &map.select {
            Some(s) => Some((find(&s.column, "select")?, s.value.clone())),
            None => None,
        },
        measures: list,
        width: header.len(),
    })
}

fn level_of(word: &str, mapping: &Mapping) -> Option<Level> {
    let l = &mapping.levels;
    [
        (&l.national, Level::National),
        (&l.regional, Level::Regional),
        (&l.local_authority, Level::LocalAuthority),
    ]
    .into_iter()
    .find(|(w, _)| w.as_str() == word)
    .map(|(_, level)| level)
}

/// The period of a row, or (whether the identifier is at fault, the rule).
fn period_of(identifier: &str, period: &str, mapping: &Mapping) -> Result<Period, (bool, String)> {
    let shown: String = identifier.chars().take(40).collect();
    let kind = mapping.period_kind(identifier).ok_or_else(|| {
        (
            true,
            format!("`{shown}` is not one of the mapping's periods"),
        )
    })?;
    let digits = |n: usize| period.len() == n && period.bytes().all(|b| b.is_ascii_digit());
    let text = match kind {
        PeriodKind::CalendarYear if digits(4) => period.to_string(),
        PeriodKind::AcademicYear | PeriodKind::FinancialYear if digits(6) => {
            let prefix = if kind == PeriodKind::AcademicYear {
                "AY"
            } else {
                "FY"
            };
            format!("{prefix}{}/{}", &period[..4], &period[4..])
        }
        _ => String::new(),
    };
    text.parse::<Period>().map_err(|_| {
        let want = match kind {
            PeriodKind::CalendarYear => "YYYY",
            _ => "YYYYYY, a year and the next one's last two digits (201819)",
        };
        (
            false,
            format!(
                "is not a {} period: {want}",
                kind.as_str().replace('_', " ")
            ),
        )
    })
}

enum AreaFault {
    Cell(StatsError),
    /// The column at this index is blank where the level needs it.
    Blank(usize),
}

/// The area a row is about: its level's code and name, which must be given.
fn area_of<'a>(
    level: Level,
    at: &Positions,
    cell: &dyn Fn(usize) -> Result<&'a str, StatsError>,
) -> Result<Area, AreaFault> {
    let (code_at, name_at) = match level {
        Level::National => at.country,
        Level::Regional => at.region,
        Level::LocalAuthority => at.la,
    };
    let given = |i: usize| -> Result<String, AreaFault> {
        let v = cell(i).map_err(AreaFault::Cell)?.trim();
        if v.is_empty() {
            Err(AreaFault::Blank(i))
        } else {
            Ok(v.to_string())
        }
    };
    let optional = |i: Option<usize>| -> Result<Option<String>, AreaFault> {
        let Some(i) = i else { return Ok(None) };
        let v = cell(i).map_err(AreaFault::Cell)?.trim();
        Ok((!v.is_empty()).then(|| v.to_string()))
    };
    let la = level == Level::LocalAuthority;
    Ok(Area {
        level,
        code: given(code_at)?,
        name: given(name_at)?,
        old_code: if la { optional(at.old_la)? } else { None },
        region_code: if la {
            optional(Some(at.region.0))?
        } else {
            None
        },
    })
}

/// A cell's figure and its decimal places, `None` for a code of no figure (or blank), or the
/// rule it breaks.
fn figure_of(cell: &str, unit: StatUnit, mapping: &Mapping) -> Result<Option<(f64, u8)>, String> {
    let cell = cell.trim();
    if cell.is_empty() || mapping.absent.iter().any(|a| a == cell) {
        return Ok(None);
    }
    let parsed = number(cell);
    let ok = match (parsed, unit) {
        (Some((v, _)), StatUnit::Count) => v.fract() == 0.0,
        (Some((v, _)), StatUnit::Percent) => (0.0..=100.0).contains(&v),
        (None, _) => false,
    };
    match parsed {
        Some(n) if ok => Ok(Some(n)),
        _ => Err(format!(
            "is not {}, nor a code the mapping reads as no figure ({})",
            match unit {
                StatUnit::Count => "a whole number",
                StatUnit::Percent => "a percentage from 0 to 100",
            },
            mapping.absent_words()
        )),
    }
}

/// A plain decimal: an optional minus, digits, optionally a point and digits. Its value and
/// its decimal places (at most 15).
fn number(s: &str) -> Option<(f64, u8)> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.len() <= 15 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let value: f64 = s.parse().ok()?;
    let places = frac.map_or(0, str::len);
    Some((value, u8::try_from(places).ok()?))
}

#[cfg(test)]
mod tests;
