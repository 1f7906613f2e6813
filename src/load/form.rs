//! A form: a small CSV that people fill in for a meeting (manual KPI values, action updates,
//! commentary on exceptions), accepted whole or refused whole.
//!
//! Owns: the bounds on such a file (bytes, rows, record), the header check (every column once,
//! in any order, nothing else) and the error that names each problem by line, column and rule,
//! never by the cell. The cells are read by the extract loader's own CSV reader and checks
//! (UTF-8, a bounded record, text without control characters, numbers as numbers). Each form's
//! own rules on a row live with the stage that owns the form ([`crate::kpi::manual::import`],
//! [`crate::kpi::commentary`], [`crate::action`]). Pure: takes the bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{
    Batch, ColType, ColumnDef, KindDef, LoadError, LoadSettings, Policy, Problem, Problems, Record,
    RecordReader, parse_bytes, read::csv::CsvReader, shown_header,
};

/// Largest file: a meeting's worth of entries is a few kilobytes.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Most rows.
pub const MAX_ROWS: usize = 5000;
/// Longest line.
pub const MAX_RECORD: usize = 16 * 1024;

#[derive(Debug, Clone, thiserror::Error)]
pub enum FormError {
    #[error("{file}: the file is empty (no header row); its columns are {columns}")]
    Empty { file: String, columns: String },
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

impl FormError {
    /// The problems found (none for an empty or oversized file).
    pub fn problems(&self) -> &[Problem] {
        match self {
            FormError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// The problems collected, as the refusal of `file` (sorted by line).
    pub fn invalid(file: &str, p: Problems) -> FormError {
        match p.into_error(file) {
            LoadError::Invalid {
                problems, total, ..
            } => FormError::Invalid {
                file: file.to_string(),
                problems,
                total,
            },
            LoadError::Empty { file } => FormError::Empty {
                file,
                columns: String::new(),
            },
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

/// A column of a form: its name, type, whether a cell must be filled, and (text) its longest.
pub fn column(name: &str, ty: ColType, required: bool, max_len: Option<usize>) -> ColumnDef {
    ColumnDef {
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
    }
}

/// A form read: where each column is (1-based, by name) and the typed rows.
pub struct Filled {
    pub at: BTreeMap<String, usize>,
    pub batches: Vec<Batch>,
}

impl Filled {
    /// The 1-based position of column `name` (0 if the header lacks it, which the header
    /// check refuses first).
    pub fn pos(&self, name: &str) -> usize {
        self.at.get(name).copied().unwrap_or(0)
    }
}

/// Read a form of `kind` (its `columns` are the form's, every one required in the header):
/// the bounds, the header, then every cell by the loader's checks. `file` names it in errors;
/// `today` is the loader's fetch date (unused by text columns).
pub fn read(
    bytes: &[u8],
    file: &str,
    kind: &KindDef,
    today: NaiveDate,
) -> Result<Filled, FormError> {
    let names: Vec<&str> = kind.columns.iter().map(|c| c.name.as_str()).collect();
    let empty = || FormError::Empty {
        file: file.into(),
        columns: names.join(","),
    };
    if bytes.len() > MAX_BYTES {
        return Err(FormError::TooBig { file: file.into() });
    }
    let mut problems = Problems::default();
    // Our own header check first: the loader's words are about extracts and their sources.
    let at = match header(bytes, &names, &mut problems) {
        Some(at) => at,
        None if problems.is_empty() => return Err(empty()),
        None => return Err(FormError::invalid(file, problems)),
    };
    let settings = LoadSettings {
        policy: Policy::Quarantine,
        max_record_bytes: MAX_RECORD,
        ..LoadSettings::default()
    };
    let batches = match parse_bytes(bytes, file, kind, &settings, today) {
        Ok((_, batches)) => batches,
        Err(LoadError::Empty { .. }) => return Err(empty()),
        Err(LoadError::Invalid {
            problems: found,
            total,
            ..
        }) => {
            return Err(FormError::Invalid {
                file: file.into(),
                problems: found,
                total,
            });
        }
    };
    let rows: usize = batches.iter().map(|b| b.len() + b.set_aside.len()).sum();
    if rows > MAX_ROWS {
        return Err(FormError::TooBig { file: file.into() });
    }
    Ok(Filled { at, batches })
}

/// The cells' own problems (set aside by the loader under quarantine) into `problems`.
fn set_aside(filled: &Filled, problems: &mut Problems) {
    for b in &filled.batches {
        b.set_aside.iter().for_each(|p| problems.add(p.clone()));
    }
}

/// Where each column is (1-based), or `None` with the header's problems (none: no header).
fn header(
    bytes: &[u8],
    columns: &[&str],
    problems: &mut Problems,
) -> Option<BTreeMap<String, usize>> {
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
    let all = columns.join(",");
    let mut at = BTreeMap::new();
    for (i, raw) in rec.iter().enumerate() {
        let name = std::str::from_utf8(raw).map(str::trim).unwrap_or("");
        let name = name.strip_prefix('\u{feff}').unwrap_or(name);
        match columns.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) => {
                if let Some(first) = at.insert(c.to_string(), i + 1) {
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
                    format!("unexpected column; the columns are {all}"),
                );
            }
        }
    }
    for c in columns {
        if !at.contains_key(*c) {
            problems.push(
                1,
                None,
                format!("missing column `{c}`; the header is {all} (blank cells are fine)"),
            );
        }
    }
    problems.is_empty().then_some(at)
}

/// One input refused: the form's column, the command's flag for it, and the rule broken (never
/// what was typed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: {message}")]
pub struct Refusal {
    pub column: &'static str,
    pub flag: &'static str,
    pub message: String,
}

/// An input of a form and of the command that takes one entry: (its column, its flag).
pub type Input = (&'static str, &'static str);

impl Refusal {
    pub fn new(input: Input, message: impl Into<String>) -> Refusal {
        Refusal {
            column: input.0,
            flag: input.1,
            message: message.into(),
        }
    }
}

/// The refusals of a command's inputs, one a line under `what` ("action set 1.2.1"), each
/// named by its flag.
pub fn refused(what: &str, refusals: &[Refusal]) -> String {
    let mut s = format!("{what}: refused, nothing stored:");
    for r in refusals {
        let _ = write!(s, "\n  {}: {}", r.flag, r.message);
    }
    s
}

/// Check every row of a form read: `check` turns a row's cells into its entry and the key it
/// may appear under once, or refuses it. A repeated key is named at `key_column` with the line
/// it first came on ("repeats `what` of line 2"). All the entries, or every problem (the
/// cells' own too).
pub fn check_rows<T>(
    file: &str,
    filled: &Filled,
    (key_column, what): (&str, &str),
    mut check: impl FnMut(&Batch, &[super::Value]) -> Result<(String, T), Vec<Refusal>>,
) -> Result<Vec<T>, FormError> {
    let mut problems = Problems::default();
    set_aside(filled, &mut problems);
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for b in &filled.batches {
        for (line, cells) in b.rows() {
            match check(b, cells) {
                Ok((key, entry)) => match seen.get(&key) {
                    Some(first) => problems.push(
                        line,
                        Some((filled.pos(key_column), key_column)),
                        format!("repeats {what} of line {first}"),
                    ),
                    None => {
                        seen.insert(key, line);
                        out.push(entry);
                    }
                },
                Err(refused) => {
                    for r in refused {
                        problems.push(line, Some((filled.pos(r.column), r.column)), r.message);
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(FormError::invalid(file, problems))
    }
}
