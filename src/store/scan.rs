//! What both backends' row scans share: the batch size, emptying a batch for reuse, and the
//! memo of a column's repeated texts.

use crate::load::{Batch, Value};

/// Rows per batch a scan hands over.
pub(super) const SCAN_ROWS: usize = 8192;

/// Empty a scanned batch for the next rows, keeping its buffers.
pub(super) fn reuse(batch: &mut Batch) {
    batch.lines.clear();
    batch.values.clear();
    batch.text.clear();
}

/// The distinct texts one column has put in the batch so far, up to a few: a status or a
/// service repeats row after row, and is then neither checked nor copied again. Cleared with
/// the batch.
#[derive(Debug, Default)]
pub(super) struct Texts(Vec<(u32, u32)>);

impl Texts {
    const KEEP: usize = 8;

    pub fn push(&mut self, batch: &mut Batch, bytes: &[u8]) -> Result<Value, String> {
        for &(a, b) in &self.0 {
            if &batch.text.as_bytes()[a as usize..b as usize] == bytes {
                return Ok(Value::Text(a, b));
            }
        }
        let s = std::str::from_utf8(bytes).map_err(|_| "a stored text is not UTF-8")?;
        let v = batch.push_text(s);
        if let (Value::Text(a, b), true) = (v, self.0.len() < Self::KEEP) {
            self.0.push((a, b));
        }
        Ok(v)
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// A batch's rows as text (`line: cell cell ...`), to compare scans whatever their text
/// arenas hold.
#[cfg(test)]
pub(super) fn shown(b: &Batch) -> Vec<String> {
    b.rows()
        .map(|(line, row)| {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Value::Text(..) => format!("{:?}", b.str(v)),
                    v => format!("{v:?}"),
                })
                .collect();
            format!("{line}: {}", cells.join(" "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_text_points_at_its_first_copy() {
        let mut batch = Batch::new(1, 4);
        let mut texts = Texts::default();
        let a = texts.push(&mut batch, b"Final plan issued").expect("utf-8");
        let b = texts.push(&mut batch, b"Withdrawn").expect("utf-8");
        let c = texts.push(&mut batch, b"Final plan issued").expect("utf-8");
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_eq!(batch.str(&c), Some("Final plan issued"));
        assert_eq!(batch.text, "Final plan issuedWithdrawn");
        assert!(texts.push(&mut batch, b"\xff").is_err());
        // Past the few it keeps, a text is still right, only copied again.
        for i in 0..20 {
            let v = texts
                .push(&mut batch, format!("s{i}").as_bytes())
                .expect("utf-8");
            assert_eq!(batch.str(&v), Some(format!("s{i}").as_str()));
        }
    }
}
