//! XLSX: one worksheet of a workbook, its XML streamed cell by cell from the zip with
//! quick-xml (the sheet is never built whole in memory, and nothing in it is read without a
//! bound), as records of text fields.
//!
//! **Sheet and rows.** The sheet is the one the source names (`load.sheet`), else the
//! workbook's first worksheet. The first row holding any value is the header; rows with no
//! value are skipped, like blank lines in a CSV. Fields start at column A; a row is as wide as
//! its last value, and shorter rows are filled out to the header's width with empty fields.
//! [`Record::line`] is the spreadsheet row number (1-based, as Excel shows it).
//!
//! **Cells.** Text is its text; a number its shortest decimal text, a whole number without a
//! fraction (`12`, not `12.0`); a boolean `TRUE`/`FALSE`; an empty cell empty. A cell with a
//! date format (by its style's number format) reads as `YYYY-MM-DD`. A date cell whose time is
//! not midnight reads as `YYYY-MM-DD HH:MM:SS`: the reader does not know the column's type, so
//! a text column keeps it and a date column refuses it with a row problem naming the row and
//! column (not the whole file); a time-only cell reads as `HH:MM:SS`, and a duration as its
//! number of days. Because real date cells read as ISO dates, an xlsx source must list
//! `yyyy-mm-dd` among its date formats ([`crate::load::LoadSettings::check`] says so). An
//! error cell (`#N/A`, `#REF!`, ...) refuses the file with its row and column, not its content.
//!
//! **Bounds.** Every refusal names the row (line 1 for the workbook as a whole), the column
//! where there is one, and the rule; never a value. A value beyond column [`MAX_COLUMNS`], or
//! a row over `max_record_bytes` (counted as a cell's text is read, before more is held),
//! refuses the file. So does a sheet of more than [`MAX_ROWS`] rows or [`MAX_CELLS`] cells in
//! all, blank ones counted too, so that a small zip of millions of blank cells cannot take
//! unbounded time. The shared strings are held (each at most `max_record_bytes`, all within
//! [`MAX_SHARED_STRINGS`]); so are the cell formats and the sheet names, each bounded
//! (`book.rs`). An xlsx is a zip: its directory is read within [`MAX_DIRECTORY`] bytes, and each
//! part is unpacked through a counting reader, so a part past [`MAX_PART`], all parts read past
//! [`MAX_UNPACKED`], or one XML tag or text past `max_record_bytes` (plus a little) refuses the
//! file whatever sizes the zip claims (`part.rs`). With the default `max_record_bytes` the
//! reader holds a few MiB at most, plus the shared strings.
//!
//! **Thread.** The zip's part reader borrows the archive, so both live on a worker thread
//! that sends rows through a small bounded channel; dropping the reader stops the worker at
//! its next row. The end of the sheet is an explicit message, so a worker that died early is
//! an error, not a short file.

mod book;
mod cell;
mod part;
mod sheet;

use std::io::{Read, Seek};
use std::sync::mpsc::SyncSender;

use self::cell::{Value, render};
use super::worker::{self, Msg, WorkerReader};
use super::{ReadError, Record};
use crate::load::shown_header;

/// Most bytes read to find and read the zip's directory (a workbook's few dozen parts take a
/// few KiB; the zip crate holds every entry, so a directory of millions is refused).
pub const MAX_DIRECTORY: u64 = 1 << 20;
/// Most bytes one part of the workbook may unpack to (a bound on time: nothing of a part is
/// held whole).
pub const MAX_PART: u64 = 1 << 30;
/// Most bytes all the parts read may unpack to.
pub const MAX_UNPACKED: u64 = 2 << 30;
/// Most bytes the shared strings may take held in memory (text and 4 bytes a string).
pub const MAX_SHARED_STRINGS: usize = 16 << 20;
/// Most rows a sheet may have: Excel's own limit.
pub const MAX_ROWS: u32 = 1 << 20;
/// Most cells (`<c>`, value or blank) scanned in a sheet: 16 a row over Excel's full height.
pub const MAX_CELLS: u32 = 16 << 20;
/// Beyond `max_record_bytes`, how long one XML tag or text may be (a tag's attributes).
const EVENT_SLACK: usize = 64 * 1024;

/// Widest row read: a value right of this column refuses the file.
pub const MAX_COLUMNS: u32 = 1024;

/// Rows buffered between the worker and the reader (each up to `max_record_bytes`).
const QUEUE: usize = 4;

/// Start reading `input` (a whole xlsx file) on a worker thread. `sheet` names the sheet to
/// read; None reads the first worksheet.
pub fn reader<RS>(
    input: RS,
    sheet: Option<String>,
    max_record: usize,
) -> std::io::Result<WorkerReader>
where
    RS: Read + Seek + Send + 'static,
{
    let stopped = "the workbook reader stopped before the end of the sheet";
    worker::spawn("xlsx-reader", QUEUE, stopped, move |tx| {
        Some(match rows(input, sheet.as_deref(), max_record, tx) {
            Ok(()) => Msg::End,
            Err(e) => Msg::Fail(e),
        })
    })
}

/// The worker: open the workbook, find the sheet, send its rows. Ok when done or when the
/// reader hung up.
fn rows<RS: Read + Seek>(
    input: RS,
    sheet: Option<&str>,
    max_record: usize,
    tx: &SyncSender<Msg>,
) -> Result<(), ReadError> {
    let event_max = max_record.saturating_add(EVENT_SLACK);
    let mut zip = part::open(input)?;
    let book = book::Book::read(&mut zip, sheet, max_record, event_max)?;
    let mut rows = Rows::new(max_record);
    sheet::stream(&mut zip, &book, &mut rows, event_max, &mut |done| {
        tx.send(Msg::Row(done)).is_ok()
    })
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

    /// Bytes of text a cell may still add before the row passes `max_record`.
    fn room(&self) -> usize {
        self.max_record.saturating_sub(self.rec.size())
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

    fn add(&mut self, col: u32, value: &Value<'_>) -> Result<(), ReadError> {
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
            return Err(self.too_long(col));
        }
        Ok(())
    }

    /// The row passed `max_record` at column `col`.
    fn too_long(&self, col: u32) -> ReadError {
        let e = ReadError::too_long(self.line(), self.max_record);
        ReadError::new(
            e.line,
            format!("column {}: {}", self.column_name(col), e.message),
        )
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_xml;
