//! One cell: text to a typed value, by the column's type and the source's spellings.
//!
//! Pure and allocation-free on the happy path. A refusal says what is wrong in words that
//! never repeat the value: cells are data about a child.

use chrono::NaiveDate;

use super::settings::{DateFormat, FlagWords};

/// Why a date cell was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not shaped like any accepted format.
    Shape,
    /// Shaped like a date but not one (31/02).
    NotReal,
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

fn month_abbr(b: &[u8]) -> Option<u32> {
    if b.len() != 3 {
        return None;
    }
    let lower = [
        b[0].to_ascii_lowercase(),
        b[1].to_ascii_lowercase(),
        b[2].to_ascii_lowercase(),
    ];
    MONTHS
        .iter()
        .position(|m| **m == lower)
        .map(|i| i as u32 + 1)
}

/// Year, month and day by shape, or None if `s` is not shaped like `f`.
fn shape(s: &[u8], f: DateFormat) -> Option<(i32, u32, u32)> {
    match f {
        DateFormat::Iso => (s.len() == 10 && s[4] == b'-' && s[7] == b'-').then_some(())?,
        DateFormat::DayMonthYear => (s.len() == 10 && s[2] == b'/' && s[5] == b'/').then_some(())?,
        DateFormat::DayMonAbbrYy => (s.len() == 9 && s[2] == b'-' && s[6] == b'-').then_some(())?,
        DateFormat::DayMonAbbrYyyy => {
            (s.len() == 11 && s[2] == b'-' && s[6] == b'-').then_some(())?
        }
        DateFormat::BladeTimestamp => {
            (s.len() == 20 && s[4] == b'-' && s[8] == b'-' && &s[11..] == b" 00:00:00")
                .then_some(())?
        }
    }
    let (y, m, d) = match f {
        DateFormat::Iso => (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?),
        DateFormat::DayMonthYear => (digits(&s[6..10])?, digits(&s[3..5])?, digits(&s[0..2])?),
        DateFormat::DayMonAbbrYy => (
            2000 + digits(&s[7..9])?,
            month_abbr(&s[3..6])?,
            digits(&s[0..2])?,
        ),
        DateFormat::DayMonAbbrYyyy => {
            (digits(&s[7..11])?, month_abbr(&s[3..6])?, digits(&s[0..2])?)
        }
        DateFormat::BladeTimestamp => {
            (digits(&s[0..4])?, month_abbr(&s[5..8])?, digits(&s[9..11])?)
        }
    };
    Some((y as i32, m, d))
}

/// A date in the first of `formats` it is shaped like.
pub fn date(s: &str, formats: &[DateFormat]) -> Result<NaiveDate, DateError> {
    let b = s.as_bytes();
    for f in formats {
        if let Some((y, m, d)) = shape(b, *f) {
            return NaiveDate::from_ymd_opt(y, m, d).ok_or(DateError::NotReal);
        }
    }
    Err(DateError::Shape)
}

/// A flag in any of the accepted spellings, without regard to case.
pub fn flag(s: &str, spellings: &[FlagWords]) -> Option<bool> {
    spellings.iter().find_map(|w| {
        let (yes, no) = w.words();
        if s.eq_ignore_ascii_case(yes) {
            Some(true)
        } else if s.eq_ignore_ascii_case(no) {
            Some(false)
        } else {
            None
        }
    })
}

/// A whole number: optional sign and digits only (no "1,000", no "1e3", no "12.0").
pub fn integer(s: &str) -> Option<i64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    if body.is_empty() || body.len() > 18 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A plain decimal: sign, digits, at most one point (no exponent, no NaN or infinity).
pub fn decimal(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut points = 0;
    let ok = !body.is_empty()
        && body.len() <= 32
        && body.bytes().all(|b| {
            if b == b'.' {
                points += 1;
                true
            } else {
                b.is_ascii_digit()
            }
        })
        && points <= 1
        && body != ".";
    if ok { s.parse().ok() } else { None }
}

/// A reporting month, exactly `YYYY-MM`.
pub fn month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && digits(&b[0..4]).is_some()
        && digits(&b[5..7]).is_some_and(|m| (1..=12).contains(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn dates_in_each_format() {
        let all = [
            DateFormat::Iso,
            DateFormat::DayMonthYear,
            DateFormat::DayMonAbbrYy,
            DateFormat::DayMonAbbrYyyy,
        ];
        assert_eq!(date("2019-03-05", &all), Ok(d(2019, 3, 5)));
        assert_eq!(date("05/03/2019", &all), Ok(d(2019, 3, 5)));
        assert_eq!(date("05-Mar-19", &all), Ok(d(2019, 3, 5)));
        assert_eq!(date("05-MAR-2019", &all), Ok(d(2019, 3, 5)));
        assert_eq!(date("31/02/2020", &all), Err(DateError::NotReal));
        assert_eq!(date("2019-13-01", &all), Err(DateError::NotReal));
        for bad in [
            "2019-3-5",
            "TBC",
            "N/A",
            "43567",
            "2019-03-05T00:00:00",
            "20190305",
            "-",
            "5/3/2019",
        ] {
            assert_eq!(date(bad, &all), Err(DateError::Shape), "{bad}");
        }
        assert_eq!(
            date("05/03/2019", &[DateFormat::Iso]),
            Err(DateError::Shape),
            "only the source's formats are accepted"
        );
        let blade = [DateFormat::BladeTimestamp];
        assert_eq!(date("2022-Sep-28 00:00:00", &blade), Ok(d(2022, 9, 28)));
        assert_eq!(
            date("2019-Feb-30 00:00:00", &blade),
            Err(DateError::NotReal)
        );
        for bad in ["2019-03-05", "2019-Mar-05", "2019-Mar-05 10:00:00", "43529"] {
            assert_eq!(date(bad, &blade), Err(DateError::Shape), "{bad}");
        }
    }

    #[test]
    fn flags_numbers_months() {
        let yn = [FlagWords::YN];
        assert_eq!(flag("Y", &yn), Some(true));
        assert_eq!(flag("n", &yn), Some(false));
        assert_eq!(flag("Yes", &yn), None);
        let all = [FlagWords::YN, FlagWords::YesNo, FlagWords::TrueFalse];
        assert_eq!(flag("yes", &all), Some(true));
        assert_eq!(flag("FALSE", &all), Some(false));
        assert_eq!(flag("1", &[FlagWords::OneZero]), Some(true));
        assert_eq!(flag("2", &[FlagWords::OneZero]), None);
        assert_eq!(integer("-12"), Some(-12));
        assert_eq!(integer("1,000"), None);
        assert_eq!(integer("12.0"), None);
        assert_eq!(decimal("12.5"), Some(12.5));
        assert_eq!(decimal("NaN"), None);
        assert_eq!(decimal("1e3"), None);
        assert!(month("2020-05"));
        assert!(!month("2020-13"));
        assert!(!month("2020-5"));
    }
}
