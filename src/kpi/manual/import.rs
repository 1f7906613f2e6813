//! `kpi import FILE.csv`: a meeting's worth of manual values in one CSV, accepted whole or
//! refused whole.
//!
//! Owns: the import's columns and the checks on its rows. The file is read by the extract
//! loader's own CSV reader and cell checks ([`crate::load`]: UTF-8, a bounded record, text
//! without control characters, numbers as numbers), then each row by [`super::check`]. Every
//! problem names the line, the column and the rule, never the cell. Pure: takes the bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Draft, ManualValue, check};
use crate::kpi::Catalogue;
use crate::load::{
    ColType, ColumnDef, KindDef, LoadError, LoadSettings, Policy, Problem, Problems, Record,
    RecordReader, Value, parse_bytes, read::csv::CsvReader, shown_header,
};

/// The columns, in the order the header is expected to give them (any order is read).
pub const COLUMNS: [&str; 7] = [
    "kpi",
    "period",
    "value",
    "numerator",
    "denominator",
    "note",
    "by",
];

/// Largest file: a meeting's worth of values is a few kilobytes.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Most rows: 26 KPIs over several years of periods fit many times over.
pub const MAX_ROWS: usize = 5000;
/// Longest line.
const MAX_RECORD: usize = 16 * 1024;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: the file is empty (no header row); its columns are {}", COLUMNS.join(","))]
    Empty { file: String },
    #[error(
        "{file}: import refused, nothing stored: the file is larger than {MAX_BYTES} bytes or has \
         more than {MAX_ROWS} rows; an import is a meeting's values, so split it"
    )]
    TooBig { file: String },
    #[error("{file}: {}", render(.problems, *.total))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
        total: usize,
    },
}

impl ImportError {
    /// The problems found (none for an empty or oversized file).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ImportError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render(problems: &[Problem], total: usize) -> String {
    let mut s = format!(
        "import refused, nothing stored ({total} problem{})",
        if total == 1 { "" } else { "s" }
    );
    for p in problems {
        let _ = write!(s, "\n  {p}");
    }
    if total > problems.len() {
        let _ = write!(s, "\n  ... and {} more", total - problems.len());
    }
    s
}

/// The import as an extract kind, so the loader's reader and cell checks read it.
fn kind() -> KindDef {
    let col = |name: &str, ty: ColType, required: bool, max_len: Option<usize>| ColumnDef {
        name: name.to_string(),
        ty,
        required,
        max_len,
        values: None,
        min: None,
        max: None,
        earliest: None,
        future: false,
        event: false,
    };
    KindDef {
        title: "manual KPI values".into(),
        key: vec!["kpi".into(), "period".into()],
        columns: vec![
            col("kpi", ColType::Text, true, Some(16)),
            col("period", ColType::Text, true, Some(16)),
            col("value", ColType::Decimal, true, None),
            col("numerator", ColType::Integer, false, None),
            col("denominator", ColType::Integer, false, None),
            col("note", ColType::Text, false, Some(super::MAX_NOTE)),
            col("by", ColType::Text, false, Some(super::MAX_BY)),
        ],
        rules: Vec::new(),
    }
}

