//! The workbook around the sheet: where its parts are (the package's and the workbook's
//! relationships), its sheets and date system (`workbook.xml`), which cell formats are dates
//! (`styles.xml`) and the shared strings, each read with a bound on what is held: names and
//! targets within [`MAX_META`] bytes, at most [`MAX_FORMATS`] formats, and the shared strings
//! within [`MAX_SHARED_STRINGS`], each no longer than `max_record_bytes`.

use std::collections::HashMap;
use std::io::{Read, Seek};

use quick_xml::events::Event;

use super::part::{self, Fail, Part, Xml, Zip, attr, is, refuse};
use super::{MAX_SHARED_STRINGS, cell::unescape_x};
use crate::load::read::ReadError;

/// Most bytes of part names, relationship targets and sheet names held.
pub const MAX_META: usize = 1 << 20;
/// Most cell formats (and custom number formats) read; Excel allows 64,000.
pub const MAX_FORMATS: usize = 65_536;

/// How a number in a cell of some format reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumFmt {
    Other,
    /// A date or time of day (or both).
    Date,
    /// An elapsed time (`[h]:mm:ss`): its number of days.
    Duration,
}

/// The shared strings: one buffer and where each string ends.
#[derive(Debug, Default)]
pub struct Strings {
    text: String,
    ends: Vec<u32>,
}

impl Strings {
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    /// Bytes held: the text and four per string.
    fn held(&self) -> usize {
        self.text.len() + self.ends.len() * 4
    }

    fn push(&mut self, s: &str) -> Result<(), ReadError> {
        if self.held() + s.len() + 4 > MAX_SHARED_STRINGS {
            return Err(refuse(&format!(
                "the shared strings take more than {MAX_SHARED_STRINGS} bytes (the most held \
                 for one workbook)"
            )));
        }
        self.text.push_str(s);
        // Within u32: the text is under MAX_SHARED_STRINGS.
        self.ends.push(self.text.len() as u32);
        Ok(())
    }
}

/// What the sheet reader needs from the rest of the workbook.
#[derive(Debug, Default)]
pub struct Book {
    /// The 1904 date system (old Mac workbooks) rather than 1900.
    pub is_1904: bool,
    /// By cell format index (a cell's `s`).
    pub formats: Vec<NumFmt>,
    pub strings: Strings,
    /// The sheet's part.
    pub sheet_path: String,
    /// Bytes unpacked from all parts so far (against [`super::MAX_UNPACKED`]).
    pub used: u64,
}

/// A relationship we act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RelType {
    Document,
    Worksheet,
    /// A chart sheet, dialog sheet or macro sheet: a sheet with no cells to read.
    OtherSheet,
    SharedStrings,
    Styles,
}

struct Rel {
    id: String,
    typ: RelType,
    target: String,
}

impl Book {
    /// Read the workbook's relationships, sheets, styles and shared strings, and find the
    /// sheet named `sheet` (or the first worksheet).
    pub fn read<R: Read + Seek>(
        zip: &mut Zip<R>,
        sheet: Option<&str>,
        max_record: usize,
        event_max: usize,
    ) -> Result<Book, ReadError> {
        let mut book = Book::default();
        let mut held = 0usize;
        let package = book
            .part(zip, "_rels/.rels", event_max, |x| rels(x, &mut held))?
            .ok_or_else(|| missing("package relationships"))?;
        let doc = package
            .iter()
            .find(|r| r.typ == RelType::Document)
            .map(|r| resolve("", &r.target))
            .ok_or_else(|| missing("workbook"))?;
        let (dir, name) = doc.rsplit_once('/').unwrap_or(("", doc.as_str()));
        let dir = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let rels_path = format!("{dir}_rels/{name}.rels");
        let book_rels = book
            .part(zip, &rels_path, event_max, |x| rels(x, &mut held))?
            .ok_or_else(|| missing("workbook relationships"))?;
        let (sheets, is_1904) = book
            .part(zip, &doc, event_max, |x| workbook(x, &mut held))?
            .ok_or_else(|| missing("workbook"))?;
        book.is_1904 = is_1904;
        book.sheet_path = choose(&sheets, &book_rels, sheet, &dir)?;

        let target = |t: RelType, conventional: &str| {
            book_rels.iter().find(|r| r.typ == t).map_or_else(
                || format!("{dir}{conventional}"),
                |r| resolve(&dir, &r.target),
            )
        };
        let styles = target(RelType::Styles, "styles.xml");
        let shared = target(RelType::SharedStrings, "sharedStrings.xml");
        if let Some(formats) = book.part(zip, &styles, event_max, formats)? {
            book.formats = formats;
        }
        let mut strings = Strings::default();
        book.part(zip, &shared, event_max, |x| {
            shared_strings(x, &mut strings, max_record)
        })?;
        book.strings = strings;
        Ok(book)
    }

