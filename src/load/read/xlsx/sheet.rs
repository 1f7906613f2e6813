//! The sheet's XML, streamed cell by cell into rows: where each cell is (its `r`, else the
//! next place), what it holds (by its `t` type and `s` format), and the work bounds: at most
//! [`MAX_ROWS`] rows and [`MAX_CELLS`] cells (blank or not) are scanned, and a cell's text is
//! refused as soon as it would take its row past `max_record_bytes`.

use std::io::{Read, Seek};

use quick_xml::events::{BytesStart, Event};

use super::book::{Book, NumFmt, rich_text};
use super::cell::{Value, unescape_x};
use super::part::{Fail, Part, Xml, Zip, is, refuse};
use super::{MAX_CELLS, MAX_ROWS, Rows};
use crate::load::read::{ReadError, Record};

/// A cell's type (`t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    /// No `t`: a number, or else its text.
    Plain,
    Number,
    Shared,
    Bool,
    Error,
    /// A formula's string result.
    Str,
    Inline,
    /// An ISO 8601 date.
    Date,
    Unknown,
}

/// A `<c>`'s attributes.
struct Attrs {
    /// 0-based (row, column), if it says.
    at: Option<(u32, u32)>,
    style: Option<usize>,
    typ: Type,
}

/// Stream the rows of the sheet `book.sheet_path`, handing each finished row to `send`
/// (which says false when nobody wants more).
pub fn stream<R: Read + Seek>(
    zip: &mut Zip<R>,
    book: &Book,
    rows: &mut Rows,
    event_max: usize,
    send: &mut dyn FnMut(Record) -> bool,
) -> Result<(), ReadError> {
    let i = super::part::find(zip, &book.sheet_path).ok_or_else(|| {
        refuse("the workbook has no part for its worksheet (not a readable xlsx workbook)")
    })?;
    let mut file = zip
        .by_index(i)
        .map_err(|_| refuse("the workbook has a part that cannot be read"))?;
    let mut xml = Xml::new(Part::new(&mut file as &mut dyn Read, event_max, book.used));
    Sheet {
        xml: &mut xml,
        book,
        rows,
        text: String::new(),
        value: String::new(),
    }
    .run(send)
}

struct Sheet<'a, R> {
    xml: &'a mut Xml<R>,
    book: &'a Book,
    rows: &'a mut Rows,
    /// An inline string's text, and a `<v>`'s.
    text: String,
    value: String,
}

