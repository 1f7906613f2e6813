//! How one source's file is read: its format, its header names, its date and flag spellings,
//! what a bad row does to the extract, and the guards before a swap. `[sources.NAME.load]`.
//!
//! Owns: the settings type, the ranges of its counts and shares, and its pure check. Must
//! not: read files.

use std::collections::BTreeMap;

use std::borrow::Cow;

use serde::Deserialize;

use super::kind::KindDef;
use super::sen2_codes::{Records, Sen2Settings};
use crate::bounds::Bound;

/// `max_record_bytes`.
pub const MAX_RECORD_BYTES: Bound<usize> = Bound::new(1024, 64 << 20, "1 KiB to 64 MiB");
/// `max_bad_share` and `max_shrink`: shares of all rows.
pub const SHARE: Bound<f64> = Bound::new(0.0, 1.0, "a share of all rows");
/// `keep_days`: a year of refused and held extracts is plenty to inspect.
pub const KEEP_DAYS: Bound<u32> = Bound::new(0, 366, "a year");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    /// A JSON array of objects, or one object per line (JSON Lines).
    Json,
    /// An Excel workbook; the first sheet unless `sheet` names one.
    Xlsx,
    /// A DfE SEN2 person-level return as XML (`load.sen2` says which records it yields).
    #[serde(rename = "sen2-xml")]
    Sen2Xml,
    /// A SEN2 return as COLLECT's Blade CSV export: a folder or a zip of its module files.
    #[serde(rename = "sen2-blade")]
    Sen2Blade,
}

impl Format {
    /// A SEN2 return, read by [`crate::load::read::sen2`].
    pub fn is_sen2(self) -> bool {
        matches!(self, Format::Sen2Xml | Format::Sen2Blade)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Any bad row rejects the whole extract; the previous load stays current.
    #[default]
    Strict,
    /// Bad rows are set aside with their problems and the good rows load; too many bad rows
    /// raise a data-quality exception.
    Quarantine,
}

/// Date spellings a source may use, tried in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum DateFormat {
    #[serde(rename = "yyyy-mm-dd")]
    Iso,
    /// The UK's `dd/mm/yyyy`.
    #[serde(rename = "dd/mm/yyyy")]
    DayMonthYear,
    /// `05-Mar-19` (two-digit years are 20yy).
    #[serde(rename = "dd-mon-yy")]
    DayMonAbbrYy,
    /// `05-Mar-2019`.
    #[serde(rename = "dd-mon-yyyy")]
    DayMonAbbrYyyy,
    /// `2022-Sep-28 00:00:00`: the dates of SEN2's Blade CSV export (midnight only).
    #[serde(rename = "yyyy-mon-dd 00:00:00")]
    BladeTimestamp,
}

impl DateFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DateFormat::Iso => "YYYY-MM-DD",
            DateFormat::DayMonthYear => "DD/MM/YYYY",
            DateFormat::DayMonAbbrYy => "DD-Mon-YY",
            DateFormat::DayMonAbbrYyyy => "DD-Mon-YYYY",
            DateFormat::BladeTimestamp => "YYYY-Mon-DD 00:00:00",
        }
    }
}

/// Flag spellings a source may use (matched without regard to case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum FlagWords {
    #[serde(rename = "Y/N")]
    YN,
    #[serde(rename = "Yes/No")]
    YesNo,
    #[serde(rename = "TRUE/FALSE")]
    TrueFalse,
    /// SEN2's flags.
    #[serde(rename = "1/0")]
    OneZero,
}

