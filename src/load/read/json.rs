//! JSON: a top-level array of objects, or JSON Lines (one object per line), told apart by the
//! first byte that is not white space (`[` is an array, `{` is JSON Lines); an optional UTF-8
//! BOM is skipped. The file streams through: an array is split into items by a small scanner
//! that tracks strings and brackets, a JSON Lines file is read line by line, and each item is
//! parsed on its own with `serde_json` (values kept as raw text, so numbers stay as written).
//!
//! **Header and layout.** The header is the first item's keys, in their order. Every item,
//! the first included, is laid out in that order: a missing key (or `null`) is an empty
//! field. A key the first item lacks, a key given twice in one item, an item that is not an
//! object, or a value that is an array or an object refuses the file (a [`ReadError`]).
//!
//! **Values.** A string is its text; a number its literal text as written (`12`, `12.50`,
//! `1e3`: the validator decides what it accepts); `true`/`false` are `TRUE`/`FALSE`; `null`
//! is empty.
//!
//! **Numbering** ([`Record::line`]). JSON Lines: the line of the file the object is on, as an
//! editor shows it; the header (the first object's keys) and the first row share that line.
//! Array: the header is line 1 and item k (1-based) is line k + 1, as in the CSV such an
//! array usually comes from, where the first data row is line 2. This reader's own messages
//! name the item as well ("line 5: item 4: ...").
//!
//! **Bounds.** An item (array) or a line (JSON Lines) longer than `max_record_bytes` is refused
//! as soon as the cap is reached, without reading the rest of it. Messages name the line or
//! item and, for a key, its name only when [`shown_header`] allows (no digit, cut short);
//! never a value.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Chunks, ReadError, Record, RecordReader};
use crate::load::shown_header;

const CHUNK: usize = 64 * 1024;

/// Which of the two layouts the file has (known after its first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Unknown,
    Array,
    Lines,
}

/// Where an array stands between items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Just after `[`.
    First,
    /// Just after an item.
    AfterItem,
    /// Just after a `,`.
    NeedItem,
    /// After the closing `]`: only white space may follow.
    End,
}

pub struct JsonReader<R> {
    src: Chunks<R>,
    done: bool,
    max_record: usize,
    shape: Shape,
    step: Step,
    /// Raw bytes of the current item (array) or line (JSON Lines).
    item: Vec<u8>,
    /// Array items begun so far.
    items: u64,
    /// Line of the next unread byte.
    line: u64,
    /// The first item's keys -> field position.
    index: HashMap<String, usize>,
    header_read: bool,
    /// The first item's row, handed out right after the header.
    first_row: Option<Record>,
    /// Decoded values of the current item, and where each field's value sits in it.
    text: Vec<u8>,
    slots: Vec<Option<(usize, usize)>>,
}

impl<R: Read + Send> JsonReader<R> {
    pub fn new(input: R, max_record: usize) -> JsonReader<R> {
        JsonReader {
            src: Chunks::new(input, CHUNK),
            done: false,
            max_record,
            shape: Shape::Unknown,
            step: Step::First,
            item: Vec::new(),
            items: 0,
            line: 1,
            index: HashMap::new(),
            header_read: false,
            first_row: None,
            text: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Step over white space (counting lines) and return the next byte, unread; None at the end.
    fn skip_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            self.src.fill(self.line)?;
            if self.src.start == self.src.end {
                return Ok(None);
            }
            while self.src.start < self.src.end {
                let b = self.src.buf[self.src.start];
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                if b == b'\n' {
                    self.line += 1;
                }
                self.src.start += 1;
            }
        }
    }

    /// Find the shape from the first byte that is not white space (after a BOM).
    fn detect(&mut self) -> Result<(), ReadError> {
        self.src.fill(self.line)?;
        if self.src.buf[self.src.start..self.src.end].starts_with(b"\xEF\xBB\xBF") {
            self.src.start += 3;
        }
        match self.skip_ws()? {
            None => {}
            Some(b'[') => {
                self.src.start += 1;
                self.shape = Shape::Array;
            }
            Some(b'{') => self.shape = Shape::Lines,
            Some(_) => {
                return Err(ReadError::new(
                    self.line,
                    "not a JSON extract: it must start with [ (an array of objects) or { (JSON \
                     Lines, one object per line)",
                ));
            }
        }
        Ok(())
    }

    /// The next line that is not blank, into `self.item`; its line number, or None at the end.
    fn next_line(&mut self) -> Result<Option<u64>, ReadError> {
        loop {
            self.item.clear();
            let at = self.line;
            let mut any = false;
            loop {
                self.src.fill(self.line)?;
                if self.src.start == self.src.end {
                    break;
                }
                any = true;
                let chunk = &self.src.buf[self.src.start..self.src.end];
                let (take, newline) = match chunk.iter().position(|b| *b == b'\n') {
                    Some(i) => (i, true),
                    None => (chunk.len(), false),
                };
                if self.item.len() + take > self.max_record {
                    return Err(ReadError::too_long(at, self.max_record));
                }
                self.item.extend_from_slice(&chunk[..take]);
                self.src.start += take + usize::from(newline);
                if newline {
                    self.line += 1;
                    break;
                }
            }
            if !any {
                return Ok(None);
            }
            if !self.item.iter().all(|b| is_ws(*b)) {
                return Ok(Some(at));
            }
        }
    }

