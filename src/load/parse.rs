//! Parse: records from a reader become typed, validated rows of a kind, in batches.
//!
//! The header is matched to the kind's columns through the source's mapping; each cell is
//! trimmed and read by its column's type; each row is checked against the kind's rules. Under
//! the strict policy any bad row rejects the extract; under quarantine a bad row is set aside
//! with its problems. Problems in the file itself (header, a record too long, a cut-off last
//! row) reject the extract under either policy. Repeated keys are found by the store, which
//! holds every row; nothing here keeps a row after its batch is sent.

use chrono::NaiveDate;

use super::batch::{Batch, Value};
use super::cell::{self, DateError};
use super::kind::{ColType, ColumnDef, KindDef, Rule};
use super::problem::{LoadError, Problem, Problems, shown_header};
use super::read::{Record, RecordReader};
use super::settings::{LoadSettings, Policy};

/// Rows per batch handed to the store.
pub const BATCH_ROWS: usize = 8192;

/// What a parse accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSummary {
    pub rows: u64,
    /// Rows set aside (quarantine policy only).
    pub set_aside: u64,
    /// The latest event date in the accepted rows.
    pub as_of: Option<NaiveDate>,
    /// 1-based file position of the first key column (for repeated-key errors).
    pub key_column: Option<usize>,
}

/// Where each of the kind's columns sits in the file.
struct Binding {
    /// File position per kind column (all are bound once the header is accepted).
    pos: Vec<Option<usize>>,
    width: usize,
}

/// Parse every record `reader` gives. `emit` receives each full batch and returns false when
/// nobody is listening any more (the parse then stops). `file` names the extract in errors;
/// `today` is the fetch date, after which no event may fall.
pub fn parse(
    reader: &mut dyn RecordReader,
    file: &str,
    kind: &KindDef,
    settings: &LoadSettings,
    today: NaiveDate,
    emit: &mut dyn FnMut(Batch) -> bool,
) -> Result<ParseSummary, LoadError> {
    let settings = &*settings.for_reading(kind);
    let mut rec = Record::default();
    read_header(reader, &mut rec, file)?;
    let mut problems = Problems::default();
    let Some(binding) = bind(&rec, kind, settings, &mut problems) else {
        return Err(problems.into_error(file));
    };
    let rules = kind.resolved_rules();
    let mut check = RowCheck {
        kind,
        settings,
        today,
        binding: &binding,
        rules: &rules,
        row_problems: Vec::new(),
    };
    let mut summary = ParseSummary {
        rows: 0,
        set_aside: 0,
        as_of: None,
        key_column: kind
            .key_positions()
            .first()
            .and_then(|k| binding.pos[*k])
            .map(|p| p + 1),
    };
    let mut batch = Batch::new(kind.columns.len(), BATCH_ROWS);
    let mut fatal = false;
    let mut last_row_bad = false;
    let mut last_line = 1;
    loop {
        match reader.read(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                problems.push(e.line, None, e.message);
                fatal = true;
                break;
            }
        }
        last_line = rec.line;
        last_row_bad = !check.take(&rec, &mut batch, &mut summary, &mut problems);
        if batch.len() >= BATCH_ROWS || batch.set_aside.len() >= BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Batch::new(kind.columns.len(), BATCH_ROWS));
            if !emit(full) {
                return Err(stopped(file, last_line));
            }
        }
    }
    let fatal = fatal || check_end(&*reader, last_row_bad, last_line, &summary, &mut problems);
    let rejected =
        fatal || (settings.policy == Policy::Strict && !problems.is_empty()) || summary.rows == 0;
    if rejected {
        return Err(problems.into_error(file));
    }
    if !batch.is_empty() && !emit(batch) {
        return Err(stopped(file, last_line));
    }
    Ok(summary)
}

