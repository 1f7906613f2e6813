//! PostgreSQL in bulk: binary `COPY ... FROM STDIN` inside the load's transaction, and binary
//! `COPY ... TO STDOUT` for a scan ([`CopyReader`]).
//!
//! Binary, because text COPY would make us format every date and number only for the server
//! to parse it back. Each batch is encoded into one buffer and sent as it arrives. A scan
//! reads the same format back, a chunk at a time: decoding a million rows through sqlx's rows
//! costs ten times more than the server takes to send them.

use chrono::NaiveDate;
use sqlx::{Postgres, Transaction};
use tokio::sync::mpsc::Receiver;

use super::StoreError;
use super::feed::{Feed, SetAside};
use super::scan::{Texts, reuse};
use crate::load::{Batch, ColType, KindDef, LoadError, ParseSummary, Value};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// PostgreSQL counts dates from 2000-01-01.
const PG_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// Append a batch's rows as binary COPY tuples.
pub fn encode(buf: &mut Vec<u8>, batch: &Batch) {
    let width = (batch.width + 1) as i16;
    for (line, row) in batch.rows() {
        buf.extend_from_slice(&width.to_be_bytes());
        field(buf, &(line as i64).to_be_bytes());
        for v in row {
            match *v {
                Value::Null => buf.extend_from_slice(&(-1i32).to_be_bytes()),
                Value::Text(a, b) => field(buf, &batch.text.as_bytes()[a as usize..b as usize]),
                Value::Int(n) => field(buf, &n.to_be_bytes()),
                Value::Dec(x) => field(buf, &x.to_bits().to_be_bytes()),
                Value::Date(d) => field(buf, &((d - PG_EPOCH).num_days() as i32).to_be_bytes()),
                Value::Flag(f) => field(buf, &[u8::from(f)]),
            }
        }
    }
}

pub(super) async fn write_rows(
    tx: &mut Transaction<'static, Postgres>,
    table: &str,
    kind: &KindDef,
    feed: &mut Receiver<Feed>,
    set_aside: &mut SetAside,
) -> Result<Option<Result<ParseSummary, LoadError>>, StoreError> {
    let cols: Vec<String> = kind
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let sql = format!(
        "COPY {table} (line, {}) FROM STDIN (FORMAT binary)",
        cols.join(", ")
    );
    let mut copy = tx.copy_in_raw(&sql).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    buf.extend_from_slice(SIGNATURE);
    buf.extend_from_slice(&0i32.to_be_bytes()); // flags
    buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    loop {
        match feed.recv().await {
            Some(Feed::Rows(mut batch)) => {
                set_aside.take(&mut batch);
                encode(&mut buf, &batch);
                copy.send(buf.as_slice()).await?;
                buf.clear();
            }
            Some(Feed::Done(Ok(summary))) => {
                buf.extend_from_slice(&(-1i16).to_be_bytes());
                copy.send(buf.as_slice()).await?;
                copy.finish().await?;
                return Ok(Some(Ok(summary)));
            }
            Some(Feed::Done(Err(e))) => {
                copy.abort("extract rejected").await?;
                return Ok(Some(Err(e)));
            }
            None => {
                copy.abort("the parser stopped").await?;
                return Ok(None);
            }
        }
    }
}

/// The `COPY ... TO STDOUT` that reads `line` and `columns` (of `types`) of `table`, each cast
/// to the type [`CopyReader`] reads it as, whatever the table says.
pub fn copy_out_sql(table: &str, columns: &[&str], types: &[ColType]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .zip(types)
        .map(|(c, t)| {
            let cast = match t {
                ColType::Text | ColType::Enum | ColType::Month => "text",
                ColType::Integer => "int8",
                ColType::Decimal => "float8",
                ColType::Date => "date",
                ColType::Flag => "bool",
            };
            format!("\"{c}\"::{cast}")
        })
        .collect();
    format!(
        "COPY (SELECT line::int8, {} FROM {table}) TO STDOUT (FORMAT binary)",
        cols.join(", ")
    )
}

/// Reads [`copy_out_sql`]'s binary output into batches, whatever the chunks' boundaries.
#[derive(Debug)]
pub struct CopyReader {
    types: Vec<ColType>,
    /// An incomplete row (or header) kept for the next chunk.
    tail: Vec<u8>,
    header: bool,
    ended: bool,
    texts: Vec<Texts>,
}

