//! One cell's value and its text: numbers in their shortest form, serial dates by the
//! workbook's date system (with Excel's 1900 leap-year bug), booleans, ISO dates, and
//! Excel's `_xHHHH_` escapes in strings.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A cell's value as the sheet holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    /// A number in a date or time format: a serial date, in the 1904 system or not.
    Date {
        serial: f64,
        is_1904: bool,
    },
    /// A number in an elapsed-time format (`[h]:mm`): its number of days.
    Duration(f64),
    Bool(bool),
    /// A `t="d"` cell: an ISO 8601 date or date and time.
    Iso(&'a str),
    /// An error cell (`#N/A`, `#REF!`, ...).
    Error,
}

/// Serial dates past this (9999-12-31 in the 1904 system) read as numbers.
const MAX_SERIAL: f64 = 2_957_003.0;

/// A cell's text onto `out`; `Err` for an error cell.
pub fn render(value: &Value<'_>, out: &mut String) -> Result<(), ()> {
    match *value {
        Value::Empty => {}
        Value::Text(s) => out.push_str(s),
        Value::Number(x) | Value::Duration(x) => number(x, out),
        Value::Bool(b) => out.push_str(if b { "TRUE" } else { "FALSE" }),
        Value::Date { serial, is_1904 } => {
            if !(0.0..MAX_SERIAL).contains(&serial) {
                number(serial, out);
            } else {
                let ((y, mo, d), (h, mi, s, ms)) = date_time(serial, is_1904);
                if serial < 1.0 {
                    let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
                } else if (h, mi, s, ms) == (0, 0, 0, 0) {
                    let _ = write!(out, "{y:04}-{mo:02}-{d:02}");
                } else {
                    let _ = write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
                }
            }
        }
        Value::Iso(s) => {
            let midnight = ["T00:00:00", "T00:00:00Z", "T00:00:00.000", "T00:00:00.000Z"];
            match s.get(10..) {
                Some(rest) if midnight.contains(&rest) => out.push_str(&s[..10]),
                _ => out.push_str(s),
            }
        }
        Value::Error => return Err(()),
    }
    Ok(())
}

/// A number's text: whole numbers without a fraction, others in the shortest exact form.
pub fn number(x: f64, out: &mut String) {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

type Ymd = (i32, u32, u32);
type Hms = (u64, u64, u64, u64);

/// A serial date (`0 <= serial < MAX_SERIAL`) as (year, month, day) and (hour, minute,
/// second, millisecond), the time rounded to the millisecond as Excel does.
fn date_time(serial: f64, is_1904: bool) -> (Ymd, Hms) {
    let mut days = serial.floor() as i64;
    let secs = serial.fract() * 86_400.0;
    let mut ms = (secs.fract() * 1000.0).round() as u64;
    let mut whole = secs as u64;
    if ms == 1000 {
        whole += 1;
        ms = 0;
    }
    if whole == 86_400 {
        days += 1;
        whole = 0;
    }
    let time = (whole / 3600, whole % 3600 / 60, whole % 60, ms);
    (day(days, is_1904), time)
}

/// Day `n` of a date system. In the 1900 system Excel counts a 29 February 1900 (day 60)
/// that never was, so days before it are a day later than the count from 1899-12-30.
fn day(n: i64, is_1904: bool) -> Ymd {
    use chrono::Datelike;
    let (epoch, n) = match (is_1904, n) {
        (true, n) => ((1904, 1, 1), n),
        (false, 60) => return (1900, 2, 29),
        (false, n) if n < 60 => ((1899, 12, 31), n),
        (false, n) => ((1899, 12, 30), n),
    };
    let d = chrono::NaiveDate::from_ymd_opt(epoch.0, epoch.1, epoch.2)
        .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(n)));
    d.map_or((9999, 12, 31), |d| (d.year(), d.month(), d.day()))
}

/// Resolve Excel's `_xHHHH_` escapes (a UTF-16 unit each; `_x005F_` is a literal `_`);
/// borrowed when there are none.
pub fn unescape_x(s: &str) -> Cow<'_, str> {
    if !s.contains("_x") {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let (mut copied, mut at) = (0, 0);
    while let Some(found) = s[at..].find("_x").map(|k| at + k) {
        let Some(unit) = escape_at(s, found) else {
            at = found + 2;
            continue;
        };
        out.push_str(&s[copied..found]);
        let mut next = found + 7;
        let ch = match (unit, escape_at(s, next)) {
            (0xD800..=0xDBFF, Some(low @ 0xDC00..=0xDFFF)) => {
                next += 7;
                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            }
            _ => char::from_u32(unit),
        };
        out.push(ch.unwrap_or(char::REPLACEMENT_CHARACTER));
        copied = next;
        at = next;
    }
    // An escape is 7 bytes, so nothing was copied when there was none.
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// The UTF-16 unit of an `_xHHHH_` escape starting at byte `i`.
fn escape_at(s: &str, i: usize) -> Option<u32> {
    let b = s.as_bytes().get(i..i + 7)?;
    if &b[..2] != b"_x" || b[6] != b'_' || !b[2..6].iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(&b[2..6]).ok()?, 16).ok()
}