/// Read the header record into `rec`; an empty file or an unreadable first record rejects the
/// extract.
fn read_header(
    reader: &mut dyn RecordReader,
    rec: &mut Record,
    file: &str,
) -> Result<(), LoadError> {
    match reader.read(rec) {
        Ok(true) => Ok(()),
        Ok(false) => Err(LoadError::Empty {
            file: file.to_string(),
        }),
        Err(e) => {
            let mut problems = Problems::default();
            problems.push(e.line, None, e.message);
            Err(problems.into_error(file))
        }
    }
}

/// The file's own problems found at its end: a bad last row cut off mid-record (the file looks
/// truncated), or a header with no rows under it. True if there is one: it rejects the extract
/// under either policy.
fn check_end(
    reader: &dyn RecordReader,
    last_row_bad: bool,
    last_line: u64,
    summary: &ParseSummary,
    problems: &mut Problems,
) -> bool {
    if last_row_bad && reader.ends_mid_record() {
        problems.push(
            last_line,
            None,
            "the file ends in the middle of this row, so it looks truncated",
        );
        return true;
    }
    if summary.rows == 0 && summary.set_aside == 0 {
        problems.push(1, None, "the header has no data rows under it");
        return true;
    }
    false
}

fn stopped(file: &str, line: u64) -> LoadError {
    let mut p = Problems::default();
    p.push(
        line,
        None,
        "the load was stopped before the end of the file",
    );
    p.into_error(file)
}

/// Match the header to the kind's columns. `None` when the header is unusable.
fn bind(
    header: &Record,
    kind: &KindDef,
    settings: &LoadSettings,
    problems: &mut Problems,
) -> Option<Binding> {
    let mut pos: Vec<Option<usize>> = vec![None; kind.columns.len()];
    let mut unknown = Vec::new();
    let mut matched = 0;
    for (p, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw).map(str::trim).unwrap_or("");
        let ours = kind.columns.iter().position(|c| {
            !name.is_empty() && settings.header_for(&c.name).eq_ignore_ascii_case(name)
        });
        match ours {
            Some(i) if pos[i].is_some() => problems.push(
                1,
                Some((p + 1, &kind.columns[i].name)),
                format!(
                    "column repeats column {}",
                    pos[i].map_or(0, |first| first + 1)
                ),
            ),
            Some(i) => {
                pos[i] = Some(p);
                matched += 1;
            }
            None if settings
                .ignore_columns
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name)) => {}
            None => unknown.push((p, raw)),
        }
    }
    if matched == 0 {
        // Most likely a file without its header row: its first row is a child's, so no cell of
        // it may be shown.
        problems.push(
            1,
            None,
            format!(
                "the first line is not a header: none of the {} columns of the {} extract is \
                 there (is the header row missing, or are the columns named differently? map \
                 them under load.columns)",
                kind.columns.len(),
                kind.title
            ),
        );
        return None;
    }
    for (p, raw) in unknown {
        let shown = shown_header(raw).unwrap_or_else(|| "unnamed".to_string());
        problems.push(
            1,
            Some((p + 1, &shown)),
            format!(
                "unexpected column: not part of the {} extract (columns may have shifted; list \
                 columns to skip under load.ignore_columns)",
                kind.title
            ),
        );
    }
    // Every declared column must be in the header, required or not: a column that vanished
    // is a changed extract, and reading it as all blank would change figures silently.
    for (i, c) in kind.columns.iter().enumerate() {
        if pos[i].is_none() {
            let header = settings.header_for(&c.name);
            let msg = if header == c.name {
                format!("missing column `{}`", c.name)
            } else {
                format!(
                    "missing column `{}` (mapped to the header `{header}`)",
                    c.name
                )
            };
            problems.push(1, None, msg);
        }
    }
    problems.is_empty().then_some(Binding {
        pos,
        width: header.len(),
    })
}

/// Checks one row at a time, writing good rows into the batch.
struct RowCheck<'a> {
    kind: &'a KindDef,
    settings: &'a LoadSettings,
    today: NaiveDate,
    binding: &'a Binding,
    rules: &'a [Rule],
    row_problems: Vec<Problem>,
}