    /// The next array item, into `self.item`; its item number, or None after the closing `]`.
    fn next_item(&mut self) -> Result<Option<u64>, ReadError> {
        loop {
            let at = self.items + 1;
            let Some(b) = self.skip_ws()? else {
                if self.step == Step::End {
                    return Ok(None);
                }
                return Err(ReadError::new(
                    at + 1,
                    "the file ends inside the array (no closing ]), so it looks truncated",
                ));
            };
            match (self.step, b) {
                (Step::End, _) => {
                    return Err(ReadError::new(
                        at + 1,
                        "text after the end of the array (only one top-level array is read)",
                    ));
                }
                (Step::First | Step::AfterItem, b']') => {
                    self.src.start += 1;
                    self.step = Step::End;
                }
                (Step::AfterItem, b',') => {
                    self.src.start += 1;
                    self.step = Step::NeedItem;
                }
                (Step::AfterItem, _) => {
                    return Err(ReadError::new(
                        at + 1,
                        format!("item {at}: expected , or ] after item {}", at - 1),
                    ));
                }
                (Step::First | Step::NeedItem, b'{') => {
                    self.items = at;
                    self.copy_item(at)?;
                    self.step = Step::AfterItem;
                    return Ok(Some(at));
                }
                (Step::NeedItem, b']') => {
                    return Err(ReadError::new(
                        at + 1,
                        format!("item {at}: a comma before the closing ] (not valid JSON)"),
                    ));
                }
                (Step::First | Step::NeedItem, _) => {
                    return Err(ReadError::new(
                        at + 1,
                        format!("item {at}: not an object (every item must be {{...}})"),
                    ));
                }
            }
        }
    }