impl<R: Read> Sheet<'_, R> {
    fn run(&mut self, send: &mut dyn FnMut(Record) -> bool) -> Result<(), ReadError> {
        loop {
            match self.next()? {
                Event::Start(e) if is(&e, "sheetData") => break,
                Event::Empty(e) if is(&e, "sheetData") => return Ok(()),
                Event::Eof => {
                    return Err(refuse(
                        "the worksheet has no sheet data (the file looks damaged)",
                    ));
                }
                _ => {}
            }
        }
        enum Step {
            Row(Option<u32>, bool),
            RowEnd,
            Cell(Attrs, bool),
            Skip,
            Done,
            Next,
        }
        // Where a cell without `r` is: the row after the last, the column after the last.
        let (mut row, mut col) = (0u32, 0u32);
        let (mut rows_seen, mut cells_seen) = (0u32, 0u32);
        loop {
            let line = self.rows.line();
            let step = match self.next()? {
                Event::Start(e) if is(&e, "row") => Step::Row(row_number(&e, line)?, false),
                Event::Empty(e) if is(&e, "row") => Step::Row(row_number(&e, line)?, true),
                Event::Start(e) if is(&e, "c") => Step::Cell(cell_attrs(&e, line)?, false),
                Event::Empty(e) if is(&e, "c") => Step::Cell(cell_attrs(&e, line)?, true),
                Event::Start(_) => Step::Skip,
                Event::End(e) if e.local_name().as_ref() == "row" => Step::RowEnd,
                Event::End(e) if e.local_name().as_ref() == "sheetData" => Step::Done,
                Event::Eof => return Err(Fail::Damaged.at(line)),
                _ => Step::Next,
            };
            match step {
                Step::Row(r, empty) => {
                    rows_seen += 1;
                    if rows_seen > MAX_ROWS {
                        return Err(too_many_rows(line));
                    }
                    if let Some(r) = r {
                        row = r;
                    }
                    if empty {
                        row = row.saturating_add(1);
                        col = 0;
                    }
                }
                Step::RowEnd => {
                    row = row.saturating_add(1);
                    col = 0;
                }
                Step::Cell(a, empty) => {
                    let (r, c) = a.at.unwrap_or((row, col));
                    if r >= MAX_ROWS {
                        return Err(too_many_rows(u64::from(r) + 1));
                    }
                    cells_seen += 1;
                    if cells_seen > MAX_CELLS {
                        return Err(ReadError::new(
                            u64::from(r) + 1,
                            format!(
                                "the sheet holds more than {MAX_CELLS} cells in all (value or \
                                 blank); the file is refused"
                            ),
                        ));
                    }
                    col = c.saturating_add(1);
                    // `<c/>` holds no value: nothing to add, no row to start.
                    if empty {
                        continue;
                    }
                    if let Some(done) = self.rows.at_row(r)?
                        && !send(done)
                    {
                        return Ok(());
                    }
                    self.cell(&a, c)?;
                }
                Step::Skip => self.xml.skip().map_err(|f| f.at(line))?,
                Step::Done => break,
                Step::Next => {}
            }
        }
        if let Some(done) = self.rows.finish() {
            send(done);
        }
        Ok(())
    }

    fn next(&mut self) -> Result<Event<'_>, ReadError> {
        let line = self.rows.line();
        self.xml.next().map_err(|f| f.at(line))
    }

    /// Read the cell whose start was just read, at column `col` of the current row.
    fn cell(&mut self, a: &Attrs, col: u32) -> Result<(), ReadError> {
        let line = self.rows.line();
        let room = self.rows.room();
        let in_cell = |rows: &Rows, f: Fail| match f {
            Fail::TooLong => rows.too_long(col),
            f => f.at(line),
        };
        enum Step {
            Value,
            Inline,
            Skip,
            Done,
            Next,
        }
        let (mut has_value, mut has_inline) = (false, false);
        loop {
            let step = match self.xml.next().map_err(|f| in_cell(self.rows, f))? {
                Event::Start(e) if is(&e, "v") => Step::Value,
                Event::Start(e) if is(&e, "is") => Step::Inline,
                Event::Start(_) => Step::Skip,
                Event::End(_) => Step::Done,
                Event::Eof => return Err(Fail::Damaged.at(line)),
                _ => Step::Next,
            };
            let read = match step {
                Step::Value => {
                    self.value.clear();
                    has_value = true;
                    self.xml.text_into(&mut self.value, room)
                }
                Step::Inline => {
                    self.text.clear();
                    has_inline = true;
                    rich_text(self.xml, &mut self.text, room)
                }
                Step::Skip => self.xml.skip(),
                Step::Done => break,
                Step::Next => Ok(()),
            };
            read.map_err(|f| in_cell(self.rows, f))?;
        }
        let bad = |what: &str| {
            ReadError::new(
                line,
                format!(
                    "column {}: {what} that cannot be read (the file looks damaged)",
                    self.rows.column_name(col)
                ),
            )
        };
        let v = self.value.as_str();
        let unescaped;
        let value = match a.typ {
            _ if has_inline => Value::Text(&self.text),
            _ if !has_value => Value::Empty,
            Type::Inline => Value::Empty,
            Type::Plain | Type::Number | Type::Shared if v.is_empty() => Value::Empty,
            Type::Plain | Type::Number => match v.trim().parse::<f64>() {
                Ok(x) => self.number(x, a.style),
                Err(_) if a.typ == Type::Plain => Value::Text(v),
                Err(_) => return Err(bad("a number cell")),
            },
            Type::Shared => match v.trim().parse::<usize>() {
                Ok(i) => Value::Text(
                    self.book
                        .strings
                        .get(i)
                        .ok_or_else(|| bad("a shared string"))?,
                ),
                Err(_) => return Err(bad("a shared string")),
            },
            Type::Bool => match v.trim() {
                "" => Value::Empty,
                "0" => Value::Bool(false),
                "1" => Value::Bool(true),
                t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
                t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
                _ => return Err(bad("a boolean cell")),
            },
            Type::Error => Value::Error,
            Type::Str => {
                unescaped = unescape_x(v);
                Value::Text(&unescaped)
            }
            Type::Date => Value::Iso(v),
            Type::Unknown => return Err(bad("a cell of an unknown type")),
        };
        self.rows.add(col, &value)
    }

    /// A number in its cell's format: a date, a duration or a number.
    fn number(&self, x: f64, style: Option<usize>) -> Value<'static> {
        let fmt = match style {
            None => NumFmt::Other,
            Some(s) => self.book.formats.get(s).copied().unwrap_or(NumFmt::Other),
        };
        match fmt {
            NumFmt::Other => Value::Number(x),
            NumFmt::Date => Value::Date {
                serial: x,
                is_1904: self.book.is_1904,
            },
            NumFmt::Duration => Value::Duration(x),
        }
    }
}