/// The header: signature, flags, and the length of an extension area to skip.
const HEADER: usize = 11 + 4 + 4;

fn be_i16(b: &[u8]) -> i16 {
    i16::from_be_bytes([b[0], b[1]])
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_8(b: &[u8]) -> [u8; 8] {
    [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]
}

impl CopyReader {
    pub fn new(types: &[ColType]) -> CopyReader {
        CopyReader {
            types: types.to_vec(),
            tail: Vec::new(),
            header: false,
            ended: false,
            texts: types.iter().map(|_| Texts::default()).collect(),
        }
    }

    /// Adds a chunk's complete rows to `batch`, handing it to `each` (and emptying it)
    /// whenever it holds `rows`. Returns how many rows it added.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        batch: &mut Batch,
        rows: usize,
        each: &mut dyn FnMut(&Batch),
    ) -> Result<u64, String> {
        let joined;
        let data: &[u8] = if self.tail.is_empty() {
            chunk
        } else {
            let mut t = std::mem::take(&mut self.tail);
            t.extend_from_slice(chunk);
            joined = t;
            &joined
        };
        let mut at = 0;
        let mut added = 0;
        if !self.header {
            if data.len() < HEADER {
                self.tail = data.to_vec();
                return Ok(0);
            }
            if &data[..11] != SIGNATURE {
                return Err("the COPY output does not start with PGCOPY".into());
            }
            let extension = usize::try_from(be_i32(&data[15..19]))
                .map_err(|_| "the COPY header is malformed")?;
            if data.len() < HEADER + extension {
                self.tail = data.to_vec();
                return Ok(0);
            }
            at = HEADER + extension;
            self.header = true;
        }
        while at < data.len() {
            if self.ended {
                return Err("the COPY output goes on after its end".into());
            }
            let Some(used) = self.row(&data[at..], batch)? else {
                break;
            };
            at += used;
            if self.ended {
                continue;
            }
            added += 1;
            if batch.lines.len() >= rows {
                each(batch);
                reuse(batch);
                self.texts.iter_mut().for_each(Texts::clear);
            }
        }
        self.tail = data[at..].to_vec();
        Ok(added)
    }

    /// After the last chunk: the output must have ended, with nothing left over.
    pub fn finish(&self) -> Result<(), String> {
        if self.ended && self.tail.is_empty() {
            Ok(())
        } else {
            Err("the COPY output stopped in the middle".into())
        }
    }

    /// Reads one row (or the end mark) from the start of `data` into `batch`: the bytes used,
    /// or `None` if `data` does not hold all of it yet (then nothing is added).
    fn row(&mut self, data: &[u8], batch: &mut Batch) -> Result<Option<usize>, String> {
        if data.len() < 2 {
            return Ok(None);
        }
        let fields = be_i16(data);
        if fields == -1 {
            self.ended = true;
            return Ok(Some(2));
        }
        if usize::try_from(fields).ok() != Some(self.types.len() + 1) {
            return Err(format!(
                "a COPY row has {fields} fields, not {}",
                self.types.len() + 1
            ));
        }
        // Whole row first, so that a row cut by a chunk's end adds nothing.
        let mut end = 2;
        for _ in 0..=self.types.len() {
            let Some(len) = data.get(end..end + 4).map(be_i32) else {
                return Ok(None);
            };
            end += 4 + usize::try_from(len).unwrap_or(0);
            if end > data.len() {
                return Ok(None);
            }
        }
        let mut at = 2;
        let field = |at: &mut usize| -> Option<&[u8]> {
            let len = be_i32(&data[*at..]);
            *at += 4;
            let len = usize::try_from(len).ok()?;
            let f = &data[*at..*at + len];
            *at += len;
            Some(f)
        };
        let line = match field(&mut at) {
            Some(f) if f.len() == 8 => i64::from_be_bytes(be_8(f)),
            _ => return Err("a COPY row's line is not a bigint".into()),
        };
        for (i, ty) in self.types.iter().enumerate() {
            let v = match (field(&mut at), ty) {
                (None, _) => Value::Null,
                (Some(f), ColType::Text | ColType::Enum | ColType::Month) => {
                    self.texts[i].push(batch, f)?
                }
                (Some(f), ColType::Integer) if f.len() == 8 => {
                    Value::Int(i64::from_be_bytes(be_8(f)))
                }
                (Some(f), ColType::Decimal) if f.len() == 8 => {
                    Value::Dec(f64::from_bits(u64::from_be_bytes(be_8(f))))
                }
                (Some(f), ColType::Flag) if f.len() == 1 => Value::Flag(f[0] != 0),
                (Some(f), ColType::Date) if f.len() == 4 => {
                    match PG_EPOCH.checked_add_signed(chrono::TimeDelta::days(i64::from(be_i32(f))))
                    {
                        Some(d) => Value::Date(d),
                        None => return Err("a stored date is out of range".into()),
                    }
                }
                (Some(_), ty) => return Err(format!("a COPY field is not a {ty:?}")),
            };
            batch.values.push(v);
        }
        batch.lines.push(line as u64);
        Ok(Some(end))
    }
}