    /// Copy one object, from its `{` to the matching `}`, into `self.item`.
    fn copy_item(&mut self, at: u64) -> Result<(), ReadError> {
        self.item.clear();
        let (mut depth, mut in_str, mut esc) = (0u32, false, false);
        loop {
            self.src.fill(self.line)?;
            if self.src.start == self.src.end {
                return Err(ReadError::new(
                    at + 1,
                    format!("item {at}: the file ends inside this item, so it looks truncated"),
                ));
            }
            let chunk = &self.src.buf[self.src.start..self.src.end];
            let mut closed_at = None;
            for (i, &b) in chunk.iter().enumerate() {
                if in_str {
                    if esc {
                        esc = false;
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        in_str = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            closed_at = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let take = closed_at.unwrap_or(chunk.len());
            if self.item.len() + take > self.max_record {
                return Err(ReadError::too_long(at + 1, self.max_record));
            }
            self.item.extend_from_slice(&chunk[..take]);
            self.src.start += take;
            if closed_at.is_some() {
                return Ok(());
            }
        }
    }

    fn read_next(&mut self, rec: &mut Record) -> Result<bool, ReadError> {
        if self.shape == Shape::Unknown {
            self.detect()?;
        }
        let place = match self.shape {
            Shape::Unknown => return Ok(false),
            Shape::Lines => match self.next_line()? {
                Some(line) => Place::Line(line),
                None => return Ok(false),
            },
            Shape::Array => match self.next_item()? {
                Some(item) => Place::Item(item),
                None if !self.header_read => {
                    return Err(ReadError::new(
                        1,
                        "the array holds no items (no header and no rows)",
                    ));
                }
                None => return Ok(false),
            },
        };
        let item = std::mem::take(&mut self.item);
        let result = self.lay_out(&item, place, rec);
        self.item = item;
        result.map(|()| true)
    }

    /// Parse one item and lay it out in `rec`; the first item gives the header (into `rec`)
    /// and its row (kept for the next read).
    fn lay_out(&mut self, item: &[u8], place: Place, rec: &mut Record) -> Result<(), ReadError> {
        if item.iter().find(|b| !is_ws(**b)) != Some(&b'{') {
            return Err(place.error("not an object (every item must be {...})"));
        }
        let entries: Entries<'_> = serde_json::from_slice(item).map_err(|e| place.json(&e))?;
        let header = !self.header_read;
        if header {
            self.header_read = true;
            rec.line = place.header_line();
            for (key, _) in &entries.0 {
                let at = rec.len();
                if self.index.insert(key.clone(), at).is_some() {
                    return Err(place.key_error(key, "appears twice"));
                }
                rec.push(key.as_bytes());
            }
            if rec.size() > self.max_record {
                return Err(ReadError::too_long(rec.line, self.max_record));
            }
        }
        let mut row = Record {
            line: place.line(),
            ..Record::default()
        };
        self.text.clear();
        self.slots.clear();
        self.slots.resize(self.index.len(), None);
        for (key, raw) in &entries.0 {
            let Some(&at) = self.index.get(key.as_str()) else {
                return Err(place.key_error(key, "is not one of the first item's keys"));
            };
            if self.slots[at].is_some() {
                return Err(place.key_error(key, "appears twice"));
            }
            let from = self.text.len();
            plain(raw, &mut self.text).map_err(|e| {
                place.key_error(
                    key,
                    match e {
                        NotPlain::Nested => {
                            "holds an array or an object, not a plain value (text, number, \
                             true/false or null)"
                        }
                        NotPlain::BadEscape => {
                            "holds text with an escape that is no character (a lone UTF-16 \
                             surrogate such as \\ud800 without its pair)"
                        }
                    },
                )
            })?;
            self.slots[at] = Some((from, self.text.len()));
        }
        for slot in &self.slots {
            row.push(slot.map_or(&b""[..], |(a, b)| &self.text[a..b]));
        }
        if row.size() > self.max_record {
            return Err(ReadError::too_long(row.line, self.max_record));
        }
        if header {
            self.first_row = Some(row);
        } else {
            *rec = row;
        }
        Ok(())
    }
}

impl<R: Read + Send> RecordReader for JsonReader<R> {
    fn read(&mut self, rec: &mut Record) -> Result<bool, ReadError> {
        rec.clear();
        if let Some(mut row) = self.first_row.take() {
            std::mem::swap(rec, &mut row);
            return Ok(true);
        }
        if self.done {
            return Ok(false);
        }
        let result = self.read_next(rec);
        if !matches!(result, Ok(true)) {
            self.done = true;
            rec.clear();
        }
        result
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where an item is: a line of a JSON Lines file, or an array item (1-based).
#[derive(Debug, Clone, Copy)]
enum Place {
    Line(u64),
    Item(u64),
}

impl Place {
    fn line(self) -> u64 {
        match self {
            Place::Line(n) => n,
            Place::Item(n) => n + 1,
        }
    }

    fn header_line(self) -> u64 {
        match self {
            Place::Line(n) => n,
            Place::Item(_) => 1,
        }
    }

    fn error(self, what: &str) -> ReadError {
        match self {
            Place::Line(n) => ReadError::new(n, what),
            Place::Item(n) => ReadError::new(n + 1, format!("item {n}: {what}")),
        }
    }

    fn key_error(self, key: &str, what: &str) -> ReadError {
        let name = shown_header(key.as_bytes())
            .map_or_else(|| "an unnamed key".to_string(), |k| format!("key `{k}`"));
        self.error(&format!("{name} {what}"))
    }

    /// A parse error in words of our own: serde_json's may quote the input.
    fn json(self, e: &serde_json::Error) -> ReadError {
        use serde_json::error::Category;
        let what = match (e.classify(), self) {
            (Category::Eof, Place::Line(_)) => {
                "the line ends before its object does (JSON Lines needs one whole object per \
                 line; is the file cut off?)"
                    .to_string()
            }
            (Category::Eof, Place::Item(_)) => "the item ends before its object does".to_string(),
            (Category::Syntax | Category::Data, Place::Line(_)) => {
                format!("not valid JSON (at column {})", e.column())
            }
            (Category::Syntax | Category::Data, Place::Item(_)) => {
                format!(
                    "not valid JSON (at line {}, column {} of the item)",
                    e.line(),
                    e.column()
                )
            }
            (Category::Io, _) => "cannot read the file".to_string(),
        };
        self.error(&what)
    }
}

/// An object's entries in the order written, values unparsed.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: &'de RawValue = map.next_value()?;
                    out.push((key, value));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// Why a value is not one [`plain`] can read.
#[derive(Debug, PartialEq)]
enum NotPlain {
    /// An array or an object.
    Nested,
    /// A string whose escapes make no text: the raw value passed the item's parse (which
    /// does not decode escapes), its decoding did not. In practice a lone surrogate.
    BadEscape,
}

/// A plain value's text onto `out`.
fn plain(raw: &RawValue, out: &mut Vec<u8>) -> Result<(), NotPlain> {
    let s = raw
        .get()
        .trim_matches(|c: char| c.is_ascii() && is_ws(c as u8));
    match s.as_bytes().first() {
        Some(b'{' | b'[') => return Err(NotPlain::Nested),
        Some(b'"') => {
            let text: String = serde_json::from_str(s).map_err(|_| NotPlain::BadEscape)?;
            out.extend_from_slice(text.as_bytes());
        }
        Some(b't') => out.extend_from_slice(b"TRUE"),
        Some(b'f') => out.extend_from_slice(b"FALSE"),
        Some(b'n') | None => {}
        Some(_) => out.extend_from_slice(s.as_bytes()),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
