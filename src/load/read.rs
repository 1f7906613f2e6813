//! Readers: a file in one of the supported formats, as a stream of records of text fields.
//!
//! Every format reads through the same [`RecordReader`]: the first record is the header, the
//! rest are rows, each tagged with the line (CSV, JSON Lines), row (XLSX) or item (JSON array)
//! it came from; a SEN2 return ([`sen2`]) gives the fields of its requests or active plans. A reader never holds more than one record, and refuses a record larger than
//! its limit, so a hostile file cannot make it allocate without bound. Its errors say where and
//! what, never the bytes it read.

pub mod csv;
pub mod json;
pub mod sen2;
pub mod worker;
pub mod xlsx;

use std::fmt;

/// `Read::read` of a reader whose bounds live in its `BufRead` (the xlsx part and the SEN2
/// XML source count each event's bytes as they are filled): through `fill_buf`, so a read
/// cannot pass them.
pub(crate) fn read_buffered<B: std::io::BufRead>(
    src: &mut B,
    out: &mut [u8],
) -> std::io::Result<usize> {
    let avail = src.fill_buf()?;
    let n = avail.len().min(out.len());
    out[..n].copy_from_slice(&avail[..n]);
    src.consume(n);
    Ok(n)
}

/// One record: fields as raw bytes, not yet known to be UTF-8.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// 1-based line, row or item number where the record starts.
    pub line: u64,
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
    pub fn push(&mut self, field: &[u8]) {
        self.buf.extend_from_slice(field);
        self.ends.push(self.buf.len());
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.get(i))
    }
    /// Bytes held: fields plus their bookkeeping.
    pub fn size(&self) -> usize {
        self.buf.len() + self.ends.len() * std::mem::size_of::<usize>()
    }
}

/// A reader gave up on the file: where, and why, in words that hold no cell value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl ReadError {
    pub fn new(line: u64, message: impl Into<String>) -> ReadError {
        ReadError {
            line,
            message: message.into(),
        }
    }
    pub fn io(line: u64, e: &std::io::Error) -> ReadError {
        ReadError::new(line, format!("cannot read the file: {}", e.kind()))
    }
    pub fn too_long(line: u64, max: usize) -> ReadError {
        ReadError::new(
            line,
            format!(
                "record is longer than {max} bytes (load.max_record_bytes); the file is refused"
            ),
        )
    }
}

/// A reader's input, a chunk at a time: `buf[start..end]` is read and not yet consumed.
pub(crate) struct Chunks<R> {
    input: R,
    pub buf: Vec<u8>,
    pub start: usize,
    pub end: usize,
    /// The input has no more bytes.
    pub eof: bool,
}

impl<R: std::io::Read> Chunks<R> {
    pub fn new(input: R, size: usize) -> Chunks<R> {
        Chunks {
            input,
            buf: vec![0; size],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// Read the next chunk once everything read has been consumed; `line` places an error.
    pub fn fill(&mut self, line: u64) -> Result<(), ReadError> {
        if self.start < self.end || self.eof {
            return Ok(());
        }
        self.start = 0;
        self.end = 0;
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::io(line, &e)),
            }
        }
    }
}

/// A stream of records; the first is the header.
pub trait RecordReader: Send {
    /// Read the next record into `rec`; `Ok(false)` at the end of the file.
    fn read(&mut self, rec: &mut Record) -> Result<bool, ReadError>;

    /// True when the data stopped inside a record (no final line break after a row), which,
    /// with a short last row, is how a cut-off file looks.
    fn ends_mid_record(&self) -> bool {
        false
    }
}

/// Counts bytes as a reader takes them, for a progress display.
pub struct Counting<R> {
    pub inner: R,
    pub read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Every record a reader gives, as (line, fields as text): for the readers' tests.
#[cfg(test)]
pub(crate) fn text_rows(r: &mut dyn RecordReader) -> Result<Vec<(u64, Vec<String>)>, ReadError> {
    let mut rec = Record::default();
    let mut out = Vec::new();
    while r.read(&mut rec)? {
        let cells = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        out.push((rec.line, cells));
    }
    Ok(out)
}