#[cfg(test)]
mod tests {
    use super::super::scan::shown;
    use super::*;

    fn sample() -> (Vec<ColType>, Batch) {
        let types = vec![
            ColType::Date,
            ColType::Integer,
            ColType::Flag,
            ColType::Decimal,
            ColType::Enum,
            ColType::Text,
        ];
        let mut b = Batch::new(types.len(), 4);
        let d = NaiveDate::from_ymd_opt(2020, 1, 5).expect("date");
        for (line, status) in [
            (2u64, "Withdrawn"),
            (3, "Final plan issued"),
            (5, "Withdrawn"),
        ] {
            b.lines.push(line);
            let s = b.push_text(status);
            let t = b.push_text("");
            b.values.extend([
                Value::Date(d),
                Value::Int(0),
                Value::Flag(false),
                Value::Dec(2.5),
                s,
                t,
            ]);
        }
        b.lines.push(9);
        b.values.extend([Value::Null; 6]);
        (types, b)
    }

    /// What the server sends: the format the bulk load writes, ended.
    fn copy_bytes(b: &Batch) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        encode(&mut out, b);
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    fn read(types: &[ColType], chunks: &[&[u8]], rows: usize) -> Result<Vec<String>, String> {
        let mut reader = CopyReader::new(types);
        let mut batch = Batch::new(types.len(), rows);
        let mut out = vec![];
        let mut total = 0;
        for c in chunks {
            total += reader.feed(c, &mut batch, rows, &mut |b| out.extend(shown(b)))?;
        }
        reader.finish()?;
        out.extend(shown(&batch));
        assert_eq!(total as usize, out.len());
        Ok(out)
    }

    #[test]
    fn what_the_load_writes_a_scan_reads_back_however_it_is_cut() {
        let (types, b) = sample();
        let bytes = copy_bytes(&b);
        let want = shown(&b);
        assert_eq!(read(&types, &[&bytes], 8).expect("whole"), want);
        // Every cut, including inside the header, a length and a value.
        for cut in 1..bytes.len() {
            let (x, y) = bytes.split_at(cut);
            assert_eq!(read(&types, &[x, y], 2).expect("cut"), want, "cut at {cut}");
        }
        let ones: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(read(&types, &ones, 3).expect("bytewise"), want);
    }

    #[test]
    fn a_cut_short_or_foreign_output_is_an_error() {
        let (types, b) = sample();
        let bytes = copy_bytes(&b);
        assert!(read(&types, &[&bytes[..bytes.len() - 2]], 8).is_err());
        assert!(read(&types, &[&bytes[..bytes.len() - 5]], 8).is_err());
        assert!(read(&types[..5], &[&bytes], 8).is_err(), "a field too many");
        let mut wrong = bytes.clone();
        wrong[0] = b'X';
        assert!(read(&types, &[&wrong], 8).is_err());
        let mut more = bytes.clone();
        more.extend_from_slice(&[0, 1]);
        assert!(read(&types, &[&more], 8).is_err());
        let swapped = [
            ColType::Integer,
            ColType::Date,
            ColType::Flag,
            ColType::Decimal,
            ColType::Enum,
            ColType::Text,
        ];
        assert!(
            read(&swapped, &[&bytes], 8).is_err(),
            "a date read as a bigint"
        );
    }
}
