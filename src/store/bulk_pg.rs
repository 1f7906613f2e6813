//! PostgreSQL bulk insert: binary `COPY ... FROM STDIN` inside the load's transaction.
//!
//! Binary, because text COPY would make us format every date and number only for the server
//! to parse it back. Each batch is encoded into one buffer and sent as it arrives.

use chrono::NaiveDate;
use sqlx::{Postgres, Transaction};
use tokio::sync::mpsc::Receiver;

use super::StoreError;
use super::feed::{Feed, SetAside};
use crate::load::{Batch, KindDef, LoadError, ParseSummary, Value};

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
