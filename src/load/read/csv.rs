//! CSV: RFC 4180 with quotes, LF or CRLF line ends and an optional UTF-8 BOM, parsed with
//! `csv_core` into a record buffer that grows only up to the source's `max_record_bytes`.
//!
//! Lines are counted from the bytes consumed (every `\n`, including those inside quoted
//! fields), so a record's line is where it starts in any text editor.

use std::io::Read;

use csv_core::ReadRecordResult;

use super::{Chunks, ReadError, Record, RecordReader};

const CHUNK: usize = 256 * 1024;

pub struct CsvReader<R> {
    core: csv_core::Reader,
    src: Chunks<R>,
    done: bool,
    /// Line of the next unread byte.
    line: u64,
    /// Whether the last byte consumed was a line break.
    last_was_newline: bool,
    max_record: usize,
}

impl<R: Read + Send> CsvReader<R> {
    pub fn new(input: R, max_record: usize) -> CsvReader<R> {
        CsvReader {
            core: csv_core::Reader::new(),
            src: Chunks::new(input, CHUNK),
            done: false,
            line: 1,
            last_was_newline: true,
            max_record,
        }
    }

    fn consume(&mut self, n: usize) {
        let taken = &self.src.buf[self.src.start..self.src.start + n];
        self.line += taken.iter().filter(|b| **b == b'\n').count() as u64;
        if let Some(last) = taken.last() {
            self.last_was_newline = matches!(last, b'\n' | b'\r');
        }
        self.src.start += n;
    }

    /// Step over blank lines and the tail of a CRLF, so a record's line is its first byte's.
    fn skip_line_breaks(&mut self) -> Result<(), ReadError> {
        loop {
            self.src.fill(self.line)?;
            if self.src.start == self.src.end {
                return Ok(());
            }
            let skip = self.src.buf[self.src.start..self.src.end]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            self.consume(skip);
            if self.src.start < self.src.end {
                return Ok(());
            }
        }
    }
}

impl<R: Read + Send> RecordReader for CsvReader<R> {
    fn read(&mut self, rec: &mut Record) -> Result<bool, ReadError> {
        rec.clear();
        if self.done {
            return Ok(false);
        }
        self.skip_line_breaks()?;
        rec.line = self.line;
        if rec.buf.len() < 1024 {
            rec.buf.resize(1024, 0);
        }
        if rec.ends.len() < 64 {
            rec.ends.resize(64, 0);
        }
        let (mut outlen, mut nends) = (0, 0);
        loop {
            self.src.fill(self.line)?;
            let (res, nin, nout, nend) = self.core.read_record(
                &self.src.buf[self.src.start..self.src.end],
                &mut rec.buf[outlen..],
                &mut rec.ends[nends..],
            );
            self.consume(nin);
            outlen += nout;
            nends += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                    let size = rec.buf.len() + rec.ends.len() * std::mem::size_of::<usize>();
                    if size >= self.max_record {
                        self.done = true;
                        rec.clear();
                        return Err(ReadError::too_long(rec.line, self.max_record));
                    }
                    if res == ReadRecordResult::OutputFull {
                        let grown = (rec.buf.len() * 2).min(self.max_record);
                        rec.buf.resize(grown.max(rec.buf.len() + 1), 0);
                    } else {
                        let grown = rec.ends.len() * 2;
                        rec.ends.resize(grown, 0);
                    }
                }
                ReadRecordResult::Record => {
                    rec.buf.truncate(outlen);
                    rec.ends.truncate(nends);
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    self.done = true;
                    rec.clear();
                    return Ok(false);
                }
            }
        }
    }

    fn ends_mid_record(&self) -> bool {
        self.done && !self.last_was_newline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8], max: usize) -> Result<Vec<(u64, Vec<String>)>, ReadError> {
        super::super::text_rows(&mut CsvReader::new(text, max))
    }

    #[test]
    fn lines_count_like_an_editor_with_crlf_quotes_and_blank_lines() {
        let text = b"\xEF\xBB\xBFa,b\r\n1,\"x\r\ny\"\r\n\r\n2,z\r\n";
        let got = all(text, 1 << 20).expect("reads");
        assert_eq!(got[0], (1, vec!["a".into(), "b".into()]));
        assert_eq!(got[1], (2, vec!["1".into(), "x\r\ny".into()]));
        assert_eq!(got[2], (5, vec!["2".into(), "z".into()]));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn a_record_over_the_limit_is_refused_without_reading_on() {
        let mut text = b"a,b\n1,".to_vec();
        text.extend(std::iter::repeat_n(b'Q', 10_000));
        text.extend(b"\n2,y\n");
        let err = all(&text, 4096).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("longer than 4096 bytes"), "{err}");
        assert!(!err.message.contains('Q'));
    }

    #[test]
    fn a_cut_row_is_seen_as_ending_mid_record() {
        let mut r = CsvReader::new(&b"a,b\n1,2\n3"[..], 1 << 20);
        let mut rec = Record::default();
        while r.read(&mut rec).expect("reads") {}
        assert!(r.ends_mid_record());
        let mut r = CsvReader::new(&b"a,b\n1,2\n"[..], 1 << 20);
        while r.read(&mut rec).expect("reads") {}
        assert!(!r.ends_mid_record());
    }
}