    /// Read the part at `path` (None if the workbook has none) with `f`, counting what it
    /// unpacks.
    fn part<R: Read + Seek, T>(
        &mut self,
        zip: &mut Zip<R>,
        path: &str,
        event_max: usize,
        f: impl FnOnce(&mut Xml<&mut dyn Read>) -> Result<T, ReadError>,
    ) -> Result<Option<T>, ReadError> {
        let Some(i) = part::find(zip, path) else {
            return Ok(None);
        };
        let mut file = zip
            .by_index(i)
            .map_err(|_| refuse("the workbook has a part that cannot be read"))?;
        let mut xml = Xml::new(Part::new(&mut file as &mut dyn Read, event_max, self.used));
        let out = f(&mut xml);
        self.used += xml.unpacked();
        out.map(Some)
    }
}

fn missing(what: &str) -> ReadError {
    refuse(&format!(
        "the workbook has no {what} part (not a readable xlsx workbook)"
    ))
}

/// A part-relative target as a path in the zip: `/x` from the root, `../` up a folder.
fn resolve(dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("{dir}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Count `n` more bytes of names held.
fn hold(held: &mut usize, n: usize) -> Result<(), ReadError> {
    *held += n;
    if *held > MAX_META {
        return Err(refuse(&format!(
            "the workbook's part and sheet names take more than {MAX_META} bytes (the file \
             looks damaged)"
        )));
    }
    Ok(())
}

/// A relationships part: the relationships we act on.
fn rels<R: Read>(xml: &mut Xml<R>, held: &mut usize) -> Result<Vec<Rel>, ReadError> {
    let mut out = Vec::new();
    loop {
        match xml.next().map_err(|f| f.at(1))? {
            Event::Start(e) | Event::Empty(e) if is(&e, "Relationship") => {
                let get = |k| attr(&e, k).map_err(|f| f.at(1));
                if get("TargetMode")?.as_deref() == Some("External") {
                    continue;
                }
                let typ = match get("Type")?.as_deref().and_then(|t| t.rsplit('/').next()) {
                    Some("officeDocument") => RelType::Document,
                    Some("worksheet") => RelType::Worksheet,
                    Some("chartsheet" | "dialogsheet" | "xlMacrosheet" | "macrosheet") => {
                        RelType::OtherSheet
                    }
                    Some("sharedStrings") => RelType::SharedStrings,
                    Some("styles") => RelType::Styles,
                    _ => continue,
                };
                let (Some(id), Some(target)) = (get("Id")?, get("Target")?) else {
                    continue;
                };
                hold(held, id.len() + target.len())?;
                out.push(Rel { id, typ, target });
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// `workbook.xml`: the sheets in order, as (name, relationship id), and the date system.
fn workbook<R: Read>(
    xml: &mut Xml<R>,
    held: &mut usize,
) -> Result<(Vec<(String, String)>, bool), ReadError> {
    let mut sheets = Vec::new();
    let mut is_1904 = false;
    loop {
        match xml.next().map_err(|f| f.at(1))? {
            Event::Start(e) | Event::Empty(e) if is(&e, "sheet") => {
                let get = |k| attr(&e, k).map_err(|f| f.at(1));
                if let (Some(name), Some(id)) = (get("name")?, get("id")?) {
                    hold(held, name.len() + id.len())?;
                    sheets.push((name, id));
                }
            }
            // `<x15:workbookPr>` in an extension shares the name but never has date1904.
            Event::Start(e) | Event::Empty(e) if is(&e, "workbookPr") => {
                if let Some(v) = attr(&e, "date1904").map_err(|f| f.at(1))? {
                    is_1904 = v == "1" || v == "true";
                }
            }
            Event::Eof => return Ok((sheets, is_1904)),
            _ => {}
        }
    }
}

/// The sheet's part: the one named, else the first worksheet.
fn choose(
    sheets: &[(String, String)],
    rels: &[Rel],
    wanted: Option<&str>,
    dir: &str,
) -> Result<String, ReadError> {
    let rel = |id: &str| rels.iter().find(|r| r.id == id);
    let found = match wanted {
        Some(name) => sheets
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, id)| rel(id))
            .filter(|r| r.typ == RelType::Worksheet)
            .ok_or_else(|| {
                let shown: String = name
                    .chars()
                    .take(60)
                    .flat_map(char::escape_default)
                    .collect();
                ReadError::new(
                    1,
                    format!("the workbook has no worksheet named `{shown}` (load.sheet)"),
                )
            })?,
        None => sheets
            .iter()
            .filter_map(|(_, id)| rel(id))
            .find(|r| r.typ == RelType::Worksheet)
            .ok_or_else(|| ReadError::new(1, "the workbook has no worksheet"))?,
    };
    Ok(resolve(dir, &found.target))
}

/// `styles.xml`: how each cell format's numbers read.
fn formats(xml: &mut Xml<&mut dyn Read>) -> Result<Vec<NumFmt>, ReadError> {
    let too_many = || {
        refuse(&format!(
            "the workbook has more than {MAX_FORMATS} cell formats (the file looks damaged)"
        ))
    };
    let mut custom: HashMap<u32, NumFmt> = HashMap::new();
    let mut out = Vec::new();
    // Formats are only read inside <numFmts> and <cellXfs> (<cellStyleXfs> and <dxfs> hold
    // others that cells do not point at).
    let (mut in_num_fmts, mut in_xfs) = (false, false);
    loop {
        match xml.next().map_err(|f| f.at(1))? {
            Event::Start(e) if is(&e, "numFmts") => in_num_fmts = true,
            Event::Start(e) if is(&e, "cellXfs") => in_xfs = true,
            Event::End(e) if e.local_name().as_ref() == "numFmts" => in_num_fmts = false,
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_xfs = false,
            Event::Start(e) | Event::Empty(e) if in_num_fmts && is(&e, "numFmt") => {
                let get = |k| attr(&e, k).map_err(|f| f.at(1));
                if let (Some(id), Some(code)) = (get("numFmtId")?, get("formatCode")?)
                    && let Ok(id) = id.trim().parse::<u32>()
                {
                    if custom.len() >= MAX_FORMATS {
                        return Err(too_many());
                    }
                    custom.insert(id, custom_format(&code));
                }
            }
            Event::Start(e) | Event::Empty(e) if in_xfs && is(&e, "xf") => {
                if out.len() >= MAX_FORMATS {
                    return Err(too_many());
                }
                let id = attr(&e, "numFmtId").map_err(|f| f.at(1))?;
                out.push(match id.and_then(|v| v.trim().parse::<u32>().ok()) {
                    Some(id) => custom.get(&id).copied().unwrap_or(builtin_format(id)),
                    None => NumFmt::Other,
                });
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// Excel's built-in number formats that are dates, times or durations (ECMA-376 18.8.30;
/// 27-36 and 50-58 are East Asian dates).
fn builtin_format(id: u32) -> NumFmt {
    match id {
        14..=22 | 27..=36 | 45 | 47 | 50..=58 => NumFmt::Date,
        46 => NumFmt::Duration,
        _ => NumFmt::Other,
    }
}

/// Whether a custom number format shows a date or time (its first section only), or an
/// elapsed time (`[h]`, `[mm]`, `[ss]`). Ported from calamine's
/// `detect_custom_number_format` (MIT), which this reader used before.
pub fn custom_format(format: &str) -> NumFmt {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            // `\` escapes, `_` skips a width, `*` fills: the next char is a literal.
            ('_' | '\\' | '*', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return NumFmt::Other,
            ('[', ..) => brackets += 1,
            (']', .., 1) if hms => return NumFmt::Duration,
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => return NumFmt::Date,
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => {
                return NumFmt::Date;
            }
            _ => {
                if !(hms && s.eq_ignore_ascii_case(&prev)) {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    NumFmt::Other
}

/// `sharedStrings.xml`: every `<si>`, each at most `max_record` bytes.
fn shared_strings<R: Read>(
    xml: &mut Xml<R>,
    strings: &mut Strings,
    max_record: usize,
) -> Result<(), ReadError> {
    let mut one = String::new();
    loop {
        let (si, empty) = match xml.next().map_err(|f| f.at(1))? {
            Event::Start(e) => (is(&e, "si"), false),
            // `<si/>`: an empty string, which still takes its place in the list.
            Event::Empty(e) => (is(&e, "si"), true),
            Event::Eof => return Ok(()),
            _ => (false, false),
        };
        if si && empty {
            strings.push("")?;
        } else if si {
            one.clear();
            rich_text(xml, &mut one, max_record).map_err(|f| match f {
                Fail::TooLong => refuse(&format!(
                    "a shared string is longer than {max_record} bytes (load.max_record_bytes)"
                )),
                f => f.at(1),
            })?;
            strings.push(&one)?;
        }
    }
}

/// The text of a string item (`<si>`, or a cell's `<is>`) whose start was just read: its
/// `<t>` runs, each trimmed of ASCII spaces unless `xml:space="preserve"`, phonetic runs
/// (`<rPh>`) left out, Excel's `_xHHHH_` escapes resolved.
pub fn rich_text<R: Read>(xml: &mut Xml<R>, out: &mut String, max: usize) -> Result<(), Fail> {
    enum Step {
        Text { preserve: bool },
        Skip,
        Down,
        Up,
        Next,
    }
    let mut depth = 1usize;
    loop {
        let step = match xml.next()? {
            Event::Start(e) if is(&e, "t") => Step::Text {
                preserve: attr(&e, "space")?.as_deref() == Some("preserve"),
            },
            Event::Start(e) if is(&e, "rPh") => Step::Skip,
            Event::Start(_) => Step::Down,
            Event::End(_) => Step::Up,
            Event::Eof => return Err(Fail::Damaged),
            _ => Step::Next,
        };
        match step {
            Step::Text { preserve } => {
                let start = out.len();
                xml.text_into(out, max)?;
                finish_run(out, start, preserve);
            }
            Step::Skip => xml.skip()?,
            Step::Down => depth += 1,
            Step::Up => {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            Step::Next => {}
        }
    }
}

/// Trim the run at `out[start..]` (unless it preserves spaces) and resolve its escapes.
fn finish_run(out: &mut String, start: usize, preserve: bool) {
    if !preserve {
        let ws: &[char] = &[' ', '\t', '\r', '\n'];
        let run = &out[start..];
        let end = start + run.trim_end_matches(ws).len();
        out.truncate(end);
        let lead = out[start..].len() - out[start..].trim_start_matches(ws).len();
        out.drain(start..start + lead);
    }
    if let std::borrow::Cow::Owned(s) = unescape_x(&out[start..]) {
        out.truncate(start);
        out.push_str(&s);
    }
}