impl FlagWords {
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            FlagWords::YN => ("Y", "N"),
            FlagWords::YesNo => ("Yes", "No"),
            FlagWords::TrueFalse => ("TRUE", "FALSE"),
            FlagWords::OneZero => ("1", "0"),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSettings {
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub policy: Policy,
    /// Our column name -> the source's header for it, where they differ.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// The source's headers to skip (columns we do not want).
    #[serde(default)]
    pub ignore_columns: Vec<String>,
    #[serde(default = "default_date_formats")]
    pub date_formats: Vec<DateFormat>,
    #[serde(default = "default_flags")]
    pub flags: Vec<FlagWords>,
    /// XLSX: the sheet to read (default the first).
    pub sheet: Option<String>,
    /// A row (or the header) longer than this is refused, and the extract with it. 1 KiB to
    /// 64 MiB ([`MAX_RECORD_BYTES`]).
    #[serde(default = "default_max_record_bytes")]
    pub max_record_bytes: usize,
    /// Quarantine: bad rows above this share of all rows (0 to 1) raise a data-quality
    /// exception.
    #[serde(default = "default_max_bad_share")]
    pub max_bad_share: f64,
    /// Hold, rather than swap in, an extract whose row count falls by more than this share
    /// (0 to 1).
    #[serde(default = "default_max_shrink")]
    pub max_shrink: f64,
    /// Days a rejected or held extract's file is kept for inspection: 0 to 366
    /// ([`KEEP_DAYS`]). A SEN2 return is never kept: it names children.
    #[serde(default = "default_keep_days")]
    pub keep_days: u32,
    /// A SEN2 source: the records it yields and its outcome code lists.
    #[serde(default)]
    pub sen2: Sen2Settings,
}

impl Default for LoadSettings {
    fn default() -> Self {
        LoadSettings {
            format: Format::default(),
            policy: Policy::default(),
            columns: BTreeMap::new(),
            ignore_columns: Vec::new(),
            date_formats: default_date_formats(),
            flags: default_flags(),
            sheet: None,
            max_record_bytes: default_max_record_bytes(),
            max_bad_share: default_max_bad_share(),
            max_shrink: default_max_shrink(),
            keep_days: default_keep_days(),
            sen2: Sen2Settings::default(),
        }
    }
}

fn default_date_formats() -> Vec<DateFormat> {
    vec![DateFormat::Iso]
}
fn default_flags() -> Vec<FlagWords> {
    vec![FlagWords::YN]
}
fn default_max_record_bytes() -> usize {
    1024 * 1024
}
fn default_max_bad_share() -> f64 {
    0.02
}
fn default_max_shrink() -> f64 {
    0.10
}
fn default_keep_days() -> u32 {
    30
}

impl LoadSettings {
    /// Check against the kind the source declares; pure.
    pub fn check(&self, kind: &KindDef, bad: &mut dyn FnMut(String, String)) {
        for ours in self.columns.keys() {
            if kind.position(ours).is_none() {
                bad(
                    format!("columns.{ours}"),
                    "the kind has no column of that name".into(),
                );
            }
        }
        if self.date_formats.is_empty() {
            bad("date_formats".into(), "name at least one format".into());
        }
        if self.flags.is_empty() {
            bad("flags".into(), "name at least one spelling".into());
        }
        MAX_RECORD_BYTES.check(bad, "max_record_bytes", self.max_record_bytes);
        SHARE.check(bad, "max_bad_share", self.max_bad_share);
        SHARE.check(bad, "max_shrink", self.max_shrink);
        KEEP_DAYS.check(bad, "keep_days", self.keep_days);
        if self.format == Format::Xlsx && !self.date_formats.contains(&DateFormat::Iso) {
            bad(
                "date_formats".into(),
                "an xlsx source's date cells read as yyyy-mm-dd: list that format too".into(),
            );
        }
        if self.sheet.is_some() && self.format != Format::Xlsx {
            bad("sheet".into(), "only an xlsx source has sheets".into());
        }
        if self.format.is_sen2() {
            self.sen2
                .check(kind, &|c| self.header_for(c).to_string(), bad);
            if self.date_formats != default_date_formats() || self.flags != default_flags() {
                bad(
                    "date_formats".into(),
                    "a SEN2 source's dates and flags are read as the return writes them: leave \
                     date_formats and flags out"
                        .into(),
                );
            }
        } else if self.sen2 != Sen2Settings::default() {
            bad(
                "sen2".into(),
                "only a SEN2 source (format sen2-xml or sen2-blade) has sen2 settings".into(),
            );
        }
    }

    /// The settings a parse reads `kind` with. A SEN2 reader gives its dates and flags as the
    /// return writes them (ISO dates in the XML, `YYYY-Mon-DD 00:00:00` in a Blade export;
    /// flags 1/0), and every field of its records: those the kind does not take are skipped.
    pub fn for_reading(&self, kind: &KindDef) -> Cow<'_, LoadSettings> {
        if !self.format.is_sen2() {
            return Cow::Borrowed(self);
        }
        let mut s = self.clone();
        s.date_formats = match self.format {
            Format::Sen2Blade => vec![DateFormat::BladeTimestamp],
            _ => vec![DateFormat::Iso],
        };
        s.flags = vec![FlagWords::OneZero];
        let records = self.sen2.records.unwrap_or(Records::Requests);
        for field in records.fields() {
            let taken = kind
                .columns
                .iter()
                .any(|c| self.header_for(&c.name).eq_ignore_ascii_case(field));
            if !taken {
                s.ignore_columns.push((*field).to_string());
            }
        }
        Cow::Owned(s)
    }

    /// The header a source uses for one of our columns.
    pub fn header_for<'a>(&'a self, ours: &'a str) -> &'a str {
        self.columns.get(ours).map_or(ours, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xlsx_source_must_accept_iso_dates_and_only_it_has_sheets() {
        let kind = crate::load::builtin_kinds().expect("kinds")["tracker"].clone();
        let problems = |s: &LoadSettings| {
            let mut keys = Vec::new();
            s.check(&kind, &mut |k, _| keys.push(k));
            keys
        };
        let xlsx = LoadSettings {
            format: Format::Xlsx,
            sheet: Some("Tracker".into()),
            ..LoadSettings::default()
        };
        assert!(problems(&xlsx).is_empty());
        let day_first = LoadSettings {
            date_formats: vec![DateFormat::DayMonthYear],
            ..xlsx.clone()
        };
        assert_eq!(problems(&day_first), ["date_formats"]);
        let csv_sheet = LoadSettings {
            format: Format::Csv,
            ..xlsx
        };
        assert_eq!(problems(&csv_sheet), ["sheet"]);
    }
}