/// Read and check an import. `file` names it in errors; a row with `by` blank was entered by
/// `default_by` (the `--by` given, else the login name); `today` bounds the periods.
pub fn read(
    bytes: &[u8],
    file: &str,
    catalogue: &Catalogue,
    default_by: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<ManualValue>, ImportError> {
    let invalid = |p: Problems| {
        let LoadError::Invalid {
            problems, total, ..
        } = p.into_error(file)
        else {
            unreachable!("into_error gives Invalid")
        };
        ImportError::Invalid {
            file: file.to_string(),
            problems,
            total,
        }
    };
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::TooBig { file: file.into() });
    }
    let mut problems = Problems::default();
    // Our own header check first: the loader's words are about extracts and their sources.
    let at = match header(bytes, &mut problems) {
        Some(at) => at,
        None if problems.is_empty() => return Err(ImportError::Empty { file: file.into() }),
        None => return Err(invalid(problems)),
    };
    let settings = LoadSettings {
        policy: Policy::Quarantine,
        max_record_bytes: MAX_RECORD,
        ..LoadSettings::default()
    };
    let batches = match parse_bytes(bytes, file, &kind(), &settings, today) {
        Ok((_, batches)) => batches,
        Err(LoadError::Empty { .. }) => return Err(ImportError::Empty { file: file.into() }),
        Err(LoadError::Invalid {
            problems: found,
            total,
            ..
        }) => {
            return Err(ImportError::Invalid {
                file: file.into(),
                problems: found,
                total,
            });
        }
    };
    let rows: usize = batches.iter().map(|b| b.len() + b.set_aside.len()).sum();
    if rows > MAX_ROWS {
        return Err(ImportError::TooBig { file: file.into() });
    }
    let mut values = Vec::new();
    let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
    for b in &batches {
        b.set_aside.iter().for_each(|p| problems.add(p.clone()));
        for (line, cells) in b.rows() {
            let text = |i: usize| b.str(&cells[i]).map(str::to_string);
            let int = |i: usize| match cells[i] {
                Value::Int(n) => Some(n),
                _ => None,
            };
            let draft = Draft {
                kpi: text(0).unwrap_or_default(),
                period: text(1).unwrap_or_default(),
                value: match cells[2] {
                    Value::Dec(x) => x,
                    _ => f64::NAN,
                },
                numerator: int(3),
                denominator: int(4),
                note: text(5),
                by: text(6)
                    .or_else(|| default_by.map(str::to_string))
                    .unwrap_or_default(),
            };
            let pos = |name: &str| at.get(name).copied().unwrap_or(0);
            match check(catalogue, &draft, today) {
                Ok(v) => {
                    let key = (v.kpi_id.clone(), v.period.to_string());
                    match seen.get(&key) {
                        Some(first) => problems.push(
                            line,
                            Some((pos("kpi"), "kpi")),
                            format!("repeats the KPI and period of line {first}"),
                        ),
                        None => {
                            seen.insert(key, line);
                            values.push(v);
                        }
                    }
                }
                Err(refused) => {
                    for r in refused {
                        let name = r.field.as_str();
                        let message = if name == "by" && default_by.is_none() {
                            format!("{}; the login name is not known, so give --by", r.message)
                        } else {
                            r.message
                        };
                        problems.push(line, Some((pos(name), name)), message);
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(invalid(problems))
    }
}

/// Where each column is (1-based), or `None` with the header's problems (none: no header).
fn header(bytes: &[u8], problems: &mut Problems) -> Option<BTreeMap<&'static str, usize>> {
    let mut reader = CsvReader::new(bytes, MAX_RECORD);
    let mut rec = Record::default();
    match reader.read(&mut rec) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            problems.push(e.line, None, e.message);
            return None;
        }
    }
    let mut at = BTreeMap::new();
    for (i, raw) in rec.iter().enumerate() {
        let name = std::str::from_utf8(raw).map(str::trim).unwrap_or("");
        let name = name.strip_prefix('\u{feff}').unwrap_or(name);
        match COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) => {
                if let Some(first) = at.insert(*c, i + 1) {
                    problems.push(
                        1,
                        Some((i + 1, c)),
                        format!("column repeats column {first}"),
                    );
                }
            }
            None => {
                let shown = shown_header(raw).unwrap_or_else(|| "unnamed".into());
                problems.push(
                    1,
                    Some((i + 1, &shown)),
                    format!("unexpected column; the columns are {}", COLUMNS.join(",")),
                );
            }
        }
    }
    for c in COLUMNS {
        if !at.contains_key(c) {
            problems.push(
                1,
                None,
                format!(
                    "missing column `{c}`; the header is {} (blank cells are fine)",
                    COLUMNS.join(",")
                ),
            );
        }
    }
    problems.is_empty().then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 7, 31).expect("date")
    }

    fn import(text: &str) -> Result<Vec<ManualValue>, ImportError> {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        read(text.as_bytes(), "m.csv", &c, Some("ann"), today())
    }

    const HEAD: &str = "kpi,period,value,numerator,denominator,note,by\n";

    #[test]
    fn a_good_file_gives_every_row_with_who_entered_it() {
        let v = import(&format!(
            "{HEAD}3/3,2020-Q2,34.0,34,100,\"34 of 100, see minutes\",Bob\n4/1,AY2020/21,41.5,,,,\n"
        ))
        .expect("accepted");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].kpi_id, "3/3");
        assert_eq!(v[0].period.to_string(), "2020-Q2");
        assert_eq!((v[0].numerator, v[0].denominator), (Some(34), Some(100)));
        assert_eq!(v[0].note.as_deref(), Some("34 of 100, see minutes"));
        assert_eq!(v[0].by, "Bob");
        assert_eq!(v[1].by, "ann", "blank `by`: whoever runs the import");
        assert_eq!(v[1].note, None);
    }

    #[test]
    fn every_bad_row_is_named_by_line_column_and_rule_and_no_cell_is_repeated() {
        let err = import(&format!(
            "{HEAD}1/2a,2020-05,40,,,,\n4/1,2020-13,41,,,,\n3/3,2020-Q2,120,,,,\n3/3,2020-Q2,20,,,,\n\
             3/4,2020-Q3,x,,,,\n3/5,2020-06,50,5,,,\n3/5,2020-07,50,5,10,,\n3/5,2020-08,40,5,10,,\n"
        ))
        .expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("m.csv: import refused, nothing stored (6 problems)"),
            "{text}"
        );
        for want in [
            "line 2, column 1 (kpi): this KPI is computed by each run from the `tracker` extract",
            "line 3, column 2 (period): not a period",
            "line 4, column 3 (value): a percentage is between 0 and 100",
            "line 6, column 3 (value): not a number",
            "line 7, column 5 (denominator): a numerator needs its denominator",
            "line 9, column 3 (value): does not agree with numerator / denominator (50.0%)",
        ] {
            assert!(text.contains(want), "`{want}` not in\n{text}");
        }
        // Line 5 has line 4's KPI and period, but line 4 was refused, so it is no repeat.
        assert!(!text.contains("line 5"), "{text}");
        assert!(!text.contains("2020-13"), "no cell repeated: {text}");
        assert_eq!(err.problems().len(), 6);
    }

    #[test]
    fn a_repeated_kpi_and_period_is_refused() {
        let err = import(&format!("{HEAD}3/3,2020-Q2,20,,,,\n3/3,2020-Q2,21,,,,\n"))
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("line 3, column 1 (kpi): repeats the KPI and period of line 2"),
            "{err}"
        );
    }

    #[test]
    fn the_header_must_name_every_column_once() {
        let err = import("kpi,period,value,note,by,extra\n3/3,2020-Q2,20,,,\n").expect_err("x");
        let text = err.to_string();
        assert!(
            text.contains("line 1, column 6 (extra): unexpected column"),
            "{text}"
        );
        assert!(text.contains("missing column `numerator`"), "{text}");
        assert!(matches!(import(""), Err(ImportError::Empty { .. })));
        let err = import(&format!("{HEAD}3/3,2020-Q2,20,,,,\nbroken\n")).expect_err("x");
        assert!(
            err.to_string()
                .contains("line 3: has 1 fields, the header has 7"),
            "{err}"
        );
        let reordered =
            import("by,kpi,value,period,numerator,denominator,note\nCy,3/3,20,2020-Q2,,,\n")
                .expect("any order");
        assert_eq!(reordered[0].by, "Cy");
    }

    #[test]
    fn an_unknown_login_is_said_when_by_is_blank() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let text = format!("{HEAD}3/3,2020-Q2,20,,,,\n");
        let err = read(text.as_bytes(), "m.csv", &c, None, today()).expect_err("refused");
        assert!(err.to_string().contains("column 7 (by): say who"), "{err}");
        assert!(err.to_string().contains("give --by"), "{err}");
    }

    #[test]
    fn a_file_over_the_bounds_is_refused_without_reading_it() {
        let big = format!("{HEAD}{}", "3/3,2020-Q2,20,,,,\n".repeat(MAX_BYTES / 10));
        assert!(matches!(import(&big), Err(ImportError::TooBig { .. })));
        let many: String = (0..=MAX_ROWS)
            .map(|i| format!("3/3,2020-Q2,20,,,row {i},\n"))
            .collect();
        assert!(matches!(
            import(&format!("{HEAD}{many}")),
            Err(ImportError::TooBig { .. })
        ));
    }
}
