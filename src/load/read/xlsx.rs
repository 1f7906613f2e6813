//! XLSX: one worksheet of a workbook, streamed cell by cell with calamine's cell reader (the
//! sheet is never built whole in memory), as records of text fields.
//!
//! **Sheet and rows.** The sheet is the one the source names (`load.sheet`), else the
//! workbook's first worksheet. The first row holding any value is the header; rows with no
//! value are skipped, like blank lines in a CSV. Fields start at column A; a row is as wide as
//! its last value, and shorter rows are filled out to the header's width with empty fields.
//! [`Record::line`] is the spreadsheet row number (1-based, as Excel shows it).
//!
//! **Cells.** Text is its text; a number its shortest decimal text, a whole number without a
//! fraction (`12`, not `12.0`); a boolean `TRUE`/`FALSE`; an empty cell empty. A cell with a
//! date format reads as `YYYY-MM-DD`. A date cell whose time is not midnight reads as
//! `YYYY-MM-DD HH:MM:SS`: the reader does not know the column's type, so a text column keeps
//! it and a date column refuses it with a row problem naming the row and column (not the
//! whole file); a time-only cell reads as `HH:MM:SS`, and a duration as its number of days.
//! Because real date cells read as ISO dates, an xlsx source must list `yyyy-mm-dd` among its
//! date formats ([`crate::load::LoadSettings::check`] says so). An error cell (`#N/A`,
//! `#REF!`, ...) refuses the file with its row and column, not its content.
//!
//! **Bounds.** A value beyond column [`MAX_COLUMNS`] or a row over `max_record_bytes` refuses
//! the file. An xlsx is a zip, and calamine unpacks its parts with no limit (and loads the
//! shared-strings part whole), so before calamine sees the file every part is unpacked once
//! through a counting bound ([`check_expansion`]): a part past [`MAX_PART`], the shared strings
//! past [`MAX_SHARED_STRINGS`], or all parts past [`MAX_UNPACKED`] refuse the file, whatever
//! sizes the zip's directory claims.
//!
//! **Thread.** calamine's cell reader borrows the workbook, so both live on a worker thread
//! that sends rows through a small bounded channel; dropping the reader stops the worker at
//! its next row. The end of the sheet is an explicit message, so a worker that died early is
//! an error, not a short file.

use std::fmt::Write as _;
use std::io::{Read, Seek};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataRef, Reader, SheetType, Xlsx, XlsxError};

use super::{ReadError, Record, RecordReader};
use crate::load::shown_header;

/// Most bytes one part of the workbook may unpack to.
pub const MAX_PART: u64 = 1 << 30;
/// Most bytes the shared-strings part (held whole in memory by calamine) may unpack to.
pub const MAX_SHARED_STRINGS: u64 = 128 << 20;
/// Most bytes all parts together may unpack to.
pub const MAX_UNPACKED: u64 = 2 << 30;

/// Unpack every part of the zip once, counting, and refuse a file that expands too far.
/// Leaves `input` at its start.
pub fn check_expansion<RS: Read + Seek>(input: &mut RS) -> Result<(), ReadError> {
    expansion_within(input, MAX_PART, MAX_SHARED_STRINGS, MAX_UNPACKED)
}

fn expansion_within<RS: Read + Seek>(
    input: &mut RS,
    max_part: u64,
    max_shared: u64,
    max_all: u64,
) -> Result<(), ReadError> {
    let refuse =
        |what: &str| ReadError::new(1, format!("the workbook {what}; the file is refused"));
    let mut zip = zip::ZipArchive::new(&mut *input)
        .map_err(|_| refuse("is not a readable xlsx (zip) file"))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|_| refuse("has a part that cannot be read"))?;
        let shared = part.name().is_ok_and(|n| n.ends_with("sharedStrings.xml"));
        let limit = if shared { max_shared } else { max_part };
        let n = std::io::copy(&mut (&mut part).take(limit + 1), &mut std::io::sink())
            .map_err(|_| refuse("has a part that cannot be unpacked"))?;
        if n > limit {
            return Err(refuse(&format!(
                "has a part that unpacks past {limit} bytes"
            )));
        }
        total += n;
        if total > max_all {
            return Err(refuse(&format!("unpacks past {max_all} bytes in all")));
        }
    }
    drop(zip);
    input
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| ReadError::io(1, &e))?;
    Ok(())
}

/// Widest row read: a value right of this column refuses the file.
pub const MAX_COLUMNS: u32 = 1024;

/// Rows buffered between the worker and the reader.
const QUEUE: usize = 16;

enum Msg {
    Row(Record),
    End,
    Fail(ReadError),
}

