//! Load: read an extract of a declared kind, validate every row, and hand typed rows to the
//! store in batches, all while the file streams through (it is never held whole).
//!
//! An extract is accepted whole or rejected whole (or, under a source's quarantine policy,
//! accepted without its bad rows). Every problem names the file, the line and, where it
//! applies, the column and the rule; messages never repeat a cell's value, because cells are
//! data about a child. Storing the rows (one transaction, swapped in at commit) is
//! [`crate::store`]'s job; this module owns the kinds, the readers and the checks.

pub mod batch;
pub mod cell;
pub mod form;
pub mod guard;
pub mod kind;
pub mod parse;
mod problem;
pub mod read;
pub mod sen2_codes;
pub mod settings;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use batch::{Batch, Value};
pub use kind::{ColType, ColumnDef, KindDef, RowRule, builtin_kinds};
pub use parse::{ParseSummary, parse};
pub use problem::{LoadError, MAX_PROBLEMS, Problem, Problems, shown_header};
pub use read::{ReadError, Record, RecordReader};
pub use sen2_codes::{Records, Sen2Settings};
pub use settings::{DateFormat, FlagWords, Format, LoadSettings, Policy};

/// Open a file with the reader its source's format needs. `progress`, if given, counts the
/// bytes read (CSV, JSON and SEN2 XML; an xlsx or a Blade zip is read through its zip index,
/// not front to back). A SEN2 Blade export may be a folder.
pub fn open_reader(
    path: &Path,
    settings: &LoadSettings,
    progress: Option<Arc<AtomicU64>>,
) -> std::io::Result<Box<dyn RecordReader>> {
    let file = std::fs::File::open(path)?;
    let max = settings.max_record_bytes;
    Ok(match (settings.format, progress) {
        (Format::Csv, Some(read)) => Box::new(read::csv::CsvReader::new(
            read::Counting { inner: file, read },
            max,
        )),
        (Format::Csv, None) => Box::new(read::csv::CsvReader::new(file, max)),
        (Format::Json, Some(read)) => Box::new(read::json::JsonReader::new(
            read::Counting { inner: file, read },
            max,
        )),
        (Format::Json, None) => Box::new(read::json::JsonReader::new(file, max)),
        (Format::Xlsx, _) => Box::new(read::xlsx::reader(
            std::io::BufReader::new(file),
            settings.sheet.clone(),
            max,
        )?),
        (Format::Sen2Xml, Some(read)) => Box::new(read::sen2::xml_reader(
            read::Counting { inner: file, read },
            settings,
        )?),
        (Format::Sen2Xml, None) => Box::new(read::sen2::xml_reader(file, settings)?),
        (Format::Sen2Blade, _) => Box::new(read::sen2::blade_reader(path, settings)?),
    })
}

/// Parse a whole extract held in memory, in the source's format, and collect its batches
/// (tests and small tools).
pub fn parse_bytes(
    bytes: &[u8],
    file: &str,
    kind: &KindDef,
    settings: &LoadSettings,
    today: chrono::NaiveDate,
) -> Result<(ParseSummary, Vec<Batch>), LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty {
            file: file.to_string(),
        });
    }
    let max = settings.max_record_bytes;
    let cannot_start = |what: &str, e: std::io::Error| {
        let mut p = Problems::default();
        p.push(
            1,
            None,
            format!("cannot start the {what} reader: {}", e.kind()),
        );
        p.into_error(file)
    };
    let mut reader: Box<dyn RecordReader + '_> = match settings.format {
        Format::Csv => Box::new(read::csv::CsvReader::new(bytes, max)),
        Format::Json => Box::new(read::json::JsonReader::new(bytes, max)),
        Format::Xlsx => {
            let owned = std::io::Cursor::new(bytes.to_vec());
            match read::xlsx::reader(owned, settings.sheet.clone(), max) {
                Ok(r) => Box::new(r),
                Err(e) => return Err(cannot_start("xlsx", e)),
            }
        }
        Format::Sen2Xml => {
            match read::sen2::xml_reader(std::io::Cursor::new(bytes.to_vec()), settings) {
                Ok(r) => Box::new(r),
                Err(e) => return Err(cannot_start("SEN2", e)),
            }
        }
        Format::Sen2Blade => match read::sen2::blade_zip_reader(bytes.to_vec(), settings) {
            Ok(r) => Box::new(r),
            Err(e) => return Err(cannot_start("SEN2", e)),
        },
    };
    let mut batches = Vec::new();
    let summary = parse(reader.as_mut(), file, kind, settings, today, &mut |b| {
        batches.push(b);
        true
    })?;
    Ok((summary, batches))
}
