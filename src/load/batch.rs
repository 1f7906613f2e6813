//! Batches: validated rows on their way from the parser thread to the store, typed by the
//! kind's columns. One text arena per batch, so a row costs no allocation of its own.

use chrono::NaiveDate;

use super::problem::Problem;

/// One typed cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Null,
    /// A byte range in the batch's text arena (text, enum and month columns).
    Text(u32, u32),
    Int(i64),
    Dec(f64),
    Date(NaiveDate),
    Flag(bool),
}

/// Rows in extract order, `width` values each, plus the rows set aside under quarantine.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub width: usize,
    pub lines: Vec<u64>,
    pub values: Vec<Value>,
    pub text: String,
    /// Quarantine: one problem per row set aside (line, column, rule; never a value).
    pub set_aside: Vec<Problem>,
}

impl Batch {
    pub fn new(width: usize, rows: usize) -> Batch {
        Batch {
            width,
            lines: Vec::with_capacity(rows),
            values: Vec::with_capacity(rows * width),
            text: String::with_capacity(rows * width * 8),
            set_aside: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.set_aside.is_empty()
    }

    pub fn rows(&self) -> impl Iterator<Item = (u64, &[Value])> {
        self.lines
            .iter()
            .copied()
            .zip(self.values.chunks_exact(self.width.max(1)))
    }

    /// The text a [`Value::Text`] points at.
    pub fn str(&self, v: &Value) -> Option<&str> {
        match v {
            Value::Text(a, b) => self.text.get(*a as usize..*b as usize),
            _ => None,
        }
    }

    pub fn push_text(&mut self, s: &str) -> Value {
        let a = self.text.len() as u32;
        self.text.push_str(s);
        Value::Text(a, self.text.len() as u32)
    }
}