impl RowCheck<'_> {
    /// Check one record into `batch` and count it in `summary`. A bad row's problems go to
    /// `problems` (and, under quarantine, to the batch's set-aside). True if the row is good.
    fn take(
        &mut self,
        rec: &Record,
        batch: &mut Batch,
        summary: &mut ParseSummary,
        problems: &mut Problems,
    ) -> bool {
        match self.row(rec, batch) {
            Some(as_of) => {
                summary.rows += 1;
                summary.as_of = summary.as_of.max(as_of);
                true
            }
            None => {
                summary.set_aside += 1;
                for p in self.row_problems.drain(..) {
                    if self.settings.policy == Policy::Quarantine {
                        batch.set_aside.push(p.clone());
                    }
                    problems.add(p);
                }
                false
            }
        }
    }

    fn at(&mut self, line: u64, col: usize, message: impl Into<String>) {
        let pos = self.binding.pos[col].map_or(0, |p| p + 1);
        self.row_problems.push(Problem {
            line,
            column: Some((pos, self.kind.columns[col].name.clone())),
            message: message.into(),
        });
    }

    /// Append the row to `batch` if it is good and return its latest event date (`Some(None)`
    /// when it has none); otherwise leave the batch as it was and fill `row_problems`.
    fn row(&mut self, rec: &Record, batch: &mut Batch) -> Option<Option<NaiveDate>> {
        let line = rec.line;
        if rec.len() != self.binding.width {
            self.row_problems.push(Problem {
                line,
                column: None,
                message: format!(
                    "has {} fields, the header has {}",
                    rec.len(),
                    self.binding.width
                ),
            });
            return None;
        }
        let (values_mark, text_mark) = (batch.values.len(), batch.text.len());
        let mut as_of: Option<NaiveDate> = None;
        for (i, c) in self.kind.columns.iter().enumerate() {
            let v = match self.binding.pos[i] {
                None => Value::Null,
                Some(p) => self.cell(line, i, c, rec.get(p), batch),
            };
            if let (Value::Date(d), true) = (v, c.event) {
                as_of = as_of.max(Some(d));
            }
            batch.values.push(v);
        }
        if self.row_problems.is_empty() {
            self.rules(line, batch, values_mark);
        }
        if self.row_problems.is_empty() {
            batch.lines.push(line);
            Some(as_of)
        } else {
            batch.values.truncate(values_mark);
            batch.text.truncate(text_mark);
            None
        }
    }

    fn cell(&mut self, line: u64, i: usize, c: &ColumnDef, raw: &[u8], batch: &mut Batch) -> Value {
        let s = match std::str::from_utf8(raw) {
            Ok(s) => s.trim(),
            Err(e) => {
                let bad = raw.get(e.valid_up_to()).copied().unwrap_or(0);
                self.at(
                    line,
                    i,
                    format!(
                        "not valid UTF-8 (byte 0x{bad:02X}); the extract must be UTF-8, and this \
                         looks like Windows-1252"
                    ),
                );
                return Value::Null;
            }
        };
        if s.is_empty() {
            if c.required {
                self.at(line, i, "required value is blank");
            }
            return Value::Null;
        }
        match c.ty {
            ColType::Text => {
                let max = c.max_len();
                if s.len() > max && s.chars().count() > max {
                    let n = s.chars().count();
                    self.at(
                        line,
                        i,
                        format!("value is {n} characters long; at most {max} allowed"),
                    );
                    return Value::Null;
                }
                if s.chars().any(char::is_control) {
                    self.at(line, i, "value contains a line break or control character");
                    return Value::Null;
                }
                batch.push_text(s)
            }
            ColType::Enum => {
                let values = c.values.as_deref().unwrap_or(&[]);
                if values.iter().any(|v| v == s) {
                    batch.push_text(s)
                } else {
                    let mut listed: Vec<&str> = values.iter().take(8).map(String::as_str).collect();
                    if values.len() > 8 {
                        listed.push("...");
                    }
                    self.at(
                        line,
                        i,
                        format!("not one of the allowed values ({})", listed.join(", ")),
                    );
                    Value::Null
                }
            }
            ColType::Month => {
                if cell::month(s) {
                    batch.push_text(s)
                } else {
                    self.at(line, i, "not a month (YYYY-MM)");
                    Value::Null
                }
            }
            ColType::Flag => match cell::flag(s, &self.settings.flags) {
                Some(b) => Value::Flag(b),
                None => {
                    let words: Vec<String> = self
                        .settings
                        .flags
                        .iter()
                        .map(|w| {
                            let (y, n) = w.words();
                            format!("{y}/{n}")
                        })
                        .collect();
                    self.at(line, i, format!("flag must be {}", words.join(" or ")));
                    Value::Null
                }
            },
            ColType::Integer => match cell::integer(s) {
                Some(n) if self.in_bounds(line, i, c, n as f64) => Value::Int(n),
                Some(_) => Value::Null,
                None => {
                    self.at(line, i, "not a whole number");
                    Value::Null
                }
            },
            ColType::Decimal => match cell::decimal(s) {
                Some(x) if self.in_bounds(line, i, c, x) => Value::Dec(x),
                Some(_) => Value::Null,
                None => {
                    self.at(line, i, "not a number");
                    Value::Null
                }
            },
            ColType::Date => self.date(line, i, c, s),
        }
    }

    fn in_bounds(&mut self, line: u64, i: usize, c: &ColumnDef, x: f64) -> bool {
        if c.min.is_some_and(|lo| x < lo) || c.max.is_some_and(|hi| x > hi) {
            let lo = c.min.map_or("any".into(), |v| v.to_string());
            let hi = c.max.map_or("any".into(), |v| v.to_string());
            self.at(line, i, format!("out of range ({lo} to {hi})"));
            false
        } else {
            true
        }
    }

    fn date(&mut self, line: u64, i: usize, c: &ColumnDef, s: &str) -> Value {
        match cell::date(s, &self.settings.date_formats) {
            Err(DateError::NotReal) => {
                self.at(line, i, "not a real calendar date");
                Value::Null
            }
            Err(DateError::Shape) => {
                let formats: Vec<&str> = self
                    .settings
                    .date_formats
                    .iter()
                    .map(|f| f.as_str())
                    .collect();
                self.at(
                    line,
                    i,
                    format!(
                        "not a date in the accepted format ({})",
                        formats.join(" or ")
                    ),
                );
                Value::Null
            }
            Ok(d) if d < c.earliest() => {
                self.at(
                    line,
                    i,
                    format!("date is before {}, the earliest allowed", c.earliest()),
                );
                Value::Null
            }
            Ok(d) if d > self.today && !c.future => {
                self.at(
                    line,
                    i,
                    format!(
                        "date is in the future (after the fetch date {})",
                        self.today
                    ),
                );
                Value::Null
            }
            Ok(d) => Value::Date(d),
        }
    }

    fn rules(&mut self, line: u64, batch: &Batch, mark: usize) {
        let row = &batch.values[mark..];
        for rule in self.rules {
            match rule {
                Rule::Order { earlier, later } => {
                    if let (Value::Date(e), Value::Date(l)) = (row[*earlier], row[*later])
                        && l < e
                    {
                        let msg = format!("date is before {}", self.kind.columns[*earlier].name);
                        self.at(line, *later, msg);
                    }
                }
                Rule::Requires { column, needs } => {
                    if row[*column] != Value::Null && row[*needs] == Value::Null {
                        let msg =
                            format!("is given but {} is blank", self.kind.columns[*needs].name);
                        self.at(line, *column, msg);
                    }
                }
                Rule::When {
                    column,
                    values,
                    present,
                } => {
                    let v = row[*column];
                    let text = match v {
                        Value::Flag(true) => Some("Y"),
                        Value::Flag(false) => Some("N"),
                        _ => batch.str(&v),
                    };
                    let listed = text.is_some_and(|t| values.iter().any(|x| x == t));
                    if listed != (row[*present] != Value::Null) {
                        let msg = format!(
                            "{} and {} disagree",
                            self.kind.columns[*column].name, self.kind.columns[*present].name
                        );
                        self.at(line, *column, msg);
                    }
                }
            }
        }
    }
}