pub struct XlsxReader {
    rx: Receiver<Msg>,
    done: bool,
    last_line: u64,
}

impl XlsxReader {
    /// Start reading `input` (a whole xlsx file) on a worker thread. `sheet` names the sheet
    /// to read; None reads the first worksheet.
    pub fn new<RS>(
        input: RS,
        sheet: Option<String>,
        max_record: usize,
    ) -> std::io::Result<XlsxReader>
    where
        RS: Read + Seek + Send + 'static,
    {
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("xlsx-reader".into())
            .spawn(move || {
                let last = match rows(input, sheet.as_deref(), max_record, &tx) {
                    Ok(()) => Msg::End,
                    Err(e) => Msg::Fail(e),
                };
                // The reader may be gone already; then nobody needs the news.
                let _ = tx.send(last);
            })?;
        Ok(XlsxReader {
            rx,
            done: false,
            last_line: 1,
        })
    }
}

impl RecordReader for XlsxReader {
    fn read(&mut self, rec: &mut Record) -> Result<bool, ReadError> {
        rec.clear();
        if self.done {
            return Ok(false);
        }
        match self.rx.recv() {
            Ok(Msg::Row(mut row)) => {
                self.last_line = row.line;
                std::mem::swap(rec, &mut row);
                Ok(true)
            }
            Ok(Msg::End) => {
                self.done = true;
                Ok(false)
            }
            Ok(Msg::Fail(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Err(ReadError::new(
                    self.last_line,
                    "the workbook reader stopped before the end of the sheet",
                ))
            }
        }
    }
}

/// The worker: open the workbook, find the sheet, send its rows. Ok when done or when the
/// reader hung up.
fn rows<RS: Read + Seek>(
    mut input: RS,
    sheet: Option<&str>,
    max_record: usize,
    tx: &SyncSender<Msg>,
) -> Result<(), ReadError> {
    check_expansion(&mut input)?;
    let mut book = Xlsx::new(input).map_err(|e| book_error(1, &e))?;
    let name = match sheet {
        Some(s) => s.to_string(),
        None => book
            .sheets_metadata()
            .iter()
            .find(|s| s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
            .ok_or_else(|| ReadError::new(1, "the workbook has no worksheet"))?,
    };
    let mut cells = book.worksheet_cells_reader(&name).map_err(|e| match e {
        XlsxError::WorksheetNotFound(_) | XlsxError::NotAWorksheet(_) => {
            let shown: String = name
                .chars()
                .take(60)
                .flat_map(char::escape_default)
                .collect();
            ReadError::new(
                1,
                format!("the workbook has no worksheet named `{shown}` (load.sheet)"),
            )
        }
        e => book_error(1, &e),
    })?;
    let mut rows = Rows::new(max_record);
    while let Some(cell) = cells.next_cell().map_err(|e| book_error(rows.line(), &e))? {
        let (r, c) = cell.get_position();
        if let Some(done) = rows.at_row(r)?
            && tx.send(Msg::Row(done)).is_err()
        {
            return Ok(());
        }
        rows.add(c, cell.get_value())?;
    }
    if let Some(done) = rows.finish()
        && tx.send(Msg::Row(done)).is_err()
    {
        return Ok(());
    }
    Ok(())
}

/// A workbook error in words of our own: calamine's may quote the file.
fn book_error(line: u64, e: &XlsxError) -> ReadError {
    let what = match e {
        XlsxError::Io(io) => return ReadError::io(line, io),
        XlsxError::Zip(_) => "not a readable xlsx workbook (not a valid zip archive)",
        XlsxError::Password => "the workbook is password-protected",
        XlsxError::Xml(_)
        | XlsxError::XmlAttr(_)
        | XlsxError::XmlEof(_)
        | XlsxError::Encoding(_)
        | XlsxError::UnexpectedNode(_) => "the workbook's XML is damaged",
        XlsxError::FileNotFound(_) | XlsxError::RelationshipNotFound => {
            "not a readable xlsx workbook (a part of it is missing)"
        }
        XlsxError::CellError(_) => "an error cell of an unknown kind",
        _ => "the workbook could not be read (is it damaged, or not an xlsx file?)",
    };
    ReadError::new(line, what)
}

/// Builds one record per spreadsheet row from cells in sheet order.
struct Rows {
    max_record: usize,
    rec: Record,
    /// 0-based row being built, once a cell was seen.
    row: Option<u32>,
    /// 0-based column of the next field to push.
    next_col: u32,
    /// The header, once sent (for column names in messages).
    header: Option<Record>,
    text: String,
}

impl Rows {
    fn new(max_record: usize) -> Rows {
        Rows {
            max_record,
            rec: Record::default(),
            row: None,
            next_col: 0,
            header: None,
            text: String::new(),
        }
    }

    /// 1-based row for messages.
    fn line(&self) -> u64 {
        self.row.map_or(1, |r| u64::from(r) + 1)
    }

    /// A cell of row `r` is next: hand back the finished previous row, if it had any value.
    fn at_row(&mut self, r: u32) -> Result<Option<Record>, ReadError> {
        match self.row {
            Some(cur) if cur == r => Ok(None),
            Some(cur) if r < cur => Err(ReadError::new(
                u64::from(r) + 1,
                "rows are out of order in the sheet (the file looks damaged)",
            )),
            _ => {
                let done = self.finish();
                self.row = Some(r);
                self.rec.line = u64::from(r) + 1;
                Ok(done)
            }
        }
    }

    /// The row built so far, laid out to the header's width; None for a row with no value.
    fn finish(&mut self) -> Option<Record> {
        self.next_col = 0;
        if self.rec.is_empty() {
            return None;
        }
        let line = self.rec.line;
        let mut done = std::mem::take(&mut self.rec);
        match &self.header {
            None => self.header = Some(done.clone()),
            Some(h) => {
                while done.len() < h.len() {
                    done.push(b"");
                }
            }
        }
        self.rec.line = line;
        Some(done)
    }

    fn add(&mut self, col: u32, value: &DataRef<'_>) -> Result<(), ReadError> {
        self.text.clear();
        if render(value, &mut self.text).is_err() {
            return Err(ReadError::new(
                self.line(),
                format!(
                    "column {}: an error value (such as #N/A or #REF!) where a value was expected",
                    self.column_name(col)
                ),
            ));
        }
        if self.text.is_empty() {
            return Ok(());
        }
        if col >= MAX_COLUMNS {
            return Err(ReadError::new(
                self.line(),
                format!(
                    "a value beyond column {} (at most {MAX_COLUMNS} columns are read)",
                    letters(MAX_COLUMNS - 1)
                ),
            ));
        }
        if col < self.next_col {
            return Err(ReadError::new(
                self.line(),
                format!(
                    "column {}: cells are out of order in the sheet (the file looks damaged)",
                    letters(col)
                ),
            ));
        }
        while self.next_col < col {
            self.rec.push(b"");
            self.next_col += 1;
        }
        self.rec.push(self.text.as_bytes());
        self.next_col = col + 1;
        if self.rec.size() > self.max_record {
            return Err(ReadError::too_long(self.line(), self.max_record));
        }
        Ok(())
    }

    /// `D`, or `D (Date Request Received)` when the header names it in words.
    fn column_name(&self, col: u32) -> String {
        let named = self
            .header
            .as_ref()
            .filter(|h| (col as usize) < h.len())
            .and_then(|h| shown_header(h.get(col as usize)));
        match named {
            Some(n) => format!("{} ({n})", letters(col)),
            None => letters(col),
        }
    }
}

/// A 0-based column as Excel names it: A, B, ..., Z, AA, ...
pub fn letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// A cell's text onto `out`; `Err` for an error cell.
fn render(value: &DataRef<'_>, out: &mut String) -> Result<(), ()> {
    match value {
        DataRef::Empty => {}
        DataRef::String(s) => out.push_str(s),
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::Int(n) => {
            let _ = write!(out, "{n}");
        }
        DataRef::Float(x) => number(*x, out),
        DataRef::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(dt) => {
            let serial = dt.as_f64();
            // Past 9999 calamine clamps the date; below 0 it would give the epoch.
            if dt.is_duration() || !(0.0..2_957_003.0).contains(&serial) {
                number(serial, out);
            } else {
                let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
                let midnight = (h, mi, s, ms) == (0, 0, 0, 0);
                if serial < 1.0 {
                    let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
                } else if midnight {
                    let _ = write!(out, "{y:04}-{mo:02}-{d:02}");
                } else {
                    let _ = write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
                }
            }
        }
        DataRef::DateTimeIso(s) => {
            let midnight = ["T00:00:00", "T00:00:00Z", "T00:00:00.000", "T00:00:00.000Z"];
            match s.get(10..) {
                Some(rest) if midnight.contains(&rest) => out.push_str(&s[..10]),
                _ => out.push_str(s),
            }
        }
        DataRef::DurationIso(s) => out.push_str(s),
        DataRef::Error(_) => return Err(()),
    }
    Ok(())
}

/// A number's text: whole numbers without a fraction, others in the shortest exact form.
fn number(x: f64, out: &mut String) {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

#[cfg(test)]
mod tests;