fn too_many_rows(line: u64) -> ReadError {
    ReadError::new(
        line,
        format!(
            "the sheet has more than {MAX_ROWS} rows (Excel's most; the file looks damaged); \
             the file is refused"
        ),
    )
}

fn damaged_reference(line: u64) -> ReadError {
    ReadError::new(
        line,
        "a cell or row reference that cannot be read (the file looks damaged)",
    )
}

/// A `<row>`'s 0-based number, if it says.
fn row_number(e: &BytesStart<'_>, line: u64) -> Result<Option<u32>, ReadError> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|_| Fail::Damaged.at(line))?;
        if a.key.local_name().as_ref() == "r" {
            return match a.value.trim().parse::<u32>() {
                Ok(r) if (1..=MAX_ROWS).contains(&r) => Ok(Some(r - 1)),
                Ok(r) if r > MAX_ROWS => Err(too_many_rows(line)),
                _ => Err(damaged_reference(line)),
            };
        }
    }
    Ok(None)
}

/// A `<c>`'s position, format and type.
fn cell_attrs(e: &BytesStart<'_>, line: u64) -> Result<Attrs, ReadError> {
    let mut out = Attrs {
        at: None,
        style: None,
        typ: Type::Plain,
    };
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|_| Fail::Damaged.at(line))?;
        let v = a.value.trim();
        match a.key.local_name().as_ref() {
            "r" => out.at = Some(reference(v).ok_or_else(|| damaged_reference(line))?),
            // Excel's reading of a style it cannot parse: the first one.
            "s" => out.style = Some(v.parse().unwrap_or(0)),
            "t" => {
                out.typ = match v {
                    "n" => Type::Number,
                    "s" => Type::Shared,
                    "b" => Type::Bool,
                    "e" => Type::Error,
                    "str" => Type::Str,
                    "inlineStr" => Type::Inline,
                    "d" => Type::Date,
                    _ => Type::Unknown,
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `B7` as 0-based (row 6, column 1). Columns far right saturate (their values are refused
/// by the column bound, blanks ignored).
pub(super) fn reference(r: &str) -> Option<(u32, u32)> {
    let split = r.find(|c: char| c.is_ascii_digit())?;
    let (name, digits) = r.split_at(split);
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let col = name.bytes().fold(0u32, |n, b| {
        n.saturating_mul(26)
            .saturating_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)
    });
    let row: u32 = digits.parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}
